/**
 * BPF branches the rest of the suite did not reach on a kernel that can take them (found by npm run coverage,
 * docs/coverage.md): the raw_tp lifecycle, the unrolled syscall-tracepoint exit, a filename of more than 255
 * bytes (the 4096-byte retry) and an environment over the capture limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { byFile, requireRoot, trace } from '../helpers/trace.js';

const PY = '/usr/bin/python3';

const PLANS = [
  { extra: ['--lifecycle', 'raw_tp'], plan: /^[a-z_.]+\+raw_tp(\+bpf_loop)?$/ },
  { extra: ['--attach', 'tracepoint', '--loops', 'unrolled'], plan: /^tracepoint\+[a-z_]+$/ },
];

for (const { extra, plan } of PLANS) {
  test(`${extra.join(' ')}: a successful exec with its argv and cwd, and a failed one with its errno`, (t) => {
    if (!requireRoot(t)) return;
    const r = trace(['sh', '-c', 'cd /tmp; /bin/true a "b c"; /nonexistent/x 2>/dev/null; exit 0'], { extra });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.summary!.plan, plan);
    const [ok] = byFile(r, 'true');
    assert.ok(ok, r.execs.map((e) => e.filename).join(' '));
    assert.deepEqual(ok.argv, ['/bin/true', 'a', 'b c']);
    assert.equal(ok.cwd, '/tmp');
    assert.equal(ok.result, 0);
    const [bad] = byFile(r, 'x');
    assert.equal(bad?.errno, 'ENOENT');
    assert.equal(r.summary!.lost_records, 0);
  });
}

test('a filename of 300 bytes is reported whole (longer than the first 256-byte read)', (t) => {
  if (!requireRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'execlens-long-'));
  try {
    const sub = join(dir, 'd'.repeat(200));
    mkdirSync(sub);
    const path = join(sub, 't'.repeat(300 - sub.length - 1));
    symlinkSync('/bin/true', path);
    assert.equal(path.length, 300);
    const r = trace([path]);
    assert.equal(r.code, 0, r.stderr);
    const e = r.execs.find((x) => x.filename === path);
    assert.ok(e, r.execs.map((x) => x.filename).join(' '));
    assert.equal(e.truncated.filename, false);
    assert.deepEqual(e.argv, [path]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an environment of 4 MB is cut at the capture limit, marked and counted', (t) => {
  if (!requireRoot(t)) return;
  // 40 variables of 100,000 bytes; exec accepts a quarter of the stack limit (64 MiB here) as arguments + env
  const py = `import os; os.execve("/bin/true", ["true"], {f"V{i}": "A" * 100000 for i in range(40)})`;
  const r = trace(['bash', '-c', `ulimit -s 65536 && exec ${PY} -c '${py}'`]);
  assert.equal(r.code, 0, r.stderr);
  const [e] = byFile(r, 'true');
  assert.ok(e, r.execs.map((x) => x.filename).join(' '));
  assert.equal(e.result, 0);
  assert.equal(e.truncated.env, true);
  assert.equal(r.summary!.truncated.env, 1, JSON.stringify(r.summary));
});
