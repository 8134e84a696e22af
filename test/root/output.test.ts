import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXECLENS } from '../helpers/paths.js';
import { argvBytes, byFile, requireRoot, schemaErrors, trace, type JsonExec } from '../helpers/trace.js';

test('every JSON record validates against schema/exec-event.v2.json', (t) => {
  if (!requireRoot(t)) return;
  const r = trace(['bash', '-c', `cd /tmp && X=1 /bin/true $'\\xff' 'a b'; /nonexistent 2>/dev/null; exit 0`], {
    extra: ['--show-env', '--show-cmdline'],
  });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.records.length >= 4);
  for (const rec of r.records) assert.equal(schemaErrors(rec), null, JSON.stringify(rec).slice(0, 300));
  assert.equal(r.records.at(-1)!.type, 'summary');
});

const bytesOf = (list: string[] | undefined, b64: string[] | undefined) =>
  b64 ? b64.map((b) => Buffer.from(b, 'base64')) : (list ?? []).map((s) => Buffer.from(s));

test('--show-cmdline: each printed line, run under the tracer, makes an exec with the same file, argv, environment and cwd (odd bytes, argv[0], relative name)', (t) => {
  if (!requireRoot(t)) return;
  const script = [
    `cd /tmp && export ODD=$'\\xff\\x01 x'`,
    `(exec -a zero /bin/true $'\\xff' "a b" '$(touch /tmp/injected)')`,
    `cd /usr/bin && (exec -a rel ./true 'x')`,
    `FOO='x y' /usr/bin/env -u HOME /bin/true`,
  ].join('; ');
  const r = trace(['bash', '-c', script], { extra: ['--show-cmdline', '--show-env'] });
  assert.equal(r.code, 0, r.stderr);
  const originals = r.execs.filter((e) => e.filename !== null && /true$/.test(e.filename)) as (JsonExec & {
    cmdline: string;
  })[];
  assert.equal(originals.length, 3, r.execs.map((e) => e.filename).join(' '));
  for (const orig of originals) {
    assert.doesNotMatch(orig.cmdline, /# not exact/, orig.cmdline);
    const re = trace(['bash', '-c', orig.cmdline], { extra: ['--show-env'] });
    assert.equal(re.code, 0, `${orig.cmdline}\n${re.stderr}`);
    const copy = re.execs.at(-1)!;
    const label = `${orig.cmdline}\n-> ${JSON.stringify(copy).slice(0, 400)}`;
    assert.deepEqual(argvBytes(copy), argvBytes(orig), label);
    assert.deepEqual(bytesOf(copy.env, copy.env_b64), bytesOf(orig.env, orig.env_b64), label);
    assert.equal(copy.cwd, orig.cwd, label);
    assert.equal(copy.filename, orig.filename, label);
    assert.equal(copy.result, 0, label);
  }
  assert.ok(!existsSync('/tmp/injected'), 'no argument became shell syntax');
});

test('--user runs the command unprivileged; a setuid exec shows euid != uid', (t) => {
  if (!requireRoot(t)) return;
  const setuid = ['/usr/bin/passwd', '/usr/bin/chsh', '/usr/bin/newgrp', '/usr/bin/su'].find((p) => existsSync(p));
  if (!setuid) return t.skip('no setuid-root binary on this machine');
  const r = trace(['sh', '-c', `id -u; ${setuid} --help >/dev/null 2>&1; true`], { extra: ['--user', 'nobody'] });
  assert.equal(r.code, 0, r.stderr);
  const [sh] = byFile(r, 'sh');
  assert.equal(sh!.uid, 65534);
  const [s] = r.execs.filter((e) => e.filename === setuid);
  assert.ok(s, `saw ${r.execs.map((e) => e.filename).join(',')}`);
  assert.equal(s.uid, 65534);
  assert.equal(s.euid, 0, 'setuid-root binary runs with euid 0');
});

test('system-wide mode (no command) sees execs of unrelated processes until SIGINT', async (t) => {
  if (!requireRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'execlens-sys-'));
  const out = join(dir, 'ev.jsonl');
  const p = spawn(EXECLENS, ['log', '--json', '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // generous: under an emulated kernel (matrix cells) start-up takes tens of seconds
  const end = Date.now() + 240000;
  const marker = `execlens-marker-${process.pid}`;
  // keep exec'ing a marker until the tracer has reported one
  let seen = false;
  while (!seen && Date.now() < end) {
    spawnSync('/bin/echo', [marker], { stdio: 'ignore' });
    seen = existsSync(out) && readFileSync(out, 'utf8').includes(marker);
    if (!seen) await new Promise((res) => setTimeout(res, 200));
  }
  assert.ok(seen, `the marker exec was reported before we stopped the tracer: ${stderr}`);
  const exited = new Promise<number | null>((res) => p.on('exit', (c) => res(c)));
  p.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  const recs = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JsonExec & { type: string });
  const mine = recs.filter((r) => r.type === 'exec' && r.argv[1] === marker);
  assert.ok(mine.length >= 1, 'marker exec seen system-wide');
  assert.equal(mine[0]!.ppid, process.pid, 'its parent is this test process');
  assert.equal(recs.at(-1)!.type, 'summary');
  assert.match(stderr, /tracing every exec on the system/);
});

test("text: the command's first exec shows the command's comm, not execlens's launcher; JSON keeps old_comm as it was", (t) => {
  if (!requireRoot(t)) return;
  for (const backend of ['ebpf', 'ptrace']) {
    const dir = mkdtempSync(join(tmpdir(), 'execlens-comm-'));
    const out = join(dir, 'log.txt');
    const r = spawnSync(EXECLENS, ['log', '--backend', backend, '-o', out, '--', 'sh', '-c', 'exec /bin/true'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    assert.match(lines[0]!, /^\S+ \d+<\d+> sh ok \/usr\/bin\/sh /, `${backend}: ${lines[0]}`);
    assert.match(lines[1]!, /^\S+ \d+<\d+> sh ok \/bin\/true /, `${backend}: the next exec shows who exec'd`);
    const j = trace(['sh', '-c', 'exec /bin/true'], { extra: ['--backend', backend] });
    assert.equal(j.execs[0]!.comm, 'sh');
    assert.equal((j.execs[0] as JsonExec & { old_comm: string }).old_comm, 'execlens-ptrace');
  }
});
