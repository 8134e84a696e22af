// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * execlens BPF programs. One implementation of exec tracing in three phases
 * (exec/): enter at syscall entry (stash the caller's pointers, emit filename
 * and argv[0]), commit at sched_process_exec (the new image's argv/env block,
 * cwd, fds, creds -> EXEC record), exit at syscall exit (a failed exec,
 * argv/env read from the caller). Thin wrappers per attach method (attach/)
 * extract the arguments and call them; the loader (src/backend/ebpf/loader.ts)
 * turns autoload on only for the wrappers of the chosen plan and sets fentry
 * targets / kprobe symbols at run time, so the SEC() targets are defaults.
 *
 *   plan         entry                               exit                      compat (ia32, AArch32)
 *   fentry       fentry[.s]/__<arch>_sys_exec*       fexit/__<arch>_sys_exec*  fentry+fexit on
 *                                                                              __{ia32,arm64}_compat_sys_exec*
 *   kprobe       kprobe/<sym> (regs wrapper or       kretprobe/<sym>           kprobe+kretprobe on the same
 *                __se_sys_* direct args)
 *   raw_syscalls raw_tp/sys_enter (by number)        raw_tp/sys_exit           the same programs (by ABI)
 *   x32 (x86_64)  fentry/kprobe on __x64_compat_sys_exec* (attach/x32.bpf.h); raw_syscalls by number
 *   tracepoint   tracepoint/syscalls/sys_enter_exec* sys_exit_exec*            (none: seen at sched_process_exec)
 *   lifecycle    tp_btf/sched_process_{exec,fork,exit}, or raw_tp/ the same
 *
 * The programs that copy argv/env/fds (every exit program and sched_process_exec)
 * come twice: X with unrolled loops (every kernel) and X_loop with bpf_loop()
 * (5.17+; verified in a fraction of the time). The loader picks per plan.
 *
 * Helpers used and the first kernel that has them (docs/kernel-support.md):
 *   bpf_ringbuf_output/reserve/submit 5.8, bpf_probe_read_{user,kernel}[_str] 5.5,
 *   bpf_ktime_get_boot_ns 5.8, bpf_copy_from_user 5.10 (sleepable only),
 *   bpf_get_current_task 4.8, bounded loops 5.3, bpf_loop 5.17 (only in the
 *   *_loop programs). No kfuncs, no BPF atomics beyond XADD: every program
 *   without the _loop suffix loads on 5.10.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "execlens_event.h"

/* libraries: each needs only those above it */
#include "lib/limits.bpf.h"
#include "lib/arch.bpf.h"
#include "lib/kernel_compat.bpf.h"
#include "lib/maps.bpf.h"
#include "lib/loop.bpf.h"
#include "lib/emit.bpf.h"
#include "lib/user.bpf.h"
#include "lib/task.bpf.h"
#include "lib/follow.bpf.h"
#include "lib/select.bpf.h"
#include "lib/path.bpf.h"
#include "lib/fds.bpf.h"
#include "lib/argv.bpf.h"
#include "lib/strsize.bpf.h"
#include "lib/envhash.bpf.h"

/* the exec phases and the process lifecycle */
#include "exec/stash.bpf.h"
#include "exec/enter.bpf.h"
#include "exec/commit.bpf.h"
#include "exec/exit.bpf.h"
#include "exec/lifecycle.bpf.h"

/* the programs, one header per attach method (src/attach/) */
#include "attach/args.bpf.h"
#include "attach/fentry.bpf.h"
#include "attach/kprobe.bpf.h"
#include "attach/compat.bpf.h"
#include "attach/x32.bpf.h"
#include "attach/tracepoint.bpf.h"
#include "attach/raw_syscalls.bpf.h"
#include "attach/lifecycle.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Never called: puts the record types and enums that the programs use only
 * through pointers or as constants into the object's BTF, where
 * scripts/gen-layout.py reads them to generate src/events/layout.ts.
 */
struct el_layout_anchor {
	struct el_fork fork;
	struct el_exit exit;
	struct el_fd fd;
	enum el_rec_kind rec_kind;
	enum el_field field;
	enum el_exec_flag exec_flag;
	enum el_syscall syscall;
	enum el_stat stat;
	enum el_scratch_slot scratch_slot;
};
__attribute__((used)) static int el_layout_types(struct el_layout_anchor *a)
{
	return 0;
}
