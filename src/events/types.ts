/** Event types: what the decoder produces and the formatters consume (JSON schema 2, docs/json-schema.md). */

export interface RawExec {
  kind: 'exec';
  cpu: number;
  /** per-CPU record sequence (a u64 in the record; as a number it is exact below 2^53) */
  seq: number;
  execId: bigint;
  tsNs: bigint;
  enterTsNs: bigint;
  pid: number;
  tid: number;
  ppid: number;
  ret: number;
  flags: number;
  syscall: number;
  atFd: number;
  atFlags: number;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  argvLen: number;
  envLen: number;
  argvTotal: number;
  envTotal: number;
  nfds: number;
  nchunks: number;
  comm: Buffer;
  oldComm: Buffer;
  /** pid in the process's own pid namespace, and that namespace's depth (0: initial) */
  nsPid: number;
  nsLevel: number;
  /** the env block's hash (env dedupe, bpf/lib/envhash.bpf.h): 0 none; with ExecFlag.ENV_REF only the hash came */
  envHash: bigint;
  /** cgroup v2 id at the exec (0: unknown) */
  cgroupId: bigint;
}

export interface RawChunk {
  kind: 'chunk';
  cpu: number;
  seq: number;
  execId: bigint;
  field: number;
  offset: number;
  data: Buffer; // a copy (empty for an FDS chunk: see fd)
  /** FDS chunks: the fd, decoded from the record (null: too short to hold one) */
  fd?: FdInfo | null;
}

export interface RawFork {
  kind: 'fork';
  cpu: number;
  seq: number;
  tsNs: bigint;
  parentPid: number;
  childPid: number;
}

export interface RawExit {
  kind: 'exit';
  cpu: number;
  seq: number;
  tsNs: bigint;
  pid: number;
  exitCode: number;
}

export type RawRecord = RawExec | RawChunk | RawFork | RawExit;

export interface FdInfo {
  fd: number;
  path: Buffer;
  flags: number;
  ino: bigint;
  dev: number;
  mode: number;
  /** open at entry with FD_CLOEXEC, so closed by the exec */
  cloexec: boolean;
}

/** the fields of the commit record an assembled exec keeps as they are */
export const EXEC_RECORD_FIELDS = [
  'execId',
  'tsNs',
  'enterTsNs',
  'pid',
  'tid',
  'ppid',
  'ret',
  'flags',
  'syscall',
  'atFd',
  'atFlags',
  'uid',
  'gid',
  'euid',
  'egid',
  'comm',
  'oldComm',
  'nsPid',
  'nsLevel',
  'cgroupId',
  'argvTotal',
  'envTotal',
] as const satisfies readonly (keyof RawExec)[];

/** One exec, assembled from its chunks (bytes kept raw; formatters decide on text). */
/** argvTotal/envTotal when the size could not be measured (EL_SIZE_UNKNOWN in bpf/include/execlens_event.h) */
export const SIZE_UNKNOWN = 0xffffffff;

export interface ExecEvent extends Pick<RawExec, (typeof EXEC_RECORD_FIELDS)[number]> {
  /** filename as passed to the syscall (null if the entry was not seen) */
  filename: Buffer | null;
  /** argv as the caller passed it (#! rewriting undone) */
  argv: Buffer[];
  env: Buffer[] | null;
  /** interpreter argv from #! (or binfmt_misc), e.g. ['/bin/sh'] */
  interpreter: Buffer[] | null;
  cwd: Buffer | null;
  /** the file the new image runs (mm->exe_file, /proc/PID/exe), null for a failed exec */
  exe: Buffer | null;
  fds: FdInfo[];
  /** items of a failed exec's argv/env that could not be read (an empty string stands in their place) */
  unreadable: { argv: number[]; env: number[] };
  /** chunk records announced by the BPF side but not received */
  missingChunks: number;
  /** while flags has ENV_REF (inside the Assembler only): the hash whose block is this exec's env; else 0 */
  envHash?: bigint;
}
