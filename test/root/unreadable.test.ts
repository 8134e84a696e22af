/**
 * strace's own test case: a failed exec whose argv holds a pointer that cannot be read ({"a", "", (char *)-1,
 * "d"}) and the same in envp. On both backends the unreadable items are named by index (JSON `unreadable`),
 * shown as «unreadable» in text (never as '' — a real empty argument stays ''), and left out of the env diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EXECLENS } from '../helpers/paths.js';
import { nativeHelperPath } from '../../src/backend/execspec.js';
import { byFile, requireRoot, trace, type JsonExec } from '../helpers/trace.js';

// test/programs/efault-exec.c, built beside the ptrace helper (a cross build for a guest of another arch)
const BAD = join(dirname(nativeHelperPath()), 'test/efault-exec');

for (const backend of ['ebpf', 'ptrace'] as const) {
  test(
    `${backend}: an unreadable argv/env item of a failed exec (EFAULT) is named by index and shown as «unreadable», not as ''`,
    {
      skip: existsSync(BAD) ? false : `no ${BAD} (scripts/build-native.sh builds it)`,
    },
    (t) => {
      if (!requireRoot(t)) return;
      const dir = mkdtempSync(join(tmpdir(), 'execlens-efault-'));
      try {
        const r = trace([BAD], { extra: ['--backend', backend] });
        assert.equal(r.code, 0, r.stderr);
        const e = byFile(r, 'true')[0] as (JsonExec & { unreadable: { argv: number[]; env: number[] } }) | undefined;
        assert.ok(e, JSON.stringify(r.execs.map((x) => x.filename)));
        assert.equal(e.errno, 'EFAULT');
        assert.deepEqual(e.argv, ['a', '', '', 'd']);
        assert.deepEqual(e.unreadable, { argv: [2], env: [1] });
        assert.deepEqual(e.env_diff?.added, { X: '1' }, 'the unreadable env item is not a variable');
        const out = join(dir, 'log.txt');
        spawnSync(EXECLENS, ['log', '--backend', backend, '-o', out, '--', BAD]);
        assert.match(readFileSync(out, 'utf8'), / EFAULT \/bin\/true argv: a '' «unreadable» d /);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}
