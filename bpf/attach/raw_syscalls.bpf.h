/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * raw_tp/sys_enter and sys_exit run for every syscall of the system, native
 * and compat, with the caller's user registers; filtered by syscall number
 * (lib/arch.bpf.h). Unlike the per-syscall tracepoints (perf events, each
 * detach waits ~60-75 ms for RCU under a global mutex here) their links
 * detach at once, and they see 32-bit execs. src/attach/raw-syscalls.ts.
 */
#ifndef EXECLENS_ATTACH_RAW_SYSCALLS_BPF_H
#define EXECLENS_ATTACH_RAW_SYSCALLS_BPF_H

static __always_inline bool is_exec_nr(long id)
{
#ifdef ARCH_HAS_X32
	if (id == NR_X32_EXECVE || id == NR_X32_EXECVEAT)
		return true;
#endif
#ifdef ARCH_HAS_COMPAT
	if (id == NR_COMPAT_EXECVE || id == NR_COMPAT_EXECVEAT)
		return true;
#endif
	return id == NR_EXECVE || id == NR_EXECVEAT;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(raw_sys_enter, struct pt_regs *regs, long id)
{
	if (!is_exec_nr(id))
		return 0;
	/* a compat number is another syscall natively (ia32 11 is munmap on x86_64): the ABI decides */
	bool compat = task_compat(cur_task());
#ifdef ARCH_HAS_X32
	/* an x32 number from a 64-bit task (an ia32 int 0x80 with that number reaches here too, and gets ENOSYS) */
	if (!compat && id == NR_X32_EXECVE)
		return x32_execve(regs);
	if (!compat && id == NR_X32_EXECVEAT)
		return x32_execveat(regs);
#endif
#ifdef ARCH_HAS_COMPAT
	if (compat)
		return id == NR_COMPAT_EXECVE ? compat_execve(regs) :
		       id == NR_COMPAT_EXECVEAT ? compat_execveat(regs) : 0;
#endif
	if (compat)
		return 0;
	return id == NR_EXECVE ? native_execve(regs) : id == NR_EXECVEAT ? native_execveat(regs) : 0;
}

/* the commit of a failed exec; a successful one was committed at sched_process_exec
 * (this then runs in the new image and finds no stash) */
SEC("raw_tp/sys_exit")
int BPF_PROG(raw_sys_exit, struct pt_regs *regs, long ret)
{
	if (!is_exec_nr(SYSCALL_NR(regs)))
		return 0;
	return exec_exit(ret, EL_SLOT_EXIT, false);
}

SEC("raw_tp/sys_exit")
int BPF_PROG(raw_sys_exit_loop, struct pt_regs *regs, long ret)
{
	if (!is_exec_nr(SYSCALL_NR(regs)))
		return 0;
	return exec_exit(ret, EL_SLOT_EXIT, true);
}

#endif
