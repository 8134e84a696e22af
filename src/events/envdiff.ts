/** Environment diff between an exec and the environment its process had before. */

/**
 * Names and values are bytes carried as latin1 strings (lossless). A value is null for an entry without
 * '=' (`NOEQUALS`, or the empty entry ""), which the kernel passes on as it is: it differs from `NOEQUALS=`.
 */
export interface EnvDiff {
  added: [string, string | null][];
  removed: string[];
  changed: [string, string | null, string | null][]; // key, old, new
}

/** env entries keyed by name (the first of duplicates wins, as getenv(3) finds it) */
export function envMap(env: readonly Uint8Array[]): Map<string, string | null> {
  const m = new Map<string, string | null>();
  for (const e of env) {
    const s = Buffer.from(e).toString('latin1');
    const i = s.indexOf('=');
    const [k, v] = i < 0 ? [s, null] : [s.slice(0, i), s.slice(i + 1)];
    if (!m.has(k)) m.set(k, v);
  }
  return m;
}

/** an entry as the environment holds it: NAME=value, or NAME alone (no '=') */
export function envEntry(k: string, v: string | null): string {
  return v === null ? k : `${k}=${v}`;
}

/** the same entries in the same order (what most execs pass on): byte comparisons, no strings */
function sameEnv(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.length !== y.length || Buffer.compare(x, y) !== 0) return false;
  }
  return true;
}

export function diffEnv(before: readonly Uint8Array[], after: readonly Uint8Array[]): EnvDiff {
  if (sameEnv(before, after)) return { added: [], removed: [], changed: [] };
  const a = envMap(before);
  const b = envMap(after);
  const d: EnvDiff = { added: [], removed: [], changed: [] };
  for (const [k, v] of b) {
    const old = a.get(k);
    if (old === undefined) d.added.push([k, v]);
    else if (old !== v) d.changed.push([k, old, v]);
  }
  for (const k of a.keys()) if (!b.has(k)) d.removed.push(k);
  return d;
}

export function isEmptyDiff(d: EnvDiff): boolean {
  return d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0;
}

/** latin1-carried string back to its bytes */
export function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}
