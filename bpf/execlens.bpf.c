// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * execlens BPF programs: thin wrappers only. Every wrapper extracts the
 * syscall arguments for its attach type and calls the common logic in
 * execlens_common.bpf.h. The loader (src/bpf/loader.ts) turns autoload on
 * only for the wrappers of the chosen plan and sets fentry targets / kprobe
 * symbols at run time, so the SEC() targets below are defaults, not promises.
 *
 *   plan        entry                         exit                      compat (x86 ia32, arm64 AArch32)
 *   fentry      fentry[.s]/__<arch>_sys_exec* fexit/__<arch>_sys_exec*  fentry+fexit __{ia32,arm64}_compat_sys_exec*
 *   kprobe      kprobe/<sym>  (regs wrapper   kretprobe/<sym>           kprobe+kretprobe __{ia32,arm64}_compat_sys_exec*
 *               or __se_sys_* direct args)
 *   raw_syscalls raw_tp/sys_enter (by number)    raw_tp/sys_exit            the same programs (compat numbers, by ABI)
 *   tracepoint  tracepoint/syscalls/sys_enter_exec*  sys_exit_exec*     (not seen: caught at sched_process_exec)
 *   lifecycle   tp_btf/sched_process_{exec,fork,exit}, or raw_tp/ the same
 *
 * The programs that copy argv/env/fds (every exit program and sched_process_exec)
 * come twice: X with unrolled loops (every kernel) and X_loop with bpf_loop()
 * (5.17+; verified in a fraction of the time). The loader picks per plan.
 */
#include "execlens_common.bpf.h"

#define AT_FDCWD_ -100

#if defined(__TARGET_ARCH_riscv)
/*
 * riscv's syscall entry saves a0 in orig_a0 and sets a0 = -ENOSYS before the
 * wrapper (__riscv_sys_*, since 6.6) runs; libbpf 1.1's headers still read a0
 * (they predate riscv's wrappers). Seen in the kernel matrix: every filename
 * read faulted on 6.12 riscv64.
 */
#undef PT_REGS_PARM1_CORE_SYSCALL
#define PT_REGS_PARM1_CORE_SYSCALL(x) BPF_CORE_READ((struct pt_regs *)(x), orig_a0)
#endif

/* native syscall wrappers take one argument: the user pt_regs */
static __always_inline int native_execve(struct pt_regs *regs)
{
	return trace_exec_common_enter(EL_SYS_EXECVE, AT_FDCWD_,
				       (const char *)PT_REGS_PARM1_CORE_SYSCALL(regs),
				       PT_REGS_PARM2_CORE_SYSCALL(regs),
				       PT_REGS_PARM3_CORE_SYSCALL(regs), 0, false);
}

static __always_inline int native_execveat(struct pt_regs *regs)
{
	return trace_exec_common_enter(EL_SYS_EXECVEAT, PT_REGS_PARM1_CORE_SYSCALL(regs),
				       (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs),
				       PT_REGS_PARM3_CORE_SYSCALL(regs),
				       PT_REGS_PARM4_CORE_SYSCALL(regs),
				       PT_REGS_PARM5_CORE_SYSCALL(regs), false);
}

/* ---------------- fentry / fexit (BTF trampolines) ---------------- */

SEC("fentry/__x64_sys_execve")
int BPF_PROG(fentry_execve, struct pt_regs *regs) { return native_execve(regs); }

SEC("fentry/__x64_sys_execveat")
int BPF_PROG(fentry_execveat, struct pt_regs *regs) { return native_execveat(regs); }

SEC("fentry.s/__x64_sys_execve")
int BPF_PROG(fentry_s_execve, struct pt_regs *regs) { return native_execve(regs); }

SEC("fentry.s/__x64_sys_execveat")
int BPF_PROG(fentry_s_execveat, struct pt_regs *regs) { return native_execveat(regs); }

SEC("fexit/__x64_sys_execve")
int BPF_PROG(fexit_execve, struct pt_regs *regs, long ret) { return trace_exec_common_exit(ret, SLOT_EXIT, false); }

SEC("fexit/__x64_sys_execve")
int BPF_PROG(fexit_execve_loop, struct pt_regs *regs, long ret) { return trace_exec_common_exit(ret, SLOT_EXIT, true); }

SEC("fexit/__x64_sys_execveat")
int BPF_PROG(fexit_execveat, struct pt_regs *regs, long ret) { return trace_exec_common_exit(ret, SLOT_EXIT_AT, false); }

SEC("fexit/__x64_sys_execveat")
int BPF_PROG(fexit_execveat_loop, struct pt_regs *regs, long ret) { return trace_exec_common_exit(ret, SLOT_EXIT_AT, true); }

/* ---------------- kprobe / kretprobe ---------------- */
/* on the arch wrapper (argument: user pt_regs) */

SEC("kprobe/__x64_sys_execve")
int BPF_KPROBE(kprobe_execve, struct pt_regs *regs) { return native_execve(regs); }

SEC("kprobe/__x64_sys_execveat")
int BPF_KPROBE(kprobe_execveat, struct pt_regs *regs) { return native_execveat(regs); }

/* on __se_sys_* where the arch has no wrapper (riscv64 before 6.6): direct arguments */
SEC("kprobe/__se_sys_execve")
int BPF_KPROBE(kprobe_direct_execve, const char *filename, __u64 argv, __u64 envp)
{
	return trace_exec_common_enter(EL_SYS_EXECVE, AT_FDCWD_, filename, argv, envp, 0, false);
}

SEC("kprobe/__se_sys_execveat")
int BPF_KPROBE(kprobe_direct_execveat, long fd, const char *filename, __u64 argv, __u64 envp,
	       long flags)
{
	return trace_exec_common_enter(EL_SYS_EXECVEAT, fd, filename, argv, envp, flags, false);
}

/* also attached to the execveat symbol by the loader (one program, verified once) */
SEC("kretprobe/__x64_sys_execve")
int BPF_KRETPROBE(kretprobe_execve, long ret) { return trace_exec_common_exit(ret, SLOT_EXIT, false); }

SEC("kretprobe/__x64_sys_execve")
int BPF_KRETPROBE(kretprobe_execve_loop, long ret) { return trace_exec_common_exit(ret, SLOT_EXIT, true); }

/* ---------------- compat: 32-bit execve/execveat (x86 ia32, arm64 AArch32) ---------------- */
#if defined(__TARGET_ARCH_x86)
/* ia32 syscall ABI: ebx, ecx, edx, esi, edi; pointers are 32-bit */
#define COMPAT_SYM(sc) "__ia32_compat_sys_" sc
#define COMPAT_ARG0(regs) ((__u64)(__u32)BPF_CORE_READ(regs, bx))
#define COMPAT_ARG1(regs) ((__u64)(__u32)BPF_CORE_READ(regs, cx))
#define COMPAT_ARG2(regs) ((__u64)(__u32)BPF_CORE_READ(regs, dx))
#define COMPAT_ARG3(regs) ((__u64)(__u32)BPF_CORE_READ(regs, si))
#define COMPAT_ARG4(regs) ((__u64)(__u32)BPF_CORE_READ(regs, di))
#elif defined(__TARGET_ARCH_arm64)
/* AArch32 syscall ABI: r0..r4 arrive in x0..x4; pointers are 32-bit */
#define COMPAT_SYM(sc) "__arm64_compat_sys_" sc
#define COMPAT_ARG0(regs) ((__u64)(__u32)BPF_CORE_READ(regs, regs[0]))
#define COMPAT_ARG1(regs) ((__u64)(__u32)BPF_CORE_READ(regs, regs[1]))
#define COMPAT_ARG2(regs) ((__u64)(__u32)BPF_CORE_READ(regs, regs[2]))
#define COMPAT_ARG3(regs) ((__u64)(__u32)BPF_CORE_READ(regs, regs[3]))
#define COMPAT_ARG4(regs) ((__u64)(__u32)BPF_CORE_READ(regs, regs[4]))
#endif

#ifdef COMPAT_SYM
static __always_inline int compat_execve(struct pt_regs *regs)
{
	return trace_exec_common_enter(EL_SYS_EXECVE, AT_FDCWD_,
				       (const char *)COMPAT_ARG0(regs), COMPAT_ARG1(regs),
				       COMPAT_ARG2(regs), 0, true);
}

static __always_inline int compat_execveat(struct pt_regs *regs)
{
	return trace_exec_common_enter(EL_SYS_EXECVEAT, (__s32)COMPAT_ARG0(regs),
				       (const char *)COMPAT_ARG1(regs), COMPAT_ARG2(regs),
				       COMPAT_ARG3(regs), COMPAT_ARG4(regs), true);
}

SEC("fentry/" COMPAT_SYM("execve"))
int BPF_PROG(fentry_compat_execve, struct pt_regs *regs) { return compat_execve(regs); }

SEC("fentry/" COMPAT_SYM("execveat"))
int BPF_PROG(fentry_compat_execveat, struct pt_regs *regs) { return compat_execveat(regs); }

/* no fentry.s for compat: the kernel refuses sleepable programs on the ia32 wrappers */
SEC("fexit/" COMPAT_SYM("execve"))
int BPF_PROG(fexit_compat_execve, struct pt_regs *regs, long ret) { return trace_exec_common_exit(ret, SLOT_EXIT_COMPAT, false); }

SEC("fexit/" COMPAT_SYM("execve"))
int BPF_PROG(fexit_compat_execve_loop, struct pt_regs *regs, long ret) { return trace_exec_common_exit(ret, SLOT_EXIT_COMPAT, true); }

SEC("fexit/" COMPAT_SYM("execveat"))
int BPF_PROG(fexit_compat_execveat, struct pt_regs *regs, long ret) { return trace_exec_common_exit(ret, SLOT_EXIT_COMPAT_AT, false); }

SEC("fexit/" COMPAT_SYM("execveat"))
int BPF_PROG(fexit_compat_execveat_loop, struct pt_regs *regs, long ret) { return trace_exec_common_exit(ret, SLOT_EXIT_COMPAT_AT, true); }

SEC("kprobe/" COMPAT_SYM("execve"))
int BPF_KPROBE(kprobe_compat_execve, struct pt_regs *regs) { return compat_execve(regs); }

SEC("kprobe/" COMPAT_SYM("execveat"))
int BPF_KPROBE(kprobe_compat_execveat, struct pt_regs *regs) { return compat_execveat(regs); }

/* also attached to the compat execveat wrapper */
SEC("kretprobe/" COMPAT_SYM("execve"))
int BPF_KRETPROBE(kretprobe_compat_execve, long ret) { return trace_exec_common_exit(ret, SLOT_EXIT_COMPAT, false); }

SEC("kretprobe/" COMPAT_SYM("execve"))
int BPF_KRETPROBE(kretprobe_compat_execve_loop, long ret) { return trace_exec_common_exit(ret, SLOT_EXIT_COMPAT, true); }
#endif

/* ---------------- syscall tracepoints (native ABI only) ---------------- */

SEC("tracepoint/syscalls/sys_enter_execve")
int tp_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	return trace_exec_common_enter(EL_SYS_EXECVE, AT_FDCWD_, (const char *)ctx->args[0],
				       ctx->args[1], ctx->args[2], 0, false);
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int tp_enter_execveat(struct trace_event_raw_sys_enter *ctx)
{
	return trace_exec_common_enter(EL_SYS_EXECVEAT, (__s32)ctx->args[0],
				       (const char *)ctx->args[1], ctx->args[2], ctx->args[3],
				       (__u32)ctx->args[4], false);
}

/* also attached to sys_exit_execveat by the loader (one program, verified once) */
SEC("tracepoint/syscalls/sys_exit_execve")
int tp_exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	return trace_exec_common_exit(ctx->ret, SLOT_EXIT, false);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int tp_exit_execve_loop(struct trace_event_raw_sys_exit *ctx)
{
	return trace_exec_common_exit(ctx->ret, SLOT_EXIT, true);
}


/* ---------------- raw syscall tracepoints (every syscall, filtered by number) ---------------- */
/*
 * raw_tp/sys_enter and sys_exit run for every syscall of the system, native
 * and compat, with the caller's user registers. Unlike the per-syscall
 * tracepoints (perf events, each detach waits ~60-75 ms for RCU under a
 * global mutex here) their links detach at once, and they see 32-bit execs.
 */
#if defined(__TARGET_ARCH_x86)
#define NR_EXECVE 59
#define NR_EXECVEAT 322
#define NR_COMPAT_EXECVE 11     /* ia32 */
#define NR_COMPAT_EXECVEAT 358
#define SYSCALL_NR(regs) ((long)BPF_CORE_READ(regs, orig_ax))
#elif defined(__TARGET_ARCH_arm64)
#define NR_EXECVE 221
#define NR_EXECVEAT 281
#define NR_COMPAT_EXECVE 11     /* AArch32 */
#define NR_COMPAT_EXECVEAT 387
#define SYSCALL_NR(regs) ((long)BPF_CORE_READ(regs, syscallno))
#elif defined(__TARGET_ARCH_riscv)
#define NR_EXECVE 221
#define NR_EXECVEAT 281
#define SYSCALL_NR(regs) ((long)BPF_CORE_READ(regs, a7))
#endif

static __always_inline bool is_exec_nr(long id)
{
#ifdef COMPAT_SYM
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
#ifdef COMPAT_SYM
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
	return trace_exec_common_exit(ret, SLOT_EXIT, false);
}

SEC("raw_tp/sys_exit")
int BPF_PROG(raw_sys_exit_loop, struct pt_regs *regs, long ret)
{
	if (!is_exec_nr(SYSCALL_NR(regs)))
		return 0;
	return trace_exec_common_exit(ret, SLOT_EXIT, true);
}

/* ---------------- process lifecycle ---------------- */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(btf_sched_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return trace_exec_common_commit(p, old_pid, bprm, false);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(btf_sched_exec_loop, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return trace_exec_common_commit(p, old_pid, bprm, true);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(btf_sched_fork, struct task_struct *parent, struct task_struct *child)
{
	return trace_fork_common(parent, child);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(btf_sched_exit, struct task_struct *p)
{
	return trace_exit_common(p);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(raw_sched_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return trace_exec_common_commit(p, old_pid, bprm, false);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(raw_sched_exec_loop, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return trace_exec_common_commit(p, old_pid, bprm, true);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(raw_sched_fork, struct task_struct *parent, struct task_struct *child)
{
	return trace_fork_common(parent, child);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(raw_sched_exit, struct task_struct *p)
{
	return trace_exit_common(p);
}

/* never called: keeps the record types that are only used through pointers
 * in BTF, so test/unit/layout.test.ts can check the TypeScript offsets */
__attribute__((used)) static int el_layout_types(struct el_fork *a, struct el_exit *b, struct el_fd *c)
{
	return 0;
}
