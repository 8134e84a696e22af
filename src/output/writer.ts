/**
 * Where the trace goes: a file (-o) or stdout. A write that fails — the reader went away (EPIPE:
 * `execlens log … | head`), the disk is full (ENOSPC: `-o /dev/full`), any other error — ends the output,
 * never the run: the traced command runs to its end and keeps its exit code, and the summary says how many
 * execs were not written and why. A tracer must not kill its tracee because the trace cannot be written.
 */
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { EXIT, ExeclensError } from '../exitcodes.js';

export interface Writer {
  /** write output that holds `items` events */
  write(data: string | Uint8Array, items?: number): void;
  /** events not even formatted because the output has failed */
  dropped(items: number): void;
  close(): void;
  /** why the output stopped (e.g. "EPIPE", "ENOSPC: no space left on device"), null while it works */
  readonly failed: string | null;
  /** events handed to write() or dropped() that never reached the output */
  readonly unwritten: number;
}

/** one line for a failed write: the code, and the reason in words when there is one */
function reason(e: NodeJS.ErrnoException): string {
  if (e.code === 'EPIPE') return 'EPIPE: the reader closed the pipe';
  const words = e.message.replace(/^[A-Z]+: /, '').replace(/, write$/, '');
  return e.code ? `${e.code}: ${words}` : words;
}

/**
 * Open -o FILE before anything is loaded or started: a path that cannot be written is one line naming the
 * file and the reason, exit 73 (EX_CANTCREAT), and nothing runs.
 */
export function openOutput(path: string): number {
  try {
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory())
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    return openSync(path, 'w');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'ENOENT'
        ? 'no such directory'
        : err.code === 'EACCES'
          ? 'permission denied'
          : err.code === 'EISDIR'
            ? 'is a directory'
            : err.message;
    throw new ExeclensError(`cannot write the output file ${path}: ${why}`, EXIT.CANT_CREATE);
  }
}

class FdWriter implements Writer {
  failed: string | null = null;
  unwritten = 0;
  constructor(private readonly fd: number) {}

  write(data: string | Uint8Array, items = 0): void {
    if (this.failed) {
      this.unwritten += items;
      return;
    }
    try {
      if (typeof data === 'string') writeSync(this.fd, data);
      else writeSync(this.fd, data);
    } catch (e) {
      this.failed = reason(e as NodeJS.ErrnoException);
      this.unwritten += items;
    }
  }

  dropped(items: number): void {
    this.unwritten += items;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** stdout as a stream: the error of a write comes in its callback (and as an 'error' event) */
class StreamWriter implements Writer {
  failed: string | null = null;
  unwritten = 0;
  private readonly onError = (e: NodeJS.ErrnoException) => {
    this.failed ??= reason(e);
  };
  constructor(private readonly out: NodeJS.WritableStream) {
    out.on('error', this.onError);
  }

  write(data: string | Uint8Array, items = 0): void {
    if (this.failed) {
      this.unwritten += items;
      return;
    }
    this.out.write(data, (e) => {
      if (!e) return;
      this.failed ??= reason(e);
      this.unwritten += items;
    });
  }

  dropped(items: number): void {
    this.unwritten += items;
  }

  close(): void {
    this.out.off('error', this.onError);
  }
}

/**
 * Where the events go (as strace): `-o FILE` there, `-o -` stdout; without -o, stderr when a command runs
 * (its own stdout stays its own: `execlens log --json -- CMD | jq` reads CMD's output), stdout when the
 * whole system is traced (no command to share it with).
 */
export type Destination = { kind: 'file'; path: string } | { kind: 'stdout' } | { kind: 'stderr' };

export function destinationOf(output: string | null, withCommand: boolean): Destination {
  if (output === '-') return { kind: 'stdout' };
  if (output !== null) return { kind: 'file', path: output };
  return withCommand ? { kind: 'stderr' } : { kind: 'stdout' };
}

/** the destination's stream, for its isTTY (null: a file) */
export function streamOf(d: Destination): NodeJS.WriteStream | null {
  return d.kind === 'file' ? null : d.kind === 'stdout' ? process.stdout : process.stderr;
}

export function makeWriter(d: Destination): Writer {
  return d.kind === 'file' ? new FdWriter(openOutput(d.path)) : new StreamWriter(streamOf(d)!);
}
