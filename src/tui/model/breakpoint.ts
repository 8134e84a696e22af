/**
 * Breakpoints of the ptrace backend, as tracexec's -b: STOP:PATTERN-KIND:PATTERN where STOP is sysenter (the
 * exec about to happen: the old image) or sysexit (the exec done: the new image, or the failure), and the
 * pattern is a JavaScript regex on the filename or on argv joined by spaces (tracexec's argv-regex), or
 * tracexec's exact-filename / in-filename (a substring).
 */
import { lossy } from '../../output/quote.js';

export type Stop = 'sysenter' | 'sysexit';

export interface Breakpoint {
  spec: string;
  stop: Stop;
  on: 'filename' | 'argv';
  test: (s: string) => boolean;
}

const KINDS: Record<string, { on: 'filename' | 'argv'; make: (p: string) => (s: string) => boolean }> = {
  filename: { on: 'filename', make: regexTest },
  'filename-regex': { on: 'filename', make: regexTest },
  argv: { on: 'argv', make: regexTest },
  'argv-regex': { on: 'argv', make: regexTest },
  'exact-filename': { on: 'filename', make: (p) => (s) => s === p },
  'in-filename': { on: 'filename', make: (p) => (s) => s.includes(p) },
};

function regexTest(p: string): (s: string) => boolean {
  const re = new RegExp(p);
  return (s) => re.test(s);
}

/** -b's value; throws an Error whose message is the one line to print (usage error) */
export function parseBreakpoint(spec: string): Breakpoint {
  const m = /^(sysenter|sysexit):([a-z-]+):(.*)$/s.exec(spec);
  if (!m) throw new Error(`-b ${spec}: expected sysenter|sysexit:filename|argv:REGEX (e.g. sysenter:filename:/cc1$)`);
  const kind = KINDS[m[2]!];
  if (!kind) throw new Error(`-b ${spec}: unknown pattern kind ${m[2]} (filename, argv, exact-filename, in-filename)`);
  try {
    return { spec, stop: m[1] as Stop, on: kind.on, test: kind.make(m[3]!) };
  } catch (e) {
    throw new Error(`-b ${spec}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export interface StopInfo {
  stop: Stop;
  filename: Buffer;
  argv: Buffer[];
}

/** the first breakpoint this exec stop hits, null: let it run */
export function matchBreakpoint(bps: readonly Breakpoint[], s: StopInfo): Breakpoint | null {
  for (const b of bps) {
    if (b.stop !== s.stop) continue;
    const text = b.on === 'filename' ? lossy(s.filename) : s.argv.map(lossy).join(' ');
    if (b.test(text)) return b;
  }
  return null;
}

/** the command to run on a process stopped at a breakpoint: {{PID}} replaced */
export function expandTemplate(template: string, pid: number): string {
  return template.replace(/\{\{PID\}\}/g, String(pid));
}
