/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * 32-bit execve/execveat (x86 ia32, arm64 AArch32) by fentry/fexit or
 * kprobe/kretprobe on the compat wrappers (src/attach/compat.ts: optional
 * hooks). No fentry.s: the kernel refuses sleepable programs on the ia32
 * wrappers. raw_syscalls sees these by number instead (raw_syscalls.bpf.h).
 */
#ifndef EXECLENS_ATTACH_COMPAT_BPF_H
#define EXECLENS_ATTACH_COMPAT_BPF_H

#ifdef ARCH_HAS_COMPAT
SEC("fentry/" COMPAT_SYM("execve"))
int BPF_PROG(fentry_compat_execve, struct pt_regs *regs) { return compat_execve(regs); }

SEC("fentry/" COMPAT_SYM("execveat"))
int BPF_PROG(fentry_compat_execveat, struct pt_regs *regs) { return compat_execveat(regs); }

SEC("fexit/" COMPAT_SYM("execve"))
int BPF_PROG(fexit_compat_execve, struct pt_regs *regs, long ret)
{
	return exec_exit(ret, EL_SLOT_EXIT_COMPAT, false);
}

SEC("fexit/" COMPAT_SYM("execve"))
int BPF_PROG(fexit_compat_execve_loop, struct pt_regs *regs, long ret)
{
	return exec_exit(ret, EL_SLOT_EXIT_COMPAT, true);
}

SEC("fexit/" COMPAT_SYM("execveat"))
int BPF_PROG(fexit_compat_execveat, struct pt_regs *regs, long ret)
{
	return exec_exit(ret, EL_SLOT_EXIT_COMPAT_AT, false);
}

SEC("fexit/" COMPAT_SYM("execveat"))
int BPF_PROG(fexit_compat_execveat_loop, struct pt_regs *regs, long ret)
{
	return exec_exit(ret, EL_SLOT_EXIT_COMPAT_AT, true);
}

SEC("kprobe/" COMPAT_SYM("execve"))
int BPF_KPROBE(kprobe_compat_execve, struct pt_regs *regs) { return compat_execve(regs); }

SEC("kprobe/" COMPAT_SYM("execveat"))
int BPF_KPROBE(kprobe_compat_execveat, struct pt_regs *regs) { return compat_execveat(regs); }

/* also attached to the compat execveat wrapper */
SEC("kretprobe/" COMPAT_SYM("execve"))
int BPF_KRETPROBE(kretprobe_compat_execve, long ret) { return exec_exit(ret, EL_SLOT_EXIT_COMPAT, false); }

SEC("kretprobe/" COMPAT_SYM("execve"))
int BPF_KRETPROBE(kretprobe_compat_execve_loop, long ret) { return exec_exit(ret, EL_SLOT_EXIT_COMPAT, true); }
#endif

#endif
