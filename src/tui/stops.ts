/** Processes held at a breakpoint (ptrace backend, -b), as the app sees them; src/tui/breakpoints.ts holds them. */
export interface StoppedProcess {
  pid: number;
  stop: 'sysenter' | 'sysexit';
  /** filename and argv, for the list */
  what: string;
  spec: string;
}

export interface Stops {
  /** the --debugger template, {{PID}} replaced when run */
  readonly template: string;
  list(): StoppedProcess[];
  resume(pid: number): void;
  detach(pid: number): void;
  /** detach it stopped and run the template in the pane; returns what to tell the user */
  debug(pid: number): string;
}
