/**
 * strace's own test case: a failed exec whose argv holds a pointer that cannot be read ({"a", "", (char *)-1,
 * "d"}) and the same in envp. On both backends the unreadable items are named by index (JSON `unreadable`),
 * shown as «unreadable» in text (never as '' — a real empty argument stays ''), and left out of the env diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXECLENS } from '../helpers/paths.js';
import { byFile, requireRoot, trace, type JsonExec } from '../helpers/trace.js';

const C = `#include <unistd.h>
int main(void) {
	char *argv[] = {"a", "", (char *)-1, "d", 0};
	char *envp[] = {"X=1", (char *)-1, 0};
	execve("/bin/true", argv, envp);
	return 0;
}
`;

for (const backend of ['ebpf', 'ptrace'] as const) {
  test(`${backend}: an unreadable argv/env item of a failed exec (EFAULT) is named by index and shown as «unreadable», not as ''`, (t) => {
    if (!requireRoot(t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'execlens-efault-'));
    try {
      writeFileSync(join(dir, 'bad.c'), C);
      execFileSync('cc', ['-o', join(dir, 'bad'), join(dir, 'bad.c')]);
      const r = trace([join(dir, 'bad')], { extra: ['--backend', backend] });
      assert.equal(r.code, 0, r.stderr);
      const e = byFile(r, 'true')[0] as (JsonExec & { unreadable: { argv: number[]; env: number[] } }) | undefined;
      assert.ok(e, JSON.stringify(r.execs.map((x) => x.filename)));
      assert.equal(e.errno, 'EFAULT');
      assert.deepEqual(e.argv, ['a', '', '', 'd']);
      assert.deepEqual(e.unreadable, { argv: [2], env: [1] });
      assert.deepEqual(e.env_diff?.added, { X: '1' }, 'the unreadable env item is not a variable');
      const out = join(dir, 'log.txt');
      spawnSync(EXECLENS, ['log', '--backend', backend, '-o', out, '--', join(dir, 'bad')]);
      assert.match(readFileSync(out, 'utf8'), / EFAULT \/bin\/true argv: a '' «unreadable» d /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
