/** The two facts of an ELF file the package test checks: its machine, and whether it asks for a loader. */
import { readFileSync } from 'node:fs';

export const EM = { X86_64: 62, AARCH64: 183, RISCV: 243, BPF: 247 } as const;

export interface ElfFacts {
  machine: number;
  /** a PT_INTERP program header: dynamically linked (needs ld.so and the libc it names) */
  interp: boolean;
}

/** 64-bit little-endian ELF only (every arch execlens ships) */
export function elfFacts(file: string): ElfFacts {
  const b = readFileSync(file);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1)
    throw new Error(`${file}: not a 64-bit little-endian ELF file`);
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  let interp = false;
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) interp = true;
  return { machine: b.readUInt16LE(0x12), interp };
}
