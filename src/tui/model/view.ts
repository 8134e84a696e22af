/**
 * The exec list as the screen shows it, without the screen: flat (arrival order) or as the process tree
 * (collapse / expand), a filter that hides what does not match, a search that moves the cursor (next /
 * previous), follow mode (the cursor stays on the newest exec), scrolling, and going to an exec's parent.
 * Only the rows in the window are ever materialised: the list is virtual over the store.
 */
import { compileQuery, type Matcher, type Query } from './query.js';
import { failed, searchText } from './rowtext.js';
import type { ExecStore, Row } from './store.js';

export interface VisibleRow {
  row: Row;
  depth: number;
  /** tree mode: has children, and whether they are hidden */
  hasChildren: boolean;
  collapsed: boolean;
  selected: boolean;
  /** the search matches it */
  hit: boolean;
}

/** how often (ms) a growing tree is re-laid out; a user's action re-lays it at once */
const TREE_RELAYOUT_MS = 250;

interface TreeOrder {
  ids: number[];
  depth: number[];
  pos: Map<number, number>;
}

export class ListView {
  mode: 'flat' | 'tree' = 'flat';
  follow = true;
  /** the selected exec's id (-1: none yet) */
  cursor = -1;
  /** position of the first row in the window */
  top = 0;
  filter: Query | null = null;
  failedOnly = false;
  search: Query | null = null;
  /** the last thing to tell the user (no match, bad regex, parent not held, ...) */
  message = '';
  private filterFn: ((r: Row) => boolean) | null = null;
  private searchFn: Matcher | null = null;
  /** ids that pass the filter, ascending (from matchStart on; older ones are dropped lazily) */
  private matches: number[] = [];
  private readonly collapsed = new Set<number>();
  private tree: TreeOrder | null = null;
  private treeDirty = true;
  /** a user's action changed the layout: re-lay it at once */
  private treeForced = true;
  private treeAt = 0;

  constructor(
    private readonly store: ExecStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** a new exec arrived (after store.add) */
  added(r: Row): void {
    if (this.filterFn && this.filterFn(r)) this.matches.push(r.id);
    this.treeDirty = true;
  }

  /** a row's process ended: it may pass the filter now (failed only, or a filter on "exit N") */
  ended(r: Row): void {
    if (!this.filterFn || !this.filterFn(r)) return;
    const i = lowerBound(this.matches, r.id);
    if (this.matches[i] !== r.id) this.matches.splice(i, 0, r.id);
    this.treeDirty = true;
  }

  setFilter(q: Query | null, failedOnly = this.failedOnly): boolean {
    const c = q && q.text ? compileQuery(q) : null;
    if (c && !c.ok) {
      this.message = `bad regex: ${c.error}`;
      return false;
    }
    this.filter = c ? q : null;
    this.failedOnly = failedOnly;
    const m = c?.match;
    this.filterFn = m || failedOnly ? (r) => (!failedOnly || failed(r)) && (!m || m(searchText(r))) : null;
    this.matches = [];
    if (this.filterFn)
      for (let id = this.store.firstId; id < this.store.endId; id++)
        if (this.filterFn(this.store.get(id)!)) this.matches.push(id);
    this.relayout();
    this.message = this.filterFn ? `${this.matches.length} execs match` : '';
    return true;
  }

  setSearch(q: Query | null): boolean {
    const c = q && q.text ? compileQuery(q) : null;
    if (c && !c.ok) {
      this.message = `bad regex: ${c.error}`;
      return false;
    }
    this.search = c ? q : null;
    this.searchFn = c ? c.match : null;
    return true;
  }

  setMode(mode: 'flat' | 'tree'): void {
    this.mode = mode;
    this.relayout();
  }

  private relayout(): void {
    this.treeDirty = true;
    this.treeForced = true;
  }

  // ---- the list of positions, whatever the mode ----

  private trimMatches(): void {
    if (this.matches.length && this.matches[0]! < this.store.firstId)
      this.matches.splice(0, lowerBound(this.matches, this.store.firstId));
  }

  private order(): TreeOrder | null {
    if (this.mode !== 'tree') return null;
    if (!this.tree || this.treeForced || (this.treeDirty && this.now() - this.treeAt >= TREE_RELAYOUT_MS)) {
      this.tree = this.layoutTree();
      this.treeDirty = false;
      this.treeForced = false;
      this.treeAt = this.now();
    }
    return this.tree;
  }

  get length(): number {
    const t = this.order();
    if (t) return t.ids.length;
    if (this.filterFn) {
      this.trimMatches();
      return this.matches.length;
    }
    return this.store.size;
  }

  idAt(pos: number): number {
    const t = this.order();
    if (t) return t.ids[pos] ?? -1;
    if (this.filterFn) return this.matches[pos] ?? -1;
    return pos >= 0 && pos < this.store.size ? this.store.firstId + pos : -1;
  }

  /** -1: not in the list (filtered out, collapsed, dropped) */
  posOf(id: number): number {
    const t = this.order();
    if (t) return t.pos.get(id) ?? -1;
    if (this.filterFn) {
      this.trimMatches();
      const i = lowerBound(this.matches, id);
      return this.matches[i] === id ? i : -1;
    }
    return id >= this.store.firstId && id < this.store.endId ? id - this.store.firstId : -1;
  }

  private layoutTree(): TreeOrder {
    const s = this.store;
    const keep = this.filterFn ? this.keptByFilter() : null;
    const ids: number[] = [];
    const depth: number[] = [];
    const stack: [number, number][] = [];
    const push = (list: number[], d: number) => {
      for (let i = list.length - 1; i >= 0; i--)
        if (list[i]! >= s.firstId && (!keep || keep.has(list[i]!))) stack.push([list[i]!, d]);
    };
    for (let id = s.firstId; id < s.endId; id++) {
      const r = s.get(id)!;
      if (r.parent >= s.firstId || (keep && !keep.has(id))) continue;
      stack.push([id, 0]);
      while (stack.length) {
        const [cur, d] = stack.pop()!;
        ids.push(cur);
        depth.push(d);
        if (!this.collapsed.has(cur)) push(s.get(cur)!.children, d + 1);
      }
    }
    const pos = new Map<number, number>();
    ids.forEach((id, i) => pos.set(id, i));
    return { ids, depth, pos };
  }

  /** tree mode with a filter: the matching execs and their ancestors (the path to them) */
  private keptByFilter(): Set<number> {
    this.trimMatches();
    const keep = new Set<number>();
    const s = this.store;
    for (const id of this.matches) {
      keep.add(id);
      // up to the first ancestor already kept: each exec is walked once, however deep the tree
      for (let a = s.get(id)?.parent ?? -1; a >= s.firstId && !keep.has(a); a = s.get(a)?.parent ?? -1) keep.add(a);
    }
    return keep;
  }

  // ---- the window ----

  /** the rows to draw in a window of `height` rows; keeps the cursor in it */
  window(height: number): VisibleRow[] {
    const n = this.length;
    if (n === 0) return [];
    let cur = this.posOf(this.cursor);
    if (this.follow || cur < 0) {
      cur = this.follow ? n - 1 : Math.min(Math.max(this.top, 0), n - 1);
      this.cursor = this.idAt(cur);
    }
    if (cur < this.top) this.top = cur;
    if (cur >= this.top + height) this.top = cur - height + 1;
    this.top = Math.max(0, Math.min(this.top, n - height));
    const t = this.order();
    const out: VisibleRow[] = [];
    for (let p = this.top; p < Math.min(n, this.top + height); p++) {
      const id = this.idAt(p);
      const row = this.store.get(id)!;
      const hasChildren = t !== null && row.children.some((c) => c >= this.store.firstId);
      out.push({
        row,
        depth: t ? t.depth[p]! : 0,
        hasChildren,
        collapsed: this.collapsed.has(id),
        selected: id === this.cursor,
        hit: this.searchFn ? this.searchFn(searchText(row)) : false,
      });
    }
    return out;
  }

  selected(): Row | undefined {
    return this.store.get(this.cursor);
  }

  /** move the cursor by delta rows (clamped); moving away from the end leaves follow mode */
  move(delta: number): void {
    const n = this.length;
    if (n === 0) return;
    const cur = Math.max(0, this.posOf(this.cursor));
    const to = Math.max(0, Math.min(n - 1, cur + delta));
    this.cursor = this.idAt(to);
    this.follow = to === n - 1 && delta > 0;
  }

  home(): void {
    this.follow = false;
    this.cursor = this.idAt(0);
  }

  end(): void {
    this.follow = true;
  }

  /** the next (dir 1) or previous (-1) row the search matches, wrapping around; false: none */
  searchNext(dir: 1 | -1): boolean {
    if (!this.searchFn) {
      this.message = 'no search: / to search';
      return false;
    }
    const n = this.length;
    const start = Math.max(0, this.posOf(this.cursor));
    for (let k = 1; k <= n; k++) {
      const p = (((start + dir * k) % n) + n) % n;
      const row = this.store.get(this.idAt(p));
      if (row && this.searchFn(searchText(row))) {
        this.cursor = row.id;
        this.follow = false;
        this.message = k > 0 && (dir > 0 ? p < start : p > start) ? 'search wrapped' : '';
        return true;
      }
    }
    this.message = `not found: ${this.search?.text ?? ''}`;
    return false;
  }

  /** select the selected exec's parent exec; says why not when it cannot */
  goParent(): boolean {
    const r = this.selected();
    if (!r) return false;
    const p = this.store.get(r.parent);
    if (!p) {
      this.message =
        r.parent < 0 ? 'no parent exec: the root of what was traced' : 'parent exec dropped from the history';
      return false;
    }
    // a collapsed ancestor hides it: open the path
    for (const a of this.store.ancestors(p.id)) this.collapsed.delete(a);
    this.relayout();
    if (this.posOf(p.id) < 0) {
      this.message = 'the parent exec is hidden by the filter';
      return false;
    }
    this.cursor = p.id;
    this.follow = false;
    this.message = '';
    return true;
  }

  /** tree mode: hide (true) or show the selected exec's children */
  collapse(on: boolean): void {
    if (this.mode !== 'tree' || this.cursor < 0) return;
    if (on) this.collapsed.add(this.cursor);
    else this.collapsed.delete(this.cursor);
    this.follow = false;
    this.relayout();
  }

  toggleCollapse(): void {
    this.collapse(!this.collapsed.has(this.cursor));
  }
}

/** first index i with a[i] >= x (a ascending) */
export function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
