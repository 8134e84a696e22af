/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * sched_process_exec: the exec succeeded and the new image is in place. Its
 * argv/env block, cwd, fds and creds, with what the entry stashed, make the
 * EXEC record.
 */
#ifndef EXECLENS_COMMIT_BPF_H
#define EXECLENS_COMMIT_BPF_H

static __always_inline int exec_commit(struct task_struct *t, __u32 old_tid, struct linux_binprm *bprm,
				       bool loop)
{
	__u32 tgid = BPF_CORE_READ(t, tgid);
	struct stash *st;
	struct scratch *s;
	struct el_exec *e;
	struct mm_struct *mm;
	__u64 entry_open = 0, entry_cloexec = 0;

	__u32 unwanted;

	if (!is_traced_or_child(t, tgid))
		return 0;
	st = bpf_map_lookup_elem(&stashes, &old_tid);
	/* refused at the entry, or (no entry seen: lifecycle-only, an ia32 exec on a tracepoint plan) here */
	unwanted = st ? st->unwanted : exec_unwanted(t);
	if (unwanted) {
		stat_inc(unwanted);
		if (st)
			bpf_map_delete_elem(&stashes, &old_tid);
		return 0;
	}
	s = get_scratch(EL_SLOT_COMMIT);
	if (!s)
		return 0;
	e = &s->e;
	__builtin_memset(e, 0, sizeof(*e));
	if (st) {
		exec_from_stash(e, st, 0);
		entry_open = st->open_fds;
		entry_cloexec = st->cloexec_fds;
		bpf_map_delete_elem(&stashes, &old_tid);
	} else {
		/* entry not seen: e.g. an ia32 exec on a tracepoint-only plan */
		e->exec_id = new_exec_id();
		e->flags = EL_EXEC_NO_ENTRY;
		e->syscall = EL_SYS_UNKNOWN;
		e->at_fd = EL_AT_FDCWD;
		if (task_compat(t))
			e->flags |= EL_EXEC_COMPAT;
	}
	e->pid = tgid;
	e->tid = old_tid;
	e->ppid = BPF_CORE_READ(t, real_parent, tgid);
	fill_creds(e, t);
	read_ns_pid(t, &e->ns_pid, &e->ns_level);
	/* (4.18+, every program type here) the task is the one that exec'd */
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));

	mm = BPF_CORE_READ(t, mm);
	e->argv_len = emit_block(s, EL_SLOT_COMMIT, loop, EL_F_ARGV, BPF_CORE_READ(mm, arg_start),
				 BPF_CORE_READ(mm, arg_end), &e->argv_total, EL_EXEC_ARGV_TRUNC,
				 EL_EXEC_ARGV_FAULT);
	s->env_new = 0;
	if (cfg_capture_env) {
		__u64 env_start = BPF_CORE_READ(mm, env_start), env_end = BPF_CORE_READ(mm, env_end);
		/* bpf_loop programs only (lib/envhash.bpf.h): `loop` is a compile-time constant, so the unrolled
		 * twin holds no bpf_loop call */
		if (!(loop && cfg_env_dedupe && emit_env_deduped(s, EL_SLOT_COMMIT, env_start, env_end)))
			e->env_len = emit_block(s, EL_SLOT_COMMIT, loop, EL_F_ENV, env_start, env_end,
						&e->env_total, EL_EXEC_ENV_TRUNC, EL_EXEC_ENV_FAULT);
	}
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
	emit_exe(s, t);
	if (cfg_capture_fds)
		emit_fds(s, EL_SLOT_COMMIT, loop, t, entry_open, entry_cloexec);
	if (e->flags & EL_EXEC_ARGV_TRUNC)
		stat_inc(EL_ST_ARGV_TRUNC);
	if (e->flags & EL_EXEC_ENV_TRUNC)
		stat_inc(EL_ST_ENV_TRUNC);
	e->ts_ns = bpf_ktime_get_boot_ns();
	/* the hash is remembered only once its record is in the ring (ordering: lib/envhash.bpf.h) */
	if (submit_exec(e) == 0 && loop)
		env_sent_commit(s);
	return 0;
}

#endif
