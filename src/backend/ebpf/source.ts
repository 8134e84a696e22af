/** The eBPF backend as a record source: the loaded plan plus its ring buffer reader. */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { RingBufferReader } from './ringbuf.js';
import { bootTimeNs } from './libbpf.js';
import type { LoadedTracer } from './loader.js';
import { Stat } from '../../events/layout.js';
import { methodByKind } from '../../attach/registry.js';
import { requireNativeHelper, sendSpec } from '../execspec.js';
import type { FilterName } from '../../pipeline/filter.js';
import { commandStdio, type CommandSpec, type SourceCounters, type Started, type TraceSource } from '../source.js';

export class EbpfSource implements TraceSource {
  readonly plan: string;
  readonly seesFailedExecs: boolean;
  private readonly reader: RingBufferReader;

  constructor(
    private readonly tracer: LoadedTracer,
    ringBytes: number,
    private readonly ncpu: number,
    /** --uid, --cgroup given to the kernel (bpf/lib/select.bpf.h) */
    readonly filtersInKernel: readonly FilterName[] = [],
  ) {
    this.plan = `${tracer.candidate.id}+${tracer.lifecycle}${tracer.loops === 'bpf_loop' ? '+bpf_loop' : ''}`;
    // a failed exec is seen at the syscall's exit only: a plan that hooks no syscall never sees one
    this.seesFailedExecs = methodByKind(tracer.candidate.attach)?.hooksSyscalls !== false;
    this.reader = new RingBufferReader(tracer.mapFd('events'), ringBytes);
  }

  /**
   * The command goes through the native helper's --exec mode: Node can only
   * spawn strings, the helper exec's the bytes it reads on fd 3 (execspec.ts).
   * The helper waits for them, so the kernel is told to follow it before it can
   * exec: the command's exec is the first one traced, the helper's own never is.
   * The helper drops to the command's uid/gid itself (it must be able to reach
   * its own binary, which the user may not), as Node's spawn would have.
   */
  start(cmd: CommandSpec): Started {
    const io = commandStdio(cmd);
    const args = [
      '--exec',
      ...(cmd.creds ? ['--uid', String(cmd.creds.uid), '--gid', String(cmd.creds.gid)] : []),
      ...io.args,
    ];
    const child = spawn(requireNativeHelper(), args, { stdio: [...io.stdio, 'pipe'] });
    // no pid: the spawn failed, and the child's 'error' event says why
    if (child.pid === undefined) return { child, rootPid: process.pid, doneEvent: 'exit', waitForTree: true };
    try {
      this.tracer.follow(child.pid);
    } catch (e) {
      child.kill('SIGKILL');
      throw e;
    }
    sendSpec(child.stdio[3] as Writable, cmd);
    return { child, rootPid: process.pid, unreportedChild: child.pid, doneEvent: 'exit', waitForTree: true };
  }

  follow(pid: number): void {
    this.tracer.follow(pid);
  }

  forgetEnv(hash: bigint): void {
    this.tracer.forgetEnv(hash);
  }

  /** CLOCK_BOOTTIME: bpf_ktime_get_boot_ns() */
  nowNs(): bigint {
    return bootTimeNs();
  }

  drain(onRecord: (rec: Uint8Array) => void, maxBytes: number): number {
    return this.reader.drain(onRecord, maxBytes);
  }

  counters(): SourceCounters {
    const k = this.tracer.readStats(Stat.MAX, this.ncpu);
    return {
      ringDrops: { exec: k[Stat.RB_DROP_EXEC]!, chunk: k[Stat.RB_DROP_CHUNK]!, other: k[Stat.RB_DROP_OTHER]! },
      untrackedChildren: k[Stat.TRACE_FULL]!,
      stashFull: k[Stat.STASH_FULL]!,
      readFaults: k[Stat.READ_FAULT]!,
      programMisses: Object.fromEntries(
        this.tracer
          .progStats()
          .filter((p) => p.recursionMisses > 0)
          .map((p) => [p.name, p.recursionMisses]),
      ),
      filteredOut: { uid: k[Stat.SKIP_UID]!, cgroup: k[Stat.SKIP_CGROUP]! },
      filteredOutFailed: k[Stat.SKIP_FAILED]!,
    };
  }

  bpfStats(): { name: string; runTimeNs: number; runCnt: number }[] {
    return this.tracer
      .progStats()
      .filter((p) => p.runCnt > 0)
      .map((p) => ({ name: p.name, runTimeNs: p.runTimeNs, runCnt: p.runCnt }));
  }

  async close(): Promise<void> {
    this.reader.close();
    await this.tracer.closeConcurrently();
  }
}
