/**
 * What the copy menu copies, as text: the shell command line that reproduces the exec (the --show-cmdline
 * reconstruction of src/output/format.ts), the same with the whole environment, argv, filename, env, env diff.
 */
import { envDiffWords, reconstructCmdline } from '../../output/format.js';
import { lossy, shellJoin, shellQuote } from '../../output/quote.js';
import type { ExecItem } from '../../output/sink.js';

export interface CopyTarget {
  key: string;
  label: string;
  text(x: ExecItem): string | null;
}

/** cd CWD && env -i ENV... CMD: runs with exactly the environment the exec got, not ours plus a diff */
export function cmdlineWithEnv(x: ExecItem): string | null {
  const { ev } = x;
  if (!ev.env) return null;
  const cd = ev.cwd ? `cd ${shellQuote(ev.cwd)} && ` : '';
  const env = ev.env.length ? ` ${shellJoin(ev.env)}` : '';
  return `${cd}env -i${env} ${reconstructCmdline({ ev: { ...ev, cwd: null }, diff: null })}`;
}

export const COPY_TARGETS: readonly CopyTarget[] = [
  { key: 'c', label: 'command line (cd, env changes, argv)', text: (x) => reconstructCmdline(x) },
  { key: 'e', label: 'command line with its whole environment (env -i)', text: cmdlineWithEnv },
  { key: 'a', label: 'argv, shell-quoted', text: (x) => shellJoin(x.ev.argv) },
  { key: 'f', label: 'filename', text: (x) => (x.ev.filename ? lossy(x.ev.filename) : null) },
  { key: 'v', label: 'environment, one NAME=value a line', text: (x) => (x.ev.env ? x.ev.env.map(lossy).join('\n') : null) },
  { key: 'd', label: 'environment diff (+added ~changed -removed)', text: (x) => (x.diff ? envDiffWords(x.diff).join('\n') : null) },
];
