/**
 * The kernel's slow facts (config, BTF symbols) are remembered for the boot: probeKernel('refresh') records
 * them, 'use' reads that record instead of probing (a marker planted in it comes back), 'off' probes, and a
 * record for another boot, kernel or build is ignored. Runs node in a child so the cache path is its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths.js';

function probe(cachePath: string, mode: string): { kconfigSource: string | null; symbolsSource: string | null } {
  const js = `import('${join(ROOT, 'dist/src/kernel/features.js')}').then((m) => { const f = m.probeKernel('${mode}'); console.log(JSON.stringify({ kconfigSource: f.kconfigSource, symbolsSource: f.symbolsSource })); })`;
  const r = spawnSync(process.execPath, ['-e', js], {
    env: { ...process.env, EXECLENS_FACTS_CACHE: cachePath, EXECLENS_NO_FACTS_CACHE: '' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { kconfigSource: string | null; symbolsSource: string | null };
}

test("kernel facts: 'refresh' records them for this boot, 'use' reads the record, 'off' and a record of another boot probe again", () => {
  const dir = mkdtempSync(join(tmpdir(), 'execlens-facts-'));
  const path = join(dir, 'kernel-facts.json');
  try {
    const probed = probe(path, 'refresh');
    if (!existsSync(path)) return; // no boot id readable here: nothing to remember (probeKernel still answered)
    const rec = JSON.parse(readFileSync(path, 'utf8')) as { key: string; facts: Record<string, unknown> };
    assert.match(rec.key, /^[0-9a-f-]{36}\|.+\|features \d+\|execlens \d/);
    assert.equal(rec.facts.kconfigSource, probed.kconfigSource);
    writeFileSync(path, JSON.stringify({ key: rec.key, facts: { ...rec.facts, kconfigSource: 'MARKER' } }));
    assert.equal(probe(path, 'use').kconfigSource, 'MARKER', "'use' answers from the record");
    assert.equal(probe(path, 'off').kconfigSource, probed.kconfigSource, "'off' probes");
    writeFileSync(
      path,
      JSON.stringify({ key: `other-boot|${rec.key}`, facts: { ...rec.facts, kconfigSource: 'MARKER' } }),
    );
    assert.equal(probe(path, 'use').kconfigSource, probed.kconfigSource, 'a record of another boot is ignored');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
