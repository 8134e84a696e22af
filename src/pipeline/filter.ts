/**
 * Exec filters (--successful-only, --failed-only, --comm, --filename, --argv, --uid), applied in userspace
 * between the process tree and the output: a filtered exec is still followed (the tree, its env-diff
 * baseline and its children are kept), only not written. What each filter dropped is counted and goes in
 * the summary (`filtered_out`). Kernel-side filtering, which would also save copying argv and env out of
 * the kernel, is not done yet.
 */
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
}

/** the summary's names of the filters, in the order they are tried */
export const FILTER_NAMES = ['successful_only', 'failed_only', 'comm', 'filename', 'argv', 'uid'] as const;
export type FilterName = (typeof FILTER_NAMES)[number];

export function hasFilters(f: ExecFilters): boolean {
  return [f.result, f.comm, f.filename, f.argv, f.uid].some((v) => v !== undefined);
}

/** the first filter that drops this exec, or null when it is kept */
export function rejectedBy(x: ExecItem, f: ExecFilters): FilterName | null {
  const { ev } = x;
  if (f.result === 'successful' && ev.ret !== 0) return 'successful_only';
  if (f.result === 'failed' && ev.ret === 0) return 'failed_only';
  if (f.comm && !f.comm.test(lossy(ev.comm))) return 'comm';
  if (f.filename && !f.filename.test(ev.filename ? lossy(ev.filename) : '')) return 'filename';
  if (f.argv && !ev.argv.some((a) => f.argv!.test(lossy(a)))) return 'argv';
  if (f.uid !== undefined && ev.uid !== f.uid) return 'uid';
  return null;
}

/** a Sink in front of another: drops what the filters reject, counts it, adds the counts to the summary */
export class FilterSink implements Sink {
  readonly dropped: Partial<Record<FilterName, number>> = {};
  constructor(
    private readonly inner: Sink,
    private readonly filters: ExecFilters,
  ) {}

  exec(x: ExecItem): void {
    const by = rejectedBy(x, this.filters);
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
    this.inner.summary({ ...s, filteredOut: { ...this.dropped } }, stoppedBy);
  }

  flush(): void {
    this.inner.flush();
  }
}
