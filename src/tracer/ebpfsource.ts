/** The eBPF backend as a record source: the loaded plan plus its ring buffer reader. */
import { spawn } from 'node:child_process';
import { RingBufferReader } from '../bpf/ringbuf.js';
import type { LoadedTracer } from '../bpf/loader.js';
import { Stat } from '../events/layout.js';
import type { CommandSpec, SourceCounters, Started, TraceSource } from './source.js';

export class EbpfSource implements TraceSource {
  readonly plan: string;
  private readonly reader: RingBufferReader;

  constructor(
    private readonly tracer: LoadedTracer,
    ringBytes: number,
    private readonly ncpu: number,
  ) {
    this.plan = `${tracer.candidate.id}+${tracer.lifecycle}${tracer.loops === 'bpf_loop' ? '+bpf_loop' : ''}`;
    this.reader = new RingBufferReader(tracer.mapFd('events'), ringBytes);
  }

  start(cmd: CommandSpec): Started {
    // the kernel follows our tree: seed it with ourselves before the command exists
    this.tracer.follow(process.pid);
    const child = spawn(cmd.path, cmd.argv.slice(1), {
      argv0: cmd.argv[0],
      stdio: 'inherit',
      env: cmd.env,
      ...(cmd.creds ? { uid: cmd.creds.uid, gid: cmd.creds.gid } : {}),
    });
    return { child, rootPid: process.pid, doneEvent: 'exit', waitForTree: true };
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
      truncated: { argv: k[Stat.ARGV_TRUNC]!, env: k[Stat.ENV_TRUNC]! },
      readFaults: k[Stat.READ_FAULT]!,
      programMisses: Object.fromEntries(this.tracer.progStats().filter((p) => p.recursionMisses > 0).map((p) => [p.name, p.recursionMisses])),
    };
  }

  bpfStats(): { name: string; runTimeNs: number; runCnt: number }[] {
    return this.tracer.progStats().filter((p) => p.runCnt > 0).map((p) => ({ name: p.name, runTimeNs: p.runTimeNs, runCnt: p.runCnt }));
  }

  async close(): Promise<void> {
    this.reader.close();
    await this.tracer.closeConcurrently();
  }
}
