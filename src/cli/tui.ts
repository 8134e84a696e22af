/**
 * `execlens tui`: the command in a pty pane beside the live list of its execs (or every exec on the system),
 * on the same pipeline and backends as `log`; the sink is the TUI's (src/output/tui-sink.ts). Tracing ends as
 * in `log` (the tree gone, or a stop); the screen stays until q, then the terminal is put back, the summary
 * line goes to stderr and the exit code is the command's (130 if q stopped it first).
 */
import { closeSync, openSync } from 'node:fs';
import readline from 'node:readline';
import { ownCwd, ownEnvironment } from '../backend/execspec.js';
import { openBackend, type BackendKind } from '../backend/select.js';
import type { CommandSpec, TraceSource } from '../backend/source.js';
import { EXIT, ExeclensError } from '../exitcodes.js';
import { shellJoin } from '../output/quote.js';
import { TuiSink } from '../output/tui-sink.js';
import type { Overrides } from '../plan/plan.js';
import { signalExit, StopSignals } from '../pipeline/stop.js';
import { lostTotal, summaryLine } from '../pipeline/summary.js';
import { Pipeline, type PipelineResult } from '../pipeline/trace.js';
import { FilterSink } from '../pipeline/filter.js';
import type { PtraceSource } from '../backend/ptrace/source.js';
import { App } from '../tui/app.js';
import { BreakpointStops } from '../tui/breakpoints.js';
import { runDebugger } from '../tui/debugger.js';
import { defaultCopyFile } from '../tui/clipboard.js';
import { parseBreakpoint, type Breakpoint } from '../tui/model/breakpoint.js';
import { endText } from '../tui/model/rowtext.js';
import { DEFAULT_LIMITS, ExecStore } from '../tui/model/store.js';
import { ListView } from '../tui/model/view.js';
import { Pane } from '../tui/term/pane.js';
import { Pty } from '../tui/term/pty.js';
import { Screen } from '../tui/term/screen.js';
import { commandOf, ringBytesFor } from './run.js';

export interface TuiOptions {
  command: string[];
  user: string | null;
  overrides: Overrides;
  ringMiB: number;
  verbose: boolean;
  quiet: boolean;
  backend: BackendKind;
  /** run the command with stdin/stdout/stderr on /dev/null instead of a pty */
  noTty: boolean;
  breakpoints: string[];
  debugger: string;
  copyFile: string | null;
  history: number;
  /** list only successful execs (eBPF: the plan hooks no syscall, so failed ones are not even traced) */
  successfulOnly: boolean;
}

const FRAME_MS = 50;
const STATS_MS = 250;

const say = (s: string) => void process.stderr.write(`execlens: ${s}\n`);

function checkOptions(o: TuiOptions): Breakpoint[] {
  // a usage error answers before anything is loaded
  if (!Number.isInteger(o.history) || o.history < 1)
    throw new ExeclensError(`--history ${o.history}: expected a positive number of execs`, EXIT.USAGE);
  let bps: Breakpoint[];
  try {
    bps = o.breakpoints.map(parseBreakpoint);
  } catch (e) {
    throw new ExeclensError((e as Error).message, EXIT.USAGE);
  }
  if (bps.length && o.backend !== 'ptrace')
    throw new ExeclensError('breakpoints (-b) stop processes with ptrace: add --backend ptrace', EXIT.USAGE);
  if (bps.length && o.command.length === 0)
    throw new ExeclensError('breakpoints (-b) need a command to run (after --)', EXIT.USAGE);
  if (!process.stdout.isTTY || !process.stdin.isTTY)
    throw new ExeclensError('tui needs a terminal (stdin and stdout); use `execlens log` otherwise', EXIT.USAGE);
  return bps;
}

export async function runTui(o: TuiOptions): Promise<number> {
  const ringBytes = ringBytesFor(o.ringMiB);
  const bps = checkOptions(o);
  const stop = new StopSignals();
  stop.install();
  try {
    const env = ownEnvironment();
    const cmd = commandOf(o, env);
    const source = await openBackend({
      backend: o.backend,
      systemWide: cmd === null,
      overrides: o.overrides,
      ringBytes,
      captureFds: true,
      verbose: o.verbose,
      say,
    });
    // released when tracing ends (the screen may stay long after) and, whatever happened, before we return
    let closing: Promise<void> | null = null;
    const close = () => (closing ??= source.close());
    let r: PipelineResult;
    try {
      r = await session({ o, source, close, cmd, env, stop, bps });
    } finally {
      await close();
    }
    // on the main screen again: the summary stays where the user sees it
    return finish(o, r);
  } finally {
    stop.remove();
  }
}

interface Run {
  result: PipelineResult | null;
  closed: Promise<void>;
}

/** the screen up, the pipeline running, until q (or a stop signal); the terminal put back whatever happens */
interface SessionArgs {
  o: TuiOptions;
  source: TraceSource;
  /** releases the source once */
  close: () => Promise<void>;
  cmd: CommandSpec | null;
  env: Buffer[];
  stop: StopSignals;
  bps: Breakpoint[];
}

/** -b: hold exec stops on the ptrace source; D runs the debugger in the pane */
function breakpointsFor(s: SessionArgs, app: () => App | null): BreakpointStops | null {
  if (!s.bps.length) return null;
  const stops = new BreakpointStops(s.bps, s.source as PtraceSource, s.o.debugger, (cmdline) => {
    const a = app();
    if (!a || !a.pane)
      return `detached ${cmdline.match(/\d+/)?.[0] ?? ''} stopped; no pane (--no-tty): run ${cmdline} yourself`;
    const run = runDebugger(cmdline, a.paneRows, process.stdout.columns || 80, s.env, () => (a.dirty = true));
    a.pushPane(run.pane, run.pty, cmdline);
    a.o.view.message = `running ${cmdline} (C-s: back to the list)`;
    void run.done.then((how) => {
      a.popPane();
      run.pty.close();
      a.o.view.message = `${cmdline}: ${how}`;
    });
    return a.o.view.message;
  });
  stops.onStop = (st) => {
    const a = app();
    if (!a) return;
    a.o.view.message = `pid ${st.pid} stopped at ${st.stop} (-b ${st.spec}): b to resume, detach or debug it`;
    a.dirty = true;
  };
  return stops;
}

async function session(s: SessionArgs): Promise<PipelineResult> {
  const { o, source, close, cmd, env, stop } = s;
  const screen = new Screen();
  const store = new ExecStore({ ...DEFAULT_LIMITS, maxRows: o.history });
  const view = new ListView(store);
  const sink = new TuiSink(store, view);
  // ptrace sees failed execs whatever the flag: they are left out of the list (counted in the summary)
  const filter = o.successfulOnly ? new FilterSink(sink, { result: 'successful' }) : null;
  let app: App | null = null;
  let pane: Pane | null = null;
  let pty: Pty | null = null;
  let devNull: number | null = null;
  const startNs = source.nowNs();
  const fmt = { startNs, bootToWallNs: BigInt(Date.now()) * 1000000n - startNs };
  const restoreInput = grabInput(
    (str, k) => app?.key(str, k),
    (b) => app?.input(b),
  );
  const stops = breakpointsFor(s, () => app);
  screen.start();
  try {
    if (cmd && !o.noTty) {
      const rows = Math.max(3, Math.floor((screen.height - 2) * 0.4));
      pane = new Pane(rows, screen.width, (s) => pty?.write(s));
      pty = new Pty(
        rows,
        screen.width,
        (b) => pane!.write(b),
        () => {},
      );
      cmd.stdio = { fd: pty.slave!, ctty: true };
    } else if (cmd) {
      devNull = openSync('/dev/null', 'r+');
      cmd.stdio = { fd: devNull, ctty: false };
    }
    const pipeline = new Pipeline({
      source,
      sink: filter ?? sink,
      cmd,
      baseline: { env, cwd: ownCwd() },
      stop,
      startNs,
      recordRaw: null,
      output: () => ({ unwritten: 0, failed: null }),
      onStartError: (e) => (view.message = `${o.command[0]}: ${e.message}`),
    });
    const a = new App({
      store,
      view,
      screen,
      pane,
      pty,
      fmt,
      title: cmd ? shellJoin(cmd.argv) : 'every exec on the system',
      copyFile: o.copyFile ?? defaultCopyFile(process.env),
      stats: statsOf(sink, pipeline, source.seesFailedExecs),
      stops,
    });
    app = a;
    const run: Run = { result: null, closed: Promise.resolve() };
    run.closed = pipeline.run().then(async (r) => {
      run.result = r;
      // tracing is over: BPF objects go now, not when the user quits
      await close();
      a.finished(howItEnded(r));
    });
    // the command has its end of the pty now
    pty?.closeSlave();
    if (devNull !== null) closeSync(devNull);
    if (!cmd) view.message = 'tracing every exec on the system; q stops';
    await frames(a, sink, stop);
    // nothing stays stopped because of us
    stops?.resumeAll();
    // q while tracing: stop as Ctrl-C stops `log`
    if (!run.result && !stop.signal) {
      stop.signal = 'SIGINT';
      stop.wake?.();
    }
    await run.closed;
    return run.result!;
  } finally {
    pty?.close();
    screen.restore();
    restoreInput();
  }
}

/** redraw at most every FRAME_MS while something changed, until q or a stop signal */
function frames(app: App, sink: TuiSink, stop: StopSignals): Promise<void> {
  let paneVersion = -1;
  const onResize = () => app.resized();
  process.stdout.on('resize', onResize);
  const timer = setInterval(() => {
    if (stop.signal) app.quit();
    const pane = app.pane;
    const paneChanged = pane !== null && pane.version !== paneVersion;
    if (!app.dirty && !sink.dirty && !paneChanged) return;
    paneVersion = pane?.version ?? -1;
    sink.dirty = false;
    app.render();
  }, FRAME_MS);
  return app.quitting.finally(() => {
    clearInterval(timer);
    process.stdout.off('resize', onResize);
  });
}

/** the status bar's counts; failed: null when the plan cannot see a failed exec (--successful-only on eBPF) */
function statsOf(
  sink: TuiSink,
  pipeline: Pipeline,
  seesFailed: boolean,
): () => { execs: number; failed: number | null; lost: number } {
  let at = 0;
  let last: { execs: number; failed: number | null; lost: number } = { execs: 0, failed: 0, lost: 0 };
  const failed = (n: number) => (seesFailed ? n : null);
  return () => {
    if (sink.final) {
      const s = sink.final.summary;
      return { execs: s.execs, failed: failed(s.failed), lost: lostTotal(s) };
    }
    if (Date.now() - at >= STATS_MS) {
      at = Date.now();
      const p = pipeline.progress();
      last = { ...p, failed: failed(p.failed) };
    }
    return last;
  };
}

function howItEnded(r: PipelineResult): string {
  if (r.stoppedBy) return `tracing stopped by ${r.stoppedBy}`;
  if (!r.exit) return 'ended';
  if (r.exit.signal) return `killed by ${r.exit.signal}`;
  return endText((r.exit.code ?? 0) << 8);
}

/** our terminal in raw mode, keys parsed by readline and the raw bytes for the pane; returns the undo */
function grabInput(
  onKey: (s: string | undefined, k: readline.Key | undefined) => void,
  onData: (b: Buffer) => void,
): () => void {
  const stdin = process.stdin;
  readline.emitKeypressEvents(stdin);
  stdin.setRawMode(true);
  stdin.on('keypress', onKey);
  stdin.on('data', onData);
  stdin.resume();
  return () => {
    stdin.off('keypress', onKey);
    stdin.off('data', onData);
    stdin.setRawMode(false);
    stdin.pause();
  };
}

function finish(o: TuiOptions, r: PipelineResult): number {
  if (!o.quiet) process.stderr.write(summaryLine(r.summary, r.stoppedBy));
  if (r.stoppedBy) return signalExit(r.stoppedBy, 2);
  if (!r.exit) return EXIT.OK;
  if (r.exit.signal) return signalExit(r.exit.signal);
  return r.exit.code ?? EXIT.SOFTWARE;
}
