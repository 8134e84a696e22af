/**
 * `execlens log`: run the command (or trace the whole system) under the chosen backend, stream its execs
 * as text or JSON Lines, end with a summary. Returns the exit code: the command's (128+signal if killed) or
 * execlens's own. The run itself is src/cli/run.ts; records to items in src/pipeline, items to bytes in
 * src/output.
 */
import { palette, useColor, type ColorMode } from '../output/color.js';
import type { FormatOptions, TimestampMode } from '../output/format.js';
import { JsonLinesSink } from '../output/jsonl-sink.js';
import type { Sink } from '../output/sink.js';
import { TextSink } from '../output/text-sink.js';
import { streamOf, type Destination } from '../output/writer.js';
import { lostTotal, type Summary } from '../pipeline/summary.js';
import { runTrace, type RunContext, type RunOptions } from './run.js';

export interface LogOptions extends Omit<RunOptions, 'captureFds'> {
  json: boolean;
  fullEnv: boolean;
  showFds: boolean;
  showCmdline: boolean;
  color: ColorMode;
  timestamp: TimestampMode;
}

/** colour only on a terminal (auto), never into a file unless --color always */
export function colorFor(mode: ColorMode, dest: Destination, env: NodeJS.ProcessEnv): boolean {
  return useColor(mode, streamOf(dest)?.isTTY === true, env);
}

function makeSink(o: LogOptions, ctx: RunContext): Sink {
  const fmt: FormatOptions = {
    fullEnv: o.fullEnv,
    showFds: o.showFds,
    showCmdline: o.showCmdline,
    timestamp: o.timestamp,
    startNs: ctx.startNs,
    bootToWallNs: ctx.bootToWallNs,
  };
  if (o.json) return new JsonLinesSink(ctx.writer, fmt);
  return new TextSink(ctx.writer, fmt, palette(colorFor(o.color, ctx.dest, process.env)));
}

/**
 * The summary line on stderr after text (its last line when the events go there too). JSON carries its own
 * summary record, last: on stderr a text line after it would break "every line is JSON"; on stdout the line
 * comes only when something was lost or not written; with -o FILE it always comes.
 */
export function logSummaryOnStderr(json: boolean, s: Summary, dest: Destination): boolean {
  if (!json || dest.kind === 'file') return true;
  if (dest.kind === 'stderr') return false;
  return lostTotal(s) > 0 || s.outputFailed !== null;
}

export function runLog(o: LogOptions): Promise<number> {
  return runTrace(
    { ...o, captureFds: o.showFds || o.json },
    {
      makeSink: (ctx) => makeSink(o, ctx),
      summaryOnStderr: (s, dest) => logSummaryOnStderr(o.json, s, dest),
    },
  );
}
