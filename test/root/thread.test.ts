/** A thread other than the leader execs: both backends report the caller's tid, and the text line shows it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXECLENS } from '../helpers/paths.js';
import { byFile, requireRoot, trace } from '../helpers/trace.js';

// python's threading: the second thread execs while the leader waits in join()
const THREAD_EXEC = [
  '/usr/bin/python3',
  '-c',
  'import os, threading; t = threading.Thread(target=lambda: os.execv("/bin/true", ["true", "from-thread"])); t.start(); t.join()',
];

for (const backend of ['ebpf', 'ptrace'] as const) {
  test(`${backend}: an exec by a non-leader thread has its tid (not the pid) in JSON, and pid/tid in the text line`, (t) => {
    if (!requireRoot(t)) return;
    const r = trace(THREAD_EXEC, { extra: ['--backend', backend] });
    assert.equal(r.code, 0, r.stderr);
    const [e] = byFile(r, 'true');
    assert.ok(e, r.execs.map((x) => x.filename).join(' '));
    const [py] = byFile(r, 'python3');
    assert.equal(e.pid, py!.pid, 'the exec keeps the process id');
    assert.notEqual(e.tid, e.pid, 'the caller was not the leader');
    const dir = mkdtempSync(join(tmpdir(), 'execlens-thread-'));
    const out = join(dir, 'log.txt');
    spawnSync(EXECLENS, ['log', '--backend', backend, '-o', out, '--', ...THREAD_EXEC], { encoding: 'utf8' });
    const text = readFileSync(out, 'utf8');
    rmSync(dir, { recursive: true, force: true });
    const line = text.split('\n').find((l) => l.includes('argv: true from-thread'));
    assert.match(line ?? '', /^\S+ (\d+)\/(\d+)<\d+> /, text);
    const [, pid, tid] = /^\S+ (\d+)\/(\d+)</.exec(line!)!;
    assert.notEqual(pid, tid);
  });
}
