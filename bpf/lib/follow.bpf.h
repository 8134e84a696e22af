/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which processes are traced: all (cfg.filter 0), or the tree under the
 * tracer (the `traced` map: exec/lifecycle.bpf.h adds a child at fork and
 * removes a process when its last thread exits).
 */
#ifndef EXECLENS_FOLLOW_BPF_H
#define EXECLENS_FOLLOW_BPF_H

/* the process's identity beside its tgid: when its group leader started (monotonic ns) */
static __always_inline __u64 proc_start(struct task_struct *t)
{
	return BPF_CORE_READ(t, group_leader, start_time);
}

/* is task t's process followed: its tgid in the map, for this process and not an earlier one of that pid */
static __always_inline bool is_traced(struct task_struct *t, __u32 tgid)
{
	__u64 *start, now;

	if (!cfg_filter)
		return true;
	start = bpf_map_lookup_elem(&traced, &tgid);
	if (!start)
		return false;
	now = proc_start(t);
	if (*start == 0) {
		*start = now; /* seeded by the tracer: this is the process it meant */
		return true;
	}
	if (*start == now)
		return true;
	/* the pid of a traced process that ended unseen, now another process's: forget it */
	bpf_map_delete_elem(&traced, &tgid);
	stat_inc(EL_ST_TRACE_STALE);
	return false;
}

/* follow process t from now on */
static __always_inline void follow(struct task_struct *t, __u32 tgid)
{
	__u64 start = proc_start(t);

	if (bpf_map_update_elem(&traced, &tgid, &start, BPF_ANY))
		stat_inc(EL_ST_TRACE_FULL);
}

/*
 * is_traced(), and also true for a child of a traced process that is not in
 * the map yet because the kernel skipped its fork (recursion_misses): it is
 * followed from its first exec on.
 */
static __always_inline bool is_traced_or_child(struct task_struct *t, __u32 tgid)
{
	struct task_struct *parent;

	if (is_traced(t, tgid))
		return true;
	parent = BPF_CORE_READ(t, real_parent);
	if (!is_traced(parent, BPF_CORE_READ(parent, tgid)))
		return false;
	follow(t, tgid);
	return true;
}

#endif
