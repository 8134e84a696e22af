/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel-compat shims (in the manner of libbpf-tools' core_fixes.bpf.h): each
 * says which kernel change made it necessary. Workarounds for kernel
 * behaviour rather than layout live next to the code they change, each with
 * the kernel it was seen on:
 *   lib/loop.bpf.h     bpf_loop 5.17+ only in *_loop programs (5.10 refuses it even in dead
 *                      code); no fall-through back-edges (refused by 6.1)
 *   lib/maps.bpf.h     a scratch slot per program where BPF runs preemptibly (CONFIG_PREEMPTION)
 *   lib/user.bpf.h     fault the string's page in first (riscv64 Svade, 7.2 guest)
 *   exec/exit.bpf.h    the commit skipped by the kernel (recursion_misses, 7.2)
 *   lib/arch.bpf.h     riscv64's first syscall argument in orig_a0 (v6.6, commit 08d0ce30e0e4)
 */
#ifndef EXECLENS_KERNEL_COMPAT_BPF_H
#define EXECLENS_KERNEL_COMPAT_BPF_H

#ifdef ARCH_TS_COMPAT
/*
 * x86 thread_info.status (TS_COMPAT). When thread_info moved into task_struct
 * (CONFIG_THREAD_INFO_IN_TASK, x86 between v4.8 and v4.10) status went to
 * thread_struct, and it came back by v4.15: DepSurf's BTF of Ubuntu's 4.10 and
 * 4.13 kernels has a thread_info of `flags` only, 4.15 through 6.8 have
 * `status`. Every supported kernel (5.8+) has it; the existence check makes a
 * kernel without it read "native" instead of failing the CO-RE relocation.
 */
static __always_inline bool ts_compat(struct task_struct *t)
{
	if (bpf_core_field_exists(t->thread_info.status))
		return BPF_CORE_READ(t, thread_info.status) & ARCH_TS_COMPAT;
	return false;
}
#endif

#endif
