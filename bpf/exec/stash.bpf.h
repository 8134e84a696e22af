/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the syscall entry saw, kept per thread until the exec is committed
 * (sched_process_exec for a success, syscall exit for a failure), and the one
 * place that turns it into the fields of an exec record.
 */
#ifndef EXECLENS_STASH_BPF_H
#define EXECLENS_STASH_BPF_H

struct stash {
	__u64 exec_id;
	__u64 ts;
	__u64 argv;
	__u64 envp;
	__u64 filename;     /* the caller's pointer: re-read at exit when the entry could not */
	__u64 open_fds;     /* bitmap of fds 0..63 at entry */
	__u64 cloexec_fds;  /* FD_CLOEXEC bitmap of fds 0..63 at entry */
	__s32 at_fd;
	__u32 at_flags;
	__u32 syscall;
	__u32 compat;
	__u32 flags;        /* EL_EXEC_* found at entry */
	__u32 nchunks;
	__u32 ns_pid;       /* the caller's pid in its pid namespace (for a failed exec's record) */
	__u32 ns_level;
	__u32 unwanted;     /* lib/select.bpf.h: the stat of the filter that refused this exec (0: wanted); nothing
	                       else is filled in, and the commit only counts it (once, whichever path commits) */
	char comm[16];
};

/* syscall entry -> commit, keyed by the calling thread id */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, STASH_MAX);
	__type(key, __u32);
	__type(value, struct stash);
} stashes SEC(".maps");

/*
 * The exec record's fields that come from the entry: its id and time, the
 * syscall and its dirfd/flags, the flags and chunk count of what the entry
 * emitted (filename, argv[0]), the comm before exec and the caller's pid in
 * its namespace (a commit reads that again from the new image). flags: what
 * the committing path adds (EL_EXEC_FAILED_PATH, EL_EXEC_COMMIT_MISSED).
 */
static __always_inline void exec_from_stash(struct el_exec *e, const struct stash *st, __u32 flags)
{
	e->exec_id = st->exec_id;
	e->enter_ts_ns = st->ts;
	e->flags = st->flags | flags;
	e->nchunks = st->nchunks;
	e->syscall = st->syscall;
	e->at_fd = st->at_fd;
	e->at_flags = st->at_flags;
	if (st->compat)
		e->flags |= EL_EXEC_COMPAT;
	__builtin_memcpy(e->old_comm, st->comm, sizeof(e->old_comm));
	e->ns_pid = st->ns_pid;
	e->ns_level = st->ns_level;
}

#endif
