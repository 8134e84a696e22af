/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one implementation of exec tracing. Wrappers in execlens.bpf.c (one per
 * attach type: fentry/fexit, kprobe/kretprobe, syscall tracepoints, compat)
 * only extract arguments and call:
 *
 *   trace_exec_common_enter()  at syscall entry: stash the caller's pointers,
 *                              emit filename and argv[0]
 *   trace_exec_common_commit() at sched_process_exec: the new image's argv/env
 *                              block, cwd, fds, creds -> EXEC record
 *   trace_exec_common_exit()   at syscall exit: a failed exec is committed
 *                              here with argv/env read from the caller
 *
 * Helpers used and the first kernel that has them (see docs/kernel-support.md):
 *   bpf_ringbuf_output/reserve/submit 5.8, bpf_probe_read_{user,kernel}[_str] 5.5,
 *   bpf_ktime_get_boot_ns 5.8, bpf_copy_from_user 5.10 (sleepable only),
 *   bpf_get_current_task 4.8, bounded loops 5.3, bpf_loop 5.17 (only in the
 *   *_loop programs). No kfuncs, no BPF atomics beyond XADD: every program
 *   without the _loop suffix loads on 5.10.
 *
 * Loops are written once, as a step function (one iteration; returns 1 to
 * stop), and run two ways (RUN_LOOP): unrolled by a bounded for loop, which
 * the verifier walks iteration by iteration (~200K processed instructions for
 * a commit program, ~0.3 s of start-up), or by bpf_loop(), whose callback the
 * verifier checks on its own (a few thousand). Which one is a compile-time
 * constant per wrapper (the `loop` argument), so the unrolled programs hold no
 * bpf_loop call, which a 5.10 verifier refuses even in dead code.
 */
#ifndef EXECLENS_COMMON_BPF_H
#define EXECLENS_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "execlens_event.h"

/* ---- limits (documented in docs/limits.md) ---- */
#define CHUNK            32768u            /* data bytes per chunk record */
#define CHUNK_MASK       (CHUNK - 1)
#define BLOCK_MAX_CHUNKS 64                /* 64 x 32 KiB = 2 MiB per argv or env block */
#define STR_ARRAY_MAX    128               /* strings per array on the failed-exec path */
#define SMALL_STR        256u              /* first try for filename/argv0 */
#define PATH_STR         4096u             /* PATH_MAX */
#define NAME_BUF         256u              /* NAME_MAX + 1 */
#define CWD_DEPTH        32
#define FD_PATH_DEPTH    12
#define FD_SCAN          32                /* fds 0..31 are reported; more set FDS_TRUNC */
#define TS_COMPAT_X86    0x0002

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- read-only configuration, set by the loader before load ---- */
/* one struct so the layout is fixed: src/bpf/config.ts writes it into .rodata */
struct el_config {
	__u32 filter;         /* follow only the traced tree */
	__u32 sleepable;      /* entry programs are sleepable: may fault pages in */
	__u32 block_chunks;   /* argv/env block limit in CHUNK units (<= BLOCK_MAX_CHUNKS) */
	__u32 capture_env;
	__u32 capture_fds;
	__u32 scratch_slots;  /* scratch buffers per CPU: 1, or SCRATCH_SLOTS when programs may be preempted */
};
const volatile struct el_config cfg = {
	.filter = 0, .sleepable = 0, .block_chunks = BLOCK_MAX_CHUNKS,
	.capture_env = 1, .capture_fds = 1, .scratch_slots = 1,
};
#define cfg_filter (cfg.filter)
#define cfg_sleepable (cfg.sleepable)
#define cfg_block_chunks (cfg.block_chunks)
#define cfg_capture_env (cfg.capture_env)
#define cfg_capture_fds (cfg.capture_fds)

/* ---- maps ---- */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20);
} events SEC(".maps");

/* tgids being followed (filter mode); the tracer seeds it with itself. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} traced SEC(".maps");

struct stash {
	__u64 exec_id;
	__u64 ts;
	__u64 argv;
	__u64 envp;
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
	char comm[16];
};

/* syscall entry -> commit, keyed by the calling thread id */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct stash);
} stashes SEC(".maps");

/*
 * Per-CPU scratch. The exec record under construction and every loop-carried
 * value (offsets, counts, flags) live here, in map memory, rather than on the
 * stack: the verifier does not track map contents, so the states at loop
 * heads and after loop exits compare equal and prune. (Kept on the stack, the
 * offsets took a different range per iteration and sequential loops
 * multiplied: > 1M processed insns.)
 */
struct scratch {
	struct el_exec e;   /* the commit record being built */
	__u32 off;          /* loop-carried: bytes written / position */
	__u32 base;         /* loop-carried: field offset of the current chunk */
	__u32 trunc;        /* loop-carried: walk ran out of depth */
	__u32 _pad;
	struct el_chunk c;  /* chunk header; data follows it directly */
	__u8 data[2 * CHUNK];
};

/*
 * Scratch buffers: one per CPU, or, on a kernel where BPF programs can be
 * preempted (CONFIG_PREEMPTION: a program runs with migration, not preemption,
 * disabled), one per CPU and per program that uses one: another program may
 * then run on this CPU in the middle of ours, but the kernel never runs the
 * same program twice at once on a CPU (it skips it: recursion_misses). The
 * loader sets max_entries = CPUs x cfg.scratch_slots; only non-sleepable
 * programs use scratch.
 */
#define SCRATCH_SLOTS      5
#define SLOT_COMMIT        0  /* sched_process_exec (tp_btf or raw_tp) */
#define SLOT_EXIT          1  /* syscall exit: tp_exit_execve, fexit_execve, kretprobe_execve */
#define SLOT_EXIT_AT       2  /* fexit_execveat */
#define SLOT_EXIT_COMPAT   3  /* fexit_compat_execve, kretprobe_compat_execve */
#define SLOT_EXIT_COMPAT_AT 4 /* fexit_compat_execveat */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* [0] record sequence, [1] exec id counter */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EL_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* ---- small helpers ---- */
/* A real load from map memory: clang may not forward a stored value in a
 * register (the verifier would then track its range across iterations). */
#define MAP_LOAD(x) (*(volatile typeof(x) *)&(x))

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);
	/* atomic (BPF_XADD, every kernel): a preempting program may count here too */
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline __u64 next_counter(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);
	__u64 r = 0;
	if (v) {
		r = *v;
		*v = r + 1;
	}
	return r;
}

static __always_inline void stamp(struct rec_hdr *h, __u32 kind)
{
	h->kind = kind;
	h->cpu = bpf_get_smp_processor_id();
	h->seq = next_counter(0);
}

/*
 * Exec id: tid (22 bits, pid_max <= 2^22) | cpu (12) | per-CPU counter (30).
 * The per-CPU counter is a plain read+write (a fetch-add needs BPF atomics,
 * which 5.10 lacks); on a preemptible kernel two tasks on one CPU can read the
 * same value. The thread id keeps their ids apart: a thread runs one exec at a
 * time, so it cannot race with itself.
 */
static __always_inline __u64 new_exec_id(void)
{
	__u64 tid = (__u32)bpf_get_current_pid_tgid() & 0x3fffff;
	__u64 cpu = bpf_get_smp_processor_id() & 0xfff;

	return (tid << 42) | (cpu << 30) | (next_counter(1) & 0x3fffffff);
}

static __always_inline bool is_traced(__u32 tgid)
{
	if (!cfg_filter)
		return true;
	return bpf_map_lookup_elem(&traced, &tgid) != NULL;
}

/*
 * is_traced(), and also true for a child of a traced process that is not in
 * the map yet because the kernel skipped its fork (recursion_misses): it is
 * followed from its first exec on.
 */
static __always_inline bool is_traced_or_child(struct task_struct *t, __u32 tgid)
{
	__u32 ptgid;
	__u8 one = 1;

	if (is_traced(tgid))
		return true;
	ptgid = BPF_CORE_READ(t, real_parent, tgid);
	if (!is_traced(ptgid))
		return false;
	if (bpf_map_update_elem(&traced, &tgid, &one, BPF_ANY))
		stat_inc(EL_ST_TRACE_FULL);
	return true;
}

static __always_inline struct scratch *get_scratch(__u32 slot)
{
	__u32 n = cfg.scratch_slots;
	__u32 key = bpf_get_smp_processor_id() * n + (n > 1 ? slot : 0);

	return bpf_map_lookup_elem(&scratch, &key);
}

/*
 * Run step(s, i, c) for i in [0, n) until it returns 1: unrolled, or with
 * bpf_loop, whose callback cb finds the scratch buffer again by c->slot.
 */
#define RUN_LOOP(n, loop, cb, step, s, c)                                   \
	do {                                                                \
		if (loop) {                                                 \
			bpf_loop((n), (cb), (c), 0);                        \
		} else {                                                    \
			/* a copy whose address never escapes: its fields   \
			 * stay in registers (a stack reload at the loop    \
			 * head made clang end the latch with a load that   \
			 * falls through into the header, a back-edge older \
			 * verifiers refuse: scripts/check-bpf-object.py) */ \
			typeof(*(c)) c__ = *(c);                            \
			int i__;                                            \
			for (i__ = 0; i__ < (n); i__++)                     \
				if (step((s), i__, &c__))                   \
					break;                              \
		}                                                           \
	} while (0)

/* the bpf_loop callback of a step function: ctx is a struct whose first member is the slot */
#define DEFINE_LOOP_CB(step, ctx_type)                                      \
	static long step##_cb(__u32 i, void *ctx)                           \
	{                                                                   \
		ctx_type *c = ctx;                                          \
		struct scratch *s = get_scratch(c->slot);                   \
									    \
		return s ? step(s, i, c) : 1;                               \
	}

/* Emit scratch->data[0..len) as one chunk of field at offset; counts it in s->e. */
static __always_inline void flush_chunk(struct scratch *s, __u32 field, __u32 offset, __u64 len)
{
	if (len > 2 * CHUNK)
		len = 2 * CHUNK;
	s->c.exec_id = s->e.exec_id;
	s->c.field = field;
	s->c.len = len;
	s->c.offset = offset;
	s->c._pad = 0;
	stamp(&s->c.hdr, EL_REC_CHUNK);
	s->e.nchunks += 1;
	if (bpf_ringbuf_output(&events, &s->c, sizeof(s->c) + len, BPF_RB_NO_WAKEUP)) {
		stat_inc(EL_ST_RB_DROP_CHUNK);
		s->e.flags |= EL_EXEC_CHUNK_LOST;
	}
}

/*
 * A user string straight into a ring record (no scratch: safe in sleepable
 * programs). Tries a small record first and only reserves PATH_MAX for long
 * strings. Returns EL_EXEC_* flags for truncation/fault.
 */
#define DEFINE_EMIT_USTR(SIZE)                                                          \
static __always_inline long emit_ustr_##SIZE(__u64 exec_id, __u32 field, const void *p)\
{                                                                                       \
	struct { struct el_chunk c; char d[SIZE]; } *r;                                 \
	long n;                                                                         \
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);                                \
	if (!r) {                                                                       \
		stat_inc(EL_ST_RB_DROP_CHUNK);                                          \
		return -1000;                                                           \
	}                                                                               \
	n = bpf_probe_read_user_str(r->d, SIZE, p);                                     \
	if (n == SIZE && SIZE < PATH_STR) {                                             \
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);                               \
		return SIZE; /* too long for this size: caller retries larger */        \
	}                                                                               \
	r->c.exec_id = exec_id;                                                         \
	r->c.field = field;                                                             \
	r->c.offset = 0;                                                                \
	r->c._pad = 0;                                                                  \
	r->c.len = n > 0 ? n : 0;                                                       \
	stamp(&r->c.hdr, EL_REC_CHUNK);                                                 \
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);                                        \
	return n;                                                                       \
}
DEFINE_EMIT_USTR(256)
DEFINE_EMIT_USTR(4096)

/* returns flags: fault/trunc bits given; *nchunks counts records attempted */
static __always_inline __u32 emit_ustr(__u64 exec_id, __u32 field, const void *p,
				       __u32 fault_flag, __u32 trunc_flag, __u32 *nchunks)
{
	long n = emit_ustr_256(exec_id, field, p);
	if (n == SMALL_STR)
		n = emit_ustr_4096(exec_id, field, p);
	if (n == -1000)
		return EL_EXEC_CHUNK_LOST;
	*nchunks += 1;
	if (n < 0) {
		stat_inc(EL_ST_READ_FAULT);
		return fault_flag;
	}
	if (n == PATH_STR)
		return trunc_flag;
	return 0;
}

/*
 * may_sleep: only the syscall-entry programs of a sleepable plan (fentry.s)
 * may fault pages in; exit and lifecycle programs are never sleepable, so
 * they pass false and the copy_from_user branch is compiled out for them
 * (the verifier refuses a sleeping helper in a non-sleepable program).
 */
static __always_inline long read_user(void *dst, __u32 size, const void *src, bool may_sleep)
{
	if (may_sleep && cfg_sleepable)
		return bpf_copy_from_user(dst, size, src);
	return bpf_probe_read_user(dst, size, src);
}

/*
 * Fault in the page of a user string before a string read (sleepable entry
 * programs only; compiled out elsewhere). BPF's string reads never fault pages
 * in, and a forked child's page-table entries start "old": where the CPU sets
 * the accessed bit by a page fault (riscv64 with Svade, arm64 without
 * FEAT_HAFDBS), a string on a page the child has not touched since its fork is
 * unreadable without this (seen in a riscv64 7.2 guest: 12 of 120 filenames).
 * A string that starts in the last SMALL_STR bytes of a page gets the next
 * page touched too (4 KiB pages: Debian's x86_64, arm64 and riscv64 kernels).
 */
static __always_inline void fault_in_str(const void *p, bool may_sleep)
{
	char b;
	__u64 a = (__u64)p;

	if (!(may_sleep && cfg_sleepable) || !p)
		return;
	bpf_copy_from_user(&b, 1, p);
	if ((a & 4095) > 4096 - SMALL_STR)
		bpf_copy_from_user(&b, 1, (const void *)((a | 4095) + 1));
}

/* user pointer at index i of a native or compat (32-bit) pointer array */
static __always_inline long read_uptr(__u64 *out, __u64 arr, __u32 i, bool compat, bool may_sleep)
{
	if (compat) {
		__u32 p32 = 0;
		long err = read_user(&p32, sizeof(p32), (const void *)(arr + (__u64)i * 4), may_sleep);
		*out = p32;
		return err;
	}
	return read_user(out, sizeof(*out), (const void *)(arr + (__u64)i * 8), may_sleep);
}

/* ---- process context ---- */
static __always_inline struct task_struct *cur_task(void)
{
	return (struct task_struct *)bpf_get_current_task();
}

static __always_inline void fd_bitmaps(struct task_struct *t, __u64 *open, __u64 *cloexec,
				       __u64 *more)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	unsigned long *o = BPF_CORE_READ(fdt, open_fds);
	unsigned long *c = BPF_CORE_READ(fdt, close_on_exec);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	*open = 0;
	*cloexec = 0;
	*more = 0;
	bpf_probe_read_kernel(open, sizeof(*open), o);
	bpf_probe_read_kernel(cloexec, sizeof(*cloexec), c);
	/* fds 64..255: only whether any is open (reported as FDS_TRUNC) */
	if (max >= 256) {
		__u64 w[3] = {};
		bpf_probe_read_kernel(w, sizeof(w), o + 1);
		*more = w[0] | w[1] | w[2];
	} else if (max >= 128) {
		bpf_probe_read_kernel(more, sizeof(*more), o + 1);
	}
}

/*
 * Walk a path from leaf to root, appending NUL-terminated components to
 * s->data at s->off. Crosses mount points; stops at the task's root.
 * s->trunc is set when the depth ran out.
 */
static __always_inline void walk_path(struct scratch *s, struct dentry *dentry,
				      struct vfsmount *vfsmnt, struct dentry *root_d,
				      struct vfsmount *root_m, int depth)
{
	struct mount *mnt = container_of(vfsmnt, struct mount, mnt);
	int i;

	s->trunc = 1;
	for (i = 0; i < CWD_DEPTH; i++) {
		if (i >= depth)
			break;
		if (dentry == root_d && vfsmnt == root_m) {
			s->trunc = 0;
			break;
		}
		struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
		if (dentry == mnt_root) {
			struct mount *parent = BPF_CORE_READ(mnt, mnt_parent);
			if (parent == mnt) {
				s->trunc = 0;
				break;
			}
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = parent;
			vfsmnt = &parent->mnt;
			continue;
		}
		struct dentry *up = BPF_CORE_READ(dentry, d_parent);
		if (up == dentry) {
			s->trunc = 0;
			break;
		}
		__u32 off = MAP_LOAD(s->off);
		if (off > CHUNK - NAME_BUF)
			break;
		long n = bpf_probe_read_kernel_str(&s->data[off & CHUNK_MASK], NAME_BUF,
						   BPF_CORE_READ(dentry, d_name.name));
		if (n > 0)
			s->off = off + n;
		dentry = up;
	}
}

/* EL_F_CWD chunk */
static __always_inline void emit_cwd(struct scratch *s, struct task_struct *t)
{
	struct fs_struct *fs = BPF_CORE_READ(t, fs);

	s->off = 0;
	walk_path(s, BPF_CORE_READ(fs, pwd.dentry), BPF_CORE_READ(fs, pwd.mnt),
		  BPF_CORE_READ(fs, root.dentry), BPF_CORE_READ(fs, root.mnt), CWD_DEPTH);
	if (s->trunc)
		s->e.flags |= EL_EXEC_CWD_TRUNC;
	flush_chunk(s, EL_F_CWD, 0, s->off);
}

/*
 * One EL_F_FDS chunk per fd: the fds open after exec (inherited), then those
 * open at entry with FD_CLOEXEC that exec closed (reported without a path).
 */
struct fds_ctx {
	__u32 slot;
	__u32 _pad;
	struct file **fdarr;
	struct dentry *root_d;
	struct vfsmount *root_m;
	__u64 open;           /* open now (after exec) */
	__u64 entry_open;     /* open at syscall entry */
	__u64 entry_cloexec;  /* FD_CLOEXEC at syscall entry */
};

static __always_inline int fds_step(struct scratch *s, __u32 i, struct fds_ctx *c)
{
	struct el_fd *e = (struct el_fd *)s->data;
	__u64 bit = 1ULL << (i & 63);

	if (c->open & bit) {
		struct file *f = NULL;
		bpf_probe_read_kernel(&f, sizeof(f), &c->fdarr[i & 63]);
		if (!f)
			return 0;
		struct inode *ino = BPF_CORE_READ(f, f_inode);
		e->fd = i;
		e->f_flags = BPF_CORE_READ(f, f_flags);
		e->ino = BPF_CORE_READ(ino, i_ino);
		e->dev = BPF_CORE_READ(ino, i_sb, s_dev);
		e->mode = BPF_CORE_READ(ino, i_mode);
		e->cloexec = 0;
		e->_pad = 0;
		s->off = sizeof(*e);
		walk_path(s, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt),
			  c->root_d, c->root_m, FD_PATH_DEPTH);
		e->path_len = s->off - sizeof(*e);
		s->e.nfds += 1;
		flush_chunk(s, EL_F_FDS, i, s->off);
	} else if ((c->entry_open & bit) && (c->entry_cloexec & bit)) {
		__builtin_memset(e, 0, sizeof(*e));
		e->fd = i;
		e->cloexec = 1;
		s->e.nfds += 1;
		flush_chunk(s, EL_F_FDS, i, sizeof(*e));
	}
	return 0;
}
DEFINE_LOOP_CB(fds_step, struct fds_ctx)

static __always_inline void emit_fds(struct scratch *s, __u32 slot, bool loop, struct task_struct *t,
				     __u64 entry_open, __u64 entry_cloexec)
{
	struct fs_struct *fs = BPF_CORE_READ(t, fs);
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	__u64 open = 0, cloexec = 0, more = 0;
	struct fds_ctx c = {
		.slot = slot,
		.fdarr = BPF_CORE_READ(fdt, fd),
		.root_d = BPF_CORE_READ(fs, root.dentry),
		.root_m = BPF_CORE_READ(fs, root.mnt),
		.entry_open = entry_open,
		.entry_cloexec = entry_cloexec,
	};

	fd_bitmaps(t, &open, &cloexec, &more);
	if (more || (open >> FD_SCAN))
		s->e.flags |= EL_EXEC_FDS_TRUNC;
	c.open = open;
	RUN_LOOP(FD_SCAN, loop, fds_step_cb, fds_step, s, &c);
}

/*
 * Copy a contiguous user block (the new image's argv or env area) in chunks.
 * Sized by the block's real length: reading past env_end can cross the top of
 * the stack and fault. Returns bytes emitted; *total gets the block length.
 */
struct block_ctx {
	__u32 slot;
	__u32 field;
	__u32 fault_flag;
	__u32 _pad;
	__u64 start;
	__u64 len;
};

static __always_inline int block_step(struct scratch *s, __u32 i, struct block_ctx *c)
{
	__u32 off = MAP_LOAD(s->off);
	__u64 len = c->len;

	if (i >= cfg_block_chunks || off >= len)
		return 1;
	__u64 n = len - off;
	barrier_var(n);
	if (n > CHUNK)
		n = CHUNK;
	if (bpf_probe_read_user(s->data, n, (const void *)(c->start + off))) {
		stat_inc(EL_ST_READ_FAULT);
		s->e.flags |= c->fault_flag;
		return 1;
	}
	flush_chunk(s, c->field, off, n);
	s->off = off + n;
	return 0;
}
DEFINE_LOOP_CB(block_step, struct block_ctx)

static __always_inline __u32 emit_block(struct scratch *s, __u32 slot, bool loop, __u32 field,
					__u64 start, __u64 end, __u32 *total, __u32 trunc_flag,
					__u32 fault_flag)
{
	struct block_ctx c = {
		.slot = slot, .field = field, .fault_flag = fault_flag,
		.start = start, .len = end > start ? end - start : 0,
	};

	*total = c.len;
	s->off = 0;
	RUN_LOOP(BLOCK_MAX_CHUNKS, loop, block_step_cb, block_step, s, &c);
	if (s->off < c.len && !(s->e.flags & fault_flag))
		s->e.flags |= trunc_flag;
	return s->off;
}

/*
 * argv/env of a failed exec, string by string from the caller's pointer
 * array (the old image is still there). Up to STR_ARRAY_MAX strings of up
 * to CHUNK bytes each. Returns bytes emitted.
 */
struct strs_ctx {
	__u32 slot;
	__u32 field;
	__u32 trunc_flag;
	__u32 fault_flag;
	__u64 arr;
	__u32 compat;
	__u32 _pad;
};

static __always_inline int strs_step(struct scratch *s, __u32 i, struct strs_ctx *c)
{
	__u64 p = 0;

	if (read_uptr(&p, c->arr, i, c->compat, false)) {
		s->e.flags |= c->fault_flag;
		stat_inc(EL_ST_READ_FAULT);
		s->trunc = 0;
		return 1;
	}
	if (!p) {
		s->trunc = 0;
		return 1;
	}
	__u32 off = MAP_LOAD(s->off);
	if (off > CHUNK - 1)
		return 1;
	long n = bpf_probe_read_user_str(&s->data[off & CHUNK_MASK], CHUNK, (const void *)p);
	if (n < 0) {
		s->e.flags |= c->fault_flag;
		stat_inc(EL_ST_READ_FAULT);
		s->data[off & CHUNK_MASK] = 0;
		n = 1;
	} else if (n == CHUNK) {
		s->e.flags |= c->trunc_flag;
	}
	off += n;
	if (off >= CHUNK) {
		flush_chunk(s, c->field, MAP_LOAD(s->base), off);
		s->base = MAP_LOAD(s->base) + off;
		off = 0;
	}
	s->off = off;
	return 0;
}
DEFINE_LOOP_CB(strs_step, struct strs_ctx)

static __always_inline __u32 emit_str_array(struct scratch *s, __u32 slot, bool loop, __u32 field,
					    __u64 arr, bool compat, __u32 trunc_flag, __u32 fault_flag)
{
	struct strs_ctx c = {
		.slot = slot, .field = field, .trunc_flag = trunc_flag, .fault_flag = fault_flag,
		.arr = arr, .compat = compat,
	};

	s->off = 0;
	s->base = 0;
	s->trunc = 1;
	if (!arr)
		return 0;
	RUN_LOOP(STR_ARRAY_MAX, loop, strs_step_cb, strs_step, s, &c);
	if (s->off > 0)
		flush_chunk(s, field, s->base, s->off);
	if (s->trunc)
		s->e.flags |= trunc_flag;
	return s->base + s->off;
}

static __always_inline void fill_creds(struct el_exec *e, struct task_struct *t)
{
	const struct cred *c = BPF_CORE_READ(t, cred);
	e->uid = BPF_CORE_READ(c, uid.val);
	e->gid = BPF_CORE_READ(c, gid.val);
	e->euid = BPF_CORE_READ(c, euid.val);
	e->egid = BPF_CORE_READ(c, egid.val);
}

/*
 * The process's pid in its own pid namespace (what getpid() returns there):
 * numbers[level] of the group leader's struct pid. pid/ppid stay in the
 * initial namespace, where the tree filter lives.
 */
static __always_inline void read_ns_pid(struct task_struct *t, __u32 *ns_pid, __u32 *ns_level)
{
	struct pid *p = BPF_CORE_READ(t, group_leader, thread_pid);
	unsigned int level = BPF_CORE_READ(p, level) & 31; /* MAX_PID_NS_LEVEL is 32 */

	*ns_level = level;
	bpf_core_read(ns_pid, sizeof(*ns_pid), &p->numbers[level].nr);
}

/*
 * Whether t runs a 32-bit ABI: at sched_process_exec (the new image is in
 * place), or inside a syscall of t (x86 sets TS_COMPAT for the length of an
 * ia32 syscall; elsewhere the caller's address space size tells).
 */
static __always_inline bool task_compat(struct task_struct *t)
{
#if defined(__TARGET_ARCH_x86)
	if (bpf_core_field_exists(t->thread_info.status))
		return BPF_CORE_READ(t, thread_info.status) & TS_COMPAT_X86;
	return false;
#else
	/* setup_new_exec() sizes the new mm's address space from the personality
	 * the binary loader chose: a 32-bit image (AArch32, rv32) gets <= 4 GiB */
	__u64 size = BPF_CORE_READ(t, mm, task_size);

	return size && size <= 0x100000000ULL;
#endif
}

/* ring space for an exec record; a full ring is counted */
static __always_inline struct el_exec *reserve_exec(void)
{
	struct el_exec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r)
		stat_inc(EL_ST_RB_DROP_EXEC);
	return r;
}

static __always_inline void submit_reserved_exec(struct el_exec *r)
{
	stamp(&r->hdr, EL_REC_EXEC);
	stat_inc(EL_ST_EXECS);
	/* the commit record wakes the reader up (chunks never do) */
	bpf_ringbuf_submit(r, 0);
}

static __always_inline int submit_exec(struct el_exec *e)
{
	struct el_exec *r = reserve_exec();

	if (!r)
		return -1;
	__builtin_memcpy(r, e, sizeof(*r));
	submit_reserved_exec(r);
	return 0;
}

/* ==== the common logic ==== */

static __always_inline int trace_exec_common_enter(__u32 syscall, __s32 at_fd,
						   const char *filename, __u64 argv, __u64 envp,
						   __u32 at_flags, bool compat)
{
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 tgid = pt >> 32, tid = (__u32)pt;
	struct stash st = {};
	__u64 more = 0, a0 = 0;

	if (!is_traced_or_child(cur_task(), tgid))
		return 0;
	st.exec_id = new_exec_id();
	st.ts = bpf_ktime_get_boot_ns();
	st.argv = argv;
	st.envp = envp;
	st.at_fd = at_fd;
	st.at_flags = at_flags;
	st.syscall = syscall;
	st.compat = compat;
	bpf_get_current_comm(st.comm, sizeof(st.comm));
	/* here, not in the exit program: there it doubled the verifier's work (201K -> 465K insns on 6.18) */
	read_ns_pid((struct task_struct *)bpf_get_current_task(), &st.ns_pid, &st.ns_level);
	fd_bitmaps(cur_task(), &st.open_fds, &st.cloexec_fds, &more);

	fault_in_str(filename, !compat);
	st.flags |= emit_ustr(st.exec_id, EL_F_FILENAME, filename, EL_EXEC_FILENAME_FAULT,
			      EL_EXEC_FILENAME_TRUNC, &st.nchunks);
	/* compat entry programs are never sleepable (the ia32 wrappers refuse fentry.s) */
	if (argv && read_uptr(&a0, argv, 0, compat, !compat) == 0 && a0) {
		fault_in_str((const void *)a0, !compat);
		st.flags |= emit_ustr(st.exec_id, EL_F_ARGV0, (const void *)a0, EL_EXEC_ARGV_FAULT,
				      EL_EXEC_ARGV0_TRUNC, &st.nchunks);
	}

	if (bpf_map_update_elem(&stashes, &tid, &st, BPF_ANY))
		stat_inc(EL_ST_STASH_FULL);
	return 0;
}

/* sched_process_exec: the exec succeeded and the new image is in place. */
static __always_inline int trace_exec_common_commit(struct task_struct *t, __u32 old_tid,
						    struct linux_binprm *bprm, bool loop)
{
	__u32 tgid = BPF_CORE_READ(t, tgid);
	struct stash *st;
	struct scratch *s;
	struct el_exec *e;
	struct mm_struct *mm;
	__u64 entry_open = 0, entry_cloexec = 0;

	if (!is_traced_or_child(t, tgid))
		return 0;
	s = get_scratch(SLOT_COMMIT);
	if (!s)
		return 0;
	e = &s->e;
	__builtin_memset(e, 0, sizeof(*e));
	st = bpf_map_lookup_elem(&stashes, &old_tid);
	if (st) {
		e->exec_id = st->exec_id;
		e->enter_ts_ns = st->ts;
		e->flags = st->flags;
		e->nchunks = st->nchunks;
		e->syscall = st->syscall;
		e->at_fd = st->at_fd;
		e->at_flags = st->at_flags;
		if (st->compat)
			e->flags |= EL_EXEC_COMPAT;
		__builtin_memcpy(e->old_comm, st->comm, sizeof(e->old_comm));
		entry_open = st->open_fds;
		entry_cloexec = st->cloexec_fds;
		bpf_map_delete_elem(&stashes, &old_tid);
	} else {
		/* entry not seen: e.g. an ia32 exec on a tracepoint-only plan */
		e->exec_id = new_exec_id();
		e->flags = EL_EXEC_NO_ENTRY;
		e->syscall = EL_SYS_UNKNOWN;
		e->at_fd = -100;
		if (task_compat(t))
			e->flags |= EL_EXEC_COMPAT;
	}
	e->pid = tgid;
	e->tid = old_tid;
	e->ppid = BPF_CORE_READ(t, real_parent, tgid);
	fill_creds(e, t);
	read_ns_pid(t, &e->ns_pid, &e->ns_level);
	bpf_get_current_comm(e->comm, sizeof(e->comm));

	mm = BPF_CORE_READ(t, mm);
	e->argv_len = emit_block(s, SLOT_COMMIT, loop, EL_F_ARGV, BPF_CORE_READ(mm, arg_start),
				 BPF_CORE_READ(mm, arg_end), &e->argv_total, EL_EXEC_ARGV_TRUNC,
				 EL_EXEC_ARGV_FAULT);
	if (cfg_capture_env)
		e->env_len = emit_block(s, SLOT_COMMIT, loop, EL_F_ENV, BPF_CORE_READ(mm, env_start),
					BPF_CORE_READ(mm, env_end), &e->env_total,
					EL_EXEC_ENV_TRUNC, EL_EXEC_ENV_FAULT);
	if (bprm) {
		const char *fn = BPF_CORE_READ(bprm, filename);
		const char *in = BPF_CORE_READ(bprm, interp);
		long n = bpf_probe_read_kernel_str(s->data, PATH_STR, fn);
		if (n > 0)
			flush_chunk(s, EL_F_BPRM_FILE, 0, n);
		if (in != fn) {
			n = bpf_probe_read_kernel_str(s->data, PATH_STR, in);
			if (n > 0)
				flush_chunk(s, EL_F_INTERP, 0, n);
		}
	}
	emit_cwd(s, t);
	if (cfg_capture_fds)
		emit_fds(s, SLOT_COMMIT, loop, t, entry_open, entry_cloexec);
	if (e->flags & EL_EXEC_ARGV_TRUNC)
		stat_inc(EL_ST_ARGV_TRUNC);
	if (e->flags & EL_EXEC_ENV_TRUNC)
		stat_inc(EL_ST_ENV_TRUNC);
	e->ts_ns = bpf_ktime_get_boot_ns();
	submit_exec(e);
	return 0;
}

/* syscall exit: commit failed execs (successful ones were committed at
 * sched_process_exec); slot: the calling program's scratch slot */
static __always_inline int trace_exec_common_exit(long ret, __u32 slot, bool loop)
{
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 tgid = pt >> 32, tid = (__u32)pt;
	struct task_struct *t;
	struct el_exec *e;
	struct stash *st;
	struct scratch *s;
	__u64 argv, envp;
	bool compat;

	st = bpf_map_lookup_elem(&stashes, &tid);
	if (!st)
		return 0;
	if (ret == 0) {
		/*
		 * The commit at sched_process_exec deletes the stash. One still here
		 * means the kernel skipped that program (recursion_misses: a kernel
		 * that runs BPF preemptibly skips a program on a CPU where it is
		 * already running, seen on 7.2). Report the exec from what the entry
		 * saw rather than lose it: a small record written straight into the
		 * ring (no scratch: it may be in use by a preempted program here).
		 */
		struct el_exec *late = reserve_exec();

		if (!late) {
			bpf_map_delete_elem(&stashes, &tid);
			return 0;
		}
		__builtin_memset(late, 0, sizeof(*late));
		late->exec_id = st->exec_id;
		late->enter_ts_ns = st->ts;
		late->flags = st->flags | EL_EXEC_COMMIT_MISSED | (st->compat ? EL_EXEC_COMPAT : 0);
		late->nchunks = st->nchunks;
		late->syscall = st->syscall;
		late->at_fd = st->at_fd;
		late->at_flags = st->at_flags;
		__builtin_memcpy(late->old_comm, st->comm, sizeof(late->old_comm));
		late->ns_pid = st->ns_pid;
		late->ns_level = st->ns_level;
		bpf_map_delete_elem(&stashes, &tid);
		t = cur_task();
		late->pid = tgid;
		late->tid = tid;
		late->ppid = BPF_CORE_READ(t, real_parent, tgid);
		fill_creds(late, t);
		bpf_get_current_comm(late->comm, sizeof(late->comm));
		late->ts_ns = bpf_ktime_get_boot_ns();
		submit_reserved_exec(late);
		return 0;
	}
	s = get_scratch(slot);
	if (!s)
		return 0;
	t = cur_task();
	e = &s->e;
	__builtin_memset(e, 0, sizeof(*e));
	e->exec_id = st->exec_id;
	e->enter_ts_ns = st->ts;
	e->flags = st->flags | EL_EXEC_FAILED_PATH;
	e->nchunks = st->nchunks;
	e->syscall = st->syscall;
	e->at_fd = st->at_fd;
	e->at_flags = st->at_flags;
	compat = st->compat;
	if (compat)
		e->flags |= EL_EXEC_COMPAT;
	__builtin_memcpy(e->old_comm, st->comm, sizeof(e->old_comm));
	__builtin_memcpy(e->comm, st->comm, sizeof(e->comm));
	e->ns_pid = st->ns_pid;
	e->ns_level = st->ns_level;
	argv = st->argv;
	envp = st->envp;
	bpf_map_delete_elem(&stashes, &tid);
	e->pid = tgid;
	e->tid = tid;
	e->ppid = BPF_CORE_READ(t, real_parent, tgid);
	e->ret = ret;
	fill_creds(e, t);

	e->argv_len = emit_str_array(s, slot, loop, EL_F_ARGV, argv, compat, EL_EXEC_ARGV_TRUNC,
				     EL_EXEC_ARGV_FAULT);
	e->argv_total = e->argv_len;
	if (cfg_capture_env) {
		e->env_len = emit_str_array(s, slot, loop, EL_F_ENV, envp, compat, EL_EXEC_ENV_TRUNC,
					    EL_EXEC_ENV_FAULT);
		e->env_total = e->env_len;
	}
	emit_cwd(s, t);
	e->ts_ns = bpf_ktime_get_boot_ns();
	submit_exec(e);
	return 0;
}

/* ==== process lifecycle ==== */

static __always_inline int trace_fork_common(struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;
	struct el_fork *r;

	if (ptgid == ctgid) /* a new thread, not a new process */
		return 0;
	if (!is_traced(ptgid))
		return 0;
	if (cfg_filter && bpf_map_update_elem(&traced, &ctgid, &one, BPF_ANY))
		stat_inc(EL_ST_TRACE_FULL);
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		stat_inc(EL_ST_RB_DROP_OTHER);
		return 0;
	}
	stamp(&r->hdr, EL_REC_FORK);
	r->ts_ns = bpf_ktime_get_boot_ns();
	r->parent_pid = ptgid;
	r->child_pid = ctgid;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
}

static __always_inline int trace_exit_common(struct task_struct *t)
{
	__u32 tgid = BPF_CORE_READ(t, tgid);
	__u32 tid = BPF_CORE_READ(t, pid);
	struct el_exit *r;

	if (!is_traced(tgid))
		return 0;
	bpf_map_delete_elem(&stashes, &tid);
	/* signal->live reaches 0 before this tracepoint when the last thread exits */
	if (BPF_CORE_READ(t, signal, live.counter) != 0)
		return 0;
	if (cfg_filter)
		bpf_map_delete_elem(&traced, &tgid);
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		stat_inc(EL_ST_RB_DROP_OTHER);
		return 0;
	}
	stamp(&r->hdr, EL_REC_EXIT);
	r->ts_ns = bpf_ktime_get_boot_ns();
	r->pid = tgid;
	r->exit_code = BPF_CORE_READ(t, exit_code);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

#endif
