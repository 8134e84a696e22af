/**
 * The terminal as execlens tui draws it: a terminal-kit ScreenBuffer (drawn as a delta: only cells that
 * changed are written), the alternate screen while running, and the terminal put back as it was on exit.
 * The library choice and its measurements: docs/tui.md.
 */
import termkit from 'terminal-kit';
import type { Segment, Style } from '../model/rowtext.js';

type Attr = termkit.ScreenBuffer.Attributes;

const STYLE_ATTRS: Record<Style, Attr> = {
  plain: {},
  dim: { dim: true },
  bold: { bold: true },
  red: { color: 'red' },
  green: { color: 'green' },
  yellow: { color: 'yellow' },
  cyan: { color: 'cyan' },
  magenta: { color: 'magenta' },
};

export interface CellRun {
  x: number;
  text: string;
  attr: Attr;
}

export class Screen {
  private readonly term = termkit.terminal;
  private sb: termkit.ScreenBuffer;
  width: number;
  height: number;
  private readonly attrCache = new Map<string, number>();
  private active = false;

  constructor() {
    this.width = process.stdout.columns || 80;
    this.height = process.stdout.rows || 24;
    this.sb = new termkit.ScreenBuffer({ dst: this.term, width: this.width, height: this.height });
  }

  start(): void {
    this.active = true;
    // alternate screen, no cursor until a focused pane shows its own
    process.stdout.write('\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J');
  }

  /** the terminal as it was: main screen, cursor shown, attributes reset, no mouse or bracketed-paste modes left on */
  restore(): void {
    if (!this.active) return;
    this.active = false;
    process.stdout.write('\x1b[0m\x1b[?2004l\x1b[?1000l\x1b[?1006l\x1b[?25h\x1b[?1049l');
  }

  resized(): void {
    this.width = process.stdout.columns || 80;
    this.height = process.stdout.rows || 24;
    this.sb = new termkit.ScreenBuffer({ dst: this.term, width: this.width, height: this.height });
    process.stdout.write('\x1b[H\x1b[2J');
  }

  private attr(a: Attr): number {
    const key = JSON.stringify(a);
    let n = this.attrCache.get(key);
    if (n === undefined) {
      n = this.sb.object2attr(a) as unknown as number;
      this.attrCache.set(key, n);
    }
    return n;
  }

  clear(): void {
    this.sb.fill({ char: ' ', attr: this.attr({}) });
  }

  /** text at (x, y), cut at x + width; returns the column after it */
  text(x: number, y: number, s: string, a: Attr = {}, width = this.width - x): number {
    if (width <= 0 || y < 0 || y >= this.height) return x;
    const t = s.length > width ? s.slice(0, width) : s;
    // a control character would move the real cursor: the buffer must hold printable cells only
    // eslint-disable-next-line no-control-regex
    this.sb.put({ x, y, attr: this.attr(a), wrap: false, dx: 1, dy: 0 }, t.replace(/[\x00-\x1f\x7f]/g, '?'));
    return x + t.length;
  }

  /** styled segments on one row; `extra` adds to every segment's attributes (selection, search hit) */
  segments(x: number, y: number, segs: readonly Segment[], width: number, extra: Attr = {}): void {
    let cx = x;
    for (const s of segs) {
      if (cx >= x + width) break;
      cx = this.text(cx, y, s.text, { ...STYLE_ATTRS[s.style], ...extra }, x + width - cx);
    }
    if (extra.inverse || extra.bgColor !== undefined) this.text(cx, y, ' '.repeat(Math.max(0, x + width - cx)), extra);
  }

  runs(y: number, runs: readonly CellRun[], x0: number, width: number): void {
    for (const r of runs) this.text(x0 + r.x, y, r.text, r.attr, width - r.x);
  }

  /** write what changed; the cursor shown at (x, y) when given (a focused pane), else hidden */
  flush(cursor: { x: number; y: number } | null): void {
    this.sb.draw({ delta: true });
    process.stdout.write(cursor ? `\x1b[${cursor.y + 1};${cursor.x + 1}H\x1b[?25h` : '\x1b[?25l');
  }

  /** bytes for the terminal itself (OSC 52), outside the buffer */
  raw(s: string): void {
    process.stdout.write(s);
  }
}
