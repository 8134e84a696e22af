import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from '../helpers/paths.js';
import {
  COUNTER_SECTION,
  decodeIrString,
  decodeProfNames,
  nameRef,
  splitInstrumentedIr,
} from '../../src/coverage/ir.js';
import { buildLayout, parseObjdump } from '../../src/coverage/layout.js';

// tiny.bpf.c's instrumented IR from clang 14 (typed pointers) and clang 19 (opaque pointers); see its header
for (const v of ['14', '19']) {
  const ir = readFileSync(fixture(`coverage/tiny-clang${v}.ll`), 'utf8');

  test(`clang ${v} IR: the functions come with their PGO names, hashes and counter counts`, () => {
    const { functions } = splitInstrumentedIr(ir);
    assert.deepEqual(functions, [
      { symbol: '__profc_on_exec', name: 'on_exec', hash: '24', counters: 1 },
      { symbol: '__profc_tiny.bpf.c_pick', name: 'tiny.bpf.c:pick', hash: '11211998296', counters: 2 },
    ]);
  });

  test(`clang ${v} IR: the loadable module keeps the counters in ${COUNTER_SECTION} and nothing of the runtime`, () => {
    const { loadable } = splitInstrumentedIr(ir);
    assert.match(
      loadable,
      /^@__profc_on_exec = internal global \[1 x i64\] zeroinitializer, section "\.data\.profc", align 8$/m,
    );
    assert.match(
      loadable,
      /^@"?__profc_tiny\.bpf\.c_pick"? = internal global \[2 x i64\] zeroinitializer, section "\.data\.profc", align 8$/m,
    );
    for (const gone of [
      '@__profd_',
      '@__covrec_',
      '@__llvm_prf_nm',
      '@__llvm_coverage_mapping',
      '@__llvm_profile_',
      'section "__llvm_',
      'comdat',
    ])
      assert.ok(!loadable.includes(gone), `${gone} left in the loadable module`);
    assert.match(loadable, /^@llvm\.compiler\.used = appending global \[2 x (i8\*|ptr)\] \[.*@LICENSE.*@on_exec.*\]/m);
    assert.ok(!/^@llvm\.used /m.test(loadable), 'llvm.used only held coverage records: dropped');
  });

  test(`clang ${v} IR: the mapping module keeps the coverage mapping and names, without the runtime`, () => {
    const { mapping } = splitInstrumentedIr(ir);
    for (const kept of [
      '@__llvm_coverage_mapping = ',
      '@__llvm_prf_nm = ',
      'section "__llvm_covfun"',
      'section "__llvm_prf_cnts"',
    ])
      assert.ok(mapping.includes(kept), `${kept} missing`);
    for (const gone of ['@__profd_', '@__llvm_profile_', 'comdat'])
      assert.ok(!mapping.includes(gone), `${gone} left in the mapping module`);
  });

  test(`clang ${v} IR: llc builds both modules, and the layout finds every counter array in the object`, (t) => {
    const llc = `llc-${v}`;
    if (spawnSync(llc, ['--version']).error) return t.skip(`${llc} not installed`);
    const dir = mkdtempSync(join(tmpdir(), 'execlens-ir-'));
    const s = splitInstrumentedIr(ir);
    for (const [name, text] of [
      ['load', s.loadable],
      ['map', s.mapping],
    ] as const) {
      writeFileSync(join(dir, `${name}.ll`), text);
      const r = spawnSync(
        llc,
        ['-march=bpf', '-O2', '-filetype=obj', join(dir, `${name}.ll`), '-o', join(dir, `${name}.o`)],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
    }
    const dump = spawnSync(`llvm-objdump-${v}`, ['-h', '-t', join(dir, 'load.o')], { encoding: 'utf8' });
    assert.equal(dump.status, 0, dump.stderr);
    const tables = parseObjdump(dump.stdout);
    assert.ok(![...tables.sections.keys()].some((n) => n.startsWith('__llvm_')), [...tables.sections.keys()].join(' '));
    const layout = buildLayout(s.functions, tables, COUNTER_SECTION, 'x');
    assert.equal(layout.sectionSize, 24);
    assert.deepEqual(layout.functions.map((f) => f.offset).sort(), [0, 8]);
    const map = spawnSync(`llvm-objdump-${v}`, ['-h', join(dir, 'map.o')], { encoding: 'utf8' }).stdout;
    for (const sec of ['__llvm_covmap', '__llvm_covfun', '__llvm_prf_names'])
      assert.ok(map.includes(sec), `${sec} not in the mapping object`);
  });
}

test('IR strings: printable bytes as they are, \\\\ a backslash, \\XX the rest', () => {
  assert.deepEqual([...decodeIrString('a\\5Cb\\\\c\\00\\FF')], [0x61, 0x5c, 0x62, 0x5c, 0x63, 0, 0xff]);
});

test('the names section: an uncompressed record splits on \\x01; NameRef is the low half of MD5, little-endian', () => {
  const names = Buffer.from('on_exec\x01tiny.bpf.c:pick', 'latin1');
  assert.deepEqual(decodeProfNames(Buffer.concat([Buffer.from([names.length, 0]), names])), [
    'on_exec',
    'tiny.bpf.c:pick',
  ]);
  assert.equal(nameRef('on_exec'), BigInt.asUintN(64, 4049728989911944469n));
});

test('IR without counters is refused in one line', () => {
  assert.throws(
    () => splitInstrumentedIr('define i32 @f() {\n  ret i32 0\n}\n'),
    /no @__profc_ counters: was the IR built with -fprofile-instr-generate\?/,
  );
});
