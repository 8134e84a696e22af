/**
 * Breakpoints on the ptrace backend: the helper holds every exec stop of the kinds the -b specs name and
 * asks; a stop no breakpoint matches goes on at once, a matching one stays stopped until the user resumes
 * it, detaches it, or detaches it stopped and runs the --debugger template (e.g. gdb -p {{PID}}) in the pane.
 */
import { readFileSync } from 'node:fs';
import type { Hold, PtraceSource } from '../backend/ptrace/source.js';
import { lossy, shellJoin } from '../output/quote.js';
import { expandTemplate, matchBreakpoint, type Breakpoint } from './model/breakpoint.js';
import type { StoppedProcess, Stops } from './stops.js';

/** TracerPid 0 in /proc/PID/status (or the process gone), polled for at most `ms` */
export async function untraced(pid: number, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      return true;
    }
    if (/^TracerPid:\s+0$/m.test(status)) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

export class BreakpointStops implements Stops {
  private readonly stopped = new Map<number, StoppedProcess>();
  /** a process stopped: the screen should show it */
  onStop: (s: StoppedProcess) => void = () => {};

  constructor(
    private readonly bps: readonly Breakpoint[],
    private readonly source: PtraceSource,
    readonly template: string,
    /** run a command line in the pane; returns what to tell the user */
    private readonly runInPane: (cmdline: string) => string,
  ) {
    source.holdExecs({
      sysenter: bps.some((b) => b.stop === 'sysenter'),
      sysexit: bps.some((b) => b.stop === 'sysexit'),
      onHold: (h) => this.onHold(h),
    });
  }

  private onHold(h: Hold): void {
    const b = matchBreakpoint(this.bps, h);
    if (!b) return this.source.verdict(h.pid, 'c');
    const s: StoppedProcess = {
      pid: h.pid,
      stop: h.stop,
      what: `${lossy(h.filename)}  argv: ${shellJoin(h.argv)}`,
      spec: b.spec,
    };
    this.stopped.set(h.pid, s);
    this.onStop(s);
  }

  list(): StoppedProcess[] {
    return [...this.stopped.values()];
  }

  resume(pid: number): void {
    if (this.stopped.delete(pid)) this.source.verdict(pid, 'c');
  }

  detach(pid: number): void {
    if (this.stopped.delete(pid)) this.source.verdict(pid, 'd');
  }

  debug(pid: number): string {
    if (!this.stopped.delete(pid)) return `${pid} is not stopped`;
    this.source.verdict(pid, 's');
    const cmdline = expandTemplate(this.template, pid);
    // a debugger attaching while the helper still traces it would get EPERM: start it once the helper let go
    void untraced(pid).then(() => this.runInPane(cmdline));
    return `detaching ${pid} stopped, then: ${cmdline}`;
  }

  /** quitting: nothing stays stopped because of us */
  resumeAll(): void {
    for (const pid of [...this.stopped.keys()]) this.resume(pid);
  }
}
