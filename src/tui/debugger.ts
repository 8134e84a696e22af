/**
 * The --debugger template's command line (e.g. gdb -p 1234), run by /bin/sh on a pty of its own that the
 * pane shows while it runs: the native helper's --exec --ctty mode, as the eBPF backend's commands, so it
 * gets a controlling terminal (Ctrl-C in gdb) and our environment byte for byte.
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { requireNativeHelper, sendSpec } from '../backend/execspec.js';
import { Pane } from './term/pane.js';
import { Pty } from './term/pty.js';

export interface DebuggerRun {
  pane: Pane;
  pty: Pty;
  /** resolves with how it ended, once it did */
  done: Promise<string>;
}

export function runDebugger(
  cmdline: string,
  rows: number,
  cols: number,
  env: Buffer[],
  onOutput: () => void,
): DebuggerRun {
  let pty: Pty | null = null;
  const pane = new Pane(rows, cols, (s) => pty?.write(s));
  pty = new Pty(
    rows,
    cols,
    (b) => {
      pane.write(b);
      onOutput();
    },
    () => {},
  );
  const child = spawn(requireNativeHelper(), ['--exec', '--ctty'], {
    stdio: [pty.slave!, pty.slave!, pty.slave!, 'pipe'],
  });
  sendSpec(child.stdio[3] as Writable, {
    path: Buffer.from('/bin/sh'),
    argv: ['sh', '-c', cmdline].map((s) => Buffer.from(s)),
    env,
  });
  pty.closeSlave();
  const done = new Promise<string>((res) => {
    child.on('error', (e) => res(`could not run: ${e.message}`));
    child.on('exit', (code, sig) => res(sig ? `killed by ${sig}` : `exit ${code}`));
  });
  return { pane, pty, done };
}
