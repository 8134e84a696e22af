/**
 * Copying: OSC 52 (the terminal sets its clipboard: xterm, kitty, foot, WezTerm, iTerm2; tmux with
 * `set -g set-clipboard on`), and always the fallback file too, since a terminal may ignore OSC 52 silently.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** $EXECLENS_COPY_FILE, else $XDG_CACHE_HOME/execlens/copied.txt, else ~/.cache/execlens/copied.txt */
export function defaultCopyFile(env: NodeJS.ProcessEnv): string {
  if (env.EXECLENS_COPY_FILE) return env.EXECLENS_COPY_FILE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'execlens', 'copied.txt');
}

export function osc52(text: string): string {
  return `\x1b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\x07`;
}

/** the file holds the last copied text, with a newline; returns an error message, or null */
export function writeCopyFile(file: string, text: string): string | null {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, text + '\n', { mode: 0o600 });
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
