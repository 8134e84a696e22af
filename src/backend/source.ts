/**
 * Where a `log` run gets its records from. Both backends deliver the same
 * record layout (bpf/include/execlens_event.h): the eBPF backend from the BPF
 * ring buffer, the ptrace backend from its helper's pipe.
 */
import type { FilterName } from '../pipeline/filter.js';
import type { ChildProcess } from 'node:child_process';
import type { CommandBytes } from './execspec.js';

/** the command as bytes (src/backend/execspec.ts: never through Node's strings) */
export interface CommandSpec extends CommandBytes {
  creds: { uid: number; gid: number } | null;
  /**
   * the command's fds 0-2 when not ours (execlens tui: a pty's slave, or /dev/null with --no-tty); ctty: it is
   * a terminal to make the command's controlling one
   */
  stdio?: { fd: number; ctty: boolean };
}

/** the command's fds 0-2 and the native helper's flag for them */
export function commandStdio(cmd: CommandSpec): { stdio: ('inherit' | number)[]; args: string[] } {
  const s = cmd.stdio;
  return s
    ? { stdio: [s.fd, s.fd, s.fd], args: s.ctty ? ['--ctty'] : [] }
    : { stdio: ['inherit', 'inherit', 'inherit'], args: [] };
}

export interface Started {
  /** the process whose end ends the run's wait (the command, or the ptrace helper) */
  child: ChildProcess;
  /** pid that parents the traced tree (its environment and cwd are the diff baseline) */
  rootPid: number;
  /**
   * a child of rootPid whose fork no record reports (it was started before the kernel
   * followed it): the tree counts it as forked by rootPid
   */
  unreportedChild?: number;
  /** child event that means "no more records will come from it" */
  doneEvent: 'exit' | 'close';
  /** true: after the child ends, wait until every process of the tree is gone (eBPF); false: the child waited for them */
  waitForTree: boolean;
  /** -p on a source that attaches by itself (ptrace): resolves once every process is traced */
  attached?: Promise<void>;
}

export interface SourceCounters {
  ringDrops: { exec: number; chunk: number; other: number };
  untrackedChildren: number;
  stashFull: number;
  readFaults: number;
  /**
   * program runs the kernel skipped (bpf_prog_info.recursion_misses): on kernels
   * that run BPF programs preemptibly (seen on 7.2), a program preempted on a CPU
   * makes the same program skip on that CPU meanwhile — an exec, fork or exit
   * missed. System-wide counts: an upper bound for the traced tree.
   */
  programMisses: Record<string, number>;
  /** execs the source's own filters dropped (filtersInKernel), by filter name */
  filteredOut?: Record<string, number>;
  /** of those, the execs that failed */
  filteredOutFailed?: number;
}

export interface TraceSource {
  /** e.g. "tracepoint+tp_btf" or "ptrace+seccomp" */
  readonly plan: string;
  /** false: the source cannot see a failed exec (a plan with no syscall hook, --successful-only) */
  readonly seesFailedExecs: boolean;
  /** the filters the source applies itself, before anything is copied (eBPF: --uid, --cgroup) */
  readonly filtersInKernel?: readonly FilterName[];
  /** now, on the clock the source stamps its records with (ns) */
  nowNs(): bigint;
  start(cmd: CommandSpec): Started;
  /** follow a process that already runs (-p) and what it forks from now on (eBPF: in the kernel's map) */
  follow?(pid: number): void;
  /**
   * -p on a source that attaches through a process of its own (ptrace: the helper seizes the processes and
   * their descendants); the run ends when that process does
   */
  attachTo?(pids: readonly number[]): Started;
  /** hand every record available now to onRecord; returns how many */
  drain(onRecord: (rec: Uint8Array) => void, maxBytes: number): number;
  counters(): SourceCounters;
  bpfStats(): { name: string; runTimeNs: number; runCnt: number }[];
  /** env dedupe (eBPF): make the kernel forget an env hash userspace drops its copy of (src/events/envcache.ts) */
  forgetEnv?(hash: bigint): void;
  /** release everything the source holds (BPF links, programs, maps; the ptrace helper) */
  close(): Promise<void>;
}
