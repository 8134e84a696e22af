/**
 * kprobe/kretprobe on the native syscall wrappers, or on `__se_sys_*` with direct arguments where the
 * arch has no wrappers (riscv64 before 6.6). Wrappers: bpf/attach/kprobe.bpf.h.
 */
import type { PlanFacts } from '../plan/facts.js';
import { compatHooks } from './compat.js';
import { x32Hooks } from './x32.js';
import { SYSCALLS, type AttachMethod, type HookSpec, type MethodPlan } from './method.js';

/** the symbols to probe: the arch wrappers, or __se_sys_* (direct arguments) where there are none */
function targets(facts: PlanFacts): { direct: boolean; target: (sc: 'execve' | 'execveat') => string } | null {
  if (facts.sym(facts.wrapper('execve')) !== false) return { direct: false, target: (sc) => facts.wrapper(sc) };
  if (facts.sym('__se_sys_execve')) return { direct: true, target: (sc) => `__se_sys_${sc}` };
  return null;
}

function unusable(facts: PlanFacts): string | null {
  const kp = facts.kc('CONFIG_KPROBES');
  if (kp === false) return 'CONFIG_KPROBES is not set: kprobe attach would fail';
  if (kp === null && !facts.f.kprobePmu && !facts.f.kprobeEvents)
    return 'no kprobe PMU and no kprobe_events in tracefs';
  if (facts.arch === 'riscv64' && facts.kc('CONFIG_KPROBES_ON_FTRACE') !== true)
    return 'riscv64 without CONFIG_KPROBES_ON_FTRACE: a kprobe on an ftrace location fails with EINVAL';
  if (!targets(facts)) return `neither ${facts.wrapper('execve')} nor __se_sys_execve in ${facts.symSource}`;
  return null;
}

export const kprobe: AttachMethod = {
  kind: 'kprobe',
  candidateIds: ['kprobe'],
  summary: 'kprobe/kretprobe on the syscall wrappers (or __se_sys_* with direct arguments)',
  since: '5.8',
  programPrefixes: ['kprobe_', 'kretprobe_'],
  hooksSyscalls: true,

  plan(facts: PlanFacts, forced: boolean): MethodPlan {
    const reason = unusable(facts);
    const out: MethodPlan = { candidates: [], rejected: [] };
    if (reason === null || forced) {
      const t = targets(facts) ?? { direct: false, target: (sc: 'execve' | 'execveat') => facts.wrapper(sc) };
      out.candidates.push({
        id: 'kprobe',
        attach: 'kprobe',
        sleepable: false,
        hooks: [
          ...SYSCALLS.flatMap((sc): HookSpec[] => [
            {
              program: `${t.direct ? 'kprobe_direct' : 'kprobe'}_${sc}`,
              kind: 'kprobe',
              role: 'enter',
              syscall: sc,
              abi: 'native',
              target: t.target(sc),
              optional: false,
            },
            // one exit program serves both syscalls (attached twice): verified once
            {
              program: 'kretprobe_execve',
              kind: 'kretprobe',
              role: 'exit',
              syscall: sc,
              abi: 'native',
              target: t.target(sc),
              optional: false,
            },
          ]),
          ...compatHooks(facts, 'kprobe'),
          ...x32Hooks(facts, 'kprobe'),
        ],
        why: t.direct
          ? `no syscall wrappers on this kernel: kprobe on ${t.target('execve')} with direct arguments`
          : `kprobe on ${t.target('execve')}`,
        blind: facts.compatBlindUnhooked,
        ...(reason !== null ? { forced: reason } : {}),
      });
    }
    if (reason !== null) out.rejected.push({ id: 'kprobe', reason });
    return out;
  },

  attach: (lb, prog, h) => lb.programAttachKprobe(prog, h.kind === 'kretprobe', h.target),

  hint: (a) => (a.stage === 'attach' ? 'no kprobe support (kprobe PMU / kprobe_events) for this symbol' : undefined),

  forceFlags: () => ['--attach', 'kprobe'],
};
