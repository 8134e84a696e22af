/** -p PID: parsing, and the walk of a process tree (a /proc laid out in a temp dir), each followed before its children are read */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachTree, parsePids } from '../../src/backend/attach-pids.js';
import { ExeclensError } from '../../src/exitcodes.js';

test('parsePids: comma lists and repeats, duplicates once; anything but a positive number is a usage error (64)', () => {
  assert.deepEqual(parsePids(['12,34', '56', '12']), [12, 34, 56]);
  for (const bad of ['0', '-3', '12x', '', '1,,2'])
    assert.throws(
      () => parsePids([bad]),
      (e: unknown) => e instanceof ExeclensError && e.exitCode === 64,
      bad,
    );
});

test('attachTree: follows each process before reading its children (every thread), with its environment and cwd; an unknown pid is a usage error', () => {
  const proc = mkdtempSync(join(tmpdir(), 'execlens-proc-'));
  const mk = (pid: number, threads: Record<number, number[]>) => {
    for (const [tid, kids] of Object.entries(threads)) {
      mkdirSync(join(proc, String(pid), 'task', tid), { recursive: true });
      writeFileSync(join(proc, String(pid), 'task', tid, 'children'), kids.map((k) => `${k} `).join(''));
    }
    writeFileSync(join(proc, String(pid), 'stat'), `${pid} (x) S`);
    writeFileSync(join(proc, String(pid), 'environ'), `PID=${pid}\0HOME=/h\0`);
    symlinkSync(`/cwd/${pid}`, join(proc, String(pid), 'cwd'));
  };
  try {
    mk(10, { 10: [11], 12: [13] }); // a thread (12) with a child of its own
    mk(11, { 11: [14] });
    mk(13, { 13: [] });
    mk(14, { 14: [] });
    const order: number[] = [];
    const got = attachTree([10], (p) => order.push(p), proc);
    assert.deepEqual(order, [10, 11, 13, 14]);
    assert.deepEqual(
      got.map((p) => [p.pid, p.ppid]),
      [
        [10, 0],
        [11, 10],
        [13, 10],
        [14, 11],
      ],
    );
    assert.deepEqual(got[3]!.env?.map(String), ['PID=14', 'HOME=/h']);
    assert.equal(String(got[3]!.cwd), '/cwd/14');
    assert.throws(() => attachTree([99], () => {}, proc), /-p 99: no such process/);
  } finally {
    rmSync(proc, { recursive: true, force: true });
  }
});
