/**
 * Every exec the TUI holds, newest last, with what the list needs around it: the exec that is its parent in
 * the process tree, its children, and the exit status of its process once known. History is bounded (the
 * issue's 10,000 execs/s for a minute would not fit in memory with their environments): the oldest execs
 * are dropped when either cap is passed, and the count of dropped ones is kept so the screen can show it.
 */
import type { ExecItem } from '../../output/sink.js';

export interface Row {
  /** position in the whole run's sequence (0 = the first exec): stable while the row is held */
  id: number;
  item: ExecItem;
  /** the exec this one descends from: the same process's previous exec, else its nearest ancestor's last (-1: none) */
  parent: number;
  children: number[];
  /** raw wait status of the process once it exited (after this exec), null while running or unknown */
  exitStatus: number | null;
  bytes: number;
}

export interface StoreLimits {
  /** most execs held */
  maxRows: number;
  /** most bytes of exec data (argv, env, paths) held */
  maxBytes: number;
}

/** the defaults, documented in docs/tui.md */
export const DEFAULT_LIMITS: StoreLimits = { maxRows: 200_000, maxBytes: 256 << 20 };

/** what a row costs besides its bytes: the objects of the event, its row and list entries (measured roughly) */
const ROW_OVERHEAD = 600;

function sizeOf(x: ExecItem): number {
  const ev = x.ev;
  let n = ROW_OVERHEAD + (ev.filename?.length ?? 0) + (ev.cwd?.length ?? 0);
  for (const a of ev.argv) n += a.length + 16;
  for (const e of ev.env ?? []) n += e.length + 16;
  for (const f of ev.fds) n += f.path.length + 48;
  return n;
}

export class ExecStore {
  private readonly ring: (Row | undefined)[];
  private first = 0;
  private next = 0;
  private bytes = 0;
  /** rows dropped by the caps */
  dropped = 0;
  /** pid -> the parent pid from the fork records */
  private readonly parentPid = new Map<number, number>();
  /** pid -> id of its latest exec */
  private readonly lastExec = new Map<number, number>();
  /** called for rows whose exit status came (the filter may now match them) */
  onExitStatus: ((r: Row) => void) | null = null;

  constructor(readonly limits: StoreLimits = DEFAULT_LIMITS) {
    this.ring = new Array<Row | undefined>(limits.maxRows);
  }

  get firstId(): number {
    return this.first;
  }
  /** one past the newest id */
  get endId(): number {
    return this.next;
  }
  get size(): number {
    return this.next - this.first;
  }
  get heldBytes(): number {
    return this.bytes;
  }

  get(id: number): Row | undefined {
    if (id < this.first || id >= this.next) return undefined;
    return this.ring[id % this.limits.maxRows];
  }

  fork(parent: number, child: number): void {
    this.parentPid.set(child, parent);
  }

  exit(pid: number, status: number): void {
    const id = this.lastExec.get(pid);
    const r = id === undefined ? undefined : this.get(id);
    if (r && r.item.ev.pid === pid) {
      r.exitStatus = status;
      this.onExitStatus?.(r);
    }
    this.lastExec.delete(pid);
    this.parentPid.delete(pid);
  }

  add(item: ExecItem): Row {
    const id = this.next;
    const row: Row = { id, item, parent: this.parentOf(item.ev.pid, item.ev.ppid), children: [], exitStatus: null, bytes: sizeOf(item) };
    this.evictFor(row.bytes);
    this.ring[id % this.limits.maxRows] = row;
    this.next++;
    this.bytes += row.bytes;
    this.get(row.parent)?.children.push(id);
    // a failed exec leaves the process in its old image: its children still descend from that one
    if (item.ev.ret === 0 || !this.lastExec.has(item.ev.pid)) this.lastExec.set(item.ev.pid, id);
    return row;
  }

  private parentOf(pid: number, ppid: number): number {
    const own = this.lastExec.get(pid);
    if (own !== undefined) return own;
    // up the fork records (bounded: a loop in them must not hang the UI)
    let p: number | undefined = this.parentPid.get(pid) ?? ppid;
    for (let i = 0; p !== undefined && p > 0 && i < 64; i++) {
      const e = this.lastExec.get(p);
      if (e !== undefined) return e;
      p = this.parentPid.get(p);
    }
    return -1;
  }

  private evictFor(incoming: number): void {
    while (this.size > 0 && (this.size >= this.limits.maxRows || this.bytes + incoming > this.limits.maxBytes)) {
      const r = this.ring[this.first % this.limits.maxRows]!;
      this.ring[this.first % this.limits.maxRows] = undefined;
      this.bytes -= r.bytes;
      if (this.lastExec.get(r.item.ev.pid) === r.id) this.lastExec.delete(r.item.ev.pid);
      this.first++;
      this.dropped++;
    }
  }

  /** the ancestors of a row that are still held, nearest first */
  ancestors(id: number): number[] {
    const out: number[] = [];
    for (let p = this.get(id)?.parent ?? -1; p >= this.first; p = this.get(p)?.parent ?? -1) out.push(p);
    return out;
  }
}
