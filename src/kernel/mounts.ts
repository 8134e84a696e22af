/** Make sure tracefs is mounted (tracepoint attach reads event ids there). */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { findTracefs } from './features.js';

export interface MountResult {
  tracefs: string | null;
  note: string;
}

export function ensureTracefs(): MountResult {
  const found = findTracefs();
  if (found) return { tracefs: found, note: `tracefs at ${found}` };
  const target = '/sys/kernel/tracing';
  if (!existsSync(target))
    return { tracefs: null, note: `${target} does not exist; mount tracefs somewhere and retry` };
  try {
    execFileSync('mount', ['-t', 'tracefs', 'tracefs', target], { stdio: 'pipe' });
    return { tracefs: target, note: `mounted tracefs at ${target}` };
  } catch (e) {
    return {
      tracefs: null,
      note: `could not mount tracefs at ${target} (${(e as Error).message.split('\n')[0]}): run 'mount -t tracefs tracefs ${target}'`,
    };
  }
}

/** where tracefs is mounted, from /proc/mounts (readable by anyone, unlike a tracefs of mode 0700) */
function tracefsMounts(): string[] {
  try {
    return readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f[2] === 'tracefs')
      .map((f) => f[1]!);
  } catch {
    return [];
  }
}

/** what tracefs looks like to us, mounting nothing (doctor without privileges) */
export function describeTracefs(): MountResult {
  const found = findTracefs();
  if (found) return { tracefs: found, note: `tracefs at ${found}` };
  const mounted = tracefsMounts()[0];
  if (mounted)
    return {
      tracefs: null,
      note: `tracefs mounted at ${mounted}, not readable by this user (execlens reads it as root)`,
    };
  return { tracefs: null, note: 'tracefs not mounted (execlens mounts it when run as root)' };
}
