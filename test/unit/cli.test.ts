import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EXECLENS } from '../helpers/paths.js';
import { checkPidNamespace } from '../../src/tracer/preflight.js';
import { ExeclensError } from '../../src/exitcodes.js';

const run = (args: string[], opts: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}) =>
  spawnSync(EXECLENS, args, { encoding: 'utf8', ...opts });

test('help lists the commands; bad flags exit 64 with one line', () => {
  const h = run(['--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /log \[options\] \[cmd\.\.\.\]/);
  assert.match(h.stdout, /doctor/);
  const lh = run(['log', '--help']);
  assert.match(lh.stdout, /--json/);
  const bad = run(['log', '--no-such-flag', '--', 'true']);
  assert.equal(bad.status, 64);
  assert.match(bad.stderr, /unknown option '--no-such-flag'/);
  const badAttach = run(['log', '--attach', 'uprobe', '--', 'true']);
  assert.equal(badAttach.status, 64);
  const badEnv = run(['log', '--', 'true'], { env: { ...process.env, EXECLENS_ATTACH: 'nope' } });
  assert.equal(badEnv.status, 64);
  assert.match(badEnv.stderr, /EXECLENS_ATTACH=nope: expected fentry, kprobe or tracepoint/);
});

test('not root: a clear error naming the missing capabilities, exit 77', { skip: process.geteuid?.() === 0 ? false : 'needs root to drop to an unprivileged user' }, () => {
  const r = run(['log', '--', 'true'], { uid: 65534, gid: 65534 });
  assert.equal(r.status, 77, r.stderr);
  assert.match(r.stderr, /^execlens: the eBPF backend needs root \(missing CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN\): run with sudo\n$/);
  const d = run(['doctor'], { uid: 65534, gid: 65534 });
  assert.equal(d.status, 77);
  assert.match(d.stdout, /MISSING CAP_BPF/);
});

test('pid namespace check: the initial namespace passes, a nested one is refused with exit 78', () => {
  assert.doesNotThrow(() => checkPidNamespace('pid:[4026531836]'));
  assert.doesNotThrow(() => checkPidNamespace(null));
  assert.throws(() => checkPidNamespace('pid:[4026532512]'), (e: unknown) => e instanceof ExeclensError && e.exitCode === 78 && /--pid=host/.test(e.message));
});
