/**
 * Process tree as seen through fork/exec/exit records: who is alive, and
 * which environment each process had before its next exec (the baseline the
 * env diff is computed against: its own last exec, else what it inherited).
 */
import { diffEnv, type EnvDiff } from './envdiff.js';
import type { ExecEvent } from './types.js';

interface Proc {
  ppid: number;
  env: Buffer[] | null;
  cwd: Buffer | null;
}

export class ProcessTree {
  private readonly procs = new Map<number, Proc>();
  private readonly live = new Set<number>();

  /** the tracer (or the process that starts the command) with the env it passes on */
  addRoot(pid: number, env: Buffer[] | null, cwd: Buffer | null): void {
    this.procs.set(pid, { ppid: 0, env, cwd });
  }

  /** a process that ran before the trace (-p): alive, its parent (0: a root) and the baseline it had */
  addRunning(pid: number, ppid: number, env: Buffer[] | null, cwd: Buffer | null): void {
    this.procs.set(pid, { ppid, env, cwd });
    this.live.add(pid);
  }

  onFork(parent: number, child: number): void {
    const p = this.procs.get(parent);
    this.procs.set(child, { ppid: parent, env: p?.env ?? null, cwd: p?.cwd ?? null });
    this.live.add(child);
  }

  /** Env diff against the process's previous environment (null: no baseline known). */
  onExec(ev: ExecEvent): { diff: EnvDiff | null; parentCwd: Buffer | null } {
    const self = this.procs.get(ev.pid);
    const base = self?.env ?? this.procs.get(ev.ppid)?.env ?? null;
    // an unreadable item (a failed exec's) is no variable: it stays out of the diff
    const env = ev.env && ev.unreadable.env.length ? ev.env.filter((_, i) => !ev.unreadable.env.includes(i)) : ev.env;
    const diff = base && env ? diffEnv(base, env) : null;
    const parentCwd = self?.cwd ?? null;
    if (ev.ret === 0) {
      this.procs.set(ev.pid, { ppid: ev.ppid, env: ev.env ?? base, cwd: ev.cwd });
      this.live.add(ev.pid);
    }
    return { diff, parentCwd };
  }

  onExit(pid: number): void {
    this.live.delete(pid);
    this.procs.delete(pid);
  }

  livePids(): number[] {
    return [...this.live];
  }

  get liveCount(): number {
    return this.live.size;
  }
}
