/**
 * The raw syscall tracepoints `sys_enter`/`sys_exit`: one program on every syscall's entry and exit,
 * filtered by syscall number, native and compat alike (the ABI tells them apart). A few instructions per
 * syscall of the whole system while tracing, but it sees failed 32-bit execs, and its links detach at once
 * (each per-syscall tracepoint link waits for an RCU grace period, ~60-75 ms, one after the other).
 * Wrappers: bpf/attach/raw_syscalls.bpf.h.
 */
import type { PlanFacts } from '../plan/facts.js';
import type { AttachMethod, MethodPlan } from './method.js';

export const rawSyscalls: AttachMethod = {
  kind: 'raw_syscalls',
  candidateIds: ['raw_syscalls'],
  summary:
    'raw tracepoints sys_enter/sys_exit filtered by syscall number: native and compat, detach at once; runs on every syscall',
  since: '5.8',
  programPrefixes: ['raw_sys_'],
  hooksSyscalls: true,

  plan(facts: PlanFacts): MethodPlan {
    const c = facts.compat;
    const withCompat = c.abi && c.kernelRuns !== false ? (`native+${c.abi}` as const) : ('native' as const);
    // x32 by number (bpf/attach/raw_syscalls.bpf.h): named where the kernel runs x32 programs
    const abi =
      facts.x32.kernelRuns === true ? (withCompat === 'native+ia32' ? 'native+ia32+x32' : 'native+x32') : withCompat;
    return {
      rejected: [],
      candidates: [
        {
          id: 'raw_syscalls',
          attach: 'raw_syscalls',
          sleepable: false,
          hooks: [
            {
              program: 'raw_sys_enter',
              kind: 'raw_tp',
              role: 'enter',
              syscall: 'any',
              abi,
              target: 'sys_enter',
              optional: false,
            },
            {
              program: 'raw_sys_exit',
              kind: 'raw_tp',
              role: 'exit',
              syscall: 'any',
              abi,
              target: 'sys_exit',
              optional: false,
            },
          ],
          why: `raw syscall tracepoints (sys_enter/sys_exit, filtered by syscall number): ${abi === 'native' ? 'native ABI' : `native and ${abi.split('+').slice(1).join(' and ')}`}, detach at once; runs on every syscall while tracing`,
          blind: [],
        },
      ],
    };
  },

  attach: (lb, prog) => lb.programAttach(prog),

  forceFlags: () => ['--attach', 'raw_syscalls'],
};
