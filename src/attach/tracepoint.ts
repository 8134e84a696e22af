/**
 * The per-syscall tracepoints syscalls/sys_{enter,exit}_execve[at]: stable on every kernel with
 * CONFIG_FTRACE_SYSCALLS, native ABI only. The last fallback. Wrappers: bpf/attach/tracepoint.bpf.h.
 */
import type { PlanFacts } from '../plan/facts.js';
import { SYSCALLS, type AttachMethod, type HookSpec, type MethodPlan } from './method.js';

function unusable(facts: PlanFacts): string | null {
  const tps = facts.f.syscallTracepoints;
  if (tps && !Object.values(tps).every(Boolean)) return 'syscall tracepoints missing (CONFIG_FTRACE_SYSCALLS unset?)';
  if (facts.kc('CONFIG_FTRACE_SYSCALLS') === false) return 'CONFIG_FTRACE_SYSCALLS is not set';
  return null;
}

export const tracepoint: AttachMethod = {
  kind: 'tracepoint',
  candidateIds: ['tracepoint'],
  summary: 'syscall tracepoints sys_enter/sys_exit_execve[at]: stable everywhere, native ABI only',
  since: '5.8',
  programPrefixes: ['tp_'],
  hooksSyscalls: true,

  plan(facts: PlanFacts, forced: boolean): MethodPlan {
    const reason = unusable(facts);
    const out: MethodPlan = { candidates: [], rejected: [] };
    const c = facts.compat;
    if (reason === null || forced)
      out.candidates.push({
        id: 'tracepoint',
        attach: 'tracepoint',
        sleepable: false,
        hooks: SYSCALLS.flatMap((sc): HookSpec[] => [
          {
            program: `tp_enter_${sc}`,
            kind: 'tracepoint',
            role: 'enter',
            syscall: sc,
            abi: 'native',
            target: `syscalls/sys_enter_${sc}`,
            optional: false,
          },
          // one exit program serves both syscalls (attached twice): verified once
          {
            program: 'tp_exit_execve',
            kind: 'tracepoint',
            role: 'exit',
            syscall: sc,
            abi: 'native',
            target: `syscalls/sys_exit_${sc}`,
            optional: false,
          },
        ]),
        why: 'syscall tracepoints: stable everywhere, slower than fentry, native ABI only',
        blind: [
          ...(c.abi && c.kernelRuns !== false
            ? [
                `failed ${c.abi} (32-bit) execs: syscall tracepoints skip compat syscalls; successful ones are caught at sched_process_exec without the entry record (argv[0] as passed, execveat fd)`,
              ]
            : []),
          ...(facts.x32.kernelRuns === true
            ? [
                'failed x32 execs: syscall tracepoints skip x32 syscalls too; successful ones are caught at sched_process_exec without the entry record (and not flagged x32)',
              ]
            : []),
        ],
        ...(reason !== null ? { forced: reason } : {}),
      });
    if (reason !== null) out.rejected.push({ id: 'tracepoint', reason });
    return out;
  },

  attach(lb, prog, h) {
    const [category, name] = h.target.split('/') as [string, string];
    return lb.programAttachTracepoint(prog, category, name);
  },

  forceFlags: () => ['--attach', 'tracepoint'],
};
