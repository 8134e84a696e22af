/**
 * The TUI's sink: items go into its exec store and list (src/tui/model) instead of bytes to a writer;
 * flush() marks the screen for redrawing, which happens at most at the TUI's frame rate, never per exec.
 */
import type { RawExit, RawFork } from '../events/types.js';
import type { Summary } from '../pipeline/summary.js';
import type { ExecStore } from '../tui/model/store.js';
import type { ListView } from '../tui/model/view.js';
import type { ExecItem, Sink } from './sink.js';

export class TuiSink implements Sink {
  /** the run's summary once it ended */
  final: { summary: Summary; stoppedBy: string | null } | null = null;
  dirty = false;

  constructor(
    private readonly store: ExecStore,
    private readonly view: ListView,
  ) {
    store.onExitStatus = (r) => view.ended(r);
  }

  exec(x: ExecItem): void {
    this.view.added(this.store.add(x));
  }

  fork(f: RawFork): void {
    this.store.fork(f.parentPid, f.childPid);
  }

  exit(x: RawExit): void {
    this.store.exit(x.pid, x.exitCode);
  }

  summary(s: Summary, stoppedBy: string | null): void {
    this.final = { summary: s, stoppedBy };
  }

  flush(): void {
    this.dirty = true;
  }
}
