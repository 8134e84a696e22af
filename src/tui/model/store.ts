/**
 * Every exec the TUI holds, newest last, with what the list needs around it: the exec that is its parent in
 * the process tree, its children, and the exit status of its process once known. History is bounded (the
 * issue's 10,000 execs/s for a minute would not fit in memory with their environments): the oldest execs
 * are dropped when either cap is passed, and the count of dropped ones is kept so the screen can show it.
 */
import { splitNul } from '../../events/decode.js';
import type { ExecEvent } from '../../events/types.js';
import type { ExecItem } from '../../output/sink.js';

export interface Row {
  /** position in the whole run's sequence (0 = the first exec): stable while the row is held */
  id: number;
  /** the exec with its environment left out (ev.env null): it is kept as one block, see itemOf */
  item: ExecItem;
  /** the environment, NUL-terminated entries in one buffer (one object instead of one per variable); null: none captured */
  envBlock: Buffer | null;
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

/**
 * What a row costs in the heap besides its bytes, measured with bench/tui-load.ts (RSS against heldBytes):
 * the row, the event and its fixed buffers; each further Buffer object (an argv item, an fd) costs ~100 bytes.
 */
const ROW_OVERHEAD = 1200;
const BUFFER_OVERHEAD = 100;

function sizeOf(x: ExecItem, blockBytes: number): number {
  const ev = x.ev;
  // every byte field is a view of one block: its length is the bytes; each view is an object
  let n = ROW_OVERHEAD + blockBytes;
  n += (ev.argv.length + ev.fds.length * 2) * BUFFER_OVERHEAD;
  const d = x.diff;
  if (d)
    for (const list of [d.added, d.changed, d.removed])
      for (const e of list) n += JSON.stringify(e).length + BUFFER_OVERHEAD;
  return n;
}

/**
 * Rows' bytes, carved one after the other from 256 KiB slabs. Rows leave in the order they came, so a slab
 * is freed with its last row: what is held is the rows' bytes plus at most one slab, and a row costs no
 * ArrayBuffer of its own (creating one per exec was a third of the ingestion time).
 */
export class Arena {
  private slab = Buffer.alloc(0);
  private at = 0;
  static readonly SLAB = 256 << 10;

  alloc(n: number): Buffer {
    if (n > Arena.SLAB / 4) return Buffer.allocUnsafeSlow(n);
    if (this.at + n > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(Arena.SLAB);
      this.at = 0;
    }
    this.at += n;
    return this.slab.subarray(this.at - n, this.at);
  }
}

/**
 * The exec's bytes copied into one block (from the arena), every field a view of it. The decoder's buffers
 * are views of chunk copies that may sit in Node's shared 8 KiB pool: one small view kept alive would keep a
 * whole pool slab (and other execs' garbage in it) alive. The environment stays a block (one object, not one
 * per variable) until itemOf splits it.
 */
export function compactEvent(ev: ExecEvent, arena: Arena): { ev: ExecEvent; envBlock: Buffer | null; bytes: number } {
  const env = ev.env;
  let size =
    (ev.filename?.length ?? 0) + (ev.cwd?.length ?? 0) + (ev.exe?.length ?? 0) + ev.comm.length + ev.oldComm.length;
  for (const a of ev.argv) size += a.length;
  for (const i of ev.interpreter ?? []) size += i.length;
  for (const f of ev.fds) size += f.path.length;
  for (const e of env ?? []) size += e.length + 1;
  const block = arena.alloc(size);
  let at = 0;
  const put = (b: Buffer): Buffer => {
    b.copy(block, at);
    at += b.length;
    return block.subarray(at - b.length, at);
  };
  const out: ExecEvent = {
    ...ev,
    filename: ev.filename && put(ev.filename),
    cwd: ev.cwd && put(ev.cwd),
    exe: ev.exe && put(ev.exe),
    comm: put(ev.comm),
    oldComm: put(ev.oldComm),
    argv: ev.argv.map(put),
    interpreter: ev.interpreter && ev.interpreter.map(put),
    fds: ev.fds.map((f) => ({ ...f, path: put(f.path) })),
    env: null,
  };
  if (!env) return { ev: out, envBlock: null, bytes: size };
  const start = at;
  for (const e of env) {
    e.copy(block, at);
    at += e.length;
    block[at++] = 0;
  }
  return { ev: out, envBlock: block.subarray(start, at), bytes: size };
}

/** the exec as the pipeline gave it, its environment split again (details, copy) */
export function itemOf(r: Row): ExecItem {
  return { ev: { ...r.item.ev, env: r.envBlock ? splitNul(r.envBlock) : null }, diff: r.item.diff };
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
  private readonly arena = new Arena();
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
    const { ev, envBlock, bytes } = compactEvent(item.ev, this.arena);
    const kept: ExecItem = { ev, diff: item.diff };
    const row: Row = {
      id,
      item: kept,
      envBlock,
      parent: this.parentOf(item.ev.pid, item.ev.ppid),
      children: [],
      exitStatus: null,
      bytes: sizeOf(kept, bytes),
    };
    this.evictFor(row.bytes);
    this.ring[id % this.limits.maxRows] = row;
    this.next++;
    this.bytes += row.bytes;
    this.get(row.parent)?.children.push(id);
    // a failed exec leaves the process in its old image: what it does next (a PATH search's next try, its
    // children) still descends from that one, so the failed attempts are siblings, not a chain
    if (item.ev.ret === 0) this.lastExec.set(item.ev.pid, id);
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
