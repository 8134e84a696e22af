import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from '../helpers/paths.js';
import {
  accumulate,
  countsOf,
  mergeCounts,
  parseDump,
  parseLayout,
  textProfile,
  zeroCounts,
  type Counts,
} from '../../src/coverage/profile.js';

const layout = parseLayout(readFileSync(fixture('coverage/layout.json'), 'utf8'));
/** recorded counter dumps of the coverage object: `execlens log -- /bin/true`, and a shell whose exec failed */
const dumpTrue = { file: 'dump-true.json', text: readFileSync(fixture('coverage/dump-true.json'), 'utf8') };
const dumpFailed = {
  file: 'dump-failed-exec.json',
  text: readFileSync(fixture('coverage/dump-failed-exec.json'), 'utf8'),
};
const entry = (c: Counts, name: string): bigint => c.get(name)![0]!;

test('a recorded dump is cut into per-function counters at the layout offsets', () => {
  const c = countsOf(parseDump(dumpTrue.text), layout);
  assert.equal(c.size, layout.functions.length);
  for (const f of layout.functions) assert.equal(c.get(f.name)!.length, f.counters, f.name);
  // one successful exec, committed at sched_process_exec (the host's plan: raw_syscalls+tp_btf+bpf_loop)
  assert.ok(entry(c, 'execlens.bpf.c:trace_exec_common_commit') >= 1n);
  assert.ok(entry(c, 'execlens.bpf.c:____btf_sched_exec_loop') >= 1n);
  // a plan that did not run: its wrappers were never entered
  assert.equal(entry(c, 'kprobe_execve'), 0n);
  assert.equal(entry(c, 'execlens.bpf.c:____fentry_execve'), 0n);
});

test('merging sums counter by counter; accumulate over both dumps equals their merge', () => {
  const a = countsOf(parseDump(dumpTrue.text), layout);
  const b = countsOf(parseDump(dumpFailed.text), layout);
  const m = mergeCounts(a, b);
  for (const [name, cs] of m)
    cs.forEach((v, i) => assert.equal(v, a.get(name)![i]! + b.get(name)![i]!, `${name}[${i}]`));
  // merge does not alter its inputs
  assert.deepEqual(countsOf(parseDump(dumpTrue.text), layout), a);
  const acc = accumulate([dumpTrue, dumpFailed], layout);
  assert.equal(acc.used, 2);
  assert.deepEqual(acc.skipped, []);
  assert.deepEqual(acc.counts, m);
  // the failed exec's exit path ran only in the second run
  assert.ok(entry(b, 'execlens.bpf.c:trace_exec_common_exit') > 0n);
});

test('a dump of another build or of the wrong size is skipped and named, not counted', () => {
  const other = JSON.stringify({ ...JSON.parse(dumpTrue.text), objectSha256: 'f'.repeat(64) });
  const short = JSON.stringify({ ...JSON.parse(dumpTrue.text), counters: Buffer.alloc(8).toString('base64') });
  const acc = accumulate(
    [
      dumpTrue,
      { file: 'other.json', text: other },
      { file: 'short.json', text: short },
      { file: 'bad.json', text: '{' },
    ],
    layout,
  );
  assert.equal(acc.used, 1);
  assert.deepEqual(
    acc.skipped.map((s) => s.file),
    ['other.json', 'short.json', 'bad.json'],
  );
  assert.match(acc.skipped[0]!.reason, /another build/);
  assert.match(acc.skipped[1]!.reason, /8 bytes, the section \d+/);
  assert.deepEqual(acc.counts, countsOf(parseDump(dumpTrue.text), layout));
});

test('merging functions of different counter counts is refused', () => {
  const a: Counts = new Map([['f', [1n, 2n]]]);
  assert.throws(() => mergeCounts(a, new Map([['f', [1n]]])), /2 counters vs 1/);
  assert.deepEqual(
    mergeCounts(a, new Map([['g', [5n]]])),
    new Map([
      ['f', [1n, 2n]],
      ['g', [5n]],
    ]),
  );
});

test('the text profile is the format llvm-profdata reads: blocks of name, hash, counter count and values', () => {
  const c = countsOf(parseDump(dumpTrue.text), layout);
  const text = textProfile(layout, c);
  const blocks = text.trim().split('\n\n');
  assert.equal(blocks.length, layout.functions.length);
  const f = layout.functions.find((x) => x.name === 'execlens.bpf.c:trace_exec_common_commit')!;
  const block = blocks.find((b) => b.startsWith(`${f.name}\n`))!;
  assert.deepEqual(block.split('\n'), [
    f.name,
    '# Func Hash:',
    f.hash,
    '# Num Counters:',
    String(f.counters),
    '# Counter Values:',
    ...c.get(f.name)!.map(String),
  ]);
  assert.equal(textProfile(layout, zeroCounts(layout)).split('\n\n').length, layout.functions.length);
});

test('llvm-profdata merges the text profile and shows the counts it was given', (t) => {
  const have = spawnSync('llvm-profdata', ['--version']);
  if (have.error) return t.skip('llvm-profdata not installed (apt-get install llvm)');
  const dir = mkdtempSync(join(tmpdir(), 'execlens-prof-'));
  const counts = accumulate([dumpTrue, dumpFailed], layout).counts;
  writeFileSync(join(dir, 'p.proftext'), textProfile(layout, counts));
  const m = spawnSync('llvm-profdata', ['merge', '-o', join(dir, 'p.profdata'), join(dir, 'p.proftext')], {
    encoding: 'utf8',
  });
  assert.equal(m.status, 0, m.stderr);
  const name = 'execlens.bpf.c:trace_exec_common_commit';
  const s = spawnSync('llvm-profdata', ['show', '-counts', `-function=${name}`, join(dir, 'p.profdata')], {
    encoding: 'utf8',
  });
  assert.equal(s.status, 0, s.stderr);
  // the first counter is the function's entry count, the others its blocks'
  const [fn, ...blocks] = counts.get(name)!;
  assert.match(s.stdout, new RegExp(`Function count: ${fn}\n\\s+Block counts: \\[${blocks.join(', ')}\\]`));
  assert.match(s.stdout, new RegExp(`Functions shown: 1`));
});
