import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXECLENS } from '../helpers/paths.js';
import { requireRoot } from '../helpers/trace.js';
import { currentKey } from '../../src/backend/ebpf/refusals.js';

interface Doctor {
  plan: { candidates: { id: string }[] };
  chosen: { candidate: string } | null;
  objectPath: string;
  features: { release: string };
}
interface Record_ {
  key: string;
  refused: Record<string, Record<string, unknown>>;
}

/*
 * A candidate refused in this boot is skipped by the next `log` (start-up: no
 * object open, BTF parse and maps for a refusal known in advance), said so under
 * -v; `--attach` still tries it; a record of another boot/kernel/object is ignored.
 * Where nothing is refused (fentry loads), a refusal of the first candidate is
 * written by hand into the test's own file (EXECLENS_REFUSALS), never /run's.
 */
test('refusals of this boot: log skips them and says so; --attach and a stale record do not', (t) => {
  if (!requireRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'execlens-refusals-'));
  const file = join(dir, 'refusals.json');
  const env: NodeJS.ProcessEnv = { ...process.env, EXECLENS_REFUSALS: file };
  delete env.EXECLENS_NO_REFUSAL_CACHE;
  try {
    const doc = spawnSync(EXECLENS, ['doctor', '--json'], { env, encoding: 'utf8' });
    const d = JSON.parse(doc.stdout) as Doctor;
    const ids = d.plan.candidates.map((c) => c.id);
    if (ids.length < 2 || !d.chosen) {
      t.skip(`plan has ${ids.length} candidate(s): nothing to skip`);
      return;
    }
    // doctor writes the record only when something was refused (a kernel where the first candidate loads: none)
    const key = currentKey(d.objectPath, d.features.release);
    assert.ok(key, 'a refusal key for this boot, kernel and object');
    const rec = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record_) : { key, refused: {} };
    assert.equal(rec.key, key);
    if (!Object.keys(rec.refused).length) {
      // nothing refused here: record a refusal of the candidate doctor chose
      rec.refused[d.chosen.candidate] = {
        candidate: d.chosen.candidate,
        lifecycle: 'tp_btf',
        stage: 'load',
        ok: false,
        errno: 1,
        error: 'refused for this test',
        at: '2026-12-01T00:00:00.000Z',
      };
      writeFileSync(file, JSON.stringify(rec));
    }
    const skipped = Object.keys(rec.refused);
    assert.ok(
      skipped.every((s) => s !== ids[ids.length - 1]),
      'the last candidate is never skipped',
    );

    const log = (extra: string[]) =>
      spawnSync(EXECLENS, ['log', '-v', '--json', '-o', '-', ...extra, '--', 'sh', '-c', '/bin/true skip-test'], {
        env,
        encoding: 'utf8',
      });
    const r = log([]);
    assert.equal(r.status, 0, r.stderr);
    for (const s of skipped)
      assert.match(
        r.stderr,
        new RegExp(`attempt ${s.replace('.', '\\.')}/[\\w/]+: skipped, refused earlier this boot`),
        r.stderr,
      );
    const execs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; argv?: string[]; plan?: string });
    assert.deepEqual(
      execs.find((e) => e.argv?.[1] === 'skip-test')?.argv,
      ['/bin/true', 'skip-test'],
      'the next candidate traces',
    );
    const plan = execs.find((e) => e.type === 'summary')!.plan!;
    assert.ok(!skipped.some((s) => plan.startsWith(`${s}+`)), `plan ${plan} is not a skipped candidate`);

    // --attach forces a try, remembered or not
    const kind = skipped[0]!.split('.')[0]!;
    const forced = log(['--attach', kind]);
    assert.doesNotMatch(forced.stderr, /skipped, refused earlier/, forced.stderr);
    assert.match(forced.stderr, new RegExp(`${kind}[.\\w]*/\\w+`), 'the forced kind was tried'); // -v line, or the refusal line when it is refused

    // a record of another boot (or kernel, or object) is ignored
    writeFileSync(file, JSON.stringify({ ...rec, key: `other-boot|${rec.key}` }));
    const stale = log([]);
    assert.equal(stale.status, 0, stale.stderr);
    assert.doesNotMatch(stale.stderr, /skipped, refused earlier/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
