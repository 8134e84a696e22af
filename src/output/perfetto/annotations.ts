/**
 * An exec as Perfetto debug annotations (DebugAnnotation messages as plain objects, protobufjs field
 * names): what the slice or instant of that exec shows in its args — argv, filename, cwd, env diff, fds,
 * credentials, result. Strings are lossy UTF-8 (a proto string must be UTF-8); the exact bytes stay in
 * the JSON formats.
 */
import { bytes, envEntry, type EnvDiff } from '../../events/envdiff.js';
import { fdPath } from '../../events/fdinfo.js';
import { SYSCALL_NAMES } from '../../events/layout.js';
import { errnoName } from '../errno.js';
import { flagNames, ranges } from '../format.js';
import { lossy } from '../quote.js';
import type { ExecItem } from '../sink.js';

export interface Annotation {
  name?: string;
  string_value?: string;
  int_value?: number;
  bool_value?: boolean;
  dict_entries?: Annotation[];
  array_values?: Annotation[];
}

export const str = (name: string, v: string): Annotation => ({ name, string_value: v });
export const int = (name: string, v: number): Annotation => ({ name, int_value: v });
export const bool = (name: string, v: boolean): Annotation => ({ name, bool_value: v });
export const dict = (name: string, entries: Annotation[]): Annotation => ({ name, dict_entries: entries });
export const strArray = (name: string, items: string[]): Annotation => ({
  name,
  array_values: items.map((s) => ({ string_value: s })),
});

function envDiffAnnotation(d: EnvDiff): Annotation {
  // an entry without '=' keeps its bare name, as the text output shows it
  const entry = (k: string, v: string | null) => lossy(bytes(envEntry(k, v)));
  return dict('env_diff', [
    strArray(
      'added',
      d.added.map(([k, v]) => entry(k, v)),
    ),
    strArray(
      'changed',
      d.changed.map(([k, , v]) => entry(k, v)),
    ),
    strArray(
      'removed',
      d.removed.map((k) => lossy(bytes(k))),
    ),
  ]);
}

export function execAnnotations(x: ExecItem): Annotation[] {
  const { ev } = x;
  const out: Annotation[] = [
    strArray('argv', ev.argv.map(lossy)),
    str('filename', ev.filename ? lossy(ev.filename) : '?'),
    str('cwd', ev.cwd ? lossy(ev.cwd) : '?'),
  ];
  if (x.diff) out.push(envDiffAnnotation(x.diff));
  if (ev.interpreter?.length) out.push(strArray('interpreter', ev.interpreter.map(lossy)));
  // inherited fds with their paths; the ones this exec closed (FD_CLOEXEC) as ranges, as the text shows them
  const open = ev.fds.filter((f) => !f.cloexec);
  out.push({
    name: 'fds',
    array_values: open.map((f) => ({ dict_entries: [int('fd', f.fd), str('path', lossy(fdPath(f)))] })),
  });
  const closed = ranges(ev.fds.filter((f) => f.cloexec).map((f) => f.fd));
  if (closed) out.push(str('cloexec_fds', closed));
  out.push(dict('creds', [int('uid', ev.uid), int('gid', ev.gid), int('euid', ev.euid), int('egid', ev.egid)]));
  out.push(int('result', ev.ret));
  if (ev.ret !== 0) out.push(str('errno', errnoName(ev.ret)));
  out.push(int('pid', ev.pid), int('ppid', ev.ppid), str('comm', lossy(ev.comm)));
  out.push(str('syscall', SYSCALL_NAMES[ev.syscall] ?? 'unknown'));
  if (x.cgroup) {
    out.push(str('cgroup', x.cgroup.path ?? '?'));
    if (x.cgroup.containerId) out.push(str('container_id', x.cgroup.containerId));
  }
  const flags: string[] = flagNames(ev.flags);
  if (ev.missingChunks) flags.push('CHUNK_LOST');
  if (flags.length) out.push(strArray('flags', flags));
  return out;
}
