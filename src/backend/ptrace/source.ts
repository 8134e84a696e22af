/**
 * The ptrace backend: native/ptrace/execlens-ptrace runs the command under
 * PTRACE_SEIZE (+ a seccomp filter so only execve/execveat stop) and writes
 * length-prefixed records on fd 3, which are read here without blocking the
 * event loop.
 */
import { spawn } from 'node:child_process';
import type { Duplex, Readable, Writable } from 'node:stream';
import { splitNul } from '../../events/decode.js';
import { EXEC, ExecFlag, HDR, RecKind } from '../../events/layout.js';
import { requireNativeHelper, sendSpec } from '../execspec.js';
import { commandStdio, type CommandSpec, type SourceCounters, type Started, type TraceSource } from '../source.js';

/** an exec stop the helper holds until a verdict (--hold-enter / --hold-exit: execlens tui's breakpoints) */
export interface Hold {
  pid: number;
  stop: 'sysenter' | 'sysexit';
  filename: Buffer;
  argv: Buffer[];
}

/** c: go on traced; d: detach, it runs on untraced; s: detach it stopped (SIGSTOP), for a debugger */
export type Verdict = 'c' | 'd' | 's';

export interface HoldOptions {
  sysenter: boolean;
  sysexit: boolean;
  onHold: (h: Hold) => void;
}

export class PtraceSource implements TraceSource {
  plan: string;
  /** the tracee stops at every execve/execveat: failed ones too (--successful-only only filters them out) */
  readonly seesFailedExecs = true;
  private readonly queue: Buffer[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private helper: ReturnType<typeof spawn> | null = null;
  private readonly helperPath: string;
  private holds: HoldOptions | null = null;
  private holdSocket: Duplex | null = null;
  /** -p: called at the helper's zero-length record, once every process is seized */
  private onAttached: (() => void) | null = null;

  constructor(private readonly useSeccomp: boolean) {
    this.plan = useSeccomp ? 'ptrace+seccomp' : 'ptrace';
    this.helperPath = requireNativeHelper();
  }

  /** before start: hold exec stops of these kinds, each reported to onHold and kept stopped until verdict() */
  holdExecs(h: HoldOptions): void {
    this.holds = h;
  }

  verdict(pid: number, v: Verdict): void {
    this.holdSocket?.write(`${v} ${pid}\n`);
  }

  start(cmd: CommandSpec): Started {
    const io = commandStdio(cmd);
    const h = this.holds;
    const args = [
      ...(this.useSeccomp ? [] : ['--no-seccomp']),
      ...io.args,
      ...(h?.sysenter ? ['--hold-enter'] : []),
      ...(h?.sysexit ? ['--hold-exit'] : []),
    ];
    if (cmd.creds) args.push('--uid', String(cmd.creds.uid), '--gid', String(cmd.creds.gid));
    // records come on fd 3; the command goes to it on fd 4, as bytes (see execspec.ts); holds on fd 5 (a socket)
    const child = spawn(this.helperPath, args, {
      stdio: [...io.stdio, 'pipe', 'pipe', ...(h ? ['pipe' as const] : [])],
    });
    this.helper = child;
    if (h) this.readHolds((child.stdio as unknown as Duplex[])[5]!, h.onHold);
    sendSpec(child.stdio[4] as Writable, cmd);
    const pipe = child.stdio[3] as Readable;
    pipe.on('data', (b: Buffer) => {
      this.queue.push(b);
    });
    return { child, rootPid: child.pid ?? 0, doneEvent: 'close', waitForTree: false };
  }

  /**
   * -p: the helper seizes the processes, every thread, and their descendants (no seccomp filter can be put in
   * a process that runs already: every syscall stops, as with strace -p). Its stdio is not the user's terminal
   * input; the run ends when every tracee is gone and the helper exits 0.
   */
  attachTo(pids: readonly number[]): Started {
    this.plan = 'ptrace';
    const child = spawn(this.helperPath, ['--attach', pids.join(',')], {
      stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
    });
    this.helper = child;
    (child.stdio[3] as Readable).on('data', (b: Buffer) => {
      this.queue.push(b);
    });
    const attached = new Promise<void>((res) => (this.onAttached = res));
    return { child, rootPid: child.pid ?? 0, doneEvent: 'close', waitForTree: false, attached };
  }

  /** hold messages: u32 length, u32 pid, u32 stage, u32 filename length, filename, argv items NUL-terminated */
  private readHolds(sock: Duplex, onHold: (h: Hold) => void): void {
    this.holdSocket = sock;
    let buf: Buffer = Buffer.alloc(0);
    sock.on('error', () => {});
    sock.on('data', (b: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, b]) : b;
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32LE(0)) {
        const m = buf.subarray(4, 4 + buf.readUInt32LE(0));
        buf = buf.subarray(4 + m.length);
        const fnLen = m.readUInt32LE(8);
        // the filename as read, with its NUL
        const fn = m.subarray(12, 12 + fnLen);
        const filename = fn.indexOf(0) >= 0 ? fn.subarray(0, fn.indexOf(0)) : fn;
        onHold({
          pid: m.readUInt32LE(0),
          stop: m.readUInt32LE(4) === 0 ? 'sysenter' : 'sysexit',
          filename,
          argv: splitNul(m.subarray(12 + fnLen)),
        });
      }
    });
  }

  /** CLOCK_MONOTONIC, which the helper stamps with and process.hrtime reads: no FFI on this backend */
  nowNs(): bigint {
    return process.hrtime.bigint();
  }

  drain(onRecord: (rec: Uint8Array) => void, maxBytes: number): number {
    if (!this.queue.length && this.pending.length < 4) return 0;
    const data = this.queue.length ? Buffer.concat([this.pending, ...this.queue.splice(0)]) : this.pending;
    let i = 0;
    let n = 0;
    while (i + 4 <= data.length && i < maxBytes) {
      const len = data.readUInt32LE(i);
      if (len === 0) {
        // -p: the helper's walk is done (native/ptrace/execlens-ptrace.c attach_tree)
        this.onAttached?.();
        i += 4;
        continue;
      }
      if (i + 4 + len > data.length) break;
      const rec = data.subarray(i + 4, i + 4 + len);
      if (len >= EXEC.size && rec.readUInt32LE(HDR.kind) === RecKind.EXEC)
        this.countFlags(rec.readUInt32LE(EXEC.flags));
      onRecord(rec);
      i += 4 + len;
      n++;
    }
    this.pending = data.subarray(i);
    return n;
  }

  private readonly seen = { faults: 0 };
  private countFlags(f: number): void {
    if (f & (ExecFlag.ARGV_FAULT | ExecFlag.ENV_FAULT | ExecFlag.FILENAME_FAULT)) this.seen.faults++;
  }

  counters(): SourceCounters {
    // nothing is dropped between the helper and us: a pipe blocks the helper (and so the tracee) instead
    return {
      ringDrops: { exec: 0, chunk: 0, other: 0 },
      untrackedChildren: 0,
      stashFull: 0,
      readFaults: this.seen.faults,
      programMisses: {},
    };
  }

  bpfStats(): { name: string; runTimeNs: number; runCnt: number }[] {
    return [];
  }

  close(): Promise<void> {
    // the helper detaches from every tracee at SIGTERM (with a command, PTRACE_O_EXITKILL: if the helper
    // dies, the tracees go with it; with -p they run on)
    if (this.helper && this.helper.exitCode === null && this.helper.signalCode === null) this.helper.kill('SIGTERM');
    return Promise.resolve();
  }
}
