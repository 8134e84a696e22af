import os from 'node:os';

const byNumber = new Map<number, string>();
for (const [name, num] of Object.entries(os.constants.errno)) if (!byNumber.has(num)) byNumber.set(num, name);

/** -2 -> 'ENOENT' */
export function errnoName(ret: number): string {
  return byNumber.get(-ret) ?? `E${-ret}`;
}
