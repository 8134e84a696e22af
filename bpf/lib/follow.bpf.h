/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which processes are traced: all (cfg.filter 0), or the tree under the
 * tracer (the `traced` map: exec/lifecycle.bpf.h adds a child at fork and
 * removes a process when its last thread exits).
 */
#ifndef EXECLENS_FOLLOW_BPF_H
#define EXECLENS_FOLLOW_BPF_H

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

#endif
