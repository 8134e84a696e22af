import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffEnv, isEmptyDiff } from '../../src/events/envdiff.js';
import { envDiffWords, jsonEnvDiff } from '../../src/output/format.js';

const b = (...s: string[]) => s.map((x) => Buffer.from(x));

test('added, removed and changed variables', () => {
  const d = diffEnv(b('A=1', 'B=2', 'C=3'), b('A=1', 'B=20', 'D=4'));
  assert.deepEqual(d.added, [['D', '4']]);
  assert.deepEqual(d.removed, ['C']);
  assert.deepEqual(d.changed, [['B', '2', '20']]);
  assert.deepEqual(envDiffWords(d), ['+D=4', '~B=20', '-C']);
});

test('values with "=" and odd bytes survive', () => {
  const d = diffEnv(b('X=a=b'), [Buffer.from('X=a=b'), Buffer.from([0x59, 0x3d, 0xff, 0x20])]);
  assert.equal(d.added.length, 1);
  assert.equal(d.added[0]![0], 'Y');
  assert.deepEqual(envDiffWords(d), [`+$'Y=\\xff '`]);
  assert.ok(isEmptyDiff(diffEnv(b('A=1'), b('A=1'))));
});

test('an unchanged environment is an empty diff; a change in one byte, order or count is not', () => {
  const env = b('PATH=/usr/bin:/bin', 'HOME=/root', 'LANG=C.UTF-8');
  assert.ok(isEmptyDiff(diffEnv(env, b('PATH=/usr/bin:/bin', 'HOME=/root', 'LANG=C.UTF-8'))));
  assert.deepEqual(diffEnv(env, b('PATH=/usr/bin:/bin', 'HOME=/roo', 'LANG=C.UTF-8')).changed, [
    ['HOME', '/root', '/roo'],
  ]);
  // the same set in another order is the same environment
  assert.ok(isEmptyDiff(diffEnv(env, b('HOME=/root', 'LANG=C.UTF-8', 'PATH=/usr/bin:/bin'))));
  assert.deepEqual(diffEnv(env, b('PATH=/usr/bin:/bin', 'HOME=/root')).removed, ['LANG']);
});

test('JSON env diff: UTF-8 names and values as text (not latin1 mojibake), no env_diff_b64', () => {
  const d = diffEnv(b('K=old', 'GONE=1'), b('K=nouveau é', 'CAFÉ=☕'));
  assert.deepEqual(jsonEnvDiff(d), { v: { added: { CAFÉ: '☕' }, removed: ['GONE'], changed: { K: 'nouveau é' } } });
});

test('JSON env diff: a name or value that is not UTF-8 gets U+FFFD in the text and every entry exact in env_diff_b64', () => {
  const raw = (...parts: (string | number[])[]) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  const d = diffEnv(
    [raw('OLD=1'), raw('C=x'), raw('N', [0xfe], '=1')],
    [raw('V=', [0xff]), raw('C=', [0xe9]), raw('OK=yes')],
  );
  const j = jsonEnvDiff(d);
  assert.deepEqual(j.v, { added: { V: '\ufffd', OK: 'yes' }, removed: ['OLD', 'N\ufffd'], changed: { C: '\ufffd' } });
  const dec = (l: string[]) => l.map((x) => Buffer.from(x, 'base64'));
  assert.deepEqual(dec(j.b64!.added), [raw('V=', [0xff]), raw('OK=yes')]);
  assert.deepEqual(dec(j.b64!.removed), [raw('OLD'), raw('N', [0xfe])]);
  assert.deepEqual(dec(j.b64!.changed), [raw('C=', [0xe9])]);
  assert.deepEqual(jsonEnvDiff(null), { v: null });
});

test('lossless: an entry without "=" differs from NAME= (null value), the empty entry "" is in the diff, text and JSON tell them apart', () => {
  const B = (s: string) => Buffer.from(s);
  const d = diffEnv([B('A=1'), B('NOEQUALS='), B('')], [B('A'), B('NOEQUALS'), B('NEW'), B('NEW2=')]);
  assert.deepEqual(d, {
    added: [
      ['NEW', null],
      ['NEW2', ''],
    ],
    removed: [''],
    changed: [
      ['A', '1', null],
      ['NOEQUALS', '', null],
    ],
  });
  assert.deepEqual(envDiffWords(d), ['+NEW', '+NEW2=', '~A', '~NOEQUALS', "-''"]);
  assert.deepEqual(jsonEnvDiff(d).v, {
    added: { NEW: null, NEW2: '' },
    removed: [''],
    changed: { A: null, NOEQUALS: null },
  });
  const added = diffEnv([B('A=1')], [B('A=1'), B('')]);
  assert.deepEqual(added.added, [['', null]], 'an empty entry added is seen');
  assert.deepEqual(envDiffWords(added), ["+''"]);
});
