/**
 * A real terminal for end-to-end tests of `execlens tui`: a private tmux server (its own socket, no user
 * config) whose window runs a shell script; keys go in with send-keys, the screen comes out with capture-pane.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './trace.js';

export function haveTmux(): boolean {
  return spawnSync('tmux', ['-V']).status === 0;
}

export class Tmux {
  readonly dir = mkdtempSync(join(tmpdir(), 'execlens-tui-'));
  /** the server's socket, in the test's own directory: tmux's default (/tmp/tmux-UID) is not writable everywhere
   * (a kernel-matrix guest mounts the host's /tmp read-only; TMPDIR points elsewhere, which tmux ignores) */
  private readonly sock = join(this.dir, 'tmux.sock');

  /**
   * Runs `script` (sh) in a window of cols x rows. The script's own stty settings before and after are saved
   * (stty-before, stty-after) and its exit code (rc, written last: once it is there, so is stty-after), so a
   * test can tell the terminal was put back; $D in the
   * script is the directory of those files.
   */
  constructor(script: string, cols = 140, rows = 40) {
    const wrapper = join(this.dir, 'run.sh');
    writeFileSync(
      wrapper,
      `D='${this.dir}'\nstty -g > '${this.dir}/stty-before'\n${script}\nrc=$?\nstty -g > '${this.dir}/stty-after'\necho $rc > '${this.dir}/rc'\nsleep 600\n`,
    );
    this.tmux('-f', '/dev/null', 'new-session', '-d', '-x', String(cols), '-y', String(rows), `sh '${wrapper}'`);
    this.tmux('set-option', '-s', 'set-clipboard', 'on');
  }

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-S', this.sock, ...args], { encoding: 'utf8' });
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', ...keys);
  }

  screen(): string {
    return this.tmux('capture-pane', '-p');
  }

  /** a tmux format of the pane, e.g. #{alternate_on} */
  format(f: string): string {
    return this.tmux('display-message', '-p', f).trim();
  }

  async waitScreen(re: RegExp, ms = 60000): Promise<string> {
    let last = '';
    await waitFor(
      () => re.test((last = this.screen())),
      ms,
      `${re} on the screen`,
      () => `\n${last}`,
    );
    return last;
  }

  async exitCode(ms = 60000): Promise<number> {
    const f = join(this.dir, 'rc');
    await waitFor(
      () => existsSync(f) && readFileSync(f, 'utf8').trim() !== '',
      ms,
      'execlens to exit',
      () => `\n${this.screen()}`,
    );
    return Number(readFileSync(f, 'utf8').trim());
  }

  file(name: string): string {
    return readFileSync(join(this.dir, name), 'utf8');
  }

  /** the server, its socket file (tmux leaves it) and the files of the run */
  kill(): void {
    spawnSync('tmux', ['-S', this.sock, 'kill-server']);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
