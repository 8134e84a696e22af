/**
 * Chunks + commit record -> ExecEvent. Also accounts for loss: per-CPU
 * record sequence gaps, chunks whose commit never came, malformed records.
 */
import { cstr, decodeRecord, pathFromComponents, splitNul } from './decode.js';
import { ExecFlag, Field } from './layout.js';
import {
  EXEC_RECORD_FIELDS,
  type ExecEvent,
  type FdInfo,
  type RawExec,
  type RawFork,
  type RawExit,
  type RawChunk,
} from './types.js';

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
}

interface Pending {
  chunks: RawChunk[];
}

export class Assembler {
  private readonly pending = new Map<bigint, Pending>();
  private readonly cpuSeq = new Map<number, { max: number; seen: number }>();
  readonly stats: AssemblyStats = {
    records: 0,
    malformed: 0,
    execs: 0,
    incompleteExecs: 0,
    seqGaps: 0,
    orphanExecs: 0,
  };

  /** Feed one ring record; returns an assembled item when one completes. */
  push(rec: Uint8Array): Assembled | null {
    this.stats.records++;
    const r = decodeRecord(rec);
    if (!r) {
      this.stats.malformed++;
      return null;
    }
    const s = this.cpuSeq.get(r.cpu);
    if (s) {
      if (r.seq > s.max) s.max = r.seq;
      s.seen++;
    } else {
      this.cpuSeq.set(r.cpu, { max: r.seq, seen: 1 });
    }
    switch (r.kind) {
      case 'chunk': {
        let p = this.pending.get(r.execId);
        if (!p) this.pending.set(r.execId, (p = { chunks: [] }));
        p.chunks.push(r);
        return null;
      }
      case 'exec': {
        const p = this.pending.get(r.execId);
        this.pending.delete(r.execId);
        this.stats.execs++;
        const ev = buildExec(r, p?.chunks ?? []);
        if (ev.missingChunks > 0) this.stats.incompleteExecs++;
        return { kind: 'exec', ev };
      }
      default:
        return r;
    }
  }

  /** Close the books at the end of a trace. */
  finish(): AssemblyStats {
    this.stats.orphanExecs += this.pending.size;
    this.pending.clear();
    this.stats.seqGaps = this.gapsSoFar();
    return this.stats;
  }

  /** records missing from the sequences so far (a live count: execlens tui's status bar) */
  gapsSoFar(): number {
    let gaps = 0;
    for (const { max, seen } of this.cpuSeq.values()) gaps += max + 1 - seen;
    return Math.max(0, gaps);
  }
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
  fds.sort((a, b) => a.fd - b.fd);
  const kept = Object.fromEntries(EXEC_RECORD_FIELDS.map((k) => [k, r[k]])) as Pick<
    RawExec,
    (typeof EXEC_RECORD_FIELDS)[number]
  >;
  return {
    ...kept,
    filename: filename ? cstr(filename) : bprmFile ? cstr(bprmFile) : filenameRaw ? cstr(filenameRaw) : null,
    argv,
    env: envBlock ? splitNul(envBlock) : emptyEnv(r) ? [] : null,
    interpreter,
    cwd: cwd ? pathFromComponents(cwd, (r.flags & ExecFlag.CWD_TRUNC) !== 0) : null,
    exe: exe && r.ret === 0 ? pathFromComponents(exe, (r.flags & ExecFlag.EXE_TRUNC) !== 0) : null,
    fds,
    unreadable: { argv: indexes(f[Field.ARGV_FAULT]), env: indexes(f[Field.ENV_FAULT]) },
    missingChunks: Math.max(0, r.nchunks - chunks.length),
  };
}
