/**
 * Where the pipeline's items go: one interface for every output format. Text and JSON Lines are the first
 * two; a new format (Perfetto, compile_commands.json, the TUI) is one more module implementing this.
 * Sinks write bytes through a Writer (src/output/writer.ts) and batch until flush().
 */
import type { CgroupInfo } from '../events/cgroup.js';
import type { EnvDiff } from '../events/envdiff.js';
import type { ExecEvent, RawExit, RawFork } from '../events/types.js';
import type { Summary } from '../pipeline/summary.js';

export interface ExecItem {
  ev: ExecEvent;
  /** the environment against the process's before the exec (null: no baseline known) */
  diff: EnvDiff | null;
  /** the exec that starts the traced command: the comm before it is execlens's launcher, not the user's */
  byLauncher?: boolean;
  /** --collect-cgroup: the exec's cgroup v2 path and container id */
  cgroup?: CgroupInfo;
}

export interface Sink {
  exec(x: ExecItem): void;
  fork(f: RawFork): void;
  exit(x: RawExit): void;
  /** the run's end: what was seen and lost, and the signal that stopped execlens (null: the command ended) */
  summary(s: Summary, stoppedBy: string | null): void;
  /** write what is batched (after every drain of records) */
  flush(): void;
}
