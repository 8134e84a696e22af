/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The read-only configuration and every map but `stashes` (exec/stash.bpf.h).
 * Names and the layout of struct el_config are read by the loader
 * (src/backend/ebpf/loader.ts) and src/events/layout.ts: keep them stable.
 */
#ifndef EXECLENS_MAPS_BPF_H
#define EXECLENS_MAPS_BPF_H

/* ---- read-only configuration, set by the loader before load ---- */
/* one struct so the layout is fixed: the loader writes it into .rodata (offsets: src/events/layout.ts CONFIG) */
struct el_config {
	__u32 filter;         /* follow only the traced tree */
	__u32 sleepable;      /* entry programs are sleepable: may fault pages in */
	__u32 block_chunks;   /* argv/env block limit in CHUNK units (<= BLOCK_MAX_CHUNKS) */
	__u32 capture_env;
	__u32 capture_fds;
	__u32 scratch_slots;  /* scratch buffers per CPU: 1, or EL_SCRATCH_SLOTS when programs may be preempted */
	__u32 env_dedupe;     /* send an env block whole only the first time (bpf/lib/envhash.bpf.h; bpf_loop plans) */
	__u32 env_seed;       /* the env hash's seed, random per tracer */
	__u32 uid_only;       /* --uid: copy only execs of this real uid (EL_ANY_UID: every uid) */
	__u32 cgroup_level;   /* --cgroup: the cgroup's depth in the v2 tree (the root's is 0) */
	__u64 cgroup_id;      /* --cgroup: copy only execs in this cgroup v2 (its directory's inode) or below it; 0: off */
};
const volatile struct el_config cfg = {
	.filter = 0, .sleepable = 0, .block_chunks = BLOCK_MAX_CHUNKS,
	.capture_env = 1, .capture_fds = 1, .scratch_slots = 1,
	.env_dedupe = 1, .env_seed = 0,
	.uid_only = EL_ANY_UID, .cgroup_level = 0, .cgroup_id = 0,
};
#define cfg_filter (cfg.filter)
#define cfg_sleepable (cfg.sleepable)
#define cfg_block_chunks (cfg.block_chunks)
#define cfg_capture_env (cfg.capture_env)
#define cfg_capture_fds (cfg.capture_fds)
#define cfg_env_dedupe (cfg.env_dedupe)
#define cfg_env_seed (cfg.env_seed)
#define cfg_uid_only (cfg.uid_only)
#define cfg_cgroup_level (cfg.cgroup_level)
#define cfg_cgroup_id (cfg.cgroup_id)

/* ---- maps ---- */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RING_BYTES_DEFAULT);
} events SEC(".maps");

/*
 * tgids being followed (filter mode), each with its process's start time (the group leader's start_time, ns):
 * a pid the kernel hands out again after a traced process ended unseen (an exit program run the kernel
 * skipped) then names another process, which must not be followed. The tracer seeds the map with the helper
 * that execs the command, start time 0: the first program that sees it fills it in.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TRACED_MAX);
	__type(key, __u32);
	__type(value, __u64);
} traced SEC(".maps");

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
	__u32 nbad;         /* loop-carried: unreadable strings seen by emit_str_array */
	__u32 bad[4];       /* the first of them, by index (marked after the loop: cheap to verify) */
	__u64 lane[4];      /* loop-carried: the env hash's four lanes (bpf/lib/envhash.bpf.h) */
	__u32 hfault;       /* loop-carried: the env hash pass could not read the block */
	__u32 env_new;      /* this commit sends its env whole under e.env_hash: remember it once submitted */
	struct el_chunk c;  /* chunk header; data follows it directly */
	__u8 data[2 * CHUNK];
	struct {            /* loop-carried: str_array_size() (lib/strsize.bpf.h) */
		__u64 p;    /* the string being measured, 0 until its pointer is read */
		__u64 at;   /* bytes of it measured so far */
		__u64 total;
		__u32 idx;  /* its index in the array */
		__u32 end;  /* 1: the array's NULL reached; 2: a read faulted */
	} sz;
	struct {            /* loop-carried: fds_find_step() (lib/fds.bpf.h) */
		__u64 word; /* the bits of open_fds word wi not reported yet */
		__u32 wi;
		__u32 n;    /* fds found */
	} fdw;
};

/*
 * Scratch buffers: one per CPU, or, on a kernel where BPF programs can be
 * preempted (CONFIG_PREEMPTION: a program runs with migration, not preemption,
 * disabled), one per CPU and per program that uses one: another program may
 * then run on this CPU in the middle of ours, but the kernel never runs the
 * same program twice at once on a CPU (it skips it: recursion_misses). The
 * loader sets max_entries = CPUs x cfg.scratch_slots; only non-sleepable
 * programs use scratch. The TypeScript plan reads EL_SCRATCH_SLOTS from BTF
 * (src/events/layout.ts, generated).
 */
enum el_scratch_slot {
	EL_SLOT_COMMIT = 0,         /* sched_process_exec (tp_btf or raw_tp) */
	EL_SLOT_EXIT = 1,           /* syscall exit: tp_exit_execve, fexit_execve, kretprobe_execve, raw_sys_exit */
	EL_SLOT_EXIT_AT = 2,        /* fexit_execveat */
	EL_SLOT_EXIT_COMPAT = 3,    /* fexit_compat_execve, kretprobe_compat_execve */
	EL_SLOT_EXIT_COMPAT_AT = 4, /* fexit_compat_execveat */
	EL_SLOT_EXIT_X32 = 5,       /* fexit_x32_execve (kretprobe_compat_execve serves x32 too: one program) */
	EL_SLOT_EXIT_X32_AT = 6,    /* fexit_x32_execveat */
	EL_SCRATCH_SLOTS = 7,       /* slots per CPU when programs may be preempted */
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/*
 * Env blocks this tracer has sent whole, by hash (value unused): an exec whose env hashes to one of them sends
 * only the hash (EL_EXEC_ENV_REF). LRU: the kernel may forget a hash, then the next exec with that env sends it
 * whole again (harmless: userspace overwrites its copy). Userspace keeps every block it was sent, up to a byte
 * budget far above what ENV_SENT_MAX typical blocks take (src/events/envcache.ts); before it drops one it
 * deletes the hash here (and keeps the block a second longer for references already on their way). Refs it
 * cannot resolve are counted and the exec's env marked lost, never guessed.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ENV_SENT_MAX);
	__type(key, __u64);
	__type(value, __u32);
} env_sent SEC(".maps");

/* per-CPU counters: not atomic (5.10 has no fetching atomics); see new_exec_id() */
enum el_counter {
	EL_CTR_SEQ = 0,     /* record sequence (rec_hdr.seq): a gap is a lost record */
	EL_CTR_EXEC_ID = 1, /* low bits of exec ids */
	EL_CTR_MAX = 2,
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EL_CTR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EL_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);
	__u64 one = 1;

	/*
	 * atomic (BPF_XADD, every kernel): a preempting program may count here too. Written out, not
	 * __sync_fetch_and_add: clang >= 20 (-mcpu=v3 by default) emits a fetch-add for it even when its result is
	 * unused, which 5.10 refuses ("BPF_STX uses reserved fields": BPF atomics came in 5.12; seen in the
	 * kernel matrix with clang 22 on Debian 5.10, every program refused)
	 */
	if (v)
		asm volatile("lock *(u64 *)(%0 + 0) += %1" : : "r"(v), "r"(one) : "memory");
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

static __always_inline struct scratch *get_scratch(__u32 slot)
{
	__u32 n = cfg.scratch_slots;
	__u32 key = bpf_get_smp_processor_id() * n + (n > 1 ? slot : 0);

	return bpf_map_lookup_elem(&scratch, &key);
}

#endif
