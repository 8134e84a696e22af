/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * sched_process_{exec,fork,exit}, as BTF-typed tracepoints (tp_btf, 5.5+) or
 * raw_tp as the fallback (src/attach/lifecycle.ts). The exec program is the
 * commit of every successful exec, in both loop variants.
 */
#ifndef EXECLENS_ATTACH_LIFECYCLE_BPF_H
#define EXECLENS_ATTACH_LIFECYCLE_BPF_H

SEC("tp_btf/sched_process_exec")
int BPF_PROG(btf_sched_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return exec_commit(p, old_pid, bprm, false);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(btf_sched_exec_loop, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return exec_commit(p, old_pid, bprm, true);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(btf_sched_fork, struct task_struct *parent, struct task_struct *child)
{
	return proc_fork(parent, child);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(btf_sched_exit, struct task_struct *p)
{
	return proc_exit(p);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(raw_sched_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return exec_commit(p, old_pid, bprm, false);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(raw_sched_exec_loop, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return exec_commit(p, old_pid, bprm, true);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(raw_sched_fork, struct task_struct *parent, struct task_struct *child)
{
	return proc_fork(parent, child);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(raw_sched_exit, struct task_struct *p)
{
	return proc_exit(p);
}

#endif
