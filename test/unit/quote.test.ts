import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { isUtf8, shellJoin, shellQuote } from '../../src/output/quote.js';

/** What bash makes of a quoted word: the bytes of "$1" after parsing. */
function bashRoundTrip(words: Buffer[]): Buffer[] {
  const script = `for a in ${shellJoin(words)}; do printf '%s\\0' "$a"; done`;
  const out = execFileSync('bash', ['-c', script]);
  const parts: Buffer[] = [];
  let s = 0;
  for (let i = 0; i < out.length; i++) {
    if (out[i] !== 0) continue;
    parts.push(out.subarray(s, i));
    s = i + 1;
  }
  return parts;
}

test('plain words stay bare, others are quoted', () => {
  assert.equal(shellQuote('ls'), 'ls');
  assert.equal(shellQuote('/usr/bin/env'), '/usr/bin/env');
  assert.equal(shellQuote('FOO=1'), 'FOO=1');
  assert.equal(shellQuote('a b'), `'a b'`);
  assert.equal(shellQuote(''), `''`);
  assert.equal(shellQuote(`it's`), `'it'\\''s'`);
  assert.equal(shellQuote('a\nb'), `$'a\\nb'`);
  assert.equal(shellQuote(Buffer.from([0x61, 0xff, 0x62])), `$'a\\xffb'`);
  assert.equal(shellQuote('héllo wörld'), `'héllo wörld'`);
});

test('quoted words paste back into bash as the same bytes', () => {
  const words = [
    Buffer.from('a b'),
    Buffer.from(`it's "quoted"`),
    Buffer.from('line1\nline2\ttab'),
    Buffer.from([0xff, 0xfe, 0x41]),
    Buffer.from('mixed é \x01 \\ $HOME `x`'),
    Buffer.concat([Buffer.from('é'), Buffer.from([0xc3]), Buffer.from("'")]),
    Buffer.from('*?[]{}|&;<>()!#~'),
  ];
  assert.deepEqual(bashRoundTrip(words), words);
});

test('isUtf8 agrees with a fatal TextDecoder on ASCII, multi-byte, overlong, surrogate, out-of-range and cut sequences', () => {
  const dec = new TextDecoder('utf-8', { fatal: true });
  const ref = (b: Uint8Array) => {
    try {
      dec.decode(b);
      return true;
    } catch {
      return false;
    }
  };
  const cases = [
    [],
    [0x61, 0x62],
    [0x00, 0x7f],
    [0xc3, 0xa9],
    [0xe2, 0x82, 0xac],
    [0xf0, 0x9f, 0x98, 0x80],
    [0xc0, 0xaf],
    [0xe0, 0x80, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xf4, 0x90, 0x80, 0x80],
    [0xe2, 0x82],
    [0x61, 0xff],
    [0xef, 0xbb, 0xbf, 0x61],
  ];
  for (const c of cases) assert.equal(isUtf8(Buffer.from(c)), ref(Buffer.from(c)), `bytes ${c.join(',')}`);
  // a leading BOM is dropped when quoted, as the decoder this used always did
  assert.equal(shellQuote(Buffer.from([0xef, 0xbb, 0xbf, 0x20, 0xc3, 0xa9])), `' é'`);
});
