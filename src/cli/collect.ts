/**
 * `execlens collect -F FORMAT [-o FILE] [-- CMD]`: record a run (a command's tree, or the whole system on
 * eBPF) into a file another tool reads: one JSON document, JSON Lines with forks and exits, a Perfetto
 * trace, or compile_commands.json. Each format is one Sink under src/output; this file picks it, names
 * its default file and says what it needs captured.
 */
import { readlinkSync } from 'node:fs';
import os from 'node:os';
import { EXIT, ExeclensError } from '../exitcodes.js';
import type { FormatOptions } from '../output/format.js';
import { JsonDocumentSink } from '../output/json-doc-sink.js';
import { JsonLinesSink } from '../output/jsonl-sink.js';
import { metadataRecord } from '../output/metadata.js';
import { CompileCommandsSink, compileStatsLine } from '../output/compile/compile-commands-sink.js';
import { PerfettoSink } from '../output/perfetto/perfetto-sink.js';
import { shellJoin } from '../output/quote.js';
import type { Sink } from '../output/sink.js';
import { VERSION } from '../version.js';
import { defaultFile, type CollectFormat } from './formats.js';
import { runTrace, type RunContext, type RunOptions } from './run.js';

export interface CollectOptions extends Omit<RunOptions, 'captureFds' | 'output'> {
  format: CollectFormat;
  /** null: the format's default file (formats.ts); '-': stdout */
  output: string | null;
  /** compile-commands: what names a compiler (default: compile-entry.ts DEFAULT_COMPILER_RE) */
  compiler?: RegExp;
}

interface FormatSpec {
  /** whether exec records need the inherited fds */
  fds: boolean;
  /** binary: refused on a terminal */
  binary: boolean;
  make(ctx: RunContext, o: CollectOptions): Sink;
}

const fmtOf = (ctx: RunContext): FormatOptions => ({
  fullEnv: false,
  showFds: true,
  showCmdline: false,
  startNs: ctx.startNs,
  bootToWallNs: ctx.bootToWallNs,
});

/** fds 0-2 as the command inherits them from execlens (the native helper passes them on as they are) */
function stdioFds(): { fd: number; path: string }[] {
  const out: { fd: number; path: string }[] = [];
  for (const fd of [0, 1, 2]) {
    try {
      out.push({ fd, path: readlinkSync(`/proc/self/fd/${fd}`) });
    } catch {
      /* closed: not inherited */
    }
  }
  return out;
}

export function metadataOf(ctx: RunContext): Record<string, unknown> {
  return metadataRecord({
    version: VERSION,
    kernel: { release: os.release(), version: os.version(), arch: process.arch },
    plan: ctx.plan,
    backend: ctx.backend,
    startTime: new Date(Number((ctx.startNs + ctx.bootToWallNs) / 1000000n)),
    command: ctx.command?.argv ?? null,
    baseline: { env: ctx.baseline.env, cwd: ctx.baseline.cwd, fds: ctx.command ? stdioFds() : [] },
  });
}

/** the root track's name: what was traced */
function runName(ctx: RunContext): string {
  return ctx.command ? `execlens: ${shellJoin(ctx.command.argv)}` : 'execlens: the whole system';
}

const FORMATS: Record<CollectFormat, FormatSpec> = {
  json: { fds: true, binary: false, make: (ctx) => new JsonDocumentSink(ctx.writer, fmtOf(ctx), metadataOf(ctx)) },
  jsonl: { fds: true, binary: false, make: (ctx) => new JsonLinesSink(ctx.writer, fmtOf(ctx), true) },
  perfetto: { fds: true, binary: true, make: (ctx) => new PerfettoSink(ctx.writer, runName(ctx), ctx.startNs) },
  'compile-commands': {
    fds: false,
    binary: false,
    make: (ctx, o) =>
      new CompileCommandsSink(ctx.writer, o.compiler, (s) => {
        if (!o.quiet) process.stderr.write(compileStatsLine(o.output ?? defaultFile(o.format), s));
      }),
  },
};

export function runCollect(o: CollectOptions): Promise<number> {
  const spec = FORMATS[o.format];
  const output = o.output ?? defaultFile(o.format);
  if (spec.binary && output === '-' && process.stdout.isTTY)
    throw new ExeclensError(`-F ${o.format} is binary: give -o FILE, or redirect stdout`, EXIT.USAGE);
  return runTrace(
    { ...o, output, captureFds: spec.fds },
    {
      makeSink: (ctx) => spec.make(ctx, o),
      // the events are in a file (or on stdout for another program): how the run went is said on stderr
      summaryOnStderr: () => true,
    },
  );
}
