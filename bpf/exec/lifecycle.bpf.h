/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Process lifecycle: fork (follow the child, FORK record) and exit (EXIT record). */
#ifndef EXECLENS_LIFECYCLE_BPF_H
#define EXECLENS_LIFECYCLE_BPF_H

static __always_inline int proc_fork(struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct el_fork *r;

	if (ptgid == ctgid) /* a new thread, not a new process */
		return 0;
	if (!is_traced(parent, ptgid))
		return 0;
	/* follow the child too (filter mode) */
	if (cfg_filter)
		follow(child, ctgid);
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

static __always_inline int proc_exit(struct task_struct *t)
{
	__u32 tgid = BPF_CORE_READ(t, tgid);
	__u32 tid = BPF_CORE_READ(t, pid);
	struct el_exit *r;

	if (!is_traced(t, tgid))
		return 0;
	bpf_map_delete_elem(&stashes, &tid);
	/* signal->live reaches 0 before this tracepoint when the last thread exits */
	if (BPF_CORE_READ(t, signal, live.counter) != 0)
		return 0;
	/* gone: its tgid may be reused by an untraced process */
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
