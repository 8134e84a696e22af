/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Record layout shared by the BPF program, the ptrace helper (native/ptrace)
 * and the TypeScript decoder. src/events/layout.ts is generated
 * from the BTF of the built object (scripts/gen-layout.py: offsets, sizes and
 * the enums below); test/unit/layout.test.ts checks that it is current.
 *
 * Every record in the ring buffer starts with struct rec_hdr. An exec is
 * delivered as zero or more CHUNK records (strings and tables, each tagged
 * with the exec id and a field) followed by one EXEC record that commits it.
 * Records of one exec are emitted by one program run, in order, so the EXEC
 * record always comes after its chunks in the ring.
 */
#ifndef EXECLENS_EVENT_H
#define EXECLENS_EVENT_H

enum el_rec_kind {
	EL_REC_EXEC = 1,  /* struct el_exec: commits an exec (success or failure) */
	EL_REC_CHUNK = 2, /* struct el_chunk + data */
	EL_REC_FORK = 3,  /* struct el_fork */
	EL_REC_EXIT = 4,  /* struct el_exit */
};

enum el_field {
	EL_F_FILENAME = 1, /* filename as passed to the syscall (read at entry) */
	EL_F_ARGV0 = 2,    /* argv[0] as passed (read at entry; shebang rewrites the block) */
	EL_F_ARGV = 3,     /* NUL-separated argv strings */
	EL_F_ENV = 4,      /* NUL-separated env strings */
	EL_F_CWD = 5,      /* NUL-terminated path components, leaf first */
	EL_F_FDS = 6,      /* array of struct el_fd, each followed by its path components */
	EL_F_BPRM_FILE = 7,/* bprm->filename (what the kernel resolved) */
	EL_F_INTERP = 8,   /* bprm->interp (differs from filename for #! and binfmt_misc) */
	EL_F_EXE = 9,      /* the file the new image runs (mm->exe_file, /proc/PID/exe): path components, leaf first */
	EL_F_ARGV_FAULT = 10, /* a failed exec's argv item that could not be read: no data, offset = its index */
	EL_F_ENV_FAULT = 11,  /* the same for an env item */
};

/* el_exec.flags */
enum el_exec_flag {
	EL_EXEC_COMPAT = 1u << 0,         /* 32-bit pointers: an ia32/AArch32 syscall, or an x32 one (with EL_EXEC_X32) */
	EL_EXEC_ARGV_TRUNC = 1u << 1,     /* argv longer than the capture limit */
	EL_EXEC_ENV_TRUNC = 1u << 2,
	EL_EXEC_ARGV_FAULT = 1u << 3,     /* a read of argv failed */
	EL_EXEC_ENV_FAULT = 1u << 4,
	EL_EXEC_FILENAME_TRUNC = 1u << 5,
	EL_EXEC_FILENAME_FAULT = 1u << 6,
	EL_EXEC_CWD_TRUNC = 1u << 7,      /* deeper than the walk limit */
	EL_EXEC_FDS_TRUNC = 1u << 8,      /* more fds than reported */
	EL_EXEC_NO_ENTRY = 1u << 9,       /* no syscall-entry record (e.g. compat exec on a tracepoint plan) */
	EL_EXEC_CHUNK_LOST = 1u << 10,    /* a chunk of this exec could not be written to the ring */
	EL_EXEC_FAILED_PATH = 1u << 11,   /* argv/env read string by string from the caller (failed exec) */
	EL_EXEC_ARGV0_TRUNC = 1u << 12,
	EL_EXEC_COMMIT_MISSED = 1u << 13, /* the kernel skipped the sched_process_exec program: reported at syscall
	                                     exit from what the entry saw (filename, argv[0]); no argv/env/cwd/fds */
	EL_EXEC_EXE_TRUNC = 1u << 14,     /* the executed file's path deeper than the walk limit */
	EL_EXEC_CWD_DELETED = 1u << 15,   /* the cwd was removed (rmdir): its path is where it was */
	EL_EXEC_ARGC_ZERO = 1u << 16,     /* the caller passed no argv (NULL, or argv[0] NULL): the new image's
	                                     argv[0] "" is the kernel's own (5.18+, dcd46d897adb); none before */
	EL_EXEC_ENV_REF = 1u << 17,       /* env not sent: it is the block of hash env_hash, which this tracer's
	                                     kernel side sent whole earlier (bpf/lib/envhash.bpf.h); env_total
	                                     is its length, env_len 0. Userspace puts the block back: never in
	                                     an output */
	EL_EXEC_X32 = 1u << 18,           /* x86_64's x32 ABI (64-bit registers, 32-bit pointers; syscall number
	                                     with __X32_SYSCALL_BIT): seen at syscall entry only (set with COMPAT) */
};

/* exec_enter's abi: how the caller's pointer arrays are laid out, and what the record says of it */
enum el_abi {
	EL_ABI_NATIVE = 0,
	EL_ABI_COMPAT = 1, /* ia32, AArch32 */
	EL_ABI_X32 = 2,
};

enum el_syscall {
	EL_SYS_EXECVE = 0,
	EL_SYS_EXECVEAT = 1,
	EL_SYS_UNKNOWN = 2,
};

/* el_exec.at_fd of an execve (and of an exec whose entry was not seen): AT_FDCWD, include/uapi/linux/fcntl.h */
#define EL_AT_FDCWD (-100)
/* argv_total/env_total: the size could not be measured (a failed exec cut at the capture limit on an
 * unrolled plan, or a read that faulted while measuring): JSON argv_bytes/env_bytes null */
#define EL_SIZE_UNKNOWN 0xffffffffu
/* el_config.uid_only: no --uid */
#define EL_ANY_UID 0xffffffffu

struct rec_hdr {
	__u32 kind;     /* enum el_rec_kind */
	__u32 cpu;      /* CPU whose sequence counter stamped this record */
	__u64 seq;      /* per-CPU record sequence: a gap is a lost record */
};

struct el_chunk {
	struct rec_hdr hdr;
	__u64 exec_id;
	__u32 field;    /* enum el_field */
	__u32 len;      /* bytes of data that follow */
	__u32 offset;   /* byte offset of this chunk within the field */
	__u32 _pad;
	/* __u8 data[len]; */
};

struct el_exec {
	struct rec_hdr hdr;
	__u64 exec_id;
	__u64 ts_ns;        /* bpf_ktime_get_boot_ns() at commit */
	__u64 enter_ts_ns;  /* at syscall entry, 0 if not seen */
	__u32 pid;          /* tgid after exec */
	__u32 tid;          /* thread that called exec */
	__u32 ppid;         /* tgid of real_parent */
	__s32 ret;          /* 0 or -errno */
	__u32 flags;        /* EL_EXEC_* */
	__u32 syscall;      /* enum el_syscall */
	__s32 at_fd;        /* execveat dirfd */
	__u32 at_flags;     /* execveat flags */
	__u32 uid, gid, euid, egid;
	__u32 argv_len;     /* bytes emitted for argv (== sum of chunk lens) */
	__u32 env_len;
	__u32 argv_total;   /* bytes of argv in the process (before the capture limit) */
	__u32 env_total;
	__u32 nfds;
	__u32 nchunks;      /* chunk records emitted for this exec (all fields) */
	char comm[16];      /* after exec (task comm) */
	char old_comm[16];  /* before exec */
	__u32 ns_pid;       /* pid as seen inside the process's own pid namespace */
	__u32 ns_level;     /* depth of that namespace (0: the initial one) */
	__u64 env_hash;     /* 0: env (if any) sent whole, nothing to remember (ptrace helper, unrolled plans,
	                       failed execs). Else the env block's hash: with EL_EXEC_ENV_REF only the hash
	                       came, without it the whole block came and userspace keeps it under this hash */
	__u64 cgroup_id;    /* the task's cgroup v2 id at the exec: the inode of its /sys/fs/cgroup directory */
};

struct el_fork {
	struct rec_hdr hdr;
	__u64 ts_ns;
	__u32 parent_pid;
	__u32 child_pid;
};

struct el_exit {
	struct rec_hdr hdr;
	__u64 ts_ns;
	__u32 pid;
	__s32 exit_code;    /* raw wait status (code << 8 | signal) */
};

/* One inherited file descriptor inside an EL_F_FDS chunk. */
struct el_fd {
	__s32 fd;
	__u32 f_flags;
	__u64 ino;
	__u32 dev;
	__u16 mode;       /* i_mode: file type and permissions */
	__u16 path_len;   /* bytes of path components that follow (leaf first, NUL-terminated) */
	__u32 cloexec;    /* 1 if FD_CLOEXEC was set (only seen for fds reported at entry) */
	__u32 _pad;
};

/* Counters in the per-CPU "stats" array, indexed by these. */
enum el_stat {
	EL_ST_RB_DROP_EXEC = 0,   /* exec records that did not fit the ring */
	EL_ST_RB_DROP_CHUNK = 1,  /* chunk records that did not fit */
	EL_ST_RB_DROP_OTHER = 2,  /* fork/exit records */
	EL_ST_ARGV_TRUNC = 3,
	EL_ST_ENV_TRUNC = 4,
	EL_ST_READ_FAULT = 5,
	EL_ST_STASH_FULL = 6,     /* syscall-entry stash could not be stored */
	EL_ST_TRACE_FULL = 7,     /* traced-process map full: a child could not be followed */
	EL_ST_EXECS = 8,          /* execs committed */
	EL_ST_TRACE_STALE = 9,    /* a followed pid found naming another process (its exit unseen): dropped */
	EL_ST_SKIP_UID = 10,      /* execs not copied: another real uid than --uid's */
	EL_ST_SKIP_CGROUP = 11,   /* execs not copied: outside --cgroup's cgroup */
	EL_ST_SKIP_FAILED = 12,   /* of those two, the execs that failed */
	EL_ST_MAX = 16,
};

#endif
