/** Small BTF blobs for tests: the header, the type section and the string section, laid out as the kernel does. */

export interface BtfTypeSpec {
  name: string;
  /** BTF_KIND_* */
  kind: number;
  vlen?: number;
  /** the btf_type's size/type word */
  size?: number;
  /** the 32-bit words that follow the btf_type (members, params, an INT's encoding, ...) */
  tail?: number[];
}

export function btfBlob(types: BtfTypeSpec[]): Buffer {
  const strs = ['', ...new Set(types.map((t) => t.name).filter(Boolean))];
  const strOff = new Map<string, number>();
  let off = 0;
  for (const s of strs) {
    strOff.set(s, off);
    off += Buffer.byteLength(s) + 1;
  }
  const strSec = Buffer.from(strs.map((s) => `${s}\0`).join(''));
  const words: number[] = [];
  for (const t of types)
    words.push(strOff.get(t.name)!, ((t.kind << 24) | (t.vlen ?? 0)) >>> 0, t.size ?? 0, ...(t.tail ?? []));
  const typeSec = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => typeSec.writeUInt32LE(w, i * 4));
  const hdr = Buffer.alloc(24);
  hdr.writeUInt16LE(0xeb9f, 0); // magic
  hdr.writeUInt8(1, 2); // version
  hdr.writeUInt32LE(24, 4); // hdr_len
  hdr.writeUInt32LE(0, 8); // type_off
  hdr.writeUInt32LE(typeSec.length, 12); // type_len
  hdr.writeUInt32LE(typeSec.length, 16); // str_off
  hdr.writeUInt32LE(strSec.length, 20); // str_len
  return Buffer.concat([hdr, typeSec, strSec]);
}
