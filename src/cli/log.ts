/**
 * `execlens log`: run the command (or trace the whole system) under the chosen backend, stream its execs
 * to the output format's sink, end with a summary. Returns the exit code: the command's (128+signal if
 * killed) or execlens's own. The work is elsewhere: src/backend (records), src/pipeline (records to items),
 * src/output (items to bytes).
 */
import { readFileSync } from 'node:fs';
import { commandBytes, envValue, ownCwd, ownEnvironment } from '../backend/execspec.js';
import { resolveCommand } from '../backend/preflight.js';
import { openBackend, type BackendKind } from '../backend/select.js';
import type { CommandSpec, TraceSource } from '../backend/source.js';
import { EXIT, ExeclensError } from '../exitcodes.js';
import { palette, useColor, type ColorMode } from '../output/color.js';
import type { FormatOptions } from '../output/format.js';
import { JsonLinesSink } from '../output/jsonl-sink.js';
import type { Sink } from '../output/sink.js';
import { TextSink } from '../output/text-sink.js';
import { makeWriter, type Writer } from '../output/writer.js';
import type { Overrides } from '../plan/plan.js';
import { signalExit, StopSignals } from '../pipeline/stop.js';
import { lostTotal, summaryLine } from '../pipeline/summary.js';
import { Pipeline, type PipelineResult } from '../pipeline/trace.js';

export interface LogOptions {
  command: string[];
  json: boolean;
  output: string | null;
  fullEnv: boolean;
  showFds: boolean;
  showCmdline: boolean;
  color: ColorMode;
  user: string | null;
  overrides: Overrides;
  ringMiB: number;
  quiet: boolean;
  verbose: boolean;
  /** ebpf (default), ptrace, or auto: eBPF where it can load, else ptrace */
  backend: BackendKind;
  /** also append every raw ring record (u32 length + bytes) to this file: fixtures, decode benchmark */
  recordRaw?: string | null;
}

const say = (s: string) => void process.stderr.write(`execlens: ${s}\n`);

/** --user NAME|UID -> uid/gid from /etc/passwd; default: the sudo caller, else ourselves */
export function resolveUser(user: string | null, env: NodeJS.ProcessEnv): { uid: number; gid: number } | null {
  if (user === null) {
    if (process.geteuid?.() === 0 && env.SUDO_UID && env.SUDO_GID) return { uid: Number(env.SUDO_UID), gid: Number(env.SUDO_GID) };
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
export function commandOf(o: Pick<LogOptions, 'command' | 'user'>, env: Buffer[]): CommandSpec | null {
  if (o.command.length === 0) return null;
  const argv = commandBytes(o.command);
  return { path: resolveCommand(argv[0]!, envValue(env, 'PATH')), argv, env, creds: resolveUser(o.user, process.env) };
}

function makeSink(o: LogOptions, writer: Writer, startNs: bigint, wallNs: bigint): Sink {
  const fmt: FormatOptions = { fullEnv: o.fullEnv, showFds: o.showFds, showCmdline: o.showCmdline, startNs, bootToWallNs: wallNs - startNs };
  if (o.json) return new JsonLinesSink(writer, fmt);
  return new TextSink(writer, fmt, palette(useColor(o.color, o.output ? false : process.stdout.isTTY === true, process.env)));
}

export async function runLog(o: LogOptions): Promise<number> {
  const ringBytes = ringBytesFor(o.ringMiB);
  const stop = new StopSignals();
  stop.install();
  try {
    return await logWith(o, ringBytes, stop);
  } finally {
    stop.remove();
  }
}

async function logWith(o: LogOptions, ringBytes: number, stop: StopSignals): Promise<number> {
  const env = ownEnvironment();
  const cmd = commandOf(o, env);
  // the output first: a file that cannot be written stops everything before anything is loaded or run
  const writer = makeWriter(o.output);
  let source: TraceSource | undefined;
  try {
    source = await openBackend({ backend: o.backend, systemWide: cmd === null, overrides: o.overrides, ringBytes, captureFds: o.showFds || o.json, verbose: o.verbose, say });
    // loading is synchronous: a signal that came meanwhile is delivered now
    await new Promise<void>((res) => setImmediate(res));
    if (stop.signal) {
      say(`stopped by ${stop.signal} before tracing started`);
      return signalExit(stop.signal, 2);
    }
    if (!cmd && !o.quiet) say('tracing every exec on the system; Ctrl-C to stop');
    const startNs = source.nowNs();
    const pipeline = new Pipeline({
      source,
      sink: makeSink(o, writer, startNs, BigInt(Date.now()) * 1000000n),
      cmd,
      baseline: { env, cwd: ownCwd() },
      stop,
      startNs,
      recordRaw: o.recordRaw ?? null,
      output: () => ({ unwritten: writer.unwritten, failed: writer.failed }),
      onStartError: (e) => say(`${o.command[0]}: ${e.message}`),
    });
    return report(o, await pipeline.run());
  } finally {
    await source?.close();
    writer.close();
  }
}

/** the summary line on stderr, and the exit code */
function report(o: LogOptions, r: PipelineResult): number {
  const s = r.summary;
  // JSON to stdout carries its own summary record; otherwise (and always when something was lost or not
  // written) a line on stderr says how the run went
  if (!o.quiet && (!o.json || o.output !== null || lostTotal(s) > 0 || s.outputFailed)) process.stderr.write(summaryLine(s, r.stoppedBy));
  if (r.stoppedBy) return signalExit(r.stoppedBy, 2);
  if (!r.exit) return EXIT.OK;
  if (r.exit.signal) return signalExit(r.exit.signal);
  return r.exit.code ?? EXIT.SOFTWARE;
}
