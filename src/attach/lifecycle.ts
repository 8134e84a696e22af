/**
 * The lifecycle programs every plan loads beside its attach method: sched_process_exec (the commit of a
 * successful exec), sched_process_fork and sched_process_exit (the traced tree), as BTF-typed tracepoints
 * (tp_btf, 5.5+) or raw tracepoints (raw_tp) as the fallback. Wrappers: bpf/attach/lifecycle.bpf.h.
 */
import type { PlanFacts } from '../plan/facts.js';

export const LIFECYCLE_KINDS = ['tp_btf', 'raw_tp'] as const;
export type LifecycleKind = (typeof LIFECYCLE_KINDS)[number];

export const LIFECYCLE_PROGS: Record<LifecycleKind, string[]> = {
  tp_btf: ['btf_sched_exec', 'btf_sched_fork', 'btf_sched_exit'],
  raw_tp: ['raw_sched_exec', 'raw_sched_fork', 'raw_sched_exit'],
};

/** name prefixes of the lifecycle programs (the bench counts their run time) */
export const LIFECYCLE_PREFIXES = ['btf_sched_', 'raw_sched_'] as const;

/** the tracepoint a lifecycle program hooks (btf_sched_exec -> sched_process_exec) */
export function lifecycleTarget(program: string): string {
  return program.replace(/^(btf|raw)_sched_/, 'sched_process_');
}

export function chooseLifecycle(facts: PlanFacts, forced?: LifecycleKind): { kinds: LifecycleKind[]; why: string } {
  if (forced) return { kinds: [forced], why: `forced by override: ${forced}` };
  if (facts.atLeast(5, 5))
    return { kinds: ['tp_btf', 'raw_tp'], why: 'tp_btf (BTF-typed tracepoints, 5.5+), raw_tp as fallback' };
  return { kinds: ['raw_tp'], why: 'kernel < 5.5: raw_tp' };
}
