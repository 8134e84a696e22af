/**
 * Chunks + commit record -> ExecEvent. Also accounts for loss: per-CPU
 * record sequence gaps, chunks whose commit never came, malformed records.
 */
import { cstr, decodeRecord, pathFromComponents, splitNul } from './decode.js';
import { EnvCache, type EnvCacheStats, type EnvForget } from './envcache.js';
import { ExecFlag, Field } from './layout.js';
import { type ExecEvent, type FdInfo, type RawExec, type RawFork, type RawExit, type RawChunk } from './types.js';

export type Assembled = { kind: 'exec'; ev: ExecEvent } | RawFork | RawExit;

export interface AssemblyStats {
  records: number;
  malformed: number;
  execs: number;
  /** execs whose chunks did not all arrive */
  incompleteExecs: number;
  /** records missing according to the per-CPU sequence numbers */
  seqGaps: number;
  /** exec ids with chunks but no commit when the trace ended */
  orphanExecs: number;
  /** env dedupe (src/events/envcache.ts): blocks sent whole, references put back, blocks dropped, and
   * references that found no block (their exec's env is lost: CHUNK_LOST, counted in incompleteExecs too) */
  env: EnvCacheStats & { unresolved: number };
}

interface Pending {
  chunks: RawChunk[];
}

/**
 * How many records may queue behind an env reference whose block has not come. The kernel side makes the
 * block come first (bpf/lib/envhash.bpf.h: the hash is remembered only after its exec record is in the
 * ring), so a wait is not expected; should one happen, the items behind it wait too (a process's execs and
 * exits stay in order), up to this many, then the reference is given up and counted.
 */
export const ENV_REF_WAIT_RECORDS = 4096;

export class Assembler {
  /*
   * Chunks wait here for their exec's commit record. A BPF program writes one exec's chunks and commit back to
   * back on one CPU, so they mostly arrive together: the exec they belong to is kept out of the Map (curId,
   * cur), which is used only when another CPU's records come in between (a BigInt-keyed Map lookup per record
   * was ~7 % of decoding).
   */
  private readonly pending = new Map<bigint, Pending>();
  private curId: bigint | null = null;
  private cur: RawChunk[] = [];
  /** per-CPU sequence accounting: an array for the CPU numbers a machine has, a Map beyond (a bad record) */
  private readonly cpuSeq: ({ max: number; seen: number } | undefined)[] = [];
  private readonly cpuSeqFar = new Map<number, { max: number; seen: number }>();
  private readonly envs: EnvCache;
  /** items held behind an env reference not resolved yet (first in, first out), and those ready meanwhile */
  private readonly held: Assembled[] = [];
  private ready: Assembled[] = [];
  readonly stats: AssemblyStats;

  /** envForget: how the kernel is made to forget an env hash whose block the cache drops (eBPF) */
  constructor(o: { envCacheBytes?: number; envRefWaitRecords?: number; envForget?: EnvForget | null } = {}) {
    this.envs = new EnvCache(o.envCacheBytes, o.envForget ?? null);
    this.waitRecords = o.envRefWaitRecords ?? ENV_REF_WAIT_RECORDS;
    this.stats = {
      records: 0,
      malformed: 0,
      execs: 0,
      incompleteExecs: 0,
      seqGaps: 0,
      orphanExecs: 0,
      env: Object.assign(this.envs.stats, { unresolved: 0 }),
    };
  }

  private readonly waitRecords: number;

  /**
   * Feed one ring record; returns an assembled item when one completes. Items held behind an unresolved env
   * reference come out later, in order, from takeReady() (and flushHeld() at the end).
   */
  push(rec: Uint8Array): Assembled | null {
    const item = this.assemble(rec);
    if (!item) return null;
    if (this.held.length === 0 && !awaitsEnv(item)) return item;
    this.held.push(item);
    this.release(false);
    return null;
  }

  /** items that came out of the wait for an env block (call after push) */
  takeReady(): Assembled[] {
    if (this.ready.length === 0) return NONE;
    const r = this.ready;
    this.ready = [];
    return r;
  }

  /** at the end of a trace: every held item, references still unresolved counted and marked lost */
  flushHeld(): Assembled[] {
    this.release(true);
    return this.takeReady();
  }

  /** move held items to ready up to the first reference still waiting (all of them when giving up) */
  private release(giveUp: boolean): void {
    while (this.held.length > 0) {
      const head = this.held[0]!;
      if (awaitsEnv(head) && !this.resolve(head.ev)) {
        if (!giveUp && this.held.length - 1 <= this.waitRecords) return; // items behind it, within the bound
        this.unresolved(head.ev);
      }
      this.ready.push(this.held.shift()!);
    }
  }

  /** an ENV_REF exec's env from the cache; false: not there (yet) */
  private resolve(ev: ExecEvent): boolean {
    const env = this.envs.get(ev.envHash ?? 0n, ev.envTotal);
    if (!env) return false;
    ev.env = env;
    ev.flags &= ~ExecFlag.ENV_REF;
    ev.envHash = 0n;
    return true;
  }

  private unresolved(ev: ExecEvent): void {
    ev.flags = (ev.flags & ~ExecFlag.ENV_REF) | ExecFlag.CHUNK_LOST;
    ev.env = null;
    ev.envHash = 0n;
    this.stats.env.unresolved++;
    this.stats.incompleteExecs++;
  }

  /** a whole block that came with a hash: kept, if it came complete (else the kernel did not remember it) */
  private remember(ev: ExecEvent, r: RawExec): void {
    if (r.envHash === 0n || ev.flags & ExecFlag.ENV_REF || !ev.env) return;
    if (ev.missingChunks > 0 || r.envLen !== r.envTotal) return;
    if (ev.flags & (ExecFlag.CHUNK_LOST | ExecFlag.ENV_FAULT | ExecFlag.ENV_TRUNC)) return;
    this.envs.put(r.envHash, ev.env, r.envTotal);
  }

  private assemble(rec: Uint8Array): Assembled | null {
    this.stats.records++;
    const r = decodeRecord(rec);
    if (!r) {
      this.stats.malformed++;
      return null;
    }
    this.count(r.cpu, r.seq);
    switch (r.kind) {
      case 'chunk': {
        if (r.execId === this.curId) this.cur.push(r);
        else this.collect(r);
        return null;
      }
      case 'exec': {
        const chunks = this.takeChunks(r.execId);
        this.stats.execs++;
        const ev = buildExec(r, chunks);
        if (ev.missingChunks > 0) this.stats.incompleteExecs++;
        this.envs.expire(r.tsNs);
        this.remember(ev, r);
        // the common case: the block is here already (no wait, no queue)
        if (ev.flags & ExecFlag.ENV_REF && this.held.length === 0) this.resolve(ev);
        return { kind: 'exec', ev };
      }
      default:
        return r;
    }
  }

  /** one more record seen of a CPU's sequence */
  private count(cpu: number, seq: number): void {
    const s = cpu < CPU_SLOTS ? this.cpuSeq[cpu] : this.cpuSeqFar.get(cpu);
    if (s) {
      if (seq > s.max) s.max = seq;
      s.seen++;
    } else if (cpu < CPU_SLOTS) this.cpuSeq[cpu] = { max: seq, seen: 1 };
    else this.cpuSeqFar.set(cpu, { max: seq, seen: 1 });
  }

  /** a chunk of an exec other than the current one: the current one parked, this one's made current */
  private collect(r: RawChunk): void {
    if (this.curId !== null) this.pending.set(this.curId, { chunks: this.cur });
    const earlier = this.pending.get(r.execId);
    if (earlier) this.pending.delete(r.execId);
    this.curId = r.execId;
    this.cur = earlier?.chunks ?? [];
    this.cur.push(r);
  }

  /** the chunks that came for an exec, now that its commit record is here */
  private takeChunks(execId: bigint): RawChunk[] {
    if (execId === this.curId) {
      const c = this.cur;
      this.curId = null;
      this.cur = [];
      return c;
    }
    if (this.pending.size === 0) return [];
    const p = this.pending.get(execId);
    if (!p) return [];
    this.pending.delete(execId);
    return p.chunks;
  }

  /** Close the books at the end of a trace. */
  finish(): AssemblyStats {
    this.stats.orphanExecs += this.pending.size + (this.curId !== null ? 1 : 0);
    this.pending.clear();
    this.curId = null;
    this.cur = [];
    this.stats.seqGaps = this.gapsSoFar();
    return this.stats;
  }

  /** records missing from the sequences so far (a live count: execlens tui's status bar) */
  gapsSoFar(): number {
    let gaps = 0;
    for (const s of this.cpuSeq) if (s) gaps += s.max + 1 - s.seen;
    for (const { max, seen } of this.cpuSeqFar.values()) gaps += max + 1 - seen;
    return Math.max(0, gaps);
  }
}

const NONE: Assembled[] = [];

/** CPU numbers below this are counted in an array (NR_CPUS is at most 8,192 on the arches execlens runs on) */
const CPU_SLOTS = 8192;

/** an exec whose env is a reference not put back yet */
function awaitsEnv(a: Assembled): a is { kind: 'exec'; ev: ExecEvent } {
  return a.kind === 'exec' && (a.ev.flags & ExecFlag.ENV_REF) !== 0;
}

/** chunks of one exec grouped by field number, in one pass */
function byField(chunks: RawChunk[]): (RawChunk[] | undefined)[] {
  const out: (RawChunk[] | undefined)[] = [];
  for (const c of chunks) (out[c.field] ??= []).push(c);
  return out;
}

function joinField(fields: (RawChunk[] | undefined)[], field: number): Buffer | null {
  const parts = fields[field];
  if (!parts || parts.length === 0) return null;
  if (parts.length === 1) return parts[0]!.data;
  parts.sort((a, b) => a.offset - b.offset);
  return Buffer.concat(parts.map((p) => p.data));
}

/**
 * Undo the kernel's #! rewriting of argv. For a script the new image's argv is
 * [interp, (interp-arg), script-path, argv[1..]]: the caller's argv[0] is gone,
 * so it comes from the ARGV0 chunk read at syscall entry.
 */
export function splitInterpreter(
  block: Buffer[],
  bprmFile: Buffer | null,
  argv0: Buffer | null,
): {
  argv: Buffer[];
  interpreter: Buffer[] | null;
} {
  if (!bprmFile) return { argv: block, interpreter: null };
  let k = -1;
  for (let i = 1; i < block.length; i++) {
    if (block[i]!.equals(bprmFile)) {
      k = i;
      break;
    }
  }
  if (k < 0) return { argv: block, interpreter: null };
  return { argv: [argv0 ?? block[k]!, ...block.slice(k + 1)], interpreter: block.slice(0, k) };
}

/**
 * An exec with no environment at all (`env -i`, `execve(path, argv, NULL)`): the record says the block was
 * empty (env_total 0), not that it was lost — unless the commit was skipped (then nothing of env was read).
 */
function emptyEnv(r: RawExec): boolean {
  return r.envTotal === 0 && !(r.flags & (ExecFlag.COMMIT_MISSED | ExecFlag.ENV_FAULT | ExecFlag.CHUNK_LOST));
}

/** the item indexes that marks (empty chunks) name, in order */
function indexes(marks: RawChunk[] | undefined): number[] {
  return marks ? [...new Set(marks.map((c) => c.offset))].sort((a, b) => a - b) : [];
}

function ascending(fds: FdInfo[]): boolean {
  for (let i = 1; i < fds.length; i++) if (fds[i - 1]!.fd > fds[i]!.fd) return false;
  return true;
}

export function buildExec(r: RawExec, chunks: RawChunk[]): ExecEvent {
  const f = byField(chunks);
  // A caller's string that could not be read at syscall entry (BPF cannot fault a page in: on riscv64, a page
  // untouched since fork) came as an empty chunk with its fault flag: for a successful exec the kernel's own
  // copy of the filename (bprm->filename) stands in; an empty argv[0] is no argv[0].
  const filenameRaw = joinField(f, Field.FILENAME);
  const filename = filenameRaw && !(r.flags & ExecFlag.FILENAME_FAULT) ? filenameRaw : null;
  const argv0Raw = joinField(f, Field.ARGV0);
  const argv0 = argv0Raw && argv0Raw.length > 0 && argv0Raw[0] !== 0 ? argv0Raw : null;
  const argvBlock = joinField(f, Field.ARGV);
  const envBlock = joinField(f, Field.ENV);
  const bprmFile = joinField(f, Field.BPRM_FILE);
  const interp = joinField(f, Field.INTERP);
  const cwd = joinField(f, Field.CWD);
  const exe = joinField(f, Field.EXE);
  let argv = argvBlock ? splitNul(argvBlock) : [];
  // the kernel skipped the commit: all there is of argv is argv[0], read at syscall entry (flag COMMIT_MISSED)
  if (!argvBlock && r.flags & ExecFlag.COMMIT_MISSED && argv0) argv = [cstr(argv0)];
  let interpreter: Buffer[] | null = null;
  if (interp && r.ret === 0) {
    ({ argv, interpreter } = splitInterpreter(argv, bprmFile ? cstr(bprmFile) : null, argv0 ? cstr(argv0) : null));
  }
  const fds: FdInfo[] = [];
  for (const c of f[Field.FDS] ?? []) if (c.fd) fds.push(c.fd); // decoded with the record
  // the kernel walks the fd table in order: sorted already, but for fds whose chunks came out of order
  if (!ascending(fds)) fds.sort((a, b) => a.fd - b.fd);
  // the record's own fields named one by one: a spread of Object.fromEntries cost ~26 us per exec, most of
  // buildExec (the compiler checks the list against EXEC_RECORD_FIELDS through ExecEvent)
  return {
    execId: r.execId,
    tsNs: r.tsNs,
    enterTsNs: r.enterTsNs,
    pid: r.pid,
    tid: r.tid,
    ppid: r.ppid,
    ret: r.ret,
    flags: r.flags,
    syscall: r.syscall,
    atFd: r.atFd,
    atFlags: r.atFlags,
    uid: r.uid,
    gid: r.gid,
    euid: r.euid,
    egid: r.egid,
    comm: r.comm,
    oldComm: r.oldComm,
    nsPid: r.nsPid,
    nsLevel: r.nsLevel,
    cgroupId: r.cgroupId,
    argvTotal: r.argvTotal,
    envTotal: r.envTotal,
    filename: filename ? cstr(filename) : bprmFile ? cstr(bprmFile) : filenameRaw ? cstr(filenameRaw) : null,
    argv,
    env: envBlock ? splitNul(envBlock) : emptyEnv(r) ? [] : null,
    interpreter,
    cwd: cwd ? pathFromComponents(cwd, (r.flags & ExecFlag.CWD_TRUNC) !== 0) : null,
    exe: exe && r.ret === 0 ? pathFromComponents(exe, (r.flags & ExecFlag.EXE_TRUNC) !== 0) : null,
    fds,
    unreadable: { argv: indexes(f[Field.ARGV_FAULT]), env: indexes(f[Field.ENV_FAULT]) },
    missingChunks: Math.max(0, r.nchunks - chunks.length),
    // env dedupe: the Assembler puts the block back (EnvCache) and sets it to 0 (always present: one object
    // shape for every event; neither `delete` nor a conditional spread, which cost the formatters their speed)
    envHash: r.flags & ExecFlag.ENV_REF ? r.envHash : 0n,
  };
}
