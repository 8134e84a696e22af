/**
 * Fork and exit as JSON records (collect -F jsonl and -F json; schema/exec-event.v2.json): with the exec
 * records they hold a process's whole life, from the fork that made it to how it ended.
 */
import os from 'node:os';
import type { RawExit, RawFork } from '../events/types.js';
import { JSON_SCHEMA_VERSION, type FormatOptions } from './format.js';

const signalNames = new Map<number, string>();
for (const [name, num] of Object.entries(os.constants.signals)) if (!signalNames.has(num)) signalNames.set(num, name);

/** SIGKILL for 9; SIG42 for a number without a name (real-time signals) */
export function signalName(n: number): string {
  return signalNames.get(n) ?? `SIG${n}`;
}

export interface ExitStatus {
  /** exit(2)'s code; null when a signal ended the process */
  code: number | null;
  /** the signal that ended the process; null when it exited */
  signal: string | null;
  core: boolean;
}

/** a wait(2) status word, as both backends report it (code << 8 | core 0x80 | signal) */
export function waitStatus(status: number): ExitStatus {
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null, core: false };
  return { code: null, signal: signalName(sig), core: (status & 0x80) !== 0 };
}

/** "exit 3", "killed by SIGKILL (core dumped)" */
export function statusText(s: ExitStatus): string {
  return s.signal === null ? `exit ${s.code}` : `killed by ${s.signal}${s.core ? ' (core dumped)' : ''}`;
}

function when(tsNs: bigint, o: FormatOptions): { time: string; t: number } {
  const time = new Date(Number((tsNs + o.bootToWallNs) / 1000000n)).toISOString();
  return { time, t: Number(tsNs - o.startNs) / 1e9 };
}

/** a new process: pid made by ppid (a thread is not a fork) */
export function forkRecord(f: RawFork, o: FormatOptions): Record<string, unknown> {
  return { type: 'fork', schema: JSON_SCHEMA_VERSION, ...when(f.tsNs, o), pid: f.childPid, ppid: f.parentPid };
}

/** a process's end (its last thread's), with the status its parent's wait() gets */
export function exitRecord(x: RawExit, o: FormatOptions): Record<string, unknown> {
  const s = waitStatus(x.exitCode);
  return {
    type: 'exit',
    schema: JSON_SCHEMA_VERSION,
    ...when(x.tsNs, o),
    pid: x.pid,
    exit_code: s.code,
    exit_signal: s.signal,
    core_dumped: s.core,
  };
}
