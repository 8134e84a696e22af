/**
 * ExecEvent -> one text line or one JSON Lines record (schema in
 * docs/json-schema.md and schema/exec-event.v2.json).
 */
import type { CgroupInfo } from '../events/cgroup.js';
import type { EnvDiff } from '../events/envdiff.js';
import { bytes, envEntry, isEmptyDiff } from '../events/envdiff.js';
import { fdFlags, fdPath, fdType } from '../events/fdinfo.js';
import { ExecFlag, SYSCALL_NAMES, type ExecFlagName } from '../events/layout.js';
import { SIZE_UNKNOWN, type ExecEvent } from '../events/types.js';
import type { Palette } from './color.js';
import { errnoName } from './errno.js';
import { reconstructCmdline } from './cmdline.js';
import { isUtf8, lossy, shellJoin, shellQuote } from './quote.js';

export { reconstructCmdline };

/** the 32-bit ABI of this machine: the tracer and the traced programs share the kernel, so its arch */
const COMPAT_LABEL = process.arch === 'arm64' ? '[aarch32]' : process.arch === 'x64' ? '[ia32]' : '[compat]';

export const JSON_SCHEMA_VERSION = 2;

/** the text line's time (strace's -tt, -r, -ttt): wall clock, since the previous event, since the epoch, none */
export const TIMESTAMP_MODES = ['wall', 'relative', 'unix', 'none'] as const;
export type TimestampMode = (typeof TIMESTAMP_MODES)[number];

export interface FormatOptions {
  /** text: how each line's time is shown (default wall) */
  timestamp?: TimestampMode;
  /** print the whole environment instead of the diff */
  fullEnv: boolean;
  showFds: boolean;
  showCmdline: boolean;
  /** boot-clock ns of the trace start */
  startNs: bigint;
  /** wall-clock ns minus boot-clock ns */
  bootToWallNs: bigint;
}

export interface ExecContext {
  ev: ExecEvent;
  diff: EnvDiff | null;
  /** the exec that starts the traced command: the comm before it is execlens's launcher, not the user's */
  byLauncher?: boolean;
  /** --collect-cgroup: the exec's cgroup v2 path and container id */
  cgroup?: CgroupInfo;
}

const FLAG_NAMES = Object.keys(ExecFlag) as ExecFlagName[];

export function flagNames(flags: number): ExecFlagName[] {
  if (flags === 0) return [];
  return FLAG_NAMES.filter((k) => (flags & ExecFlag[k]) !== 0);
}

function wallTime(tsNs: bigint, o: Pick<FormatOptions, 'bootToWallNs'>): Date {
  return new Date(Number((tsNs + o.bootToWallNs) / 1000000n));
}

/**
 * The ISO time: its "YYYY-MM-DDTHH:MM:SS." made once per second (execs come many to a second), the milliseconds
 * appended. Only between the years 0 and 9999, where toISOString's layout has that fixed width.
 */
const ISO_LAST_MS = 253402300800000; // 10000-01-01T00:00:00Z
let isoSecond = NaN;
let isoPrefix = '';

function isoTime(tsNs: bigint, o: Pick<FormatOptions, 'bootToWallNs'>): string {
  const ms = Number((tsNs + o.bootToWallNs) / 1000000n);
  if (!(ms >= 0 && ms < ISO_LAST_MS)) return new Date(ms).toISOString();
  const msPart = ms % 1000;
  const second = ms - msPart;
  if (second !== isoSecond) {
    isoPrefix = new Date(second).toISOString().slice(0, 20);
    isoSecond = second;
  }
  return `${isoPrefix}${msPart < 10 ? '00' : msPart < 100 ? '0' : ''}${msPart}Z`;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** "HH:MM:SS." of the last second asked for (local time), made once per second */
let clockSecond = -1n;
let clockPrefix = '';

export function clock(tsNs: bigint, o: Pick<FormatOptions, 'bootToWallNs'>): string {
  const wallUs = (tsNs + o.bootToWallNs) / 1000n;
  // before the epoch a second and its milliseconds round apart: no cache there
  const second = wallUs >= 0n ? wallUs / 1000000n : -1n;
  if (second < 0n || second !== clockSecond) {
    const d = wallTime(tsNs, o);
    const prefix = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.`;
    if (second < 0n) return `${prefix}${String(Number(wallUs % 1000000n)).padStart(6, '0')}`;
    clockSecond = second;
    clockPrefix = prefix;
  }
  return `${clockPrefix}${String(Number(wallUs % 1000000n)).padStart(6, '0')}`;
}

/** s.uuuuuu from ns, as strace prints times (microseconds, truncated) */
function secondsUs(ns: bigint, width = 0): string {
  const neg = ns < 0n;
  const us = (neg ? -ns : ns) / 1000n;
  return `${neg ? '-' : ''}${String(us / 1000000n).padStart(width, ' ')}.${String(us % 1000000n).padStart(6, '0')}`;
}

/**
 * The time field of a text line: wall `HH:MM:SS.uuuuuu` (strace -tt), unix `SECONDS.uuuuuu` (-ttt),
 * relative the time since the previous line (-r; the first: since the trace started), none nothing.
 */
export function timeField(tsNs: bigint, o: FormatOptions, prevTsNs: bigint | null): string | null {
  switch (o.timestamp ?? 'wall') {
    case 'none':
      return null;
    case 'unix':
      return secondsUs(tsNs + o.bootToWallNs);
    case 'relative':
      return secondsUs(tsNs - (prevTsNs ?? o.startNs), 6);
    default:
      return clock(tsNs, o);
  }
}

export function envDiffWords(d: EnvDiff): string[] {
  const out: string[] = [];
  for (const [k, v] of d.added) out.push(`+${shellQuote(bytes(envEntry(k, v)))}`);
  for (const [k, , v] of d.changed) out.push(`~${shellQuote(bytes(envEntry(k, v)))}`);
  for (const k of d.removed) out.push(`-${shellQuote(bytes(k))}`);
  return out;
}

/** [3,4,5,9] -> "3-5,9" */
export function ranges(nums: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < nums.length;) {
    let j = i;
    while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
    out.push(j > i ? `${nums[i]}-${nums[j]}` : String(nums[i]));
    i = j + 1;
  }
  return out.join(',');
}

/** one exec as a text line; prevTsNs: the previous line's time (--timestamp relative) */
const AT_FDCWD = -100;
const AT_FLAGS: [number, string][] = [
  [0x100, 'AT_SYMLINK_NOFOLLOW'],
  [0x1000, 'AT_EMPTY_PATH'],
];

export function atFlagNames(flags: number): string[] {
  const names = AT_FLAGS.filter(([bit]) => flags & bit).map(([, n]) => n);
  const rest = AT_FLAGS.reduce((f, [bit]) => f & ~bit, flags);
  return rest ? [...names, `0x${rest.toString(16)}`] : names;
}

/** an execveat whose name is resolved against a dirfd (or is the fd itself) */
function usesDirfd(ev: ExecEvent): boolean {
  return SYSCALL_NAMES[ev.syscall] === 'execveat' && ev.atFd !== AT_FDCWD;
}

/**
 * execveat's dirfd and flags, as strace shows them: `execveat(3</usr/bin>, AT_EMPTY_PATH) exe: /usr/bin/echo`.
 * The name as passed is then relative to the fd (or empty): exe is what ran.
 */
function execveatText(ev: ExecEvent): string | null {
  if (SYSCALL_NAMES[ev.syscall] !== 'execveat' || (!usesDirfd(ev) && !ev.atFlags)) return null;
  const fd = ev.fds.find((f) => f.fd === ev.atFd && !f.cloexec);
  const dir = usesDirfd(ev) ? `${ev.atFd}${fd ? `<${lossy(fdPath(fd))}>` : ''}` : 'AT_FDCWD';
  const exe = ev.exe ? ` exe: ${shellQuote(ev.exe)}` : '';
  return `execveat(${[dir, ...atFlagNames(ev.atFlags)].join(', ')})${exe}`;
}

/** what stands for an item that could not be read: no shell word, so it cannot pass for a real "" */
export const UNREADABLE = '«unreadable»';

/** a string list shell-quoted, with the unreadable items (by index) marked */
function marked(list: Buffer[], unreadable: number[], p: Palette): string {
  if (!unreadable.length) return shellJoin(list);
  return list.map((b, i) => (unreadable.includes(i) ? p.red(UNREADABLE) : shellQuote(b))).join(' ');
}

/** flags that describe the exec rather than warn about its capture (the text shows them elsewhere) */
const NOT_WARNINGS = new Set<ExecFlagName>(['COMPAT', 'X32', 'FAILED_PATH', 'NO_ENTRY', 'ARGC_ZERO']);

/**
 * argc 0 (`execve(path, NULL, …)`): since 5.18 (dcd46d897adb) the new image gets argv[0] "" from the kernel,
 * which looks like a real `[""]` unless it is said; before 5.18 (and for a failed exec) argv is empty.
 */
function argvText(ev: ExecEvent, p: Palette): string {
  if (!(ev.flags & ExecFlag.ARGC_ZERO)) return marked(ev.argv, ev.unreadable.argv, p);
  if (!ev.argv.length) return p.dim('(none: argc 0)');
  return `${marked(ev.argv, ev.unreadable.argv, p)} ${p.dim('(argc 0: argv[0] supplied by the kernel)')}`;
}

/** `cgroup: PATH` (`?` when it could not be resolved), and the container's short id as docker ps shows it */
function cgroupText(g: CgroupInfo, p: Palette): string {
  const path = `${p.dim('cgroup:')} ${g.path === null ? '?' : shellQuote(Buffer.from(g.path))}`;
  return g.containerId ? `${path} ${p.dim('container:')} ${g.containerId.slice(0, 12)}` : path;
}

export function formatText(c: ExecContext, o: FormatOptions, p: Palette, prevTsNs: bigint | null = null): string {
  const { ev } = c;
  const ok = ev.ret === 0;
  const fields: string[] = [];
  const time = timeField(ev.tsNs, o, prevTsNs);
  if (time !== null) fields.push(p.dim(time));
  // a thread other than the leader that execs: its tid, as strace's [pid N] shows it (the exec makes it the leader)
  const tid = ev.tid !== ev.pid ? p.dim(`/${ev.tid}`) : '';
  fields.push(
    `${p.bold(String(ev.pid))}${tid}${p.dim(`<${ev.ppid}>`)}${ev.nsLevel > 0 ? p.dim(`[ns:${ev.nsPid}]`) : ''}`,
  );
  // who exec'd: the comm before the exec; for the launcher's exec of the command, the command's own
  // (no comm before the exec without the syscall entry, e.g. --successful-only: the new one then)
  const before = ok && !c.byLauncher && ev.oldComm.length ? ev.oldComm : ev.comm;
  fields.push(p.cyan(lossy(before) || '?'));
  fields.push(ok ? p.green('ok') : p.red(errnoName(ev.ret)));
  if (ev.flags & ExecFlag.COMPAT) fields.push(p.magenta(ev.flags & ExecFlag.X32 ? '[x32]' : COMPAT_LABEL));
  fields.push(p.yellow(ev.filename ? shellQuote(ev.filename) : '?'));
  const at = execveatText(ev);
  if (at) fields.push(p.dim(at));
  if (ev.interpreter && ev.interpreter.length) fields.push(p.dim(`#!${shellJoin(ev.interpreter)}`));
  fields.push(`argv: ${argvText(ev, p)}`);
  if (ev.cwd) fields.push(`${p.dim('cwd:')} ${shellQuote(ev.cwd)}`);
  if (c.cgroup) fields.push(cgroupText(c.cgroup, p));
  if (o.fullEnv && ev.env)
    fields.push(`${p.dim('env:')} ${ev.env.length ? marked(ev.env, ev.unreadable.env, p) : p.dim('(empty)')}`);
  else if (c.diff && !isEmptyDiff(c.diff)) fields.push(`${p.dim('env:')} ${envDiffWords(c.diff).join(' ')}`);
  if (ok && ev.euid !== ev.uid) fields.push(p.magenta(`euid=${ev.euid}`));
  if (ok && ev.egid !== ev.gid) fields.push(p.magenta(`egid=${ev.egid}`));
  if (o.showFds && ev.fds.length) {
    const fds = ev.fds.filter((f) => !f.cloexec).map((f) => `${f.fd}:${shellQuote(fdPath(f))}`);
    const closed = ranges(ev.fds.filter((f) => f.cloexec).map((f) => f.fd));
    if (closed) fds.push(p.dim(`cloexec:${closed}`));
    fields.push(`${p.dim('fds:')} ${fds.join(' ')}`);
  }
  const warn: string[] = flagNames(ev.flags).filter((f) => !NOT_WARNINGS.has(f));
  if (ev.missingChunks) warn.push('CHUNK_LOST');
  if (warn.length) fields.push(p.red(`!${[...new Set(warn)].join(',').toLowerCase()}`));
  let line = fields.join(' ');
  if (o.showCmdline) line += `\n  ${p.dim('$')} ${reconstructCmdline(c.ev)}`;
  return line + '\n';
}

/** string list as JSON: lossy strings, plus base64 of every item when any is not UTF-8 */
export function jsonStrings(list: Buffer[] | null): { v: string[] | null; b64?: string[] } {
  if (!list) return { v: null };
  let valid = true;
  const v = list.map((b) => {
    // toString() without arguments goes straight to the UTF-8 decoder (no encoding lookup)
    const s = b.toString();
    // the lossy decoder's U+FFFD is the only sign of a bad byte: check (once) only where it shows up
    if (valid && s.includes('\ufffd') && !isUtf8(b)) valid = false;
    return s;
  });
  return valid ? { v } : { v, b64: list.map((b) => b.toString('base64')) };
}

/** values are null for an entry without '=' */
interface JsonEnvDiff {
  added: Record<string, string | null>;
  removed: string[];
  changed: Record<string, string | null>;
}

/**
 * The env diff as JSON. EnvDiff carries bytes as latin1 strings: names and
 * values are decoded as UTF-8 here (lossy, like argv); when any of them is not
 * UTF-8, b64 holds every entry's exact bytes ("NAME=value" for added and
 * changed, "NAME" for removed), each self-contained, since lossy names can
 * collide as object keys.
 */
export function jsonEnvDiff(d: EnvDiff | null): {
  v: JsonEnvDiff | null;
  b64?: { added: string[]; removed: string[]; changed: string[] };
} {
  if (!d) return { v: null };
  let valid = true;
  const text = (s: string): string => {
    const b = bytes(s);
    // latin1 chars below 0x80 are ASCII: only strings with a high byte can be invalid UTF-8
    if (valid && /[\x80-\xff]/.test(s) && !isUtf8(b)) valid = false;
    return lossy(b);
  };
  const v: JsonEnvDiff = {
    added: Object.fromEntries(d.added.map(([k, val]) => [text(k), val === null ? null : text(val)])),
    removed: d.removed.map(text),
    changed: Object.fromEntries(d.changed.map(([k, , val]) => [text(k), val === null ? null : text(val)])),
  };
  if (valid) return { v };
  const b64 = (s: string) => bytes(s).toString('base64');
  return {
    v,
    b64: {
      added: d.added.map(([k, val]) => b64(envEntry(k, val))),
      removed: d.removed.map(b64),
      changed: d.changed.map(([k, , val]) => b64(envEntry(k, val))),
    },
  };
}

export function jsonString(b: Buffer | null): { v: string | null; b64?: string } {
  if (!b) return { v: null };
  return isUtf8(b) ? { v: lossy(b) } : { v: lossy(b), b64: b.toString('base64') };
}

export function toJsonRecord(c: ExecContext, o: FormatOptions): Record<string, unknown> {
  const { ev } = c;
  const argv = jsonStrings(ev.argv);
  const env = jsonStrings(ev.env);
  const fn = jsonString(ev.filename);
  const cwd = jsonString(ev.cwd);
  const exe = jsonString(ev.exe);
  const envDiff = jsonEnvDiff(c.diff);
  const rec: Record<string, unknown> = {
    type: 'exec',
    schema: JSON_SCHEMA_VERSION,
    time: isoTime(ev.tsNs, o),
    t: Number(ev.tsNs - o.startNs) / 1e9,
    pid: ev.pid,
    tid: ev.tid,
    ppid: ev.ppid,
    ns_pid: ev.nsPid,
    ns_level: ev.nsLevel,
    comm: lossy(ev.comm),
    old_comm: lossy(ev.oldComm),
    syscall: SYSCALL_NAMES[ev.syscall] ?? 'unknown',
    at_fd: usesDirfd(ev) ? ev.atFd : null,
    at_flags: atFlagNames(ev.atFlags),
    filename: fn.v,
    argv: argv.v,
    interpreter: ev.interpreter ? ev.interpreter.map(lossy) : null,
    cwd: cwd.v,
    env_diff: envDiff.v,
    result: ev.ret,
    errno: ev.ret === 0 ? null : errnoName(ev.ret),
    compat: (ev.flags & ExecFlag.COMPAT) !== 0,
    uid: ev.uid,
    gid: ev.gid,
    euid: ev.euid,
    egid: ev.egid,
    fds: ev.fds.map((f) => ({
      fd: f.fd,
      path: lossy(fdPath(f)),
      type: fdType(f),
      flags: fdFlags(f),
      cloexec: f.cloexec,
    })),
    truncated: {
      argv: (ev.flags & (ExecFlag.ARGV_TRUNC | ExecFlag.COMMIT_MISSED)) !== 0,
      env: (ev.flags & ExecFlag.ENV_TRUNC) !== 0,
      filename: (ev.flags & ExecFlag.FILENAME_TRUNC) !== 0,
      cwd: (ev.flags & ExecFlag.CWD_TRUNC) !== 0,
      fds: (ev.flags & ExecFlag.FDS_TRUNC) !== 0,
    },
    unreadable: ev.unreadable,
    argv_bytes: ev.argvTotal === SIZE_UNKNOWN ? null : ev.argvTotal,
    env_bytes: ev.envTotal === SIZE_UNKNOWN ? null : ev.envTotal,
    flags: flagNames(ev.flags),
    lost_chunks: ev.missingChunks,
  };
  if (ev.execId !== undefined) rec.id = ev.execId.toString(16);
  if (o.fullEnv) rec.env = env.v;
  if (argv.b64) rec.argv_b64 = argv.b64;
  if (o.fullEnv && env.b64) rec.env_b64 = env.b64;
  if (envDiff.b64) rec.env_diff_b64 = envDiff.b64;
  if (fn.b64) rec.filename_b64 = fn.b64;
  if (cwd.b64) rec.cwd_b64 = cwd.b64;
  rec.exe = exe.v;
  if (exe.b64) rec.exe_b64 = exe.b64;
  if (o.showCmdline) rec.cmdline = reconstructCmdline(c.ev);
  if (c.cgroup) {
    rec.cgroup = c.cgroup.path;
    rec.container_id = c.cgroup.containerId;
  }
  return rec;
}
