/**
 * One traced run, shared by `log` and `collect`: open the output, the backend, run the command (or trace
 * the whole system) through the pipeline into the sink the caller makes, and say how it went. The two
 * commands differ only in the sink and in when the summary line goes to stderr.
 */
import { existsSync, readFileSync } from 'node:fs';
import { commandBytes, envValue, ownCwd, ownEnvironment } from '../backend/execspec.js';
import { resolveCommand } from '../backend/preflight.js';
import { openBackend, type BackendKind } from '../backend/select.js';
import type { CommandSpec, TraceSource } from '../backend/source.js';
import { EXIT, ExeclensError } from '../exitcodes.js';
import type { Sink } from '../output/sink.js';
import { destinationOf, makeWriter, type Destination, type Writer } from '../output/writer.js';
import type { Overrides } from '../plan/plan.js';
import { resolveCgroupArg } from '../events/cgroup.js';
import { addCounts, FilterSink, hasFilters, leftForUserspace, type ExecFilters } from '../pipeline/filter.js';
import type { KernelSelect } from '../backend/ebpf/open.js';
import { signalExit, StopSignals } from '../pipeline/stop.js';
import { summaryLine, type Summary } from '../pipeline/summary.js';
import { Pipeline, type PipelineResult } from '../pipeline/trace.js';

export interface RunOptions {
  command: string[];
  /** -o: a file, '-' for stdout, null for the default (stderr with a command, stdout system-wide) */
  output: string | null;
  user: string | null;
  overrides: Overrides;
  ringMiB: number;
  quiet: boolean;
  verbose: boolean;
  /** ebpf (default), ptrace, or auto: eBPF where it can load, else ptrace */
  backend: BackendKind;
  /** read the inherited fds of every exec (costs a walk of the fd table per exec) */
  captureFds: boolean;
  /** also append every raw ring record (u32 length + bytes) to this file: fixtures, decode benchmark */
  recordRaw?: string | null;
  /** which execs to write (all are traced and followed) */
  filters?: ExecFilters;
  /** -p: trace these running processes (and what they start from now on) instead of a command */
  pids?: number[];
  /** --collect-cgroup: each exec's cgroup v2 path and container id, in every format */
  collectCgroup?: boolean;
}

/** what a sink may need to know of the run it writes */
export interface RunContext {
  writer: Writer;
  dest: Destination;
  /** the source's clock at the trace's start, and wall-clock ns minus that clock */
  startNs: bigint;
  bootToWallNs: bigint;
  plan: string;
  backend: string;
  /** null: the whole system */
  command: CommandSpec | null;
  /** the environment and cwd the command is given: the diff baseline of the tree's root */
  baseline: { env: Buffer[]; cwd: Buffer | null };
}

export interface RunHooks {
  makeSink(ctx: RunContext): Sink;
  /** the summary line on stderr: whether to print it (the event stream may carry its own summary) */
  summaryOnStderr(s: Summary, dest: Destination): boolean;
}

export const say = (s: string) => void process.stderr.write(`execlens: ${s}\n`);

/** --user NAME|UID -> uid/gid from /etc/passwd; default: the sudo caller, else ourselves */
export function resolveUser(user: string | null, env: NodeJS.ProcessEnv): { uid: number; gid: number } | null {
  if (user === null) {
    if (process.geteuid?.() === 0 && env.SUDO_UID && env.SUDO_GID)
      return { uid: Number(env.SUDO_UID), gid: Number(env.SUDO_GID) };
    return null;
  }
  for (const l of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = l.split(':');
    if (f[0] === user || f[2] === user) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  if (/^\d+$/.test(user)) return { uid: Number(user), gid: Number(user) };
  throw new ExeclensError(`--user ${user}: no such user`, EXIT.USAGE);
}

export function ringBytesFor(mib: number): number {
  if (!Number.isInteger(mib) || mib < 1 || mib > 1024 || (mib & (mib - 1)) !== 0)
    throw new ExeclensError(`--ring-size ${mib}: must be a power of two between 1 and 1024 (MiB)`, EXIT.USAGE);
  return mib << 20;
}

/** the command as the bytes execlens got (Node's strings are lossy: backend/execspec.ts), resolved like execvp */
export function commandOf(o: Pick<RunOptions, 'command' | 'user'>, env: Buffer[]): CommandSpec | null {
  if (o.command.length === 0) return null;
  const argv = commandBytes(o.command);
  return { path: resolveCommand(argv[0]!, envValue(env, 'PATH')), argv, env, creds: resolveUser(o.user, process.env) };
}

/** --cgroup's PATH checked and made the path /proc/PID/cgroup shows; what the eBPF backend does in the kernel */
function resolveFilters(f: ExecFilters): { filters: ExecFilters; select: KernelSelect } {
  if (f.cgroup === undefined) return { filters: f, select: { uid: f.uid } };
  const c = resolveCgroupArg(f.cgroup);
  if (typeof c === 'string') throw new ExeclensError(c, EXIT.USAGE);
  return { filters: { ...f, cgroup: c.path }, select: { uid: f.uid, cgroup: { id: c.id, level: c.level } } };
}

export async function runTrace(o: RunOptions, hooks: RunHooks): Promise<number> {
  const ringBytes = ringBytesFor(o.ringMiB);
  const stop = new StopSignals();
  stop.install();
  try {
    return await traceWith(o, hooks, ringBytes, stop);
  } finally {
    stop.remove();
  }
}

async function traceWith(o: RunOptions, hooks: RunHooks, ringBytes: number, stop: StopSignals): Promise<number> {
  const env = ownEnvironment();
  const cmd = commandOf(o, env);
  const pids = o.pids ?? [];
  if (pids.length && cmd)
    throw new ExeclensError('-p traces running processes: give -p PID or a command (-- CMD), not both', EXIT.USAGE);
  for (const pid of pids)
    if (!existsSync(`/proc/${pid}`)) throw new ExeclensError(`-p ${pid}: no such process`, EXIT.USAGE);
  const { filters, select } = resolveFilters(o.filters ?? {});
  const dest = destinationOf(o.output, cmd !== null);
  // the output first: a file that cannot be written stops everything before anything is loaded or run
  const writer = makeWriter(dest);
  let source: TraceSource | undefined;
  try {
    source = await openBackend({
      backend: o.backend,
      systemWide: cmd === null && !pids.length,
      overrides: o.overrides,
      ringBytes,
      captureFds: o.captureFds,
      select,
      verbose: o.verbose,
      say,
    });
    // loading is synchronous: a signal that came meanwhile is delivered now
    await new Promise<void>((res) => setImmediate(res));
    if (stop.signal) {
      say(`stopped by ${stop.signal} before tracing started`);
      return signalExit(stop.signal, 2);
    }
    if (pids.length && !source.follow && !source.attachTo)
      throw new ExeclensError(`-p: the ${source.plan} backend cannot attach to running processes`, EXIT.USAGE);
    if (!o.quiet && !cmd && !pids.length) say('tracing every exec on the system; Ctrl-C to stop');
    const startNs = source.nowNs();
    const baseline = { env, cwd: ownCwd() };
    const ctx: RunContext = {
      writer,
      dest,
      startNs,
      bootToWallNs: BigInt(Date.now()) * 1000000n - startNs,
      plan: source.plan,
      backend: source.plan.startsWith('ptrace') ? 'ptrace' : 'ebpf',
      command: cmd,
      baseline,
    };
    const sink = hooks.makeSink(ctx);
    const mine = leftForUserspace(filters, source.filtersInKernel ?? []);
    const filter = hasFilters(mine) ? new FilterSink(sink, mine) : null;
    const pipeline = new Pipeline({
      source,
      sink: filter ?? sink,
      cmd,
      attach: pids.length ? pids : null,
      // said once the processes are followed, not before: what they exec after this line is seen
      onAttached: o.quiet
        ? undefined
        : () =>
            say(
              `tracing pid ${pids.join(', ')} and what ${pids.length > 1 ? 'they start' : 'it starts'} from now on; Ctrl-C to detach`,
            ),
      collectCgroup: o.collectCgroup === true,
      baseline,
      stop,
      startNs,
      recordRaw: o.recordRaw ?? null,
      output: () => ({ unwritten: writer.unwritten, failed: writer.failed }),
      onStartError: (e) => say(`${o.command[0]}: ${e.message}`),
    });
    const result = await pipeline.run();
    if (filter) result.summary.filteredOut = addCounts(result.summary.filteredOut, filter.dropped);
    return report(o, hooks, dest, result);
  } finally {
    await source?.close();
    writer.close();
  }
}

/** the summary line on stderr, and the exit code */
function report(o: RunOptions, hooks: RunHooks, dest: Destination, r: PipelineResult): number {
  if (!o.quiet && hooks.summaryOnStderr(r.summary, dest)) process.stderr.write(summaryLine(r.summary, r.stoppedBy));
  if (r.stoppedBy) return signalExit(r.stoppedBy, 2);
  if (!r.exit) return EXIT.OK;
  if (r.exit.signal) return signalExit(r.exit.signal);
  return r.exit.code ?? EXIT.SOFTWARE;
}
