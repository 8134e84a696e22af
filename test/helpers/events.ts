/** Assembled events and an in-memory output for the sinks' unit tests (no root, no tracer). */
import type { ExecEvent, FdInfo, RawExit, RawFork } from '../../src/events/types.js';
import type { FormatOptions } from '../../src/output/format.js';
import type { Writer } from '../../src/output/writer.js';
import type { Summary } from '../../src/pipeline/summary.js';

export const B = (s: string) => Buffer.from(s);
export const FMT: FormatOptions = {
  fullEnv: false,
  showFds: true,
  showCmdline: false,
  startNs: 1_000_000_000n,
  bootToWallNs: 1_764_000_000_000_000_000n,
};

export function fdInfo(n: number, path: string, cloexec = false): FdInfo {
  return { fd: n, path: B(path), flags: 0o2, ino: 1n, dev: 1, mode: 0o20620, cloexec };
}

export function execEvent(over: Partial<ExecEvent> = {}): ExecEvent {
  return {
    execId: 0x1234n,
    tsNs: 1_500_000_000n,
    enterTsNs: 1_499_000_000n,
    pid: 42,
    tid: 42,
    ppid: 7,
    ret: 0,
    flags: 0,
    syscall: 0,
    atFd: -100,
    atFlags: 0,
    uid: 1000,
    gid: 1000,
    euid: 1000,
    egid: 1000,
    comm: B('echo'),
    oldComm: B('sh'),
    nsPid: 42,
    nsLevel: 0,
    cgroupId: 0n,
    argvTotal: 12,
    envTotal: 20,
    filename: B('/bin/echo'),
    argv: [B('/bin/echo'), B('a b')],
    env: [B('HOME=/root'), B('FOO=1')],
    interpreter: null,
    cwd: B('/tmp'),
    exe: B('/usr/bin/echo'),
    fds: [fdInfo(0, '/dev/pts/0'), fdInfo(1, '/dev/pts/0'), fdInfo(3, '/etc/x', true)],
    unreadable: { argv: [], env: [] },
    missingChunks: 0,
    ...over,
  };
}

export const forkOf = (parentPid: number, childPid: number, tsNs: bigint): RawFork => ({
  kind: 'fork',
  cpu: 0,
  seq: 0,
  tsNs,
  parentPid,
  childPid,
});
export const exitOf = (pid: number, status: number, tsNs: bigint): RawExit => ({
  kind: 'exit',
  cpu: 0,
  seq: 0,
  tsNs,
  pid,
  exitCode: status,
});

/** a Writer that keeps what is written: the bytes a sink would put in a file */
export class MemoryWriter implements Writer {
  failed: string | null = null;
  unwritten = 0;
  readonly chunks: Buffer[] = [];
  write(data: string | Uint8Array): void {
    this.chunks.push(typeof data === 'string' ? Buffer.from(data) : Buffer.from(data));
  }
  dropped(items: number): void {
    this.unwritten += items;
  }
  close(): void {}
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  get text(): string {
    return this.bytes.toString();
  }
}

/** a summary with nothing lost, for the sinks' and the summary line's tests */
export function summaryOf(over: Partial<Summary> = {}): Summary {
  return {
    execs: 2,
    failed: 0,
    failedTraced: true,
    processes: 2,
    unwritten: 0,
    outputFailed: null,
    lostRecords: 0,
    ringDrops: { exec: 0, chunk: 0, other: 0 },
    incompleteExecs: 0,
    orphanChunks: 0,
    malformed: 0,
    truncated: { argv: 0, env: 0, filename: 0, cwd: 0, fds: 0 },
    readFaults: 0,
    programMisses: {},
    untrackedChildren: 0,
    stashFull: 0,
    durationS: 1,
    plan: 'fentry.s+tp_btf',
    exitCode: 0,
    exitSignal: null,
    tracerCpuS: 0,
    bpf: [],
    ...over,
  };
}
