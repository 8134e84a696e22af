/**
 * Exec filters (--successful-only, --failed-only, --comm, --filename, --argv, --uid, --cgroup), applied in
 * userspace between the process tree and the output: a filtered exec is still followed (the tree, its env-diff
 * baseline and its children are kept), only not written. What each filter dropped is counted and goes in
 * the summary (`filtered_out`). On eBPF, --uid and --cgroup are done in the kernel instead (bpf/lib/select.bpf.h:
 * nothing of such an exec is copied) and --successful-only hooks no syscall at all (plan lifecycle-only); the
 * source says which it applies (TraceSource.filtersInKernel) and they are left out here.
 */
import { CgroupNames, isUnder } from '../events/cgroup.js';
import { lossy } from '../output/quote.js';
import type { ExecItem, Sink } from '../output/sink.js';
import type { RawExit, RawFork } from '../events/types.js';
import type { Summary } from './summary.js';

export interface ExecFilters {
  /** keep only successful execs, or only failed ones */
  result?: 'successful' | 'failed';
  /** the comm after the exec (the program's name, 15 bytes; a failed exec keeps the caller's) */
  comm?: RegExp;
  /** the file name as passed to exec */
  filename?: RegExp;
  /** any argument, argv[0] included */
  argv?: RegExp;
  /** the real uid after the exec */
  uid?: number;
  /** the cgroup v2 path (as /proc/PID/cgroup shows it) the exec is in, or below */
  cgroup?: string;
}

/** the summary's names of the filters, in the order they are tried */
export const FILTER_NAMES = ['successful_only', 'failed_only', 'comm', 'filename', 'argv', 'uid', 'cgroup'] as const;
export type FilterName = (typeof FILTER_NAMES)[number];

export function hasFilters(f: ExecFilters): boolean {
  return [f.result, f.comm, f.filename, f.argv, f.uid, f.cgroup].some((v) => v !== undefined);
}

/** the filters a source does not apply itself */
export function leftForUserspace(f: ExecFilters, inKernel: readonly FilterName[]): ExecFilters {
  const out = { ...f };
  if (inKernel.includes('uid')) delete out.uid;
  if (inKernel.includes('cgroup')) delete out.cgroup;
  return out;
}

/**
 * The first filter that drops this exec, or null when it is kept. cgroupOf: an exec's cgroup path from its id
 * (null: unknown, which --cgroup drops).
 */
export function rejectedBy(
  x: ExecItem,
  f: ExecFilters,
  cgroupOf: (id: bigint) => string | null = () => null,
): FilterName | null {
  const { ev } = x;
  if (f.result === 'successful' && ev.ret !== 0) return 'successful_only';
  if (f.result === 'failed' && ev.ret === 0) return 'failed_only';
  if (f.comm && !f.comm.test(lossy(ev.comm))) return 'comm';
  if (f.filename && !f.filename.test(ev.filename ? lossy(ev.filename) : '')) return 'filename';
  if (f.argv && !ev.argv.some((a) => f.argv!.test(lossy(a)))) return 'argv';
  if (f.uid !== undefined && ev.uid !== f.uid) return 'uid';
  if (f.cgroup !== undefined) {
    const path = x.cgroup ? x.cgroup.path : cgroupOf(ev.cgroupId);
    if (path === null || !isUnder(path, f.cgroup)) return 'cgroup';
  }
  return null;
}

/** a Sink in front of another: drops what the filters reject, counts it, adds the counts to the summary */
export class FilterSink implements Sink {
  readonly dropped: Partial<Record<FilterName, number>> = {};
  private readonly cgroups: CgroupNames | null;
  constructor(
    private readonly inner: Sink,
    private readonly filters: ExecFilters,
  ) {
    this.cgroups = filters.cgroup !== undefined ? new CgroupNames() : null;
  }

  exec(x: ExecItem): void {
    const want = this.filters.cgroup;
    const by = rejectedBy(x, this.filters, (id) =>
      this.cgroups ? (this.cgroups.resolve(id).path ?? this.cgroups.findUnder(id, want!)) : null,
    );
    if (by === null) this.inner.exec(x);
    else this.dropped[by] = (this.dropped[by] ?? 0) + 1;
  }

  fork(f: RawFork): void {
    this.inner.fork(f);
  }

  exit(x: RawExit): void {
    this.inner.exit(x);
  }

  summary(s: Summary, stoppedBy: string | null): void {
    this.inner.summary({ ...s, filteredOut: addCounts(s.filteredOut, this.dropped) }, stoppedBy);
  }

  flush(): void {
    this.inner.flush();
  }
}

/** what the kernel dropped (the summary's filteredOut from the source) and what a FilterSink dropped, added up */
export function addCounts(
  a: Partial<Record<string, number>> | undefined,
  b: Partial<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of [a ?? {}, b]) for (const [k, v] of Object.entries(m)) if (v) out[k] = (out[k] ?? 0) + v;
  return out;
}
