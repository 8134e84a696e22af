/** SIGINT/SIGTERM/SIGHUP: installed before anything is loaded, so an early Ctrl-C still detaches cleanly. */
import os from 'node:os';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export class StopSignals {
  signal: NodeJS.Signals | null = null;
  /** wakes the pipeline's wait for records */
  wake: (() => void) | null = null;
  private readonly on = (sig: NodeJS.Signals) => {
    this.signal = sig;
    this.wake?.();
  };
  install(): void {
    for (const s of SIGNALS) process.on(s, this.on);
  }
  remove(): void {
    for (const s of SIGNALS) process.off(s, this.on);
  }
}

/** the shell's convention: 128 + the signal's number */
export function signalExit(sig: NodeJS.Signals, fallback = 0): number {
  return 128 + (os.constants.signals[sig] ?? fallback);
}
