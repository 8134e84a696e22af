/**
 * The traced command as bytes, from where it came in to where it is exec'd.
 *
 * Node decodes its own argv and environment as UTF-8, replacing what is not
 * UTF-8 with U+FFFD, and child_process takes only strings: a command spawned
 * from process.argv/process.env would not get the bytes it was given
 * (`printf '%s' $'\xff'` would print U+FFFD). The kernel still has the bytes
 * in /proc/self/cmdline and /proc/self/environ; the native helper
 * (native/ptrace/execlens-ptrace.c, read_spec) receives them on a pipe in the
 * format encodeSpec writes and exec's them unchanged.
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { EXIT, ExeclensError } from '../exitcodes.js';
import { PACKED_ARCHES, ptraceHelperFile } from '../paths.js';

export interface CommandBytes {
  /** what execve gets as its filename (resolved like execvp) */
  path: Buffer;
  argv: Buffer[];
  env: Buffer[];
}

const SPEC_MAGIC = 'execlens-spec-1';

/** the items of a NUL-terminated list (/proc/PID/cmdline, /proc/PID/environ); a last item without its NUL counts too */
export function nulItems(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nul = b.indexOf(0, start);
    if (nul < 0) break;
    out.push(b.subarray(start, nul));
    start = nul + 1;
  }
  if (start < b.length) out.push(b.subarray(start));
  return out;
}

/**
 * The bytes of the command's items in our own command line. Node puts its own
 * options (execArgv) between its path and the script, so the command is the
 * tail: the last command.length items. Each must decode to the string Node
 * made of it (the same lossy UTF-8), else the command did not come from our
 * command line (or it was rewritten): null.
 */
export function commandFromCmdline(cmdline: Buffer, command: readonly string[]): Buffer[] | null {
  const items = nulItems(cmdline);
  if (items.length < command.length) return null;
  const tail = items.slice(items.length - command.length);
  return tail.every((b, i) => b.toString('utf8') === command[i]) ? tail : null;
}

/**
 * The command's argv as bytes: from /proc/self/cmdline when the strings came
 * from it (always, from the CLI); strings given any other way are the bytes
 * they encode to.
 */
export function commandBytes(
  command: readonly string[],
  cmdline: Buffer = readFileSync('/proc/self/cmdline'),
): Buffer[] {
  return commandFromCmdline(cmdline, command) ?? command.map((s) => Buffer.from(s, 'utf8'));
}

/**
 * The environment execlens was started with, byte for byte and in order,
 * entries without '=' and repeated names included (process.env drops or
 * merges those). execlens passes it on unchanged: it never writes process.env,
 * and -u/sudo handling changes only the uid and gid the command runs as.
 */
export function ownEnvironment(environ: Buffer = readFileSync('/proc/self/environ')): Buffer[] {
  return nulItems(environ);
}

/** execlens's cwd as bytes (process.cwd() is a lossy string) */
export function ownCwd(): Buffer | null {
  try {
    return readlinkSync('/proc/self/cwd', { encoding: 'buffer' });
  } catch {
    // longer than PATH_MAX (ENAMETOOLONG), or deleted and unreadable: no baseline, not a failure
    return null;
  }
}

/** the value of the first NAME=... entry, as getenv(3) finds it */
export function envValue(env: readonly Buffer[], name: string): Buffer | null {
  const prefix = Buffer.from(`${name}=`);
  const e = env.find((x) => x.length >= prefix.length && x.subarray(0, prefix.length).equals(prefix));
  return e ? e.subarray(prefix.length) : null;
}

/**
 * "execlens-spec-1" \0 path \0 argc \0 argv... envc \0 env... : every item
 * NUL-terminated, counts in decimal, nothing after the last item.
 */
export function encodeSpec(c: CommandBytes): Buffer {
  for (const b of [c.path, ...c.argv, ...c.env])
    if (b.includes(0)) throw new Error('a command item holds a NUL byte: exec cannot pass it');
  const items = [
    Buffer.from(SPEC_MAGIC),
    c.path,
    Buffer.from(String(c.argv.length)),
    ...c.argv,
    Buffer.from(String(c.env.length)),
    ...c.env,
  ];
  return Buffer.concat(items.flatMap((b) => [b, Buffer.from([0])]));
}

/**
 * native/ptrace/execlens-ptrace: the ptrace backend's tracer, and with --exec
 * the eBPF backend's exec shim (one binary: the kernel matrix cross-builds and
 * binds that one file for other arches).
 */
export function nativeHelperPath(): string {
  return process.env.EXECLENS_PTRACE_HELPER ?? ptraceHelperFile();
}

export function requireNativeHelper(): string {
  const p = nativeHelperPath();
  if (!existsSync(p))
    throw new ExeclensError(
      `native helper not found at ${p}: in a checkout run 'npm run build'; the package ships it for ${PACKED_ARCHES.join(', ')} (or set EXECLENS_PTRACE_HELPER)`,
      EXIT.SOFTWARE,
    );
  return p;
}

/**
 * Hand the command to the helper on its spec pipe and close it (EOF ends the
 * spec). A helper that died first shows in its exit status, not as an EPIPE here.
 */
export function sendSpec(pipe: Writable, c: CommandBytes): void {
  pipe.on('error', () => undefined);
  pipe.end(encodeSpec(c));
}
