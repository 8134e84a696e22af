/**
 * collect -F compile-commands: compile_commands.json (the JSON Compilation Database: clangd, clang-tidy)
 * of a traced build. A tracer sees every compiler the build runs, also static ones and children that
 * clear their environment, which an LD_PRELOAD wrapper such as bear misses. Written at the end, since a
 * source compiled twice to the same output (a rebuild) keeps its last command: such replacements are
 * counted and said on stderr, with the number of entries.
 */
import type { Summary } from '../../pipeline/summary.js';
import { lossy } from '../quote.js';
import type { ExecItem, Sink } from '../sink.js';
import type { Writer } from '../writer.js';
import { compileEntries, isCompiler, type CompileEntry } from './compile-entry.js';

export interface CompileStats {
  entries: number;
  compilerRuns: number;
  /** entries a later run of the same source to the same output replaced */
  replaced: number;
  /** entries whose directory is unknown or cut (the cwd could not be read whole) */
  noDirectory: number;
}

export class CompileCommandsSink implements Sink {
  private readonly entries = new Map<string, CompileEntry>();
  private readonly stats: CompileStats = { entries: 0, compilerRuns: 0, replaced: 0, noDirectory: 0 };

  constructor(
    private readonly writer: Writer,
    private readonly compiler: RegExp | undefined,
    private readonly report: (s: CompileStats) => void,
  ) {}

  exec(x: ExecItem): void {
    const { ev } = x;
    if (ev.ret !== 0) return;
    const filename = ev.filename ? lossy(ev.filename) : null;
    const argv = ev.argv.map(lossy);
    if (!isCompiler(filename, argv[0], this.compiler)) return;
    const cwd = ev.cwd ? lossy(ev.cwd) : '';
    const found = compileEntries(argv, cwd);
    if (!found.length) return;
    this.stats.compilerRuns++;
    for (const e of found) {
      if (!cwd || cwd.startsWith('\u2026/')) this.stats.noDirectory++;
      const key = `${e.directory}\0${e.file}\0${e.output}`;
      if (this.entries.has(key)) {
        this.stats.replaced++;
        // the last compile wins, in the position of the last
        this.entries.delete(key);
      }
      this.entries.set(key, e);
    }
  }

  fork(): void {}
  exit(): void {}

  summary(_s: Summary): void {
    const list = [...this.entries.values()];
    this.stats.entries = list.length;
    this.writer.write(JSON.stringify(list, null, 2) + '\n', list.length);
    this.report(this.stats);
  }

  flush(): void {}
}

export function compileStatsLine(file: string, s: CompileStats): string {
  const runs = `${s.compilerRuns} compiler run${s.compilerRuns === 1 ? '' : 's'}`;
  const parts = [`${s.entries} entr${s.entries === 1 ? 'y' : 'ies'} from ${runs}`];
  if (s.replaced) parts.push(`${s.replaced} replaced by a later compile of the same source to the same output`);
  if (s.noDirectory) parts.push(`${s.noDirectory} without a whole directory (cwd unreadable or too deep)`);
  return `execlens: ${file}: ${parts.join(', ')}\n`;
}
