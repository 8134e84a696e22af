/**
 * The tracing pipeline, the same for both backends: records from a TraceSource -> Assembler (chunks into
 * execs) -> ProcessTree (the tree, env diffs) -> Sink. Runs the command (or traces the whole system) until
 * it and every process it started are gone (as strace -f), or a signal asks to stop.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { CommandSpec, Started, TraceSource } from '../backend/source.js';
import { Assembler, type Assembled } from '../events/assemble.js';
import { ProcessTree } from '../events/tree.js';
import { attachTree } from '../backend/attach-pids.js';
import { CgroupNames } from '../events/cgroup.js';
import { EXIT } from '../exitcodes.js';
import type { Sink } from '../output/sink.js';
import type { StopSignals } from './stop.js';
import { buildSummary, countExec, newRunCounts, type RunCounts, type Summary } from './summary.js';

export interface PipelineOptions {
  source: TraceSource;
  sink: Sink;
  /** the command to run; null: the whole system, or the processes of `attach` */
  cmd: CommandSpec | null;
  /** -p: processes that already run, traced with their descendants until all are gone */
  attach?: number[] | null;
  /** -p: every process of `attach` and its descendants is followed now (what they exec from here on is seen) */
  onAttached?: () => void;
  /** --collect-cgroup: resolve each exec's cgroup id to its path (and container id) */
  collectCgroup?: boolean;
  /** the diff baseline of the tree's root: the environment and cwd the command was given (ours) */
  baseline: { env: Buffer[]; cwd: Buffer | null };
  stop: StopSignals;
  /** the source's clock at the trace's start */
  startNs: bigint;
  /** also append every raw record (u32 length + bytes) here: fixtures, the decode benchmark */
  recordRaw: string | null;
  /** what the output writer knows of failed writes */
  output: () => { unwritten: number; failed: string | null };
  /** a command that could not be started */
  onStartError: (e: Error) => void;
}

export interface PipelineResult {
  summary: Summary;
  /** the signal that stopped execlens, null when the command (or the tree) ended */
  stoppedBy: NodeJS.Signals | null;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
}

/** how long to sleep when no record came, and how often to look for processes that died unseen */
const IDLE_MS = 10;
const PRUNE_MS = 200;
/** bytes of records handed on per drain, so the output and signals get their turn */
const DRAIN_BYTES = 8 << 20;

export class Pipeline {
  private readonly asm: Assembler;
  private readonly tree = new ProcessTree();
  private readonly counts: RunCounts = newRunCounts();
  private readonly rawFd: number | null;
  private exit: PipelineResult['exit'] = null;
  private waitForTree = true;
  /** a command was launched (not system-wide), and its launcher's exec came */
  private launched = false;
  private launcherExeced = false;
  /** the process the launcher forks from, whose child's first exec is the command's */
  private rootPid = 0;
  /** -p: the run ends when the attached processes and their descendants are gone */
  private attached = false;
  private readonly cgroups: CgroupNames | null;

  constructor(private readonly o: PipelineOptions) {
    const { source } = o;
    // env dedupe: a block the cache drops is first forgotten by the kernel (eBPF), which then sends it again
    const budget = Number(process.env.EXECLENS_ENV_CACHE_BYTES); // tests: a small budget makes drops happen
    this.asm = new Assembler({
      envCacheBytes: budget > 0 ? budget : undefined,
      envForget: source.forgetEnv ? { forget: (h) => source.forgetEnv!(h), nowNs: () => source.nowNs() } : null,
    });
    this.rawFd = o.recordRaw ? openSync(o.recordRaw, 'w') : null;
    this.cgroups = o.collectCgroup ? new CgroupNames() : null;
  }

  private readonly onRecord = (rec: Uint8Array): void => {
    if (this.rawFd !== null) this.saveRaw(rec);
    const item = this.asm.push(rec);
    if (item) this.onItem(item);
    // execs (and what came after them) that waited for their env block (env dedupe: not expected)
    for (const held of this.asm.takeReady()) this.onItem(held);
  };

  private onItem(item: Assembled): void {
    if (item.kind === 'fork') {
      this.tree.onFork(item.parentPid, item.childPid);
      this.counts.processes++;
      this.o.sink.fork(item);
    } else if (item.kind === 'exit') {
      this.tree.onExit(item.pid);
      this.o.sink.exit(item);
    } else {
      const { diff } = this.tree.onExec(item.ev);
      countExec(this.counts, item.ev);
      // nothing of the tree runs before the launcher has exec'd the command: the run's first exec is that one,
      // unless --uid/--cgroup kept it in the kernel: the launcher's is a child of the root (the command's own
      // later execs are too, and one of those is taken for it only when the first was kept out)
      const byLauncher = this.launched && !this.launcherExeced && item.ev.ppid === this.rootPid;
      if (byLauncher) this.launcherExeced = true;
      const cgroup = this.cgroups?.resolve(item.ev.cgroupId);
      this.o.sink.exec(cgroup ? { ev: item.ev, diff, byLauncher, cgroup } : { ev: item.ev, diff, byLauncher });
    }
  }

  private saveRaw(rec: Uint8Array): void {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(rec.byteLength);
    writeSync(this.rawFd!, len);
    writeSync(this.rawFd!, rec);
  }

  private drain(): boolean {
    const n = this.o.source.drain(this.onRecord, DRAIN_BYTES);
    this.o.sink.flush();
    return n > 0;
  }

  /** start the command, or root the tree at ourselves when tracing the whole system */
  private start(): void {
    const { cmd, baseline } = this.o;
    if (this.o.attach?.length) {
      const { source } = this.o;
      if (source.follow) {
        for (const p of attachTree(this.o.attach, source.follow.bind(source)))
          this.tree.addRunning(p.pid, p.ppid, p.env, p.cwd);
        this.attached = true;
        this.o.onAttached?.();
        return;
      }
      if (!source.attachTo) throw new Error('this backend cannot follow running processes');
      // the source's own process attaches (ptrace); the tree's baselines come from /proc all the same, and the
      // run ends with that process
      const started = source.attachTo(this.o.attach);
      for (const p of attachTree(this.o.attach, () => {})) this.tree.addRunning(p.pid, p.ppid, p.env, p.cwd);
      void started.attached?.then(() => this.o.onAttached?.());
      this.waitForTree = false;
      this.watch(started);
      return;
    }
    if (!cmd) {
      this.tree.addRoot(process.pid, baseline.env, baseline.cwd);
      return;
    }
    const started: Started = this.o.source.start(cmd);
    this.tree.addRoot(started.rootPid, baseline.env, baseline.cwd);
    this.launched = true;
    this.rootPid = started.rootPid;
    if (started.unreportedChild !== undefined) {
      this.tree.onFork(started.rootPid, started.unreportedChild);
      this.counts.processes++;
    }
    this.waitForTree = started.waitForTree;
    this.watch(started);
  }

  /** the end of the process whose end is the run's (the command, or the ptrace helper) */
  private watch(started: Started): void {
    const { stop } = this.o;
    const child: ChildProcess = started.child;
    child.on(started.doneEvent, (code: number | null, signal: NodeJS.Signals | null) => {
      this.exit = { code, signal };
      stop.wake?.();
    });
    child.on('error', (e) => {
      this.exit = { code: EXIT.NOT_FOUND, signal: null };
      this.o.onStartError(e);
      stop.wake?.();
    });
  }

  /** is the run over: stopped by a signal, or the command and (eBPF) its whole tree gone */
  private done(lastPrune: { at: number }): boolean {
    if (this.o.stop.signal) return true;
    if (!this.exit && !this.attached) return false;
    if (!this.waitForTree || this.tree.liveCount === 0) return true;
    const now = Date.now();
    if (now - lastPrune.at > PRUNE_MS) {
      lastPrune.at = now;
      pruneDead(this.tree);
    }
    return false;
  }

  private idle(): Promise<void> {
    return new Promise<void>((res) => {
      this.o.stop.wake = res;
      setTimeout(res, IDLE_MS);
    }).then(() => {
      this.o.stop.wake = null;
    });
  }

  async run(): Promise<PipelineResult> {
    this.start();
    // records are polled: no wakeup per event
    const lastPrune = { at: 0 };
    for (;;) {
      const got = this.drain();
      if (this.done(lastPrune)) break;
      if (got) await new Promise<void>((res) => setImmediate(res));
      else await this.idle();
    }
    // records committed before we stopped
    while (this.drain()) {
      /* empty */
    }
    if (this.rawFd !== null) closeSync(this.rawFd);
    // a write to a closed pipe reports its error on a later tick: count it before the summary
    await new Promise<void>((res) => setImmediate(res));
    return this.finish();
  }

  /** the counts so far, lost records among them, while the source is open (execlens tui's status bar) */
  progress(): { execs: number; failed: number; processes: number; lost: number } {
    const c = this.o.source.counters();
    const drops = c.ringDrops.exec + c.ringDrops.chunk + c.ringDrops.other;
    const misses = Object.values(c.programMisses).reduce((a, b) => a + b, 0);
    return { ...this.counts, lost: this.asm.gapsSoFar() + drops + misses };
  }

  private finish(): PipelineResult {
    const { source, sink, stop } = this.o;
    for (const held of this.asm.flushHeld()) this.onItem(held);
    const summary = buildSummary({
      counts: this.counts,
      assembly: this.asm.finish(),
      source: source.counters(),
      plan: source.plan,
      failedTraced: source.seesFailedExecs,
      output: this.o.output(),
      durationS: Number(source.nowNs() - this.o.startNs) / 1e9,
      exit: this.exit,
      bpf: source.bpfStats(),
    });
    sink.summary(summary, stop.signal);
    sink.flush();
    // the summary record itself may not have been written
    const out = this.o.output();
    return {
      summary: { ...summary, unwritten: out.unwritten, outputFailed: out.failed },
      stoppedBy: stop.signal,
      exit: this.exit,
    };
  }
}

/** processes that exited without an exit record reaching us (e.g. lost in a full ring) */
function pruneDead(tree: ProcessTree): void {
  for (const pid of tree.livePids()) if (!running(pid)) tree.onExit(pid);
}

/**
 * Not gone and not a zombie. A zombie has exited: its parent has not reaped it yet (a process that -p attached
 * to after it exited, whose exit no record will ever report; or a parent that never waits), and kill(pid, 0)
 * still succeeds on it.
 */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat[stat.lastIndexOf(')') + 2];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
