/**
 * No syscall hook at all: only the lifecycle programs (sched_process_exec, fork, exit; attach/lifecycle.ts)
 * run, so tracing costs the untraced tasks of the machine nothing. Every other method hooks execve/execveat:
 * raw_syscalls and the syscall tracepoints set TIF_SYSCALL_TRACEPOINT on every task while attached, which
 * sends each syscall of the system through the slow path (a program of 200,000 one-byte `dd` syscalls that
 * never execs ran 4.4x slower; issue 20). The price is what only the syscall sees: failed execs, the syscall
 * itself, execveat's dirfd and flags, the comm before the exec, the fds the exec closed (close-on-exec) and a
 * script's argv[0] as its caller passed it. A successful exec's record comes whole from the new image, as on
 * every plan (bpf/exec/commit.bpf.h, flag NO_ENTRY). Chosen by --successful-only only (plan/plan.ts).
 */
import type { AttachMethod, MethodPlan } from './method.js';

/** what no plan without a syscall hook can see (doctor's and -v's blind spots) */
export const LIFECYCLE_ONLY_BLIND: readonly string[] = [
  'failed execs: no syscall is hooked, and sched_process_exec runs for successful ones only',
  `the syscall (execve or execveat) and execveat's dirfd and flags: JSON syscall "unknown", at_fd null; filename is the kernel's (bprm->filename: /dev/fd/N/… for execveat by dirfd)`,
  `the comm before the exec (JSON old_comm ""), the fds the exec closed (close-on-exec), a #! script's argv[0] as the caller passed it (the script's path stands in)`,
];

export const lifecycleOnly: AttachMethod = {
  kind: 'lifecycle-only',
  candidateIds: ['lifecycle-only'],
  summary:
    'no syscall hook, only sched_process_exec/fork/exit: costs untraced tasks nothing; successful execs only (--successful-only)',
  since: '5.8',
  // its programs are the lifecycle ones, counted under their own prefixes (registry.ts)
  programPrefixes: [],
  hooksSyscalls: false,

  plan(): MethodPlan {
    return {
      rejected: [],
      candidates: [
        {
          id: 'lifecycle-only',
          attach: 'lifecycle-only',
          sleepable: false,
          hooks: [],
          why: '--successful-only: no syscall hook (every syscall of the system runs at full speed); each successful exec from the new image at sched_process_exec',
          blind: [...LIFECYCLE_ONLY_BLIND],
        },
      ],
    };
  },

  // it has no hooks: the loader attaches the lifecycle programs by their sections, never through a method
  attach: () => null,

  forceFlags: () => ['--successful-only'],
};
