/**
 * The command's pane: a headless xterm.js emulator fed from the pty (so full-screen programs, colours and
 * cursor movement render as in a terminal) whose visible lines are drawn into the pane's rectangle.
 */
import xterm from '@xterm/headless';
import type termkit from 'terminal-kit';
import type { CellRun } from './screen.js';

type Attr = termkit.ScreenBuffer.Attributes;
type Cell = NonNullable<ReturnType<NonNullable<ReturnType<xterm.Terminal['buffer']['active']['getLine']>>['getCell']>>;

function cellAttr(c: Cell): Attr {
  const a: Attr = {};
  if (c.isFgPalette()) a.color = c.getFgColor();
  if (c.isBgPalette()) a.bgColor = c.getBgColor();
  if (c.isBold()) a.bold = true;
  if (c.isDim()) a.dim = true;
  if (c.isItalic()) a.italic = true;
  if (c.isUnderline()) a.underline = true;
  if (c.isInverse()) a.inverse = true;
  return a;
}

export class Pane {
  private readonly vt: xterm.Terminal;
  /** bumped on every write: the screen redraws the pane only when it changed */
  version = 0;

  constructor(rows: number, cols: number, answer: (s: string) => void) {
    this.vt = new xterm.Terminal({ rows, cols, scrollback: 1000, allowProposedApi: true });
    // the emulator's replies to the program's queries (cursor position, device attributes) go back to it
    this.vt.onData(answer);
  }

  write(b: Buffer): void {
    this.vt.write(b, () => this.version++);
  }

  resize(rows: number, cols: number): void {
    this.vt.resize(Math.max(1, cols), Math.max(1, rows));
    this.version++;
  }

  get rows(): number {
    return this.vt.rows;
  }

  /** the visible line y as runs of equally styled text */
  line(y: number): CellRun[] {
    const buf = this.vt.buffer.active;
    const line = buf.getLine(buf.viewportY + y);
    if (!line) return [];
    const runs: CellRun[] = [];
    let cur: CellRun | null = null;
    let key = '';
    for (let x = 0; x < this.vt.cols; x++) {
      const c = line.getCell(x);
      if (!c || c.getWidth() === 0) continue;
      const a = cellAttr(c);
      const k = JSON.stringify(a);
      const ch = c.getChars() || ' ';
      if (cur && k === key) cur.text += ch;
      else {
        cur = { x, text: ch, attr: a };
        key = k;
        runs.push(cur);
      }
    }
    return runs;
  }

  cursor(): { x: number; y: number } {
    const buf = this.vt.buffer.active;
    return { x: buf.cursorX, y: buf.cursorY + buf.baseY - buf.viewportY };
  }
}
