/**
 * From counter dumps (src/backend/ebpf/coverage.ts) to a profile llvm-profdata reads: each dump's bytes are
 * cut into per-function counters by the layout the coverage build wrote, the dumps of one object are summed,
 * and the sum is written in llvm-profdata's text format (name, `# Func Hash:`, `# Num Counters:`,
 * `# Counter Values:`), which every LLVM version reads, unlike the versioned binary .profraw.
 */
import { DUMP_FORMAT, type CounterDump } from '../backend/ebpf/coverage.js';
import type { ProfFunction } from './ir.js';

export const LAYOUT_FORMAT = 'execlens-bpf-coverage-layout/1';

export interface LayoutFunction extends ProfFunction {
  /** byte offset of the function's counters in the counter section */
  offset: number;
}

export interface Layout {
  format: typeof LAYOUT_FORMAT;
  /** the loadable object's SHA-256: a dump is read with the layout of the object it came from */
  objectSha256: string;
  section: string;
  sectionSize: number;
  functions: LayoutFunction[];
}

/** PGO name -> counters */
export type Counts = Map<string, bigint[]>;

export class ProfileError extends Error {}

export function parseLayout(text: string): Layout {
  const l = JSON.parse(text) as Layout;
  if (l.format !== LAYOUT_FORMAT) throw new ProfileError(`not a coverage layout (format ${String(l.format)})`);
  return l;
}

export function parseDump(text: string): CounterDump {
  const d = JSON.parse(text) as CounterDump;
  if (d.format !== DUMP_FORMAT) throw new ProfileError(`not a counter dump (format ${String(d.format)})`);
  return d;
}

/** The counters of one dump, per function; throws when the dump is not of the layout's object. */
export function countsOf(dump: CounterDump, layout: Layout): Counts {
  if (dump.objectSha256 !== layout.objectSha256)
    throw new ProfileError(`dump of another build (object ${dump.objectSha256.slice(0, 12)}, layout ${layout.objectSha256.slice(0, 12)})`);
  const b = Buffer.from(dump.counters, 'base64');
  if (b.length !== layout.sectionSize) throw new ProfileError(`dump has ${b.length} bytes, the section ${layout.sectionSize}`);
  const out: Counts = new Map();
  for (const f of layout.functions) {
    const c: bigint[] = [];
    for (let i = 0; i < f.counters; i++) c.push(b.readBigUInt64LE(f.offset + 8 * i));
    out.set(f.name, c);
  }
  return out;
}

/** a + b, counter by counter (a function in one only is kept as it is) */
export function mergeCounts(a: Counts, b: Counts): Counts {
  const out: Counts = new Map([...a].map(([k, v]) => [k, [...v]]));
  for (const [name, cs] of b) {
    const have = out.get(name);
    if (!have) out.set(name, [...cs]);
    else if (have.length !== cs.length) throw new ProfileError(`${name}: ${have.length} counters vs ${cs.length}`);
    else cs.forEach((v, i) => (have[i] = have[i]! + v));
  }
  return out;
}

export interface Accumulated {
  counts: Counts;
  used: number;
  /** dumps not counted, and why (another build, unreadable): reported, never dropped silently */
  skipped: { file: string; reason: string }[];
}

export function accumulate(dumps: { file: string; text: string }[], layout: Layout): Accumulated {
  let counts: Counts = zeroCounts(layout);
  const skipped: Accumulated['skipped'] = [];
  let used = 0;
  for (const d of dumps) {
    try {
      counts = mergeCounts(counts, countsOf(parseDump(d.text), layout));
      used++;
    } catch (e) {
      skipped.push({ file: d.file, reason: (e as Error).message });
    }
  }
  return { counts, used, skipped };
}

export function zeroCounts(layout: Layout): Counts {
  return new Map(layout.functions.map((f) => [f.name, new Array<bigint>(f.counters).fill(0n)]));
}

/** llvm-profdata's text format: one block per function, in layout order */
export function textProfile(layout: Layout, counts: Counts): string {
  const blocks = layout.functions.map((f) => {
    const c = counts.get(f.name) ?? new Array<bigint>(f.counters).fill(0n);
    return [f.name, '# Func Hash:', f.hash, '# Num Counters:', String(c.length), '# Counter Values:', ...c.map(String)].join('\n');
  });
  return blocks.join('\n\n') + '\n';
}
