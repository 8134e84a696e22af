/** compile_commands.json's pure logic: which programs are compilers, which runs compile, each entry's file and output. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileEntries, isCompiler } from '../../src/output/compile/compile-entry.js';
import {
  CompileCommandsSink,
  compileStatsLine,
  type CompileStats,
} from '../../src/output/compile/compile-commands-sink.js';
import { B, execEvent, MemoryWriter, summaryOf } from '../helpers/events.js';
import { regexArg } from '../../src/cli/main.js';

test('compilers by name: gcc, g++, cc, c++, clang, clang++, versioned, target-prefixed, by file name or argv[0]; not cc1, as, ld, ccache', () => {
  for (const n of [
    'gcc',
    'g++',
    'cc',
    'c++',
    'clang',
    'clang++',
    'gcc-12',
    'clang-16',
    'clang++-14.0',
    'x86_64-linux-gnu-gcc-12',
    'aarch64-linux-gnu-g++',
    'musl-gcc',
  ])
    assert.ok(isCompiler(`/usr/bin/${n}`, n), n);
  for (const n of ['cc1', 'cc1plus', 'as', 'ld', 'collect2', 'ccache', 'gccgo', 'make', 'gcc-ar', 'clang-format'])
    assert.ok(!isCompiler(`/usr/lib/${n}`, n), n);
  assert.ok(isCompiler('/opt/x/bin/weird', 'gcc'), 'argv[0] names it');
  assert.ok(isCompiler('/opt/tcc', 'tcc', /^tcc$/), '--compiler');
  assert.ok(!isCompiler('/usr/bin/gcc', 'gcc', /^tcc$/), '--compiler replaces the default');
});

test('entries: -c with -o, without -o (x.o in the cwd), several sources, compile-and-link, -S; nothing for -E, -M, a link of objects, --version, clang -cc1', () => {
  const one = compileEntries(['gcc', '-O2', '-I', 'inc', '-DX=1', '-c', '-o', 'out/a.o', 'src/a.c'], '/b');
  assert.deepEqual(one, [
    {
      directory: '/b',
      file: 'src/a.c',
      arguments: ['gcc', '-O2', '-I', 'inc', '-DX=1', '-c', '-o', 'out/a.o', 'src/a.c'],
      output: 'out/a.o',
    },
  ]);
  assert.deepEqual(
    compileEntries(['cc', '-c', 'dir/x.c', 'y.cpp'], '/b').map((e) => [e.file, e.output]),
    [
      ['dir/x.c', 'x.o'],
      ['y.cpp', 'y.o'],
    ],
  );
  assert.deepEqual(
    compileEntries(['gcc', '-oprog', 'main.c', 'util.o', '-lm'], '/b').map((e) => [e.file, e.output]),
    [['main.c', 'prog']],
  );
  assert.deepEqual(
    compileEntries(['gcc', 'main.c'], '/b').map((e) => e.output),
    ['a.out'],
  );
  assert.deepEqual(
    compileEntries(['gcc', '-S', 'k.c'], '/b').map((e) => e.output),
    ['k.s'],
  );
  assert.deepEqual(
    compileEntries(['gcc', '-c', '-x', 'c', 'conf.txt'], '/b').map((e) => e.file),
    ['conf.txt'],
    '-x c makes any file a source',
  );
  assert.deepEqual(
    compileEntries(['gcc', '-c', '-MD', '-MF', 'a.d', 'a.c'], '/b').map((e) => e.file),
    ['a.c'],
    '-MF names no source',
  );
  assert.deepEqual(compileEntries(['gcc', '-E', 'a.c'], '/b'), []);
  assert.deepEqual(compileEntries(['gcc', '-MM', 'a.c'], '/b'), []);
  assert.deepEqual(compileEntries(['gcc', '-o', 'prog', 'a.o', 'b.o'], '/b'), []);
  assert.deepEqual(compileEntries(['gcc', '--version'], '/b'), []);
  assert.deepEqual(compileEntries(['clang', '-cc1', '-o', 'a.o', 'a.c'], '/b'), []);
});

test('the sink: successful compiler execs only, a recompile of the same source to the same output replaces the first, counted', () => {
  const w = new MemoryWriter();
  let stats: CompileStats | undefined;
  const sink = new CompileCommandsSink(w, undefined, (s) => (stats = s));
  const cc = (argv: string[], over = {}) =>
    sink.exec({
      ev: execEvent({ filename: B('/usr/bin/gcc'), argv: argv.map(B), cwd: B('/src'), ...over }),
      diff: null,
    });
  cc(['gcc', '-c', 'a.c', '-O0']);
  cc(['gcc', '-c', 'b.c']);
  cc(['gcc', '-c', 'a.c', '-O2']);
  cc(['gcc', '-c', 'z.c'], { ret: -2 });
  cc(['gcc', '-c', 'c.c'], { filename: B('/bin/echo'), argv: [B('echo'), B('-c'), B('c.c')] });
  sink.summary(summaryOf());
  const out = JSON.parse(w.text) as { file: string; arguments: string[]; directory: string }[];
  assert.deepEqual(
    out.map((e) => [e.file, e.arguments.at(-1), e.directory]),
    [
      ['b.c', 'b.c', '/src'],
      ['a.c', '-O2', '/src'],
    ],
  );
  assert.deepEqual(stats, { entries: 2, compilerRuns: 3, replaced: 1, noDirectory: 0 });
  assert.equal(
    compileStatsLine('cc.json', stats!),
    'execlens: cc.json: 2 entries from 3 compiler runs, 1 replaced by a later compile of the same source to the same output\n',
  );
});

test('--compiler takes a regex; a bad one is a usage error', () => {
  assert.ok(regexArg('^tcc$').test('tcc'));
  assert.throws(() => regexArg('('), /not a valid regular expression/);
});
