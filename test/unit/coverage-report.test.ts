import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixture, ROOT } from '../helpers/paths.js';
import { join } from 'node:path';
import { functionTable, typeOnlyModules, unreachedRegions, type CovExport } from '../../src/coverage/report.js';

/*
 * llvm-cov 14's JSON export of tiny.bpf.c's mapping object with on_exec entered 3 times and pick's `x > 3`
 * never true (profile: on_exec [3], pick [3, 0])
 */
const exp = JSON.parse(readFileSync(fixture('coverage/tiny-export.json'), 'utf8')) as CovExport;
const source = readFileSync(fixture('coverage/tiny.bpf.c'), 'utf8').split('\n');

test('the function table: where each function starts, its entry count, code regions run and branch outcomes taken', () => {
  const rows = functionTable(exp).trimEnd().split('\n');
  assert.match(rows[0]!, /^function +where +entered +regions +branches$/);
  assert.match(rows[1]!, /^pick +tiny\.bpf\.c:7 +3 +3\/4 +1\/2$/);
  assert.match(rows[2]!, /^on_exec +tiny\.bpf\.c:15 +3 +1\/1 +0\/0$/);
});

test('the code not reached in functions that ran is named by file, line and source text', () => {
  assert.deepEqual(
    unreachedRegions(exp, (f) => (f === 'tiny.bpf.c' ? source : undefined)),
    ['tiny.bpf.c:9  return x * 2;'],
  );
  assert.deepEqual(
    unreachedRegions(exp, () => undefined),
    ['tiny.bpf.c:9  '],
  );
});

test('modules that compile to nothing (interfaces only) are found, so a run is not blamed for them', () => {
  const mods = typeOnlyModules(join(ROOT, 'dist/src'));
  assert.ok(
    mods.some((m) => m.endsWith('/output/sink.js')),
    mods.join(', '),
  );
  assert.ok(!mods.some((m) => m.endsWith('/output/format.js')));
});
