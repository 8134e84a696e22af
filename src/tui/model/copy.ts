/**
 * What the copy menu copies, as text: the shell command line that reproduces the exec (the --show-cmdline
 * reconstruction, src/output/cmdline.ts), a readable one with only the environment changes, argv, filename,
 * env, env diff.
 */
import { bytes, envEntry } from '../../events/envdiff.js';
import { envDiffWords, reconstructCmdline } from '../../output/format.js';
import { lossy, shellJoin, shellQuote } from '../../output/quote.js';
import type { ExecItem } from '../../output/sink.js';

export interface CopyTarget {
  key: string;
  label: string;
  text(x: ExecItem): string | null;
}

/**
 * cd CWD && env -u REMOVED… ADDED/CHANGED=v… FILE ARGS…: the command in the user's own environment with the
 * exec's changes applied; readable, not exact (argv[0] becomes the filename; the rest of the environment is
 * whoever pastes it). The exact line is reconstructCmdline's.
 */
export function cmdlineWithChanges(x: ExecItem): string | null {
  const { ev, diff } = x;
  const file = ev.filename ?? ev.argv[0];
  if (!file) return null;
  const words: string[] = [];
  if (ev.cwd) words.push(`cd ${shellQuote(ev.cwd)} &&`);
  const env: string[] = [];
  if (diff) {
    for (const k of diff.removed) env.push('-u', shellQuote(bytes(k)));
    for (const [k, v] of [...diff.added, ...diff.changed.map(([n, , val]) => [n, val] as const)])
      env.push(shellQuote(bytes(envEntry(k, v))));
  }
  if (env.length) words.push('env', ...env);
  words.push(shellJoin([file, ...ev.argv.slice(1)]));
  return words.join(' ');
}

export const COPY_TARGETS: readonly CopyTarget[] = [
  {
    key: 'c',
    label: 'command line that reproduces it exactly (cd, env -i with its environment, argv)',
    text: (x) => reconstructCmdline(x.ev),
  },
  { key: 'e', label: 'command line with the environment changes only (cd, env -u/+, argv)', text: cmdlineWithChanges },
  { key: 'a', label: 'argv, shell-quoted', text: (x) => shellJoin(x.ev.argv) },
  { key: 'f', label: 'filename', text: (x) => (x.ev.filename ? lossy(x.ev.filename) : null) },
  {
    key: 'v',
    label: 'environment, one NAME=value a line',
    text: (x) => (x.ev.env ? x.ev.env.map(lossy).join('\n') : null),
  },
  {
    key: 'd',
    label: 'environment diff (+added ~changed -removed)',
    text: (x) => (x.diff ? envDiffWords(x.diff).join('\n') : null),
  },
];
