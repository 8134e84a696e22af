/**
 * --show-cmdline: a shell line that, pasted, makes the same exec — the same file, the same argv (argv[0]
 * included), the same environment and nothing else, from the same cwd.
 *
 * Three forms, the most readable one that is exact:
 *  1. `env -i VAR=v… FILE ARGS…`: argv[0] is the filename, which holds a '/' (env runs it through execvp,
 *     which searches PATH for a name without one) and no '=' (env would take it for a variable).
 *  2. `env -i VAR=v… perl -e 'exec {$f} …' -- FILE ARGV…`: argv[0] differs from the filename. perl is
 *     Essential on Debian (perl-base), adds no variable and execs with the list as given. bash's
 *     `exec -a` would add PWD, SHLVL and _ to the environment, as it did here before.
 *  3. `perl -e 'syscall(execve, …)'`: anything env(1) cannot express — a filename without '/' (execve
 *     resolves it against the cwd, execvp would search PATH), argc 0, an environment entry without '='
 *     or a duplicated name (env's putenv would drop or merge them). The bytes go to execve as they are.
 * Every word is quoted (shellQuote quotes anything but a plain word) so no byte of the traced exec can
 * become shell syntax (tracexec's GHSA-6fgx-x7m2-74qm was argument injection in the same feature).
 * What cannot be reproduced is said in a trailing shell comment (`# not exact: …`).
 */
import { ExecFlag } from '../events/layout.js';
import type { ExecEvent } from '../events/types.js';
import { fdPath } from '../events/fdinfo.js';
import { shellJoin, shellQuote } from './quote.js';

/** execve's number where execlens runs (the pasted line runs there too) */
const EXECVE_NR: Partial<Record<string, number>> = { x64: 59, arm64: 221, riscv64: 221 };
const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const SLASH = 0x2f;
const EQUALS = 0x3d;
const DASH = 0x2d;

const PERL_EXEC = `'$f = shift; exec {$f} @ARGV; die "exec $f: $!\\n"'`;
const perlSyscall = (nr: number) =>
  `'($n, $f) = splice @ARGV, 0, 2; @a = splice @ARGV, 0, $n; ` +
  `syscall ${nr}, $f, pack("p*", @a, undef), pack("p*", @ARGV, undef); die "execve $f: $!\\n"'`;

/** the file the exec ran: for execveat, the dirfd's path joined to the name (null: that path is unknown) */
export function executedFile(ev: ExecEvent): { file: Buffer | null; why?: string } {
  const name = ev.filename;
  if (name === null) return { file: null, why: 'filename not captured' };
  const viaDirfd = ev.syscall === 1 && ev.atFd !== AT_FDCWD;
  if (!viaDirfd || (name.length > 0 && name[0] === SLASH)) return { file: name };
  const fd = ev.fds.find((f) => f.fd === ev.atFd && !f.cloexec);
  const dir = fd ? fdPath(fd) : null;
  if (!dir || dir.length === 0 || dir[0] !== SLASH || dir.includes(' (deleted)')) {
    return { file: null, why: `execveat dirfd ${ev.atFd} has no path to reopen` };
  }
  if (name.length === 0 && ev.atFlags & AT_EMPTY_PATH) return { file: dir };
  return { file: Buffer.concat([dir, Buffer.from('/'), name]) };
}

/** env(1) can set this environment exactly: every entry NAME=value, names unique, none taken for an option */
function envExpressible(env: readonly Buffer[]): boolean {
  const names = new Set<string>();
  for (const e of env) {
    const eq = e.indexOf(EQUALS);
    if (eq <= 0 || e[0] === DASH) return false;
    const name = e.subarray(0, eq).toString('latin1');
    if (names.has(name)) return false;
    names.add(name);
  }
  return true;
}

function inexact(ev: ExecEvent, why: string | undefined): string[] {
  const out: string[] = [];
  if (why) out.push(why);
  if (ev.env === null) out.push('environment not captured (run with it captured)');
  if (ev.flags & (ExecFlag.ARGV_TRUNC | ExecFlag.ARGV_FAULT | ExecFlag.COMMIT_MISSED)) out.push('argv cut');
  if (ev.flags & (ExecFlag.ENV_TRUNC | ExecFlag.ENV_FAULT)) out.push('environment cut');
  if (ev.flags & ExecFlag.FILENAME_TRUNC) out.push('filename cut');
  if (ev.cwd === null) out.push('cwd unknown');
  else if (ev.flags & ExecFlag.CWD_TRUNC) out.push('cwd cut');
  else if (ev.flags & ExecFlag.CWD_DELETED) out.push('cwd removed since');
  return out;
}

export function reconstructCmdline(ev: ExecEvent): string {
  const { file, why } = executedFile(ev);
  const target = file ?? ev.filename ?? Buffer.alloc(0);
  const env = ev.env ?? [];
  const argv = ev.argv;
  const parts: string[] = [];
  if (ev.cwd && !(ev.flags & ExecFlag.CWD_TRUNC)) parts.push(`cd ${shellQuote(ev.cwd)} &&`);
  const hasSlash = target.includes(SLASH);
  const nr = EXECVE_NR[process.arch];
  if (argv.length > 0 && hasSlash && envExpressible(env)) {
    parts.push('env -i', ...(env.length ? [shellJoin(env)] : []));
    if (argv[0]!.equals(target) && !target.includes(EQUALS)) parts.push(shellJoin(argv));
    else parts.push('/usr/bin/perl -e', PERL_EXEC, '--', shellJoin([target, ...argv]));
  } else if (nr !== undefined) {
    parts.push('/usr/bin/perl -e', perlSyscall(nr), '--', shellJoin([String(argv.length), target, ...argv, ...env]));
  } else {
    parts.push('env -i', shellJoin([...env, target, ...argv]));
  }
  const notes = inexact(ev, why);
  if (nr === undefined && !(argv.length > 0 && hasSlash && envExpressible(env)))
    notes.push(`no execve number for ${process.arch}`);
  if (notes.length) parts.push(`# not exact: ${notes.join('; ')}`);
  return parts.join(' ');
}
