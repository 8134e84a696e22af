/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Facts about a task: credentials, its pid in its own pid namespace, its ABI. */
#ifndef EXECLENS_TASK_BPF_H
#define EXECLENS_TASK_BPF_H

static __always_inline struct task_struct *cur_task(void)
{
	return (struct task_struct *)bpf_get_current_task();
}

static __always_inline void fill_creds(struct el_exec *e, struct task_struct *t)
{
	const struct cred *c = BPF_CORE_READ(t, cred);
	e->uid = BPF_CORE_READ(c, uid.val);
	e->gid = BPF_CORE_READ(c, gid.val);
	e->euid = BPF_CORE_READ(c, euid.val);
	e->egid = BPF_CORE_READ(c, egid.val);
}

#define PID_NS_LEVEL_MASK 31 /* MAX_PID_NS_LEVEL is 32 (include/linux/pid_namespace.h) */

/*
 * The process's pid in its own pid namespace (what getpid() returns there):
 * numbers[level] of the group leader's struct pid. pid/ppid stay in the
 * initial namespace, where the tree filter lives.
 */
static __always_inline void read_ns_pid(struct task_struct *t, __u32 *ns_pid, __u32 *ns_level)
{
	struct pid *p = BPF_CORE_READ(t, group_leader, thread_pid);
	unsigned int level = BPF_CORE_READ(p, level) & PID_NS_LEVEL_MASK;

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
#ifdef ARCH_TS_COMPAT
	return ts_compat(t);
#else
	__u64 size = BPF_CORE_READ(t, mm, task_size);

	return size && size <= COMPAT_TASK_SIZE_MAX;
#endif
}

#endif
