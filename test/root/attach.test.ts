/**
 * Every attach method of this kernel's plan, forced one at a time, traces the
 * same real workload and reports the same execs. The default plan only ever
 * exercises the first candidate that loads; this is what proves the fallbacks
 * (kprobe, raw syscall tracepoints, syscall tracepoints, fentry without
 * sleepable programs) on each kernel of the matrix.
 *
 * A candidate before the one doctor chose may be refused by the kernel (this
 * machine: fentry, EPERM): then a forced run must fail with the BPF-refused exit
 * code and say why. From the chosen candidate on, every one must load and trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../src/exitcodes.js';
import { forceFlags } from '../../src/attach/registry.js';
import { EXECLENS } from '../helpers/paths.js';
import { byFile, execShape, requireRoot, trace, type JsonExec } from '../helpers/trace.js';

interface Doctor {
  plan: { candidates: { id: string }[] };
  chosen: { candidate: string } | null;
}

/** what must not differ between attach methods (pids, pipe inodes and times do) */
function shape(e: JsonExec): unknown {
  return { ...execShape(e), syscall: e.syscall, compat: e.compat };
}

test('every attach method of the plan traces the same workload the same way: argv, env, cwd, a failed exec, execveat by fd', (t) => {
  if (!requireRoot(t)) return;
  const doc = spawnSync(EXECLENS, ['doctor', '--json'], { encoding: 'utf8' });
  const d = JSON.parse(doc.stdout) as Doctor;
  assert.ok(d.chosen, `doctor found a plan: ${doc.stderr}`);
  const ids = d.plan.candidates.map((c) => c.id);
  const chosenAt = ids.indexOf(d.chosen.candidate);
  assert.ok(chosenAt >= 0);
  const dir = mkdtempSync(join(tmpdir(), 'execlens-attach-'));
  try {
    // execve with argv/env/cwd; a failed execve; execveat(fd, "", AT_EMPTY_PATH) (Debian's 5.10 fails it
    // with ENOENT, traced or not, where /dev/fd is missing: TOMOYO looks the name up; then the failure must be
    // the same under every method)
    const script = [
      `cd ${dir}`,
      'ATTACH_TEST=1 /bin/echo "a b" c > /dev/null',
      '/nonexistent/attach-test x y 2>/dev/null',
      `/usr/bin/python3 -c 'import os; fd = os.open("/bin/true", os.O_RDONLY); os.execve(fd, ["true", "via-fd"], dict(os.environ))' 2>/dev/null`,
      'exit 0',
    ].join('\n');
    const seen = new Map<string, unknown[]>();
    for (const [i, id] of ids.entries()) {
      const r = trace(['/bin/sh', '-c', script], { extra: forceFlags(id) });
      if (i < chosenAt && r.code === EXIT.BPF_REFUSED) {
        // refused before doctor's choice, as doctor's walk found: said in one line
        assert.match(r.stderr, /refused|not allowed|EPERM|EACCES|EINVAL|ENOENT/i, `${id}: ${r.stderr}`);
        t.diagnostic(`${id}: refused by this kernel (as in doctor's walk): ${r.stderr.trim().split('\n')[0]}`);
        continue;
      }
      assert.equal(r.code, 0, `${id} (${forceFlags(id).join(' ')}): ${r.stderr}`);
      assert.ok(r.summary!.plan.startsWith(`${id}+`), `${id}: the forced candidate loaded (plan ${r.summary!.plan})`);
      assert.equal(r.summary!.lost_records, 0, `${id}: nothing lost`);
      const echo = byFile(r, 'echo')[0];
      assert.deepEqual(echo?.argv, ['/bin/echo', 'a b', 'c'], `${id}: argv`);
      assert.equal(echo?.cwd, dir, `${id}: cwd`);
      assert.equal(echo?.env_diff?.added.ATTACH_TEST, '1', `${id}: env`);
      const failed = byFile(r, 'attach-test')[0];
      assert.equal(failed?.errno, 'ENOENT', `${id}: failed exec`);
      assert.deepEqual(failed?.argv, ['/nonexistent/attach-test', 'x', 'y'], `${id}: failed exec argv`);
      const viaFd = r.execs.find((e) => e.syscall === 'execveat');
      assert.deepEqual(viaFd?.argv, ['true', 'via-fd'], `${id}: execveat by fd`);
      seen.set(id, r.execs.map(shape));
      t.diagnostic(`${id}: ${r.execs.length} execs, plan ${r.summary!.plan}`);
    }
    assert.ok(seen.size >= ids.length - chosenAt, 'every candidate from the chosen one on loaded');
    const [first, ...rest] = [...seen.entries()];
    for (const [id, execs] of rest) assert.deepEqual(execs, first![1], `${id} reports what ${first![0]} reports`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
