/** Make sure tracefs is mounted (tracepoint attach reads event ids there). */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findTracefs } from './features.js';

export interface MountResult {
  tracefs: string | null;
  note: string;
}

export function ensureTracefs(): MountResult {
  const found = findTracefs();
  if (found) return { tracefs: found, note: `tracefs at ${found}` };
  const target = '/sys/kernel/tracing';
  if (!existsSync(target)) return { tracefs: null, note: `${target} does not exist; mount tracefs somewhere and retry` };
  try {
    execFileSync('mount', ['-t', 'tracefs', 'tracefs', target], { stdio: 'pipe' });
    return { tracefs: target, note: `mounted tracefs at ${target}` };
  } catch (e) {
    return { tracefs: null, note: `could not mount tracefs at ${target} (${(e as Error).message.split('\n')[0]}): run 'mount -t tracefs tracefs ${target}'` };
  }
}
