/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Syscall exit (every exit wrapper in attach/ ends here): commit a failed
 * exec, with argv/env read string by string from the caller (the old image is
 * still there). A successful exec was committed at sched_process_exec and
 * left no stash, unless the kernel skipped that program (exec_commit_missed).
 */
#ifndef EXECLENS_EXIT_BPF_H
#define EXECLENS_EXIT_BPF_H

/*
 * The commit at sched_process_exec deletes the stash. One still here after a
 * successful exec means the kernel skipped that program (recursion_misses: a
 * kernel that runs BPF preemptibly skips a program on a CPU where it is
 * already running, seen on 7.2). Report the exec from what the entry saw
 * rather than lose it: a small record written straight into the ring (no
 * scratch: it may be in use by a preempted program here). tid: the stash key, by
 * address as the caller holds it (a copy would cost another stack slot).
 */
static __always_inline int exec_commit_missed(struct stash *st, __u32 tgid, __u32 *tid)
{
	struct el_exec *late = reserve_exec();
	struct task_struct *t;

	if (!late) {
		bpf_map_delete_elem(&stashes, tid);
		return 0;
	}
	__builtin_memset(late, 0, sizeof(*late));
	exec_from_stash(late, st, EL_EXEC_COMMIT_MISSED);
	bpf_map_delete_elem(&stashes, tid);
	t = cur_task();
	late->pid = tgid;
	late->tid = *tid;
	late->ppid = BPF_CORE_READ(t, real_parent, tgid);
	late->cgroup_id = bpf_get_current_cgroup_id();
	fill_creds(late, t);
	bpf_get_current_comm(late->comm, sizeof(late->comm));
	late->ts_ns = bpf_ktime_get_boot_ns();
	submit_reserved_exec(late);
	return 0;
}

/* slot: the calling program's scratch slot (enum el_scratch_slot) */
static __always_inline int exec_exit(long ret, __u32 slot, bool loop)
{
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 tgid = pt >> 32, tid = (__u32)pt;
	struct task_struct *t;
	struct el_exec *e;
	struct stash *st;
	struct scratch *s;
	__u64 argv, envp, fname;
	bool compat;

	st = bpf_map_lookup_elem(&stashes, &tid);
	if (!st)
		return 0;
	if (st->unwanted) {
		stat_inc(st->unwanted);
		if (ret != 0)
			stat_inc(EL_ST_SKIP_FAILED);
		bpf_map_delete_elem(&stashes, &tid);
		return 0;
	}
	if (ret == 0)
		return exec_commit_missed(st, tgid, &tid);
	s = get_scratch(slot);
	if (!s)
		return 0;
	t = cur_task();
	e = &s->e;
	__builtin_memset(e, 0, sizeof(*e));
	exec_from_stash(e, st, EL_EXEC_FAILED_PATH);
	/* the exec failed: the task keeps its comm */
	__builtin_memcpy(e->comm, st->comm, sizeof(e->comm));
	compat = st->compat;
	argv = st->argv;
	envp = st->envp;
	fname = st->filename;
	bpf_map_delete_elem(&stashes, &tid);
	e->pid = tgid;
	e->tid = tid;
	e->ppid = BPF_CORE_READ(t, real_parent, tgid);
	e->ret = ret;
	e->cgroup_id = bpf_get_current_cgroup_id();
	fill_creds(e, t);

	/*
	 * A filename the entry could not read (its page not resident yet; a non-sleepable program cannot
	 * fault it in): the kernel has copied it since (getname), so the page is there now. The new chunk
	 * follows the empty one of the entry.
	 */
	if (e->flags & EL_EXEC_FILENAME_FAULT) {
		e->flags &= ~EL_EXEC_FILENAME_FAULT;
		e->flags |= emit_ustr(e->exec_id, EL_F_FILENAME, (const void *)fname, EL_EXEC_FILENAME_FAULT,
				      EL_EXEC_FILENAME_TRUNC, &e->nchunks);
	}
	e->argv_len = emit_str_array(s, slot, loop, EL_F_ARGV, argv, compat, EL_EXEC_ARGV_TRUNC,
				     EL_EXEC_ARGV_FAULT);
	e->argv_total = e->flags & EL_EXEC_ARGV_TRUNC ? str_array_size(s, slot, loop, argv, compat) : e->argv_len;
	if (cfg_capture_env) {
		e->env_len = emit_str_array(s, slot, loop, EL_F_ENV, envp, compat, EL_EXEC_ENV_TRUNC,
					    EL_EXEC_ENV_FAULT);
		e->env_total = e->flags & EL_EXEC_ENV_TRUNC ? str_array_size(s, slot, loop, envp, compat) : e->env_len;
	}
	emit_cwd(s, t);
	e->ts_ns = bpf_ktime_get_boot_ns();
	submit_exec(e);
	return 0;
}

#endif
