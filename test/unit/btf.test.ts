import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { btfFuncNames } from '../../src/kernel/btf.js';
import { candidateSymbols, lookupSymbols } from '../../src/kernel/features.js';

/** a BTF blob: each type as [kind, vlen, tail words], names from a string table */
function blob(types: { name: string; kind: number; vlen?: number; tailWords: number }[]): Buffer {
  const strs = ['', ...new Set(types.map((t) => t.name).filter(Boolean))];
  const strOff = new Map<string, number>();
  let off = 0;
  for (const s of strs) {
    strOff.set(s, off);
    off += Buffer.byteLength(s) + 1;
  }
  const strSec = Buffer.from(strs.map((s) => `${s}\0`).join(''));
  const typeWords: number[] = [];
  for (const t of types) typeWords.push(strOff.get(t.name)!, ((t.kind << 24) | (t.vlen ?? 0)) >>> 0, 0, ...Array<number>(t.tailWords).fill(0x7777));
  const typeSec = Buffer.alloc(typeWords.length * 4);
  typeWords.forEach((w, i) => typeSec.writeUInt32LE(w, i * 4));
  const hdr = Buffer.alloc(24);
  hdr.writeUInt16LE(0xeb9f, 0);
  hdr.writeUInt8(1, 2);
  hdr.writeUInt32LE(24, 4);
  hdr.writeUInt32LE(0, 8);
  hdr.writeUInt32LE(typeSec.length, 12);
  hdr.writeUInt32LE(typeSec.length, 16);
  hdr.writeUInt32LE(strSec.length, 20);
  return Buffer.concat([hdr, typeSec, strSec]);
}

test('BTF: FUNC entries are found by name; a VAR or struct of the same name is not a function; every kind is skipped by its size', () => {
  const b = blob([
    { name: 'int', kind: 1, tailWords: 1 },
    { name: 's', kind: 4, vlen: 2, tailWords: 6 }, // STRUCT, 2 members of 12 bytes
    { name: '', kind: 13, vlen: 1, tailWords: 2 }, // FUNC_PROTO, 1 param of 8 bytes
    { name: 'e', kind: 6, vlen: 3, tailWords: 6 }, // ENUM, 3 values of 8 bytes
    { name: 'a', kind: 3, tailWords: 3 }, // ARRAY
    { name: '__se_sys_execve', kind: 14, tailWords: 1 }, // VAR, not a function
    { name: 'sec', kind: 15, vlen: 2, tailWords: 6 }, // DATASEC
    { name: 'e64', kind: 19, vlen: 1, tailWords: 3 }, // ENUM64
    { name: '__x64_sys_execve', kind: 12, tailWords: 0 }, // FUNC
  ]);
  assert.deepEqual(btfFuncNames(b, ['__x64_sys_execve', '__se_sys_execve', '__x32_compat_sys_execve']), {
    __x64_sys_execve: true,
    __se_sys_execve: false,
    __x32_compat_sys_execve: false,
  });
});

test('BTF: not BTF, truncated, or a kind this parser does not know -> null (the caller asks kallsyms)', () => {
  assert.equal(btfFuncNames(Buffer.from('not btf at all, just some bytes'), ['f']), null);
  const b = blob([{ name: 'f', kind: 12, tailWords: 0 }]);
  assert.equal(btfFuncNames(b.subarray(0, 30), ['f']), null);
  assert.equal(btfFuncNames(blob([{ name: 'x', kind: 25, tailWords: 0 }, { name: 'f', kind: 12, tailWords: 0 }]), ['f']), null);
});

const hostBtf = existsSync('/sys/kernel/btf/vmlinux');
test('this kernel: BTF and kallsyms agree on the syscall wrappers a plan hooks', { skip: hostBtf ? false : 'no /sys/kernel/btf/vmlinux' }, () => {
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
  const names = candidateSymbols(arch);
  const fromBtf = btfFuncNames(readFileSync('/sys/kernel/btf/vmlinux'), names);
  assert.ok(fromBtf, 'vmlinux BTF parses');
  const ks = readFileSync('/proc/kallsyms', 'utf8');
  const prefix = arch === 'x86_64' ? '__x64_' : arch === 'aarch64' ? '__arm64_' : `__${arch}_`;
  assert.equal(fromBtf[`${prefix}sys_execve`], true, 'the arch syscall wrapper is a BTF function');
  // BTF functions are a subset of kallsyms (pahole emits functions that have a symbol)
  for (const n of names) if (fromBtf[n]) assert.ok(ks.includes(` ${n}\n`) || ks.includes(` ${n}\t`), `${n} in BTF but not in kallsyms`);
  // without kprobes BTF alone answers; with kprobes possible, the answer covers kallsyms too
  assert.equal(lookupSymbols(arch, false, true).symbolsSource, 'btf');
  const withK = lookupSymbols(arch, true, true);
  if (withK.symbolsSource === 'btf+kallsyms') for (const n of names) assert.equal(withK.symbols![n], fromBtf[n] || ks.includes(` T ${n}\n`) || ks.includes(` t ${n}\n`), n);
});
