/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Syscall tracepoints (native ABI only: compat syscalls skip them; a 32-bit
 * exec is still caught at sched_process_exec). src/attach/tracepoint.ts.
 */
#ifndef EXECLENS_ATTACH_TRACEPOINT_BPF_H
#define EXECLENS_ATTACH_TRACEPOINT_BPF_H

SEC("tracepoint/syscalls/sys_enter_execve")
int tp_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	return exec_enter(EL_SYS_EXECVE, EL_AT_FDCWD, (const char *)ctx->args[0], ctx->args[1],
			  ctx->args[2], 0, EL_ABI_NATIVE);
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int tp_enter_execveat(struct trace_event_raw_sys_enter *ctx)
{
	return exec_enter(EL_SYS_EXECVEAT, (__s32)ctx->args[0], (const char *)ctx->args[1], ctx->args[2],
			  ctx->args[3], (__u32)ctx->args[4], EL_ABI_NATIVE);
}

/* also attached to sys_exit_execveat by the loader (one program, verified once) */
SEC("tracepoint/syscalls/sys_exit_execve")
int tp_exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	return exec_exit(ctx->ret, EL_SLOT_EXIT, false);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int tp_exit_execve_loop(struct trace_event_raw_sys_exit *ctx)
{
	return exec_exit(ctx->ret, EL_SLOT_EXIT, true);
}

#endif
