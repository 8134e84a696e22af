/** What a run saw and lost, as the summary line on stderr and the JSON summary record report it. */
import type { SourceCounters } from '../backend/source.js';
import type { AssemblyStats } from '../events/assemble.js';
import { ExecFlag } from '../events/layout.js';
import type { ExecEvent } from '../events/types.js';
import { JSON_SCHEMA_VERSION } from '../output/format.js';

export interface Summary {
  execs: number;
  /** failed execs seen (0 when they cannot be: see failedTraced) */
  failed: number;
  /** false: the plan sees no failed exec (--successful-only on eBPF hooks no syscall), so `failed` says nothing */
  failedTraced: boolean;
  processes: number;
  /** execs traced after the output failed (its reader went away, the disk filled up), so not written */
  unwritten: number;
  /** why the output failed, null when it did not */
  outputFailed: string | null;
  lostRecords: number;
  ringDrops: { exec: number; chunk: number; other: number };
  incompleteExecs: number;
  orphanChunks: number;
  malformed: number;
  /** execs with a field cut at its capture limit, by field (counted from the events: both backends, failed execs too) */
  truncated: TruncCounts;
  readFaults: number;
  /** program runs the kernel skipped, by program (see SourceCounters.programMisses) */
  programMisses: Record<string, number>;
  untrackedChildren: number;
  stashFull: number;
  durationS: number;
  plan: string;
  exitCode: number | null;
  exitSignal: string | null;
  /** CPU seconds used by execlens itself (user + system) */
  tracerCpuS: number;
  /** per-program run time, when kernel.bpf_stats_enabled=1 */
  bpf: { name: string; runTimeNs: number; runCnt: number }[];
  /** execs the filters (pipeline/filter.ts) kept out of the output, by filter (snake_case names) */
  filteredOut?: Record<string, number>;
  /**
   * env dedupe (bpf/lib/envhash.bpf.h, src/events/envcache.ts): execs whose env came whole with a hash, execs
   * whose env came as that hash only and was put back, blocks dropped for the byte budget, and references that
   * found no block (those execs' env is lost: marked CHUNK_LOST, counted in incompleteExecs too)
   */
  envDedupe?: { sent: number; referenced: number; evicted: number; unresolved: number };
}

export interface TruncCounts {
  argv: number;
  env: number;
  filename: number;
  cwd: number;
  fds: number;
}

/** the counts the pipeline keeps while records flow */
export interface RunCounts {
  execs: number;
  failed: number;
  processes: number;
  truncated: TruncCounts;
}

export function newRunCounts(): RunCounts {
  return { execs: 0, failed: 0, processes: 0, truncated: { argv: 0, env: 0, filename: 0, cwd: 0, fds: 0 } };
}

const TRUNC_FLAGS: [keyof TruncCounts, number][] = [
  ['argv', ExecFlag.ARGV_TRUNC | ExecFlag.ARGV0_TRUNC],
  ['env', ExecFlag.ENV_TRUNC],
  ['filename', ExecFlag.FILENAME_TRUNC],
  ['cwd', ExecFlag.CWD_TRUNC],
  ['fds', ExecFlag.FDS_TRUNC],
];

/** one exec into the run's counts */
export function countExec(c: RunCounts, ev: Pick<ExecEvent, 'ret' | 'flags'>): void {
  c.execs++;
  if (ev.ret !== 0) c.failed++;
  for (const [field, bits] of TRUNC_FLAGS) if (ev.flags & bits) c.truncated[field]++;
}

export function buildSummary(p: {
  counts: RunCounts;
  assembly: AssemblyStats;
  source: SourceCounters;
  plan: string;
  /** whether the source can see a failed exec (TraceSource.seesFailedExecs) */
  failedTraced: boolean;
  output: { unwritten: number; failed: string | null };
  durationS: number;
  exit: { code: number | null; signal: string | null } | null;
  bpf: Summary['bpf'];
}): Summary {
  const cpu = process.cpuUsage();
  // an exec the source's own filters dropped is an exec all the same (as one a FilterSink drops)
  const skipped = Object.values(p.source.filteredOut ?? {}).reduce((a, b) => a + b, 0);
  return {
    ...p.counts,
    execs: p.counts.execs + skipped,
    failed: p.counts.failed + (p.source.filteredOutFailed ?? 0),
    failedTraced: p.failedTraced,
    unwritten: p.output.unwritten,
    outputFailed: p.output.failed,
    lostRecords: p.assembly.seqGaps,
    ringDrops: p.source.ringDrops,
    incompleteExecs: p.assembly.incompleteExecs,
    orphanChunks: p.assembly.orphanExecs,
    malformed: p.assembly.malformed,
    readFaults: p.source.readFaults,
    programMisses: p.source.programMisses,
    untrackedChildren: p.source.untrackedChildren,
    stashFull: p.source.stashFull,
    durationS: p.durationS,
    plan: p.plan,
    exitCode: p.exit?.code ?? null,
    exitSignal: p.exit?.signal ?? null,
    tracerCpuS: (cpu.user + cpu.system) / 1e6,
    bpf: p.bpf,
    envDedupe: { ...p.assembly.env },
    // what the kernel did not copy (--uid, --cgroup on eBPF); a FilterSink adds what it drops
    filteredOut: Object.fromEntries(Object.entries(p.source.filteredOut ?? {}).filter(([, n]) => n > 0)),
  };
}

export function lostTotal(s: Summary): number {
  return s.lostRecords + ringDropped(s) + missedRuns(s);
}

function ringDropped(s: Pick<Summary, 'ringDrops'>): number {
  return s.ringDrops.exec + s.ringDrops.chunk + s.ringDrops.other;
}

/** program runs the kernel skipped: each one may be a lost exec, fork or exit */
export function missedRuns(s: { programMisses?: Record<string, number> }): number {
  return Object.values(s.programMisses ?? {}).reduce((a, b) => a + b, 0);
}

/** --ring-size's default, in MiB (the CLI's default and the summary's advice name the same number) */
export const DEFAULT_RING_MIB = 32;

export function summaryLine(s: Summary, stopped: string | null): string {
  const lost = lostTotal(s);
  const parts = [
    `${s.execs} exec${s.execs === 1 ? '' : 's'} (${s.failedTraced ? `${s.failed} failed` : 'failed ones not traced'})`,
    `${s.processes} processes`,
    `${s.durationS.toFixed(2)} s`,
    `plan ${s.plan}`,
    lost
      ? `LOST ${s.lostRecords} records (ring drops: exec ${s.ringDrops.exec}, chunk ${s.ringDrops.chunk}, other ${s.ringDrops.other})`
      : 'lost 0',
    ...(missedRuns(s)
      ? [
          `kernel skipped ${missedRuns(s)} program runs (${Object.entries(s.programMisses)
            .map(([p, n]) => `${p} ${n}`)
            .join(', ')})`,
        ]
      : []),
    ...(ringDropped(s) > 0
      ? [`the ring buffer filled up: a larger --ring-size (MiB, default ${DEFAULT_RING_MIB}) holds more`]
      : []),
  ];
  if (s.incompleteExecs) parts.push(`${s.incompleteExecs} execs incomplete`);
  if (s.envDedupe?.unresolved)
    parts.push(`${s.envDedupe.unresolved} env references unresolved (env lost, ${s.envDedupe.evicted} blocks evicted)`);
  const cut = Object.entries(s.truncated).filter(([, n]) => n > 0);
  if (cut.length) parts.push(`truncated: ${cut.map(([f, n]) => `${f} ${n}`).join(', ')}`);
  if (s.readFaults) parts.push(`${s.readFaults} read faults`);
  if (s.untrackedChildren) parts.push(`${s.untrackedChildren} children not followed (map full)`);
  if (s.malformed) parts.push(`${s.malformed} malformed records`);
  const filtered = Object.entries(s.filteredOut ?? {});
  if (filtered.length) {
    const n = filtered.reduce((a, [, v]) => a + v, 0);
    const by = filtered.map(([k, v]) => `${k.replace(/_/g, '-')} ${v}`).join(', ');
    parts.push(`${n} exec${n === 1 ? '' : 's'} filtered out (${by})`);
  }
  if (s.outputFailed)
    parts.push(`output failed (${s.outputFailed}): ${s.unwritten} exec${s.unwritten === 1 ? '' : 's'} not written`);
  if (stopped) parts.push(`stopped by ${stopped}`);
  return `execlens: ${parts.join(', ')}\n`;
}

/** the JSON summary record: snake_case like the exec records (schema 2; docs/json-schema.md) */
export function summaryRecord(s: Summary, stoppedBy: string | null): Record<string, unknown> {
  return {
    type: 'summary',
    schema: JSON_SCHEMA_VERSION,
    execs: s.execs,
    // null: not traced (a plan with no syscall hook), not "none failed"
    failed: s.failedTraced ? s.failed : null,
    processes: s.processes,
    unwritten: s.unwritten,
    output_failed: s.outputFailed,
    lost_records: s.lostRecords,
    ring_drops: s.ringDrops,
    incomplete_execs: s.incompleteExecs,
    orphan_chunks: s.orphanChunks,
    malformed: s.malformed,
    truncated: s.truncated,
    read_faults: s.readFaults,
    program_misses: s.programMisses,
    untracked_children: s.untrackedChildren,
    stash_full: s.stashFull,
    duration_s: s.durationS,
    plan: s.plan,
    exit_code: s.exitCode,
    exit_signal: s.exitSignal,
    tracer_cpu_s: s.tracerCpuS,
    bpf: s.bpf.map((b) => ({ name: b.name, run_time_ns: b.runTimeNs, run_cnt: b.runCnt })),
    filtered_out: s.filteredOut ?? {},
    env_dedupe: s.envDedupe ?? { sent: 0, referenced: 0, evicted: 0, unresolved: 0 },
    stopped_by: stoppedBy,
  };
}
