/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kprobe/kretprobe (src/attach/kprobe.ts): on the arch wrapper (argument: the
 * user pt_regs), or on __se_sys_* with direct arguments where the arch has no
 * wrapper (riscv64 before v6.6). The loader sets the symbols.
 */
#ifndef EXECLENS_ATTACH_KPROBE_BPF_H
#define EXECLENS_ATTACH_KPROBE_BPF_H

SEC("kprobe/__x64_sys_execve")
int BPF_KPROBE(kprobe_execve, struct pt_regs *regs) { return native_execve(regs); }

SEC("kprobe/__x64_sys_execveat")
int BPF_KPROBE(kprobe_execveat, struct pt_regs *regs) { return native_execveat(regs); }

SEC("kprobe/__se_sys_execve")
int BPF_KPROBE(kprobe_direct_execve, const char *filename, __u64 argv, __u64 envp)
{
	return exec_enter(EL_SYS_EXECVE, EL_AT_FDCWD, filename, argv, envp, 0, EL_ABI_NATIVE);
}

SEC("kprobe/__se_sys_execveat")
int BPF_KPROBE(kprobe_direct_execveat, long fd, const char *filename, __u64 argv, __u64 envp,
	       long flags)
{
	return exec_enter(EL_SYS_EXECVEAT, fd, filename, argv, envp, flags, EL_ABI_NATIVE);
}

/* also attached to the execveat symbol by the loader (one program, verified once) */
SEC("kretprobe/__x64_sys_execve")
int BPF_KRETPROBE(kretprobe_execve, long ret) { return exec_exit(ret, EL_SLOT_EXIT, false); }

SEC("kretprobe/__x64_sys_execve")
int BPF_KRETPROBE(kretprobe_execve_loop, long ret) { return exec_exit(ret, EL_SLOT_EXIT, true); }

#endif
