/** Binary ring-buffer record -> RawRecord. Never throws: malformed input returns null. */
import { CHUNK, EXEC, EXIT, FD, FORK, Field, HDR, RecKind } from './layout.js';
import type { FdInfo, RawChunk, RawExec, RawRecord } from './types.js';

/*
 * Records are views into one big buffer (the mmap'd ring, a raw file): one
 * DataView per underlying buffer, addressed at the record's byte offset,
 * instead of a new DataView per record (decoding is allocation-bound).
 */
class RecordView {
  private buf: ArrayBufferLike | null = null;
  private v: DataView = new DataView(new ArrayBuffer(0));
  private base = 0;
  at(rec: Uint8Array): this {
    if (rec.buffer !== this.buf) {
      this.buf = rec.buffer;
      this.v = new DataView(rec.buffer);
    }
    this.base = rec.byteOffset;
    return this;
  }
  getUint32(o: number, le: boolean): number {
    return this.v.getUint32(this.base + o, le);
  }
  getUint16(o: number, le: boolean): number {
    return this.v.getUint16(this.base + o, le);
  }
  getInt32(o: number, le: boolean): number {
    return this.v.getInt32(this.base + o, le);
  }
  getBigUint64(o: number, le: boolean): bigint {
    return this.v.getBigUint64(this.base + o, le);
  }
}
const reader = new RecordView();

function dv(rec: Uint8Array): RecordView {
  return reader.at(rec);
}

/**
 * Below this many bytes a copy is a JS byte loop: Buffer#copy and TypedArray#set go through Node's argument
 * checks and a view per call, which cost more than the copy for the short strings most chunks are (comm,
 * filename, cwd components, a shell's argv). Measured on the recorded fixture: decode 10–15 % faster per exec
 * at 256 than with no loop; 64 and 1,024 were no better (bench/results/decode-profile-2026-12-04.md).
 */
const LOOP_COPY_MAX = 256;

/** A copy of bytes [start, end) of rec, in one allocation from Node's pool (no view allocated per copy). */
function copyOut(rec: Uint8Array, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  if (end - start <= LOOP_COPY_MAX) {
    for (let i = start, o = 0; i < end; i++, o++) out[o] = rec[i]!;
    return out;
  }
  if (rec instanceof Buffer) rec.copy(out, 0, start, end);
  else out.set(new Uint8Array(rec.buffer, rec.byteOffset + start, end - start));
  return out;
}

/** the index of the first NUL in rec[start, end), or end */
function nulAt(rec: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) if (rec[i] === 0) return i;
  return end;
}

const EMPTY = Buffer.alloc(0);

/** The el_fd at the start of an FDS chunk's payload, its path from leaf-first components (null: too short). */
function decodeFd(rec: Uint8Array, v: RecordView, len: number): FdInfo | null {
  if (len < FD.size) return null;
  const at = CHUNK.size;
  const pathLen = Math.min(v.getUint16(at + FD.path_len, true), len - FD.size);
  return {
    fd: v.getInt32(at + FD.fd, true),
    flags: v.getUint32(at + FD.f_flags, true),
    ino: v.getBigUint64(at + FD.ino, true),
    dev: v.getUint32(at + FD.dev, true),
    mode: v.getUint16(at + FD.mode, true),
    cloexec: v.getUint32(at + FD.cloexec, true) !== 0,
    path: pathLen > 0 ? pathOfComponents(rec, at + FD.size, at + FD.size + pathLen, false) : EMPTY,
  };
}

/** what stands for the components a walk could not reach: "…/a/b" reads as cut, never as an absolute path */
export const CUT_MARK = Buffer.from('\u2026');

/**
 * Path from leaf-first NUL-terminated components, built with one allocation (a copy). `cut`: the walk ran
 * out of depth before the root, so the path starts with CUT_MARK instead of the root's "/".
 */
export function pathFromComponents(b: Buffer, cut = false): Buffer {
  return pathOfComponents(b, 0, b.length, cut);
}

const SLASH = 0x2f;

/**
 * pathFromComponents of bytes [start, end) of b: two passes over the bytes (count, then copy the components
 * from the last one, the root's child, to the first, the leaf), no arrays, no view of the input.
 */
function pathOfComponents(b: Uint8Array, start: number, end: number, cut: boolean): Buffer {
  let total = 0;
  let prev = 0;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    // a component starts where a non-NUL byte follows a NUL (or the start): one "/" for each
    if (c !== 0) total += prev === 0 ? 2 : 1;
    prev = c;
  }
  if (total === 0) return Buffer.from(cut ? CUT_MARK : ROOT);
  const out = Buffer.allocUnsafe(total + (cut ? CUT_MARK.length : 0));
  let o = cut ? CUT_MARK.copy(out, 0) : 0;
  let i = end;
  while (i > start) {
    // skip NULs backwards to a component's last byte, then find its first
    while (i > start && b[i - 1] === 0) i--;
    if (i === start) break;
    const e = i;
    while (i > start && b[i - 1] !== 0) i--;
    out[o++] = SLASH;
    for (let k = i; k < e; k++) out[o++] = b[k]!;
  }
  return out;
}
const ROOT = Buffer.from('/');

function decodeChunk(rec: Uint8Array, v: RecordView, cpu: number, seq: number): RawChunk | null {
  if (rec.byteLength < CHUNK.size) return null;
  const len = v.getUint32(CHUNK.len, true);
  if (CHUNK.size + len > rec.byteLength) return null;
  const field = v.getUint32(CHUNK.field, true);
  // an fd is decoded here, from the record: no copy of its bytes, no view per fd
  if (field === Field.FDS)
    return {
      kind: 'chunk',
      cpu,
      seq,
      execId: v.getBigUint64(CHUNK.exec_id, true),
      field,
      offset: v.getUint32(CHUNK.offset, true),
      data: EMPTY,
      fd: decodeFd(rec, v, len),
    };
  return {
    kind: 'chunk',
    cpu,
    seq,
    execId: v.getBigUint64(CHUNK.exec_id, true),
    field,
    offset: v.getUint32(CHUNK.offset, true),
    data: copyOut(rec, CHUNK.size, CHUNK.size + len),
  };
}

function decodeExec(rec: Uint8Array, v: RecordView, cpu: number, seq: number): RawExec | null {
  // records written before ns_pid existed (recorded runs of 2026-11) end at ns_pid
  if (rec.byteLength < EXEC.ns_pid) return null;
  // records from before ns_pid/ns_level, and before env_hash (recorded runs of 2026-12-03 and earlier): the
  // caller's pid, and 0 (the env came whole)
  const hasNs = rec.byteLength >= EXEC.ns_level + 4;
  const hasEnvHash = rec.byteLength >= EXEC.env_hash + 8;
  return {
    kind: 'exec',
    cpu,
    seq,
    execId: v.getBigUint64(EXEC.exec_id, true),
    tsNs: v.getBigUint64(EXEC.ts_ns, true),
    enterTsNs: v.getBigUint64(EXEC.enter_ts_ns, true),
    pid: v.getUint32(EXEC.pid, true),
    tid: v.getUint32(EXEC.tid, true),
    ppid: v.getUint32(EXEC.ppid, true),
    ret: v.getInt32(EXEC.ret, true),
    flags: v.getUint32(EXEC.flags, true),
    syscall: v.getUint32(EXEC.syscall, true),
    atFd: v.getInt32(EXEC.at_fd, true),
    atFlags: v.getUint32(EXEC.at_flags, true),
    uid: v.getUint32(EXEC.uid, true),
    gid: v.getUint32(EXEC.gid, true),
    euid: v.getUint32(EXEC.euid, true),
    egid: v.getUint32(EXEC.egid, true),
    argvLen: v.getUint32(EXEC.argv_len, true),
    envLen: v.getUint32(EXEC.env_len, true),
    argvTotal: v.getUint32(EXEC.argv_total, true),
    envTotal: v.getUint32(EXEC.env_total, true),
    nfds: v.getUint32(EXEC.nfds, true),
    nchunks: v.getUint32(EXEC.nchunks, true),
    comm: copyOut(rec, EXEC.comm, nulAt(rec, EXEC.comm, EXEC.comm + 16)),
    oldComm: copyOut(rec, EXEC.old_comm, nulAt(rec, EXEC.old_comm, EXEC.old_comm + 16)),
    nsPid: hasNs ? v.getUint32(EXEC.ns_pid, true) : v.getUint32(EXEC.pid, true),
    nsLevel: hasNs ? v.getUint32(EXEC.ns_level, true) : 0,
    envHash: hasEnvHash ? v.getBigUint64(EXEC.env_hash, true) : 0n,
    // (records of fixtures older than the field: unknown)
    cgroupId: rec.byteLength >= EXEC.cgroup_id + 8 ? v.getBigUint64(EXEC.cgroup_id, true) : 0n,
  };
}

export function decodeRecord(rec: Uint8Array): RawRecord | null {
  if (rec.byteLength < HDR.size) return null;
  const v = dv(rec);
  const kind = v.getUint32(HDR.kind, true);
  const cpu = v.getUint32(HDR.cpu, true);
  // two u32 halves: a number without a BigInt allocation per record
  const seq = v.getUint32(HDR.seq, true) + v.getUint32(HDR.seq + 4, true) * 0x100000000;
  switch (kind) {
    case RecKind.CHUNK:
      return decodeChunk(rec, v, cpu, seq);
    case RecKind.EXEC:
      return decodeExec(rec, v, cpu, seq);
    case RecKind.FORK:
      if (rec.byteLength < FORK.size) return null;
      return {
        kind: 'fork',
        cpu,
        seq,
        tsNs: v.getBigUint64(FORK.ts_ns, true),
        parentPid: v.getUint32(FORK.parent_pid, true),
        childPid: v.getUint32(FORK.child_pid, true),
      };
    case RecKind.EXIT:
      if (rec.byteLength < EXIT.size) return null;
      return {
        kind: 'exit',
        cpu,
        seq,
        tsNs: v.getBigUint64(EXIT.ts_ns, true),
        pid: v.getUint32(EXIT.pid, true),
        exitCode: v.getInt32(EXIT.exit_code, true),
      };
    default:
      return null;
  }
}

/**
 * Bytes up to the first NUL, as a view of b, not a copy: every caller passes a chunk's data, which
 * decodeChunk copied out of the ring already (an exact-length copy: the view keeps nothing more alive).
 */
export function cstr(b: Uint8Array): Buffer {
  let i = 0;
  while (i < b.length && b[i] !== 0) i++;
  return Buffer.from(b.buffer, b.byteOffset, i);
}

/**
 * Split a NUL-separated block into strings; a final unterminated piece is kept. A JS scan rather than
 * Buffer#indexOf: one native call per argument cost more than the bytes it skipped (most arguments are short).
 */
export function splitNul(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  const n = b.length;
  for (let i = 0; i < n; i++) {
    if (b[i] === 0) {
      out.push(b.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < n) out.push(b.subarray(start));
  return out;
}
