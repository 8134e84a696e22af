import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { btfFuncNames } from '../../src/kernel/btf.js';
import { btfBlob, type BtfTypeSpec } from '../helpers/btf.js';
import { candidateSymbols, lookupSymbols } from '../../src/kernel/features.js';

/** a type whose tail is n filler words */
const T = (name: string, kind: number, tailWords: number, vlen?: number): BtfTypeSpec => ({
  name,
  kind,
  vlen,
  tail: Array<number>(tailWords).fill(0x7777),
});

test('BTF: FUNC entries are found by name; a VAR or struct of the same name is not a function; every kind is skipped by its size', () => {
  const b = btfBlob([
    T('int', 1, 1),
    T('s', 4, 6, 2), // STRUCT, 2 members of 12 bytes
    T('', 13, 2, 1), // FUNC_PROTO, 1 param of 8 bytes
    T('e', 6, 6, 3), // ENUM, 3 values of 8 bytes
    T('a', 3, 3), // ARRAY
    T('__se_sys_execve', 14, 1), // VAR, not a function
    T('sec', 15, 6, 2), // DATASEC
    T('e64', 19, 3, 1), // ENUM64
    T('__x64_sys_execve', 12, 0), // FUNC
  ]);
  assert.deepEqual(btfFuncNames(b, ['__x64_sys_execve', '__se_sys_execve', '__x32_compat_sys_execve']), {
    __x64_sys_execve: true,
    __se_sys_execve: false,
    __x32_compat_sys_execve: false,
  });
});

test('BTF: not BTF, truncated, or a kind this parser does not know -> null (the caller asks kallsyms)', () => {
  assert.equal(btfFuncNames(Buffer.from('not btf at all, just some bytes'), ['f']), null);
  const b = btfBlob([T('f', 12, 0)]);
  assert.equal(btfFuncNames(b.subarray(0, 30), ['f']), null);
  assert.equal(btfFuncNames(btfBlob([T('x', 25, 0), T('f', 12, 0)]), ['f']), null);
});

const hostBtf = existsSync('/sys/kernel/btf/vmlinux');
test(
  'this kernel: BTF and kallsyms agree on the syscall wrappers a plan hooks',
  { skip: hostBtf ? false : 'no /sys/kernel/btf/vmlinux' },
  () => {
    const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
    const names = candidateSymbols(arch);
    const fromBtf = btfFuncNames(readFileSync('/sys/kernel/btf/vmlinux'), names);
    assert.ok(fromBtf, 'vmlinux BTF parses');
    const ks = readFileSync('/proc/kallsyms', 'utf8');
    const prefix = arch === 'x86_64' ? '__x64_' : arch === 'aarch64' ? '__arm64_' : `__${arch}_`;
    assert.equal(fromBtf[`${prefix}sys_execve`], true, 'the arch syscall wrapper is a BTF function');
    // BTF functions are a subset of kallsyms (pahole emits functions that have a symbol)
    for (const n of names)
      if (fromBtf[n]) assert.ok(ks.includes(` ${n}\n`) || ks.includes(` ${n}\t`), `${n} in BTF but not in kallsyms`);
    // without kprobes BTF alone answers; with kprobes possible, the answer covers kallsyms too
    assert.equal(lookupSymbols(arch, false, true).symbolsSource, 'btf');
    const withK = lookupSymbols(arch, true, true);
    if (withK.symbolsSource === 'btf+kallsyms')
      for (const n of names)
        assert.equal(withK.symbols![n], fromBtf[n] || ks.includes(` T ${n}\n`) || ks.includes(` t ${n}\n`), n);
    // the bpf_loop helper (5.17+): found in BTF exactly when the kernel has the symbol
    assert.equal(withK.bpfLoop, /^[0-9a-f]+ [Tt] bpf_loop$/m.test(ks), 'bpf_loop in BTF iff in kallsyms');
  },
);
