/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --uid and --cgroup, in the kernel: an exec the user asked not to see is not copied at all (no argv, env, fds,
 * cwd), only counted (EL_ST_SKIP_*). The other filters (--comm, --filename, --argv, --failed-only) are regular
 * expressions or need the result, and stay in userspace (src/pipeline/filter.ts).
 */
#ifndef EXECLENS_SELECT_BPF_H
#define EXECLENS_SELECT_BPF_H

/* deeper than this below --cgroup's cgroup counts as outside it (kubernetes' containers are at level 4-5) */
#define CGROUP_WALK_MAX 32

/*
 * The task's cgroup v2 is cfg_cgroup_id's or below it: walk up from its cgroup to cfg_cgroup_level and compare
 * the ids there (kernfs_node.id, the directory's inode, as bpf_get_current_cgroup_id gives it; u64 since 5.5).
 * What bpf_current_task_under_cgroup does, without its cgroup array map: a sleepable program (the fentry.s
 * entry) may use no such map (kernel/bpf/verifier.c, check_map_prog_compatibility), and 6.4 is the first kernel
 * whose tracing programs have bpf_get_current_ancestor_cgroup_id.
 */
static __always_inline bool in_wanted_cgroup(struct task_struct *t)
{
	struct cgroup *cg = BPF_CORE_READ(t, cgroups, dfl_cgrp);
	int level = BPF_CORE_READ(cg, level);

	if (level < (int)cfg_cgroup_level || level - (int)cfg_cgroup_level > CGROUP_WALK_MAX)
		return false;
	for (int i = 0; i < CGROUP_WALK_MAX && level > (int)cfg_cgroup_level; i++, level--)
		cg = BPF_CORE_READ(cg, self.parent, cgroup);
	return cg && BPF_CORE_READ(cg, kn, id) == cfg_cgroup_id;
}

/*
 * 0: wanted, else the stat that counts it. The real uid, which no exec changes (a set-user-ID file changes
 * the effective one): the same at the entry and at the commit. The cgroup: the task's, which only a write to
 * cgroup.procs changes.
 */
static __always_inline __u32 exec_unwanted(struct task_struct *t)
{
	if (cfg_uid_only != EL_ANY_UID && BPF_CORE_READ(t, cred, uid.val) != cfg_uid_only)
		return EL_ST_SKIP_UID;
	if (cfg_cgroup_id && !in_wanted_cgroup(t))
		return EL_ST_SKIP_CGROUP;
	return 0;
}

#endif
