import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { shellJoin, shellQuote } from '../../src/output/quote.js';

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
