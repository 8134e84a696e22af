import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths.js';

const bench = (args: string[]) =>
  spawnSync('node', [join(ROOT, 'dist/bench/run.js'), ...args], { encoding: 'utf8', timeout: 20000 });

test('bench --help prints its options and runs nothing; a bad flag value is refused before any workload', () => {
  const h = bench(['--help']);
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /^Usage: bench \[options\]/);
  for (const o of ['--reps', '--scale', '--only', '--modes']) assert.ok(h.stdout.includes(o), o);
  assert.doesNotMatch(h.stderr, /^rep \d/m, 'no repetition started');
  const bad = bench(['--reps', 'x']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /option '--reps <n>' argument 'x' is invalid/);
  assert.doesNotMatch(bad.stderr, /^rep \d/m);
});

test('bench --only/--modes with a name that matches nothing exit 64 naming the known ones, and run nothing', () => {
  const w = bench(['--only', 'make']);
  assert.equal(w.status, 64, w.stderr);
  assert.match(w.stderr, /^bench: --only make: no such name \(known: .*make-j2/m);
  assert.doesNotMatch(w.stderr, /^rep \d/m, 'no repetition started');
  const m = bench(['--modes', 'execlens,nope']);
  assert.equal(m.status, 64, m.stderr);
  assert.match(m.stderr, /^bench: --modes nope: no such name \(known: untraced, execlens/m);
});

test('bench --decode-only prints decode, text and JSON rates of the recorded fixture and runs no workload', () => {
  const r = spawnSync('node', [join(ROOT, 'dist/bench/run.js'), '--decode-only'], {
    encoding: 'utf8',
    timeout: 120000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /^rep \d/m, 'no repetition started');
  const rates = (JSON.parse(r.stdout) as { eventsPerSec: Record<string, number> }).eventsPerSec;
  assert.deepEqual(Object.keys(rates), ['decode only', 'text', 'json']);
  for (const [k, v] of Object.entries(rates)) assert.ok(Number.isFinite(v) && v > 1000, `${k}: ${v}`);
  // formatting is work on top of decoding, never less
  assert.ok(rates['decode only']! > rates.json!, JSON.stringify(rates));
});
