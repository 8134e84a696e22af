/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * x86_64's x32 execve/execveat by fentry/fexit or kprobe/kretprobe on their compat wrappers (src/attach/x32.ts:
 * optional hooks, only where the kernel runs x32 programs). The arguments are in the native registers, the
 * pointers 32-bit (attach/args.bpf.h). Never sleepable, as the ia32 wrappers. raw_syscalls sees these by
 * number instead (raw_syscalls.bpf.h); the syscall tracepoints do not see them at all.
 */
#ifndef EXECLENS_ATTACH_X32_BPF_H
#define EXECLENS_ATTACH_X32_BPF_H

#ifdef ARCH_HAS_X32
SEC("fentry/" X32_SYM("execve"))
int BPF_PROG(fentry_x32_execve, struct pt_regs *regs) { return x32_execve(regs); }

SEC("fentry/" X32_SYM("execveat"))
int BPF_PROG(fentry_x32_execveat, struct pt_regs *regs) { return x32_execveat(regs); }

SEC("fexit/" X32_SYM("execve"))
int BPF_PROG(fexit_x32_execve, struct pt_regs *regs, long ret) { return exec_exit(ret, EL_SLOT_EXIT_X32, false); }

SEC("fexit/" X32_SYM("execve"))
int BPF_PROG(fexit_x32_execve_loop, struct pt_regs *regs, long ret)
{
	return exec_exit(ret, EL_SLOT_EXIT_X32, true);
}

SEC("fexit/" X32_SYM("execveat"))
int BPF_PROG(fexit_x32_execveat, struct pt_regs *regs, long ret)
{
	return exec_exit(ret, EL_SLOT_EXIT_X32_AT, false);
}

SEC("fexit/" X32_SYM("execveat"))
int BPF_PROG(fexit_x32_execveat_loop, struct pt_regs *regs, long ret)
{
	return exec_exit(ret, EL_SLOT_EXIT_X32_AT, true);
}

SEC("kprobe/" X32_SYM("execve"))
int BPF_KPROBE(kprobe_x32_execve, struct pt_regs *regs) { return x32_execve(regs); }

SEC("kprobe/" X32_SYM("execveat"))
int BPF_KPROBE(kprobe_x32_execveat, struct pt_regs *regs) { return x32_execveat(regs); }

/* the exit of both: kretprobe_compat_execve (compat.bpf.h), attached to these wrappers too */
#endif

#endif
