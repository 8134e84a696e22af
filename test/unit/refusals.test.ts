import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Attempt } from '../../src/backend/ebpf/loader.js';
import { isLasting, readRefusals, refusalKey, writeRefusals } from '../../src/backend/ebpf/refusals.js';

const fentryEperm: Attempt = {
  candidate: 'fentry',
  lifecycle: 'tp_btf',
  stage: 'load',
  ok: false,
  errno: 1,
  error: 'Operation not permitted',
  program: 'fentry_execve',
  endedCandidate: true,
};
const kprobeEagain: Attempt = {
  candidate: 'kprobe',
  lifecycle: 'tp_btf',
  stage: 'load',
  ok: false,
  errno: 11,
  error: 'Resource temporarily unavailable',
  endedCandidate: true,
};
const tpOk: Attempt = { candidate: 'tracepoint', lifecycle: 'tp_btf', stage: 'ok', ok: true };

test('refusals: lasting refusals of a candidate are remembered under their key; transient ones (EAGAIN: a signal during verification) are not', () => {
  const f = join(mkdtempSync(join(tmpdir(), 'execlens-refusals-')), 'sub/refusals.json');
  writeRefusals(f, 'K1', [fentryEperm, kprobeEagain, tpOk], new Date('2026-12-01T00:00:00Z'));
  const r = readRefusals(f, 'K1');
  assert.deepEqual([...r.keys()], ['fentry']);
  assert.equal(r.get('fentry')!.at, '2026-12-01T00:00:00.000Z');
  assert.equal(r.get('fentry')!.errno, 1);
  assert.equal(readRefusals(f, 'K2').size, 0, 'another boot, kernel or object: nothing remembered');
  assert.equal(isLasting(kprobeEagain), false);
  assert.equal(
    isLasting({ ...fentryEperm, stage: 'open' }),
    false,
    'an object that does not open says nothing about the kernel',
  );
});

test('refusals: a candidate that loads later is forgotten; a lifecycle-only refusal and a replayed (cached) attempt are not recorded again', () => {
  const f = join(mkdtempSync(join(tmpdir(), 'execlens-refusals-')), 'refusals.json');
  writeRefusals(f, 'K', [fentryEperm, tpOk]);
  writeRefusals(f, 'K', [{ ...fentryEperm, stage: 'ok', ok: true, errno: undefined, endedCandidate: undefined }]);
  assert.equal(readRefusals(f, 'K').size, 0);
  writeRefusals(f, 'K', [{ ...fentryEperm, endedCandidate: false }]);
  assert.equal(readRefusals(f, 'K').size, 0, 'refused in one lifecycle variant only: the candidate went on');
  writeRefusals(f, 'K', [{ ...fentryEperm, cached: '2026-11-30T00:00:00Z' }]);
  assert.equal(readRefusals(f, 'K').size, 0);
  // the usual log run (remembered refusal skipped, next candidate loads) leaves the file as it is
  writeRefusals(f, 'K', [fentryEperm, tpOk]);
  const text = readFileSync(f, 'utf8');
  writeRefusals(f, 'K', [{ ...fentryEperm, cached: '2026-11-30T00:00:00Z' }, tpOk]);
  assert.equal(readFileSync(f, 'utf8'), text, 'not rewritten');
});

test('refusals: a damaged file is no memory, not an error; the key names boot, kernel and object', () => {
  const d = mkdtempSync(join(tmpdir(), 'execlens-refusals-'));
  const f = join(d, 'refusals.json');
  writeFileSync(f, '{not json');
  assert.equal(readRefusals(f, 'K').size, 0);
  writeRefusals(f, 'K', [fentryEperm]);
  assert.equal(JSON.parse(readFileSync(f, 'utf8')).key, 'K');
  const obj = join(d, 'x.o');
  writeFileSync(obj, 'abc');
  const k = refusalKey('boot-1\n', '6.18.0', obj);
  assert.match(k!, /^boot-1\|6\.18\.0\|.*x\.o\|3\|\d+$/);
  assert.equal(refusalKey('boot-1', '6.18.0', join(d, 'missing.o')), null);
});

test('refusals: two objects used in turn (a checkout and a package) each keep their record, the latest at the top; a file of the one-record layout is still read', () => {
  const f = join(mkdtempSync(join(tmpdir(), 'execlens-refusals-')), 'refusals.json');
  writeRefusals(f, 'A', [fentryEperm, tpOk]);
  writeRefusals(f, 'B', [fentryEperm, tpOk]);
  assert.equal(readRefusals(f, 'A').get('fentry')?.errno, 1, "B's record did not replace A's");
  assert.equal(readRefusals(f, 'B').get('fentry')?.errno, 1);
  const top = JSON.parse(readFileSync(f, 'utf8')) as { key: string; others: { key: string }[] };
  assert.equal(top.key, 'B', 'the latest record stays where a one-record reader looks');
  assert.deepEqual(
    top.others.map((o) => o.key),
    ['A'],
  );
  // A's usual run (its refusal skipped) finds its record among the others and writes nothing
  const text = readFileSync(f, 'utf8');
  writeRefusals(f, 'A', [{ ...fentryEperm, cached: '2026-11-30T00:00:00Z' }, tpOk]);
  assert.equal(readFileSync(f, 'utf8'), text, 'not rewritten');
  // at most 7 others, the oldest dropped first
  for (const k of ['C', 'D', 'E', 'F', 'G', 'H', 'I', 'J']) writeRefusals(f, k, [fentryEperm, tpOk]);
  assert.equal(readRefusals(f, 'A').size, 0, 'the oldest record is gone');
  assert.equal(readRefusals(f, 'C').size, 1);
  const old = join(mkdtempSync(join(tmpdir(), 'execlens-refusals-')), 'refusals.json');
  writeFileSync(old, JSON.stringify({ key: 'K', refused: { fentry: { ...fentryEperm, at: 'x' } } }));
  assert.equal(readRefusals(old, 'K').size, 1);
});
