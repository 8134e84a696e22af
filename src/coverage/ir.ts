/**
 * Split clang's instrumented LLVM IR (-fprofile-instr-generate -fcoverage-mapping, -S -emit-llvm) of the BPF
 * object into the two modules the coverage build compiles:
 *  - loadable: the counters (@__profc_*) moved to a `.data.profc` section, which libbpf loads as a global-data
 *    map; everything else the instrumentation adds (per-function data, names, coverage mapping, the runtime
 *    registration hooks) dropped, since the kernel can hold none of it;
 *  - mapping: the same code with the coverage mapping and the names kept and only the runtime hooks and the
 *    per-function data dropped (the BPF backend cannot emit their relocations); llvm-cov reads this object.
 * and the layout that ties a counter dump to functions: PGO name, function hash, number of counters.
 * This works on the IR text (one global per line; LLVM 14's typed and 15+'s opaque pointers alike) instead of
 * an LLVM pass plugin: nothing to build against llvm-dev, and the same code for every clang version.
 */
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';

export const COUNTER_SECTION = '.data.profc';

export interface ProfFunction {
  /** the IR name of the counter array (@__profc_…), which is also its ELF symbol in the loadable object */
  symbol: string;
  /** the PGO function name llvm-profdata and llvm-cov key on (file:func for static functions) */
  name: string;
  /** the function's structural hash, unsigned decimal */
  hash: string;
  counters: number;
}

export interface IrSplit {
  loadable: string;
  mapping: string;
  functions: ProfFunction[];
}

export class IrError extends Error {}

/** `@name` or `@"quoted name"` at the start of a global definition */
const GLOBAL_RE = /^@("(?:[^"\\]|\\.)*"|[-\w.$]+) = (.*)$/;
const COMDAT_RE = /^\$("(?:[^"\\]|\\.)*"|[-\w.$]+) = comdat /;
const PROFILING_PREFIXES = ['__profc_', '__profd_', '__profvp_', '__covrec_'];

const unquote = (n: string): string => (n.startsWith('"') ? n.slice(1, -1) : n);
const isProfilingName = (n: string): boolean => PROFILING_PREFIXES.some((p) => n.startsWith(p));

function sectionOf(rest: string): string | undefined {
  return /, section "([^"]*)"/.exec(rest)?.[1];
}

/** Decode an IR c"..." string: printable bytes as they are, a backslash as \\, the rest as \XX. */
export function decodeIrString(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && s[i + 1] === '\\') {
      out.push(0x5c);
      i += 1;
    } else if (s[i] === '\\' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(s.charCodeAt(i));
  }
  return Buffer.from(out);
}

function uleb(b: Buffer, at: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    const x = b[at++];
    if (x === undefined) throw new IrError('truncated ULEB128 in __llvm_prf_nm');
    v += (x & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(x & 0x80)) return [v, at];
  }
}

/** The names section: records of (ULEB uncompressed size, ULEB compressed size or 0, bytes), names split by \x01. */
export function decodeProfNames(b: Buffer): string[] {
  const names: string[] = [];
  let at = 0;
  while (at < b.length) {
    const [raw, a1] = uleb(b, at);
    const [packed, a2] = uleb(b, a1);
    const len = packed || raw;
    const chunk = b.subarray(a2, a2 + len);
    names.push(...(packed ? inflateSync(chunk) : chunk).toString('latin1').split('\x01'));
    at = a2 + len;
    while (at < b.length && b[at] === 0) at++; // alignment padding
  }
  return names.filter((n) => n !== '');
}

/** llvm's NameRef: the low 64 bits of MD5(name), little-endian */
export function nameRef(name: string): bigint {
  return createHash('md5').update(Buffer.from(name, 'latin1')).digest().readBigUInt64LE(0);
}

/** Elements of an `appending global [N x T] [e1, e2, …]` initialiser, split at top-level commas. */
function splitElements(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '(' || c === '[' || c === '{' || c === '<') depth++;
    else if (c === ')' || c === ']' || c === '}' || c === '>') depth--;
    else if (c === ',' && depth === 0) {
      out.push(body.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (body.slice(start).trim()) out.push(body.slice(start).trim());
  return out;
}

function mentions(element: string, dropped: Set<string>): boolean {
  for (const m of element.matchAll(/@("(?:[^"\\]|\\.)*"|[-\w.$]+)/g)) if (dropped.has(unquote(m[1]!))) return true;
  return false;
}

/** Rewrite @llvm.used / @llvm.compiler.used / @llvm.global_ctors without the dropped globals (or drop the line). */
function filterAppending(line: string, dropped: Set<string>): string | null {
  const m = /^(@[\w.]+ = appending global )\[(\d+) x ([^\]]+)\] \[(.*)\](.*)$/.exec(line);
  if (!m) return line;
  const kept = splitElements(m[4]!).filter((e) => !mentions(e, dropped));
  if (!kept.length) return null;
  return `${m[1]}[${kept.length} x ${m[3]}] [${kept.join(', ')}]${m[5]}`;
}

interface Parsed {
  lines: string[];
  profc: Map<string, number>;
  profd: { symbol: string; ref: bigint; hash: bigint }[];
  names: string[];
  /** global name -> its section (or '' without one) */
  sections: Map<string, string>;
  /** function bodies to drop: the runtime's registration constructor */
  runtimeFns: Set<string>;
}

function parse(ir: string): Parsed {
  const p: Parsed = { lines: ir.split('\n'), profc: new Map(), profd: [], names: [], sections: new Map(), runtimeFns: new Set() };
  for (const line of p.lines) {
    const g = GLOBAL_RE.exec(line);
    if (g) {
      const name = unquote(g[1]!);
      const rest = g[2]!;
      p.sections.set(name, sectionOf(rest) ?? '');
      if (name.startsWith('__profc_')) {
        const n = /\[(\d+) x i64\]/.exec(rest);
        if (!n) throw new IrError(`counter array ${name} is not [N x i64]: ${rest.slice(0, 80)}`);
        p.profc.set(name, Number(n[1]));
      } else if (name.startsWith('__profd_')) {
        const d = /\{ i64 (-?\d+), i64 (-?\d+), .*?@("__profc_[^"]*"|__profc_[-\w.$]+)/.exec(rest);
        if (!d) throw new IrError(`cannot read the per-function data ${name}: ${rest.slice(0, 120)}`);
        p.profd.push({ symbol: unquote(d[3]!), ref: BigInt.asUintN(64, BigInt(d[1]!)), hash: BigInt.asUintN(64, BigInt(d[2]!)) });
      } else if (name === '__llvm_prf_nm') {
        const s = /c"((?:[^"\\]|\\\\|\\[0-9A-Fa-f]{2})*)"/.exec(rest);
        if (s) p.names = decodeProfNames(decodeIrString(s[1]!));
      }
    }
    const f = /^define [^@]*@([\w.]+)\(/.exec(line);
    if (f && f[1]!.startsWith('__llvm_profile_')) p.runtimeFns.add(f[1]!);
  }
  return p;
}

function layout(p: Parsed): ProfFunction[] {
  const byRef = new Map(p.names.map((n) => [nameRef(n), n]));
  return p.profd.map((d) => {
    const name = byRef.get(d.ref);
    if (name === undefined) throw new IrError(`no name in __llvm_prf_nm hashes to ${d.ref} (${d.symbol})`);
    const counters = p.profc.get(d.symbol);
    if (counters === undefined) throw new IrError(`${d.symbol} is referenced but not defined`);
    return { symbol: d.symbol, name, hash: d.hash.toString(), counters };
  });
}

/** The module without `drop`ped globals and with the profiling globals' comdats removed. */
function emit(p: Parsed, drop: Set<string>, moveCounters: boolean): string {
  const out: string[] = [];
  let inDroppedFn = false;
  for (const line of p.lines) {
    if (inDroppedFn) {
      if (line === '}') inDroppedFn = false;
      continue;
    }
    const f = /^define [^@]*@([\w.]+)\(/.exec(line);
    if (f && p.runtimeFns.has(f[1]!)) {
      inDroppedFn = !line.endsWith('}');
      continue;
    }
    if (/^declare [^@]*@__llvm_profile_/.test(line)) continue;
    const c = COMDAT_RE.exec(line);
    if (c && isProfilingName(unquote(c[1]!))) continue;
    const g = GLOBAL_RE.exec(line);
    if (!g) {
      out.push(line);
      continue;
    }
    const name = unquote(g[1]!);
    if (drop.has(name)) continue;
    if (name.startsWith('llvm.')) {
      const kept = filterAppending(line, drop);
      if (kept !== null) out.push(kept);
      continue;
    }
    let l = isProfilingName(name) ? line.replace(/, comdat(\(\$[^)]*\))?/, '') : line;
    if (moveCounters && name.startsWith('__profc_')) {
      // internal (not private): the array keeps an ELF symbol, whose offset the layout records
      l = l.replace(/ = private global /, ' = internal global ').replace(/, section "[^"]*"/, `, section "${COUNTER_SECTION}"`);
    }
    out.push(l);
  }
  return out.join('\n');
}

export function splitInstrumentedIr(ir: string): IrSplit {
  const p = parse(ir);
  if (!p.profc.size) throw new IrError('no @__profc_ counters: was the IR built with -fprofile-instr-generate?');
  const functions = layout(p);
  const runtime = new Set([...p.runtimeFns, '__llvm_profile_runtime']);
  const perFunction = [...p.sections].filter(([n]) => n.startsWith('__profd_') || n.startsWith('__profvp_')).map(([n]) => n);
  // loadable: every global the instrumentation placed in an __llvm_* section, bar the counters
  const extra = [...p.sections].filter(([n, s]) => s.startsWith('__llvm_') && !n.startsWith('__profc_')).map(([n]) => n);
  const loadable = emit(p, new Set([...runtime, ...perFunction, ...extra]), true);
  const mapping = emit(p, new Set([...runtime, ...perFunction]), false);
  return { loadable, mapping, functions };
}
