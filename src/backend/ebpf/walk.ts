/**
 * The order of trial loads: which candidate, lifecycle, hooks and loop variant to try next after a
 * refusal. No FFI here: the loader passes the real trial load in, unit tests a scripted one.
 */
import { LIFECYCLE_PROGS } from '../../attach/lifecycle.js';
import type { Candidate, HookSpec, LifecycleKind, LoadPlan, LoopKind } from '../../plan/plan.js';

export interface Attempt {
  candidate: string;
  lifecycle: LifecycleKind;
  /** loop variant of the copying programs (absent in attempts recorded before it existed: unrolled) */
  loops?: LoopKind;
  stage: 'open' | 'load' | 'attach' | 'ok';
  ok: boolean;
  errno?: number;
  error?: string;
  program?: string;
  /** libbpf warnings and the head of the verifier log */
  log?: string[];
  droppedHooks?: { program: string; target: string; reason: string }[];
  /** what the failure usually means */
  hint?: string;
  /** this refusal ended the candidate (the walk went on to the next one) */
  endedCandidate?: boolean;
  /** not tried this time: refused earlier in this boot (when; see src/backend/ebpf/refusals.ts) */
  cached?: string;
}

/** suffix of the bpf_loop variant of a program (bpf/attach/*.bpf.h) */
export const LOOP_SUFFIX = '_loop';

/** the program the plan names (HookSpec.program, LIFECYCLE_PROGS) for a program loaded under that name or its loop variant */
export function logicalProgram(name: string): string {
  return name.endsWith(LOOP_SUFFIX) ? name.slice(0, -LOOP_SUFFIX.length) : name;
}

/**
 * Walk the plan: candidates in order; per candidate the lifecycle variants; a refused optional (compat)
 * hook is retried without the optional hooks; a refused bpf_loop program is retried with the unrolled
 * variants. Pure but for `attempt` (one trial load), so the walk is unit-tested with scripted refusals.
 */
export function walkPlan<T>(
  plan: Pick<LoadPlan, 'candidates' | 'lifecycle' | 'loops'>,
  skip: ReadonlyMap<string, Attempt & { at: string }>,
  attempt: (c: Candidate, lc: LifecycleKind, hooks: HookSpec[], loops: LoopKind) => { tracer?: T; attempt: Attempt },
): { tracer?: T; attempts: Attempt[] } {
  const attempts: Attempt[] = [];
  for (const c of plan.candidates) {
    const earlier = skip.get(c.id);
    if (earlier && c !== plan.candidates[plan.candidates.length - 1]) {
      // the last candidate is always tried: a remembered refusal must not leave a run with nothing
      attempts.push({ ...earlier, cached: earlier.at });
      continue;
    }
    const first = attempts.length;
    let hooks = c.hooks;
    let loopIdx = 0;
    for (let li = 0; li < plan.lifecycle.length;) {
      const lc = plan.lifecycle[li]!;
      const loops = plan.loops[loopIdx] ?? 'unrolled';
      const r = attempt(c, lc, hooks, loops);
      attempts.push(r.attempt);
      if (r.tracer) return { tracer: r.tracer, attempts };
      if (r.attempt.program?.endsWith(LOOP_SUFFIX) && loopIdx + 1 < plan.loops.length) {
        loopIdx++;
        continue; // same candidate and lifecycle, the next loop variant (unrolled)
      }
      const failed = r.attempt.program === undefined ? undefined : logicalProgram(r.attempt.program);
      const failedHook = hooks.find((h) => h.program === failed);
      if (failedHook?.optional) {
        const dropped = hooks.filter((h) => h.optional);
        hooks = hooks.filter((h) => !h.optional);
        r.attempt.droppedHooks = dropped.map((h) => ({
          program: h.program,
          target: h.target,
          reason: `retrying without optional hooks: ${r.attempt.error ?? ''}`,
        }));
        continue; // same lifecycle, fewer hooks
      }
      if (failed && LIFECYCLE_PROGS[lc].includes(failed)) {
        li++;
        continue; // next lifecycle variant
      }
      break; // the candidate's own programs were refused: next candidate
    }
    if (attempts.length > first) attempts[attempts.length - 1]!.endedCandidate = true;
  }
  return { attempts };
}
