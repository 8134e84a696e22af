/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Syscall arguments from the caller's user pt_regs, for the wrappers that get
 * those (fentry, kprobe on the arch wrapper, raw_syscalls): native, and the
 * arch's 32-bit ABI (lib/arch.bpf.h).
 */
#ifndef EXECLENS_ATTACH_ARGS_BPF_H
#define EXECLENS_ATTACH_ARGS_BPF_H

static __always_inline int native_execve(struct pt_regs *regs)
{
	return exec_enter(EL_SYS_EXECVE, EL_AT_FDCWD, (const char *)PT_REGS_PARM1_CORE_SYSCALL(regs),
			  PT_REGS_PARM2_CORE_SYSCALL(regs), PT_REGS_PARM3_CORE_SYSCALL(regs), 0, EL_ABI_NATIVE);
}

static __always_inline int native_execveat(struct pt_regs *regs)
{
	return exec_enter(EL_SYS_EXECVEAT, PT_REGS_PARM1_CORE_SYSCALL(regs),
			  (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs), PT_REGS_PARM3_CORE_SYSCALL(regs),
			  PT_REGS_PARM4_CORE_SYSCALL(regs), PT_REGS_PARM5_CORE_SYSCALL(regs), EL_ABI_NATIVE);
}

#ifdef ARCH_HAS_COMPAT
static __always_inline int compat_execve(struct pt_regs *regs)
{
	return exec_enter(EL_SYS_EXECVE, EL_AT_FDCWD, (const char *)COMPAT_ARG0(regs), COMPAT_ARG1(regs),
			  COMPAT_ARG2(regs), 0, EL_ABI_COMPAT);
}

static __always_inline int compat_execveat(struct pt_regs *regs)
{
	return exec_enter(EL_SYS_EXECVEAT, (__s32)COMPAT_ARG0(regs), (const char *)COMPAT_ARG1(regs),
			  COMPAT_ARG2(regs), COMPAT_ARG3(regs), COMPAT_ARG4(regs), EL_ABI_COMPAT);
}
#endif

#ifdef ARCH_HAS_X32
/*
 * x32: the native registers (the 64-bit syscall convention) at full width — the x32 stubs take filename, argv
 * and envp as unsigned long (SC_X86_64_REGS_TO_ARGS) — and 32-bit pointers inside argv/envp (compat_uptr_t)
 */
static __always_inline int x32_execve(struct pt_regs *regs)
{
	return exec_enter(EL_SYS_EXECVE, EL_AT_FDCWD, (const char *)PT_REGS_PARM1_CORE_SYSCALL(regs),
			  PT_REGS_PARM2_CORE_SYSCALL(regs), PT_REGS_PARM3_CORE_SYSCALL(regs), 0, EL_ABI_X32);
}

static __always_inline int x32_execveat(struct pt_regs *regs)
{
	return exec_enter(EL_SYS_EXECVEAT, (__s32)PT_REGS_PARM1_CORE_SYSCALL(regs),
			  (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs), PT_REGS_PARM3_CORE_SYSCALL(regs),
			  PT_REGS_PARM4_CORE_SYSCALL(regs), PT_REGS_PARM5_CORE_SYSCALL(regs), EL_ABI_X32);
}
#endif

#endif
