/**
 * The ptrace backend: native/ptrace/execlens-ptrace runs the command under
 * PTRACE_SEIZE (+ a seccomp filter so only execve/execveat stop) and writes
 * length-prefixed records on fd 3, which are read here without blocking the
 * event loop.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { EXEC, ExecFlag, HDR, RecKind } from '../../events/layout.js';
import { requireNativeHelper, sendSpec } from '../execspec.js';
import { commandStdio, type CommandSpec, type SourceCounters, type Started, type TraceSource } from '../source.js';

export class PtraceSource implements TraceSource {
  readonly plan: string;
  private readonly queue: Buffer[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private helper: ReturnType<typeof spawn> | null = null;
  private readonly helperPath: string;

  constructor(private readonly useSeccomp: boolean) {
    this.plan = useSeccomp ? 'ptrace+seccomp' : 'ptrace';
    this.helperPath = requireNativeHelper();
  }

  start(cmd: CommandSpec): Started {
    const io = commandStdio(cmd);
    const args = [...(this.useSeccomp ? [] : ['--no-seccomp']), ...io.args];
    if (cmd.creds) args.push('--uid', String(cmd.creds.uid), '--gid', String(cmd.creds.gid));
    // records come on fd 3; the command goes to it on fd 4, as bytes (see execspec.ts)
    const child = spawn(this.helperPath, args, { stdio: [...io.stdio, 'pipe', 'pipe'] });
    this.helper = child;
    sendSpec(child.stdio[4] as Writable, cmd);
    const pipe = child.stdio[3] as Readable;
    pipe.on('data', (b: Buffer) => {
      this.queue.push(b);
    });
    return { child, rootPid: child.pid ?? 0, doneEvent: 'close', waitForTree: false };
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
      if (i + 4 + len > data.length) break;
      const rec = data.subarray(i + 4, i + 4 + len);
      if (len >= EXEC.size && rec.readUInt32LE(HDR.kind) === RecKind.EXEC) this.countFlags(rec.readUInt32LE(EXEC.flags));
      onRecord(rec);
      i += 4 + len;
      n++;
    }
    this.pending = data.subarray(i);
    return n;
  }

  private readonly seen = { argvTrunc: 0, envTrunc: 0, faults: 0 };
  private countFlags(f: number): void {
    if (f & ExecFlag.ARGV_TRUNC) this.seen.argvTrunc++;
    if (f & ExecFlag.ENV_TRUNC) this.seen.envTrunc++;
    if (f & (ExecFlag.ARGV_FAULT | ExecFlag.ENV_FAULT | ExecFlag.FILENAME_FAULT)) this.seen.faults++;
  }

  counters(): SourceCounters {
    // nothing is dropped between the helper and us: a pipe blocks the helper (and so the tracee) instead
    return {
      ringDrops: { exec: 0, chunk: 0, other: 0 }, untrackedChildren: 0, stashFull: 0,
      truncated: { argv: this.seen.argvTrunc, env: this.seen.envTrunc }, readFaults: this.seen.faults,
      programMisses: {},
    };
  }

  bpfStats(): { name: string; runTimeNs: number; runCnt: number }[] {
    return [];
  }

  close(): Promise<void> {
    // the helper set PTRACE_O_EXITKILL: if it goes, the tracees go with it
    if (this.helper && this.helper.exitCode === null && this.helper.signalCode === null) this.helper.kill('SIGTERM');
    return Promise.resolve();
  }
}
