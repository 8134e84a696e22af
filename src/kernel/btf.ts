/**
 * Which functions the kernel's BTF describes (FUNC entries of
 * /sys/kernel/btf/vmlinux): what an fentry program can attach to, and — as
 * pahole only emits functions that have a symbol — a subset of kallsyms. A walk
 * over the type section is a few milliseconds; reading /proc/kallsyms costs
 * 40-150 ms of kernel time here (it is generated line by line on read).
 */

const BTF_MAGIC = 0xeb9f;
const KIND_FUNC = 12;

/** bytes that follow the 12-byte btf_type for each kind (vlen: the info's low 16 bits) */
function tailBytes(kind: number, vlen: number): number | null {
  switch (kind) {
    case 2:
    case 7:
    case 8:
    case 9:
    case 10:
    case 11:
    case 12:
    case 16:
    case 18:
      return 0; // PTR FWD TYPEDEF VOLATILE CONST RESTRICT FUNC FLOAT TYPE_TAG
    case 1:
    case 14:
    case 17:
      return 4; // INT VAR DECL_TAG
    case 3:
      return 12; // ARRAY
    case 4:
    case 5:
    case 15:
    case 19:
      return 12 * vlen; // STRUCT UNION DATASEC ENUM64
    case 6:
    case 13:
      return 8 * vlen; // ENUM FUNC_PROTO
    default:
      return null;
  }
}

/**
 * For each name: is there a FUNC of that name in this BTF blob? null when the
 * blob is not BTF this parser understands (the caller then asks kallsyms).
 */
export function btfFuncNames(buf: Buffer, names: readonly string[]): Record<string, boolean> | null {
  if (buf.length < 24) return null;
  const le = buf.readUInt16LE(0) === BTF_MAGIC;
  if (!le && buf.readUInt16BE(0) !== BTF_MAGIC) return null;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u32 = (o: number) => dv.getUint32(o, le);
  const hdrLen = u32(4);
  const typeStart = hdrLen + u32(8);
  const typeEnd = typeStart + u32(12);
  const strStart = hdrLen + u32(16);
  const strEnd = strStart + u32(20);
  if (typeEnd > buf.length || strEnd > buf.length) return null;

  // string offsets of the wanted names (BTF's string section holds each string once)
  const wantedOff = new Map<number, string>();
  for (const n of names) {
    const needle = Buffer.from(`\0${n}\0`);
    const at = buf.indexOf(needle, strStart);
    if (at >= 0 && at + needle.length <= strEnd) wantedOff.set(at + 1 - strStart, n);
  }
  const found: Record<string, boolean> = Object.fromEntries(names.map((n) => [n, false]));
  if (!wantedOff.size) return found;
  // the type section as 32-bit words (every btf_type and its tail are multiples of 4 bytes)
  const words = (typeEnd - typeStart) >>> 2;
  const w =
    le && (buf.byteOffset + typeStart) % 4 === 0 && new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
      ? new Uint32Array(buf.buffer, buf.byteOffset + typeStart, words)
      : Uint32Array.from({ length: words }, (_, i) => u32(typeStart + i * 4));
  for (let i = 0; i + 3 <= words;) {
    const info = w[i + 1]!;
    const kind = (info >>> 24) & 0x1f;
    if (kind === KIND_FUNC) {
      const n = wantedOff.get(w[i]!);
      if (n !== undefined) found[n] = true;
    }
    const tail = tailBytes(kind, info & 0xffff);
    if (tail === null) return null; // a kind newer than this parser: do not guess
    i += 3 + (tail >>> 2);
  }
  return found;
}
