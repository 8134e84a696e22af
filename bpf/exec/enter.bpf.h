/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Syscall entry (every entry wrapper in attach/ ends here): stash the
 * caller's pointers and fd bitmaps, emit filename and argv[0] while the old
 * image is still there.
 */
#ifndef EXECLENS_ENTER_BPF_H
#define EXECLENS_ENTER_BPF_H

static __always_inline int exec_enter(__u32 syscall, __s32 at_fd, const char *filename, __u64 argv,
				      __u64 envp, __u32 at_flags, enum el_abi abi)
{
	/* ia32, AArch32 and x32 alike pass arrays of 32-bit pointers */
	bool compat = abi != EL_ABI_NATIVE;
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 tgid = pt >> 32, tid = (__u32)pt;
	struct stash st = {};
	__u64 more = 0, a0 = 0;

	if (!is_traced_or_child(cur_task(), tgid))
		return 0;
	st.unwanted = exec_unwanted(cur_task());
	if (st.unwanted) {
		/* stashed all the same: the path that commits the exec counts it, exactly once */
		if (bpf_map_update_elem(&stashes, &tid, &st, BPF_ANY))
			stat_inc(EL_ST_STASH_FULL);
		return 0;
	}
	st.exec_id = new_exec_id();
	st.ts = bpf_ktime_get_boot_ns();
	st.argv = argv;
	st.envp = envp;
	st.filename = (__u64)filename;
	st.at_fd = at_fd;
	st.at_flags = at_flags;
	st.syscall = syscall;
	st.compat = compat;
	if (abi == EL_ABI_X32)
		st.flags |= EL_EXEC_X32;
	bpf_get_current_comm(st.comm, sizeof(st.comm));
	/* here, not in the exit program: there it doubled the verifier's work (201K -> 465K insns on 6.18) */
	read_ns_pid((struct task_struct *)bpf_get_current_task(), &st.ns_pid, &st.ns_level);
	fd_bitmaps(cur_task(), &st.open_fds, &st.cloexec_fds, &more);

	fault_in_str(filename, !compat);
	st.flags |= emit_ustr(st.exec_id, EL_F_FILENAME, filename, EL_EXEC_FILENAME_FAULT,
			      EL_EXEC_FILENAME_TRUNC, &st.nchunks);
	/* compat entry programs are never sleepable (the ia32 wrappers refuse fentry.s) */
	if (!argv) {
		st.flags |= EL_EXEC_ARGC_ZERO;
	} else if (read_uptr(&a0, argv, 0, compat, !compat) == 0) {
		if (!a0)
			st.flags |= EL_EXEC_ARGC_ZERO;
		else {
			fault_in_str((const void *)a0, !compat);
			st.flags |= emit_ustr(st.exec_id, EL_F_ARGV0, (const void *)a0, EL_EXEC_ARGV_FAULT,
					      EL_EXEC_ARGV0_TRUNC, &st.nchunks);
		}
	}

	/* where a failed exec's strings could be unreadable at exit: their pages faulted in now */
	fault_in_strs(argv, !compat);
	fault_in_strs(envp, !compat);

	if (bpf_map_update_elem(&stashes, &tid, &st, BPF_ANY))
		stat_inc(EL_ST_STASH_FULL);
	return 0;
}

#endif
