/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --uid and --cgroup, in the kernel: an exec the user asked not to see is not copied at all (no argv, env, fds,
 * cwd), only counted (EL_ST_SKIP_*). The other filters (--comm, --filename, --argv, --failed-only) are regular
 * expressions or need the result, and stay in userspace (src/pipeline/filter.ts).
 */
#ifndef EXECLENS_SELECT_BPF_H
#define EXECLENS_SELECT_BPF_H

/*
 * 0: wanted, else the stat that counts it. The real uid, which no exec changes (a set-user-ID file changes
 * the effective one): the same at the entry and at the commit. The cgroup: the current task's, which only a
 * write to cgroup.procs changes. bpf_current_task_under_cgroup() is 1 for the cgroup and its descendants, and
 * negative while the loader has not put the directory in the map yet: nothing passes until it has.
 */
static __always_inline __u32 exec_unwanted(struct task_struct *t)
{
	if (cfg_uid_only != EL_ANY_UID && BPF_CORE_READ(t, cred, uid.val) != cfg_uid_only)
		return EL_ST_SKIP_UID;
	if (cfg_cgroup_only && bpf_current_task_under_cgroup(&cgroup_only, 0) != 1)
		return EL_ST_SKIP_CGROUP;
	return 0;
}

#endif
