/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every per-arch fact, and the only file that tests __TARGET_ARCH_*:
 *
 *   ARCH_HAS_COMPAT        a 32-bit ABI whose execs we hook (x86 ia32, arm64 AArch32)
 *   COMPAT_SYM(sc)         its syscall wrapper symbol (default SEC() target; the loader sets the real one)
 *   COMPAT_ARG0..4(regs)   its syscall arguments in the user pt_regs (32-bit pointers)
 *   NR_EXECVE[AT], NR_COMPAT_EXECVE[AT]   syscall numbers (raw_syscalls plan)
 *   SYSCALL_NR(regs)       the syscall number in the user pt_regs (at sys_exit)
 *   ARCH_HAS_X32           x86_64's x32 ABI: X32_SYM(sc), NR_X32_EXECVE[AT] (with __X32_SYSCALL_BIT)
 *   ARCH_TS_COMPAT         x86's thread_info.status bit set during an ia32 syscall
 *   COMPAT_TASK_SIZE_MAX   elsewhere: the largest address space of a 32-bit image
 *   ARCH_PAGE_SIZE         the user page size (fault_in_str touches the next page)
 *   ARCH_OLD_PTES_FAULT    a forked child's "old" page-table entries fault on first access (no hardware
 *                          accessed bit): BPF's non-faulting reads fail on the caller's untouched pages
 *   PT_REGS_PARM1_CORE_SYSCALL   overridden where libbpf 1.1 reads the wrong register
 */
#ifndef EXECLENS_ARCH_BPF_H
#define EXECLENS_ARCH_BPF_H

#if defined(__TARGET_ARCH_x86)

#define ARCH_HAS_COMPAT 1
/* ia32 syscall ABI: ebx, ecx, edx, esi, edi; pointers are 32-bit */
#define COMPAT_SYM(sc) "__ia32_compat_sys_" sc
#define COMPAT_ARG0(regs) ((__u64)(__u32)BPF_CORE_READ(regs, bx))
#define COMPAT_ARG1(regs) ((__u64)(__u32)BPF_CORE_READ(regs, cx))
#define COMPAT_ARG2(regs) ((__u64)(__u32)BPF_CORE_READ(regs, dx))
#define COMPAT_ARG3(regs) ((__u64)(__u32)BPF_CORE_READ(regs, si))
#define COMPAT_ARG4(regs) ((__u64)(__u32)BPF_CORE_READ(regs, di))
#define NR_EXECVE 59
#define NR_EXECVEAT 322
#define NR_COMPAT_EXECVE 11     /* ia32 */
#define NR_COMPAT_EXECVEAT 358
#define SYSCALL_NR(regs) ((long)BPF_CORE_READ(regs, orig_ax))
/*
 * x32 (CONFIG_X86_X32_ABI, on at boot with syscall.x32=y on Debian): 64-bit syscall registers, 32-bit
 * pointers; the syscall number carries __X32_SYSCALL_BIT (arch/x86/include/uapi/asm/unistd.h), which
 * raw_syscalls sees in its id and in orig_ax, and the syscall tracepoints skip (they skip every compat
 * syscall). The wrappers are __x64_compat_sys_exec* on 6.1 (seen in the kernel matrix), __x32_compat_sys_*
 * on kernels before the x86 compat stubs were renamed: the loader sets the one the kernel has.
 */
#define ARCH_HAS_X32 1
#define X32_SYM(sc) "__x64_compat_sys_" sc
#define X32_SYSCALL_BIT 0x40000000
#define NR_X32_EXECVE (X32_SYSCALL_BIT + 520)   /* arch/x86/entry/syscalls/syscall_64.tbl */
#define NR_X32_EXECVEAT (X32_SYSCALL_BIT + 545)
/* arch/x86/include/asm/thread_info.h: set for the length of an ia32 syscall */
#define ARCH_TS_COMPAT 0x0002

#elif defined(__TARGET_ARCH_arm64)

#define ARCH_HAS_COMPAT 1
/* arm64 without FEAT_HAFDBS sets the access flag by a fault */
#define ARCH_OLD_PTES_FAULT 1
/* AArch32 syscall ABI: r0..r4 arrive in x0..x4; pointers are 32-bit */
#define COMPAT_SYM(sc) "__arm64_compat_sys_" sc
#define COMPAT_ARG0(regs) ((__u64)(__u32)BPF_CORE_READ(regs, regs[0]))
#define COMPAT_ARG1(regs) ((__u64)(__u32)BPF_CORE_READ(regs, regs[1]))
#define COMPAT_ARG2(regs) ((__u64)(__u32)BPF_CORE_READ(regs, regs[2]))
#define COMPAT_ARG3(regs) ((__u64)(__u32)BPF_CORE_READ(regs, regs[3]))
#define COMPAT_ARG4(regs) ((__u64)(__u32)BPF_CORE_READ(regs, regs[4]))
#define NR_EXECVE 221
#define NR_EXECVEAT 281
#define NR_COMPAT_EXECVE 11     /* AArch32 */
#define NR_COMPAT_EXECVEAT 387
#define SYSCALL_NR(regs) ((long)BPF_CORE_READ(regs, syscallno))

#elif defined(__TARGET_ARCH_riscv)

/* riscv64 with Svade (the accessed bit set by a page fault): seen in a 7.2 guest */
#define ARCH_OLD_PTES_FAULT 1
#define NR_EXECVE 221
#define NR_EXECVEAT 281
#define SYSCALL_NR(regs) ((long)BPF_CORE_READ(regs, a7))
/*
 * riscv syscall wrappers (__riscv_sys_*) came with v6.6 (commit 08d0ce30e0e4
 * "riscv: Implement syscall wrappers"): the entry code saves a0 in orig_a0 and
 * sets a0 = -ENOSYS before the wrapper runs, so the first argument is in
 * orig_a0. libbpf caught up later ("libbpf: Fix accessing first syscall
 * argument on RV64", posted 2024-08); Debian 12's libbpf 1.1 headers still
 * read a0. Seen in the kernel matrix: every filename read faulted on 6.12
 * riscv64. Before v6.6 there is no wrapper and the kprobe plan hooks
 * __se_sys_* with direct arguments instead (attach/kprobe.bpf.h).
 */
#undef PT_REGS_PARM1_CORE_SYSCALL
#define PT_REGS_PARM1_CORE_SYSCALL(x) BPF_CORE_READ((struct pt_regs *)(x), orig_a0)

#endif

/*
 * Off x86 a 32-bit image is told by its address space: setup_new_exec() sizes
 * the new mm from the personality the binary loader chose, and a 32-bit image
 * (AArch32, rv32) gets at most 4 GiB.
 */
#define COMPAT_TASK_SIZE_MAX 0x100000000ULL

/* 4 KiB pages: Debian's x86_64, arm64 and riscv64 kernels (arm64 can be built with 16 or 64 KiB) */
#define ARCH_PAGE_SIZE 4096

#endif
