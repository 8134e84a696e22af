/**
 * Byte offsets of the records in bpf/include/execlens_event.h.
 * test/unit/layout.test.ts checks them against the BTF of the built object.
 */
export const LAYOUT_VERSION = 1;

export const RecKind = { EXEC: 1, CHUNK: 2, FORK: 3, EXIT: 4 } as const;

export const Field = {
  FILENAME: 1,
  ARGV0: 2,
  ARGV: 3,
  ENV: 4,
  CWD: 5,
  FDS: 6,
  BPRM_FILE: 7,
  INTERP: 8,
} as const;
export type FieldId = (typeof Field)[keyof typeof Field];

export const ExecFlag = {
  COMPAT: 1 << 0,
  ARGV_TRUNC: 1 << 1,
  ENV_TRUNC: 1 << 2,
  ARGV_FAULT: 1 << 3,
  ENV_FAULT: 1 << 4,
  FILENAME_TRUNC: 1 << 5,
  FILENAME_FAULT: 1 << 6,
  CWD_TRUNC: 1 << 7,
  FDS_TRUNC: 1 << 8,
  NO_ENTRY: 1 << 9,
  CHUNK_LOST: 1 << 10,
  FAILED_PATH: 1 << 11,
  ARGV0_TRUNC: 1 << 12,
  COMMIT_MISSED: 1 << 13,
} as const;
export type ExecFlagName = keyof typeof ExecFlag;

export const Stat = {
  RB_DROP_EXEC: 0,
  RB_DROP_CHUNK: 1,
  RB_DROP_OTHER: 2,
  ARGV_TRUNC: 3,
  ENV_TRUNC: 4,
  READ_FAULT: 5,
  STASH_FULL: 6,
  TRACE_FULL: 7,
  EXECS: 8,
  MAX: 16,
} as const;

/** struct rec_hdr */
export const HDR = { kind: 0, cpu: 4, seq: 8, size: 16 } as const;
/** struct el_chunk */
export const CHUNK = { exec_id: 16, field: 24, len: 28, offset: 32, size: 40 } as const;
/** struct el_exec */
export const EXEC = {
  exec_id: 16, ts_ns: 24, enter_ts_ns: 32, pid: 40, tid: 44, ppid: 48, ret: 52, flags: 56,
  syscall: 60, at_fd: 64, at_flags: 68, uid: 72, gid: 76, euid: 80, egid: 84, argv_len: 88,
  env_len: 92, argv_total: 96, env_total: 100, nfds: 104, nchunks: 108, comm: 112, old_comm: 128,
  ns_pid: 144, ns_level: 148, size: 152,
} as const;
/** struct el_fork */
export const FORK = { ts_ns: 16, parent_pid: 24, child_pid: 28, size: 32 } as const;
/** struct el_exit */
export const EXIT = { ts_ns: 16, pid: 24, exit_code: 28, size: 32 } as const;
/** struct el_fd */
export const FD = { fd: 0, f_flags: 4, ino: 8, dev: 16, mode: 20, path_len: 22, cloexec: 24, size: 32 } as const;
/** struct el_config (.rodata) */
export const CONFIG = { filter: 0, sleepable: 4, block_chunks: 8, capture_env: 12, capture_fds: 16, scratch_slots: 20, size: 24 } as const;

/** bpf/execlens_common.bpf.h SCRATCH_SLOTS: programs that use a scratch buffer (commit + four exit programs) */
export const SCRATCH_SLOTS = 5;

export const SYSCALL_NAMES = ['execve', 'execveat', 'unknown'] as const;
