/** A cwd removed before the exec: both backends give the path it had and mark it (CWD_DELETED, !cwd_deleted). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXECLENS } from '../helpers/paths.js';
import { byFile, requireRoot, trace } from '../helpers/trace.js';

for (const backend of ['ebpf', 'ptrace'] as const) {
  test(`${backend}: an exec from a removed cwd has the path it had, flagged CWD_DELETED (no " (deleted)" in the path)`, (t) => {
    if (!requireRoot(t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'execlens-gone-'));
    try {
      const gone = join(dir, 'gone');
      const script = `mkdir ${gone} && cd ${gone} && rmdir ${gone} && /bin/true; cd / && /bin/true`;
      const r = trace(['sh', '-c', script], { extra: ['--backend', backend] });
      assert.equal(r.code, 0, r.stderr);
      const [removed, root] = byFile(r, 'true');
      assert.equal(removed?.cwd, gone);
      assert.ok(removed!.flags.includes('CWD_DELETED'), JSON.stringify(removed!.flags));
      assert.equal(root?.cwd, '/');
      assert.ok(!root!.flags.includes('CWD_DELETED'));
      const out = join(dir, 'log.txt');
      spawnSync(EXECLENS, ['log', '--backend', backend, '-o', out, '--', 'sh', '-c', script]);
      assert.match(
        readFileSync(out, 'utf8')
          .split('\n')
          .find((l) => l.includes(' /bin/true ') && l.includes(gone)) ?? '',
        /!cwd_deleted/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
