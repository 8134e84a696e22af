/** Files of raw ring records (u32 little-endian length + bytes), as written by --record-raw. */
import { readFileSync } from 'node:fs';

export function readRawRecords(path: string): Buffer[] {
  const b = readFileSync(path);
  const out: Buffer[] = [];
  let i = 0;
  while (i + 4 <= b.length) {
    const len = b.readUInt32LE(i);
    i += 4;
    if (i + len > b.length) break;
    out.push(b.subarray(i, i + len));
    i += len;
  }
  return out;
}
