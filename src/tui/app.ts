/**
 * execlens tui's screen and keys: the command's pane on top (when it has a pty), the exec list (or the
 * details / help / copy menu / breakpoint stops in its place), and a status bar with the counts, lost
 * events always among them. State lives in the view model (src/tui/model); this draws it and maps keys to it.
 */
import type { Key } from 'node:readline';
import { COPY_TARGETS } from './model/copy.js';
import { detailLines } from './model/details.js';
import { describeQuery, type Query } from './model/query.js';
import { rowSegments } from './model/rowtext.js';
import { itemOf, type ExecStore } from './model/store.js';
import type { ListView } from './model/view.js';
import { osc52, writeCopyFile } from './clipboard.js';
import { actionFor, helpLines, keyId, type Mode } from './keys.js';
import type { Pane } from './term/pane.js';
import type { Pty } from './term/pty.js';
import type { Screen } from './term/screen.js';
import type { Stops } from './stops.js';

export interface AppOptions {
  store: ExecStore;
  view: ListView;
  screen: Screen;
  pane: Pane | null;
  pty: Pty | null;
  fmt: { bootToWallNs: bigint; startNs: bigint };
  /** the command line, for the pane's title */
  title: string;
  copyFile: string;
  /** failed: null when the plan cannot see a failed exec (--successful-only on eBPF) */
  stats: () => { execs: number; failed: number | null; lost: number };
  stops: Stops | null;
}

const INV = { inverse: true };

export class App {
  mode: Mode = 'list';
  focus: 'list' | 'pane' = 'list';
  paneRows = 0;
  dirty = true;
  private prompt: { kind: 'search' | 'filter'; q: Query } | null = null;
  private details: { id: number; top: number } | null = null;
  private copyFrom: Mode = 'list';
  private helpTop = 0;
  private stopSel = 0;
  private ended: string | null = null;
  /** a key just gave the pane focus: its bytes (which the raw input handler sees next) are not the command's */
  private swallow = false;
  private quitResolve: () => void = () => {};
  readonly quitting = new Promise<void>((res) => (this.quitResolve = res));

  /** what the pane shows: the command's terminal, or a debugger's run over it (showPane) */
  pane: Pane | null;
  private pty: Pty | null;
  private title: string;
  private readonly panes: { pane: Pane | null; pty: Pty | null; title: string }[] = [];

  constructor(readonly o: AppOptions) {
    this.pane = o.pane;
    this.pty = o.pty;
    this.title = o.title;
    if (o.pane) this.paneRows = Math.max(3, Math.floor((o.screen.height - 2) * 0.4));
    this.sizePane();
  }

  private get listTop(): number {
    return this.pane ? this.paneRows + 1 : 0;
  }
  private get listHeight(): number {
    return Math.max(1, this.o.screen.height - 1 - this.listTop);
  }

  private sizePane(): void {
    if (!this.pane) return;
    this.paneRows = Math.max(1, Math.min(this.paneRows, this.o.screen.height - 4));
    this.pane.resize(this.paneRows, this.o.screen.width);
    this.pty?.resize(this.paneRows, this.o.screen.width);
  }

  /** show another terminal in the pane (a debugger), with focus, until popPane */
  pushPane(pane: Pane, pty: Pty, title: string): void {
    this.panes.push({ pane: this.pane, pty: this.pty, title: this.title });
    this.pane = pane;
    this.pty = pty;
    this.title = title;
    this.sizePane();
    this.focus = 'pane';
    this.dirty = true;
  }

  popPane(): void {
    const p = this.panes.pop();
    if (!p) return;
    ({ pane: this.pane, pty: this.pty, title: this.title } = p);
    this.sizePane();
    this.focus = 'list';
    this.dirty = true;
  }

  resized(): void {
    this.o.screen.resized();
    this.sizePane();
    this.dirty = true;
  }

  /** the command and its tree are gone: how it ended */
  finished(how: string): void {
    this.ended = how;
    this.o.view.message = `command ${how}; tracing stopped, q quits`;
    if (this.focus === 'pane' && !this.panes.length) this.focus = 'list';
    this.dirty = true;
  }

  quit(): void {
    this.quitResolve();
  }

  /** raw bytes from our terminal: the command's when its pane has focus (C-s, the way back, is not passed) */
  input(b: Buffer): void {
    if (this.swallow) {
      this.swallow = false;
      return;
    }
    if (this.focus !== 'pane' || !this.pty) return;
    const out = b.filter((x) => x !== 0x13);
    if (out.length) this.pty.write(Buffer.from(out));
  }

  key(str: string | undefined, k: Key | undefined): void {
    const id = keyId(str, k);
    this.dirty = true;
    if (this.focus === 'pane') {
      if (id === 'C-s') this.focus = 'list';
      return;
    }
    if (this.mode === 'prompt') return this.promptKey(id, str);
    if (this.mode === 'copy' && this.copyKey(id)) return;
    const action = actionFor(this.mode, id);
    if (!action) return;
    if (this.mode === 'list') this.listAction(action);
    else if (this.mode === 'details') this.detailsAction(action);
    else if (this.mode === 'stops') this.stopsAction(action);
    else if (this.mode === 'help' && action !== 'back')
      this.helpTop += { up: -1, down: 1, pageUp: -this.listHeight + 2, pageDown: this.listHeight - 2 }[action] ?? 0;
    else if (action === 'back') this.mode = this.mode === 'copy' ? this.copyFrom : 'list';
    this.swallow = (this.focus as string) === 'pane';
  }

  private listAction(a: string): void {
    const v = this.o.view;
    const page = Math.max(1, this.listHeight - 1);
    const acts: Record<string, () => void> = {
      up: () => v.move(-1),
      down: () => v.move(1),
      pageUp: () => v.move(-page),
      pageDown: () => v.move(page),
      home: () => v.home(),
      end: () => v.end(),
      follow: () => (v.follow ? (v.follow = false) : v.end()),
      details: () => this.openDetails(v.cursor),
      parent: () => v.goParent(),
      tree: () => v.setMode(v.mode === 'tree' ? 'flat' : 'tree'),
      collapse: () => v.collapse(true),
      expand: () => v.collapse(false),
      toggle: () => v.toggleCollapse(),
      search: () => this.openPrompt('search'),
      filter: () => this.openPrompt('filter'),
      next: () => v.searchNext(1),
      prev: () => v.searchNext(-1),
      failed: () => v.setFilter(v.filter, !v.failedOnly),
      clear: () => {
        v.setSearch(null);
        v.setFilter(null, false);
      },
      copy: () => this.openCopy(),
      stops: () => this.openStops(),
      focus: () => this.focusPane(),
      grow: () => this.growPane(2),
      shrink: () => this.growPane(-2),
      help: () => ((this.mode = 'help'), (this.helpTop = 0)),
      quit: () => this.quit(),
    };
    acts[a]?.();
  }

  private focusPane(): void {
    if (!this.pty || (this.ended && !this.panes.length)) {
      this.o.view.message = this.pty
        ? 'the command has ended'
        : 'no pane: the command runs without a terminal (--no-tty) or there is none';
      return;
    }
    this.focus = 'pane';
  }

  private growPane(d: number): void {
    if (!this.pane) return;
    this.paneRows += d;
    this.sizePane();
    this.o.screen.clear();
  }

  private openDetails(id: number): void {
    if (!this.o.store.get(id)) return;
    this.details = { id, top: 0 };
    this.mode = 'details';
  }

  private detailsAction(a: string): void {
    const d = this.details!;
    const page = Math.max(1, this.listHeight - 2);
    if (a === 'up') d.top = Math.max(0, d.top - 1);
    else if (a === 'down') d.top++;
    else if (a === 'pageUp') d.top = Math.max(0, d.top - page);
    else if (a === 'pageDown') d.top += page;
    else if (a === 'copy') this.openCopy();
    else if (a === 'back') this.mode = 'list';
    else if (a === 'parent') {
      const r = this.o.store.get(d.id);
      if (r && this.o.store.get(r.parent)) {
        this.openDetails(r.parent);
        this.o.view.cursor = r.parent;
        this.o.view.follow = false;
      } else
        this.o.view.message = r && r.parent >= 0 ? 'parent exec dropped from the history' : 'no parent exec traced';
    }
  }

  private openPrompt(kind: 'search' | 'filter'): void {
    const v = this.o.view;
    const old = kind === 'search' ? v.search : v.filter;
    this.prompt = { kind, q: { text: '', regex: old?.regex ?? false, caseSensitive: old?.caseSensitive ?? false } };
    this.mode = 'prompt';
  }

  private promptKey(id: string, str: string | undefined): void {
    const p = this.prompt!;
    const v = this.o.view;
    const a = actionFor('prompt', id);
    if (a === 'cancel') this.mode = 'list';
    else if (a === 'regex') p.q.regex = !p.q.regex;
    else if (a === 'case') p.q.caseSensitive = !p.q.caseSensitive;
    else if (a === 'erase') p.q.text = p.q.text.slice(0, -1);
    else if (a === 'apply') {
      const ok =
        p.kind === 'search' ? v.setSearch(p.q) && (p.q.text === '' || v.searchNext(1) || true) : v.setFilter(p.q);
      if (ok) this.mode = 'list';
    } else if (str && !id.startsWith('C-') && str.length === 1 && str >= ' ') p.q.text += str;
  }

  private openCopy(): void {
    const id = this.mode === 'details' ? this.details!.id : this.o.view.cursor;
    if (!this.o.store.get(id)) return;
    this.copyFrom = this.mode === 'details' ? 'details' : 'list';
    this.mode = 'copy';
  }

  /** a copy target's letter: copy it and go back; true when the key was one */
  private copyKey(id: string): boolean {
    const t = COPY_TARGETS.find((c) => c.key === id);
    if (!t) return false;
    const rowId = this.copyFrom === 'details' ? this.details!.id : this.o.view.cursor;
    const r = this.o.store.get(rowId);
    this.mode = this.copyFrom;
    const text = r ? t.text(itemOf(r)) : null;
    if (text === null) {
      this.o.view.message = `nothing to copy: this exec has no ${t.label.split(',')[0]}`;
      return true;
    }
    this.o.screen.raw(osc52(text));
    const err = writeCopyFile(this.o.copyFile, text);
    this.o.view.message = err
      ? `copied ${t.key} by OSC 52; ${this.o.copyFile}: ${err}`
      : `copied ${Buffer.byteLength(text)} bytes (${t.label.split(' (')[0]}): clipboard (OSC 52) and ${this.o.copyFile}`;
    return true;
  }

  private openStops(): void {
    if (!this.o.stops) {
      this.o.view.message = 'no breakpoints: give -b with --backend ptrace';
      return;
    }
    this.mode = 'stops';
  }

  private stopsAction(a: string): void {
    const s = this.o.stops!;
    const list = s.list();
    const cur = list[Math.min(this.stopSel, list.length - 1)];
    if (a === 'up') this.stopSel = Math.max(0, this.stopSel - 1);
    else if (a === 'down') this.stopSel = Math.min(list.length - 1, this.stopSel + 1);
    else if (a === 'back') this.mode = 'list';
    else if (a === 'resumeAll') for (const x of list) s.resume(x.pid);
    else if (cur && a === 'resume') s.resume(cur.pid);
    else if (cur && a === 'detach') s.detach(cur.pid);
    else if (cur && a === 'debug') {
      // the debugger's pane takes the focus when it starts (once the helper let the process go)
      this.o.view.message = s.debug(cur.pid);
      this.mode = 'list';
    }
  }

  // ---- drawing ----

  render(): void {
    const sc = this.o.screen;
    sc.clear();
    if (this.pane) this.drawPane();
    if (this.mode === 'details') this.drawDetails();
    else if (this.mode === 'help') this.drawLines(helpLines(), 'Keys (Esc: back, ↑↓ PgUp PgDn: scroll)');
    else if (this.mode === 'stops') this.drawStops();
    else this.drawList();
    if (this.mode === 'copy') this.drawCopyMenu();
    this.drawStatus();
    const cur = this.focus === 'pane' && this.pane ? this.pane.cursor() : null;
    sc.flush(cur && cur.y >= 0 && cur.y < this.paneRows ? cur : null);
    this.dirty = false;
  }

  private drawPane(): void {
    const sc = this.o.screen;
    const pane = this.pane!;
    for (let y = 0; y < this.paneRows; y++) sc.runs(y, pane.line(y), 0, sc.width);
    const focus = this.focus === 'pane';
    const state = this.ended ? `[${this.ended}]` : '[running]';
    const hint = focus ? 'C-s: back to the list' : 'C-s: type into the command';
    sc.text(
      0,
      this.paneRows,
      ` ${focus ? '▶' : ' '} $ ${this.title} ${state}  ${hint} `.padEnd(sc.width),
      focus ? { inverse: true, bold: true } : INV,
    );
  }

  private drawList(): void {
    const sc = this.o.screen;
    const rows = this.o.view.window(this.listHeight);
    rows.forEach((r, i) => {
      const indent =
        this.o.view.mode === 'tree'
          ? '  '.repeat(Math.min(r.depth, 30)) + (r.hasChildren ? (r.collapsed ? '▸ ' : '▾ ') : '  ')
          : '';
      const extra = r.selected ? INV : r.hit ? { underline: true } : {};
      sc.segments(0, this.listTop + i, rowSegments(r.row, this.o.fmt, indent), sc.width, extra);
    });
    if (!rows.length)
      sc.text(
        1,
        this.listTop,
        this.o.view.filter || this.o.view.failedOnly ? 'no exec matches the filter (Esc clears it)' : 'no exec yet',
        { dim: true },
      );
  }

  private drawLines(lines: string[], title: string): void {
    const sc = this.o.screen;
    sc.text(0, this.listTop, ` ${title} `.padEnd(sc.width), INV);
    const h = this.listHeight - 1;
    this.helpTop = Math.max(0, Math.min(this.helpTop, lines.length - h));
    if (lines.length > h)
      sc.text(
        sc.width - 24,
        this.listTop,
        ` ${this.helpTop + 1}-${Math.min(lines.length, this.helpTop + h)} of ${lines.length} ↑↓ `,
        INV,
      );
    lines.slice(this.helpTop, this.helpTop + h).forEach((l, i) => sc.text(1, this.listTop + 1 + i, l));
  }

  private drawDetails(): void {
    const sc = this.o.screen;
    const d = this.details!;
    const r = this.o.store.get(d.id);
    if (!r) {
      this.mode = 'list';
      return this.drawList();
    }
    const lines = detailLines(this.o.store, r, this.o.fmt);
    const h = this.listHeight - 1;
    d.top = Math.max(0, Math.min(d.top, lines.length - h));
    sc.text(
      0,
      this.listTop,
      ` exec #${r.id}: pid ${r.item.ev.pid}   Esc back  c copy  p parent  ↑↓ PgUp PgDn scroll (${d.top + 1}-${Math.min(lines.length, d.top + h)} of ${lines.length}) `.padEnd(
        sc.width,
      ),
      INV,
    );
    lines.slice(d.top, d.top + h).forEach((l, i) => sc.segments(1, this.listTop + 1 + i, l, sc.width - 1));
  }

  private drawCopyMenu(): void {
    const sc = this.o.screen;
    const lines = [
      ' Copy to the clipboard (OSC 52) and the copy file; Esc cancels ',
      ...COPY_TARGETS.map((t) => `   ${t.key}  ${t.label}`),
    ];
    const y0 = this.listTop + Math.max(0, this.listHeight - lines.length);
    const w = Math.min(sc.width, Math.max(...lines.map((l) => l.length)) + 2);
    lines.forEach((l, i) =>
      sc.text(0, y0 + i, l.padEnd(w), i === 0 ? { inverse: true, bold: true } : { bgColor: 'blue', color: 'white' }),
    );
  }

  private drawStops(): void {
    const sc = this.o.screen;
    const list = this.o.stops!.list();
    sc.text(
      0,
      this.listTop,
      ` Stopped at a breakpoint: r resume  d detach  D detach stopped + run ${this.o.stops!.template}  R resume all  Esc back `.padEnd(
        sc.width,
      ),
      INV,
    );
    if (!list.length) sc.text(1, this.listTop + 1, 'no process is stopped', { dim: true });
    this.stopSel = Math.max(0, Math.min(this.stopSel, list.length - 1));
    list
      .slice(0, this.listHeight - 1)
      .forEach((s, i) =>
        sc.text(
          1,
          this.listTop + 1 + i,
          `${s.pid}  ${s.stop}  ${s.what}  (-b ${s.spec})`,
          i === this.stopSel ? INV : {},
        ),
      );
  }

  private drawStatus(): void {
    const sc = this.o.screen;
    const y = sc.height - 1;
    if (this.mode === 'prompt') {
      const p = this.prompt!;
      const s = ` ${p.kind}: ${p.q.text}▏   [C-r ${p.q.regex ? 'regex' : 'text'}] [C-t ${p.q.caseSensitive ? 'case-sensitive' : 'any case'}]  Enter ok  Esc cancel`;
      sc.text(0, y, s.padEnd(sc.width), { bgColor: 'blue', color: 'white' });
      return;
    }
    const st = this.o.stats();
    const v = this.o.view;
    const held = this.o.store;
    const stopped = this.o.stops?.list().length ?? 0;
    const parts = [
      ` ${st.execs} execs  ${st.failed === null ? 'successful only' : `${st.failed} failed`}  `,
      `lost ${st.lost}`,
      `${held.dropped ? `  dropped ${held.dropped} (history cap)` : ''}${stopped ? `  ${stopped} STOPPED (b)` : ''}  │ ${v.mode} │ ${v.follow ? 'follow' : 'paused'}` +
        `${v.filter ? ` │ filter ${describeQuery(v.filter)}` : ''}${v.failedOnly ? ' │ failures' : ''}${v.search ? ` │ search ${describeQuery(v.search)}` : ''} │ `,
    ];
    let x = sc.text(0, y, parts[0]!, INV);
    x = sc.text(x, y, parts[1]!, st.lost > 0 ? { inverse: true, color: 'red', bold: true } : INV);
    x = sc.text(x, y, parts[2]!, INV);
    sc.text(
      x,
      y,
      `${v.message || '? help  q quit'} `.padEnd(Math.max(0, sc.width - x)),
      v.message ? { inverse: true, bold: true } : INV,
    );
  }
}
