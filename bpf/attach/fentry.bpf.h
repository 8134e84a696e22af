/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * fentry/fexit on the native syscall wrappers (BPF trampolines), and fentry.s:
 * the same entry programs, sleepable (src/attach/fentry.ts). The SEC() targets
 * are defaults: the loader sets the arch's wrapper (__<arch>_sys_execve[at]).
 */
#ifndef EXECLENS_ATTACH_FENTRY_BPF_H
#define EXECLENS_ATTACH_FENTRY_BPF_H

SEC("fentry/__x64_sys_execve")
int BPF_PROG(fentry_execve, struct pt_regs *regs) { return native_execve(regs); }

SEC("fentry/__x64_sys_execveat")
int BPF_PROG(fentry_execveat, struct pt_regs *regs) { return native_execveat(regs); }

SEC("fentry.s/__x64_sys_execve")
int BPF_PROG(fentry_s_execve, struct pt_regs *regs) { return native_execve(regs); }

SEC("fentry.s/__x64_sys_execveat")
int BPF_PROG(fentry_s_execveat, struct pt_regs *regs) { return native_execveat(regs); }

SEC("fexit/__x64_sys_execve")
int BPF_PROG(fexit_execve, struct pt_regs *regs, long ret) { return exec_exit(ret, EL_SLOT_EXIT, false); }

SEC("fexit/__x64_sys_execve")
int BPF_PROG(fexit_execve_loop, struct pt_regs *regs, long ret) { return exec_exit(ret, EL_SLOT_EXIT, true); }

SEC("fexit/__x64_sys_execveat")
int BPF_PROG(fexit_execveat, struct pt_regs *regs, long ret) { return exec_exit(ret, EL_SLOT_EXIT_AT, false); }

SEC("fexit/__x64_sys_execveat")
int BPF_PROG(fexit_execveat_loop, struct pt_regs *regs, long ret)
{
	return exec_exit(ret, EL_SLOT_EXIT_AT, true);
}

#endif
