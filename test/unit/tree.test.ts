import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessTree } from '../../src/events/tree.js';
import type { ExecEvent } from '../../src/events/types.js';

const B = (s: string) => Buffer.from(s);
const ev = (pid: number, ppid: number, env: string[] | null, ret = 0): ExecEvent =>
  ({
    pid,
    ppid,
    ret,
    env: env ? env.map(B) : null,
    cwd: B('/'),
    argv: [],
    fds: [],
    unreadable: { argv: [], env: [] },
  }) as unknown as ExecEvent;

test('tree: an exec is diffed against its own previous exec, else what it inherited from its parent at fork', () => {
  const t = new ProcessTree();
  t.addRoot(1, [B('A=1')], B('/'));
  t.onFork(1, 2);
  assert.deepEqual(t.onExec(ev(2, 1, ['A=1', 'B=2'])).diff, { added: [['B', '2']], removed: [], changed: [] });
  // the second exec of the same process: against the first exec's environment
  assert.deepEqual(t.onExec(ev(2, 1, ['B=3'])).diff, { added: [], removed: ['A'], changed: [['B', '2', '3']] });
  t.onFork(2, 3);
  assert.deepEqual(
    t.onExec(ev(3, 2, ['B=3'])).diff,
    { added: [], removed: [], changed: [] },
    'a child inherits the latest environment',
  );
});

test('tree: a failed exec does not replace the baseline; an unknown process has none; exits leave the live set', () => {
  const t = new ProcessTree();
  t.addRoot(1, [B('A=1')], B('/'));
  t.onFork(1, 2);
  t.onExec(ev(2, 1, ['A=2'], -2));
  assert.deepEqual(t.onExec(ev(2, 1, ['A=1'])).diff, { added: [], removed: [], changed: [] });
  assert.equal(t.onExec(ev(99, 98, ['X=1'])).diff, null, 'no baseline known for a process seen first at its exec');
  assert.deepEqual(t.livePids().sort(), [2, 99]);
  t.onExit(2);
  t.onExit(99);
  assert.equal(t.liveCount, 0);
});
