/**
 * Refusals remembered for the rest of the boot. A candidate the kernel refused
 * for a lasting reason (EPERM from lockdown or the hypervisor, a verifier
 * rejection, a missing attach point) is refused again on the next run with the
 * same kernel and BPF object; trying it anyway costs an object open, a parse
 * of the kernel's BTF and the maps (~0.1-0.25 s here). `log` skips such a
 * candidate, and says so (-v, the attempt list); `doctor` always tries every
 * candidate and rewrites the record. The file lives in /run (tmpfs: gone at
 * reboot) and names the boot, the kernel and the object it is valid for.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Attempt } from './loader.js';

/** EXECLENS_REFUSALS: another file (tests use their own) */
export const REFUSALS_PATH = process.env.EXECLENS_REFUSALS ?? '/run/execlens/refusals.json';

/** errnos that can go away by themselves: never remembered */
const TRANSIENT = new Set([4 /* EINTR */, 11 /* EAGAIN */, 12 /* ENOMEM */, 16 /* EBUSY */, 24 /* EMFILE */]);

export interface RefusalRecord {
  /** boot id, kernel release, object path, size and mtime: a record is valid only for all of them */
  key: string;
  /** candidate id -> the attempt that was refused, and when */
  refused: Record<string, Attempt & { at: string }>;
  /**
   * the records of other objects (another checkout, the npm package beside a checkout), newest first: two
   * installs used in turn would otherwise overwrite each other's record and each run try the refused
   * candidates again. The latest record stays at the top, as before, for readers that know only it.
   */
  others?: { key: string; refused: Record<string, Attempt & { at: string }> }[];
}

/** records of other objects kept beside the latest one */
const MAX_OTHERS = 7;

function readRecord(path: string): RefusalRecord | null {
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as RefusalRecord;
    return typeof r === 'object' && r !== null ? r : null;
  } catch {
    return null;
  }
}

/** the refused candidates recorded under key, in the latest record or among the others */
function refusedUnder(r: RefusalRecord | null, key: string): Record<string, Attempt & { at: string }> | null {
  if (!r) return null;
  const rec = r.key === key ? r : Array.isArray(r.others) ? r.others.find((o) => o?.key === key) : undefined;
  return rec && typeof rec.refused === 'object' && rec.refused !== null ? rec.refused : null;
}

export function refusalKey(bootId: string, release: string, objectPath: string): string | null {
  try {
    const st = statSync(objectPath);
    return `${bootId.trim()}|${release}|${objectPath}|${st.size}|${Math.round(st.mtimeMs)}`;
  } catch {
    return null;
  }
}

export function currentKey(objectPath: string, release: string): string | null {
  try {
    return refusalKey(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'), release, objectPath);
  } catch {
    return null;
  }
}

/** candidate ids refused earlier with this key (empty when there is no valid record) */
export function readRefusals(path: string, key: string): Map<string, Attempt & { at: string }> {
  return new Map(Object.entries(refusedUnder(readRecord(path), key) ?? {}));
}

/** Is this failed attempt a lasting refusal of the candidate itself (not of a lifecycle program or an optional hook)? */
export function isLasting(a: Attempt): boolean {
  return !a.ok && a.stage !== 'open' && a.errno !== undefined && !TRANSIENT.has(a.errno);
}

/**
 * Record the outcome of a walk over the plan: the candidates refused for a
 * lasting reason (the refusal that ended the candidate) are remembered; a
 * candidate that loaded is forgotten. Written only when that changes the record.
 * Best effort: a read-only /run just means no memory.
 */
export function writeRefusals(path: string, key: string, attempts: readonly Attempt[], now = new Date()): void {
  const file = readRecord(path);
  const before = new Map(Object.entries(refusedUnder(file, key) ?? {}));
  const refused = Object.fromEntries(before);
  for (const a of attempts) {
    if (a.cached) continue;
    if (a.ok) delete refused[a.candidate];
    else if (a.endedCandidate && isLasting(a))
      refused[a.candidate] = { ...a, log: a.log?.slice(-4), at: now.toISOString() };
  }
  const same = Object.keys(refused).length === before.size && [...before].every(([id, r]) => refused[id] === r);
  if (same) return;
  const others = [
    ...(file && typeof file.key === 'string' && typeof file.refused === 'object'
      ? [{ key: file.key, refused: file.refused }]
      : []),
    ...(Array.isArray(file?.others) ? file.others : []),
  ]
    .filter((o) => o && typeof o.key === 'string' && o.key !== key)
    .slice(0, MAX_OTHERS);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    const tmp = `${path}.${process.pid}`;
    const record: RefusalRecord = others.length ? { key, refused, others } : { key, refused };
    writeFileSync(tmp, JSON.stringify(record) + '\n', { mode: 0o644 });
    renameSync(tmp, path);
  } catch {
    /* no memory this time */
  }
}
