import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths.js';

const bench = (args: string[]) => spawnSync('node', [join(ROOT, 'dist/bench/run.js'), ...args], { encoding: 'utf8', timeout: 20000 });

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
