/**
 * choosePlan: KernelFeatures + overrides -> LoadPlan. Pure: no I/O, so every fallback decision is
 * unit-tested against recorded feature sets (test/fixtures/features/*.json). The candidates are a fold over
 * the attach registry (src/attach/registry.ts), in its order; the other choices are small functions
 * (choices.ts, attach/lifecycle.ts). The loader trial-loads the candidates in order: detection only
 * predicts, the kernel decides.
 */
import { ATTACH_KINDS, ATTACH_METHODS } from '../attach/registry.js';
import { chooseLifecycle, LIFECYCLE_KINDS, type LifecycleKind } from '../attach/lifecycle.js';
import type { Candidate, Rejected } from '../attach/method.js';
import type { KernelFeatures } from '../kernel/features.js';
import {
  chooseCompat,
  chooseX32,
  chooseLoops,
  chooseScratch,
  chooseSleepable,
  LOOP_KINDS,
  type LoopKind,
} from './choices.js';
import { KernelFacts, PlanFacts } from './facts.js';

export type { Candidate, HookKind, HookSpec, Rejected } from '../attach/method.js';
export type { LifecycleKind } from '../attach/lifecycle.js';
export type { LoopKind } from './choices.js';

/** an attach method's kind (ATTACH_KINDS) */
export type AttachKind = string;

export interface Overrides {
  attach?: AttachKind;
  /**
   * --successful-only: the plan hooks no syscall (the lifecycle-only method, attach/lifecycle-only.ts), so
   * untraced tasks keep the fast syscall path; failed execs are not seen. Excludes `attach` (the CLI refuses both).
   */
  successfulOnly?: boolean;
  noSleep?: boolean;
  lifecycle?: LifecycleKind;
  loops?: LoopKind;
}

export interface LoadPlan {
  arch: string;
  kernel: string;
  /** set when nothing can work: one line saying what to do */
  fatal: string | null;
  candidates: Candidate[];
  rejected: Rejected[];
  lifecycle: LifecycleKind[];
  lifecycleWhy: string;
  /** loop variants to try, in order (bpf/lib/loop.bpf.h, RUN_LOOP) */
  loops: LoopKind[];
  loopsWhy: string;
  sleepableWhy: string;
  compatWhy: string;
  /** x86_64's x32 ABI: hooked, or why not */
  x32Why: string;
  /** scratch buffers per CPU: 1, or one per program that uses one when programs can be preempted */
  scratchSlots: number;
  scratchWhy: string;
}

const NOT_WITH_SUCCESSFUL_ONLY =
  'not with --successful-only: it hooks the syscall (the plan hooks none, so untraced tasks keep the fast syscall path)';
const ONLY_WITH_SUCCESSFUL_ONLY =
  'only with --successful-only: it sees no failed exec (nor the syscall, its dirfd and flags, the comm before the exec)';

/** the BPF ring buffer (BPF_MAP_TYPE_RINGBUF) came in 5.8 */
const MIN_KERNEL: [number, number] = [5, 8];

/** why eBPF cannot work on this kernel at all, or null */
function fatalReason(f: KernelFeatures, k: KernelFacts): string | null {
  if (!f.btf)
    return 'kernel has no BTF (/sys/kernel/btf/vmlinux missing): execlens needs CONFIG_DEBUG_INFO_BTF=y for CO-RE; use --backend ptrace';
  if (!k.atLeast(MIN_KERNEL[0], MIN_KERNEL[1]))
    return `kernel ${f.release} is older than ${MIN_KERNEL.join('.')} (no BPF ring buffer); use --backend ptrace`;
  return null;
}

export function choosePlan(f: KernelFeatures, o: Overrides = {}): LoadPlan {
  const k = new KernelFacts(f);
  const fatal = fatalReason(f, k);
  const empty = {
    arch: f.arch,
    kernel: f.release,
    candidates: [],
    rejected: [],
    lifecycle: [],
    lifecycleWhy: '',
    loops: ['unrolled' as LoopKind],
    loopsWhy: '',
    sleepableWhy: '',
    compatWhy: '',
    x32Why: '',
    scratchSlots: 1,
    scratchWhy: '',
  };
  if (fatal) return { ...empty, fatal };

  const sleepable = chooseSleepable(k, o.noSleep === true);
  const compat = chooseCompat(k);
  const x32 = chooseX32(k);
  const facts = new PlanFacts(f, sleepable, compat, x32);
  const candidates: Candidate[] = [];
  const rejected: Rejected[] = [];
  const successfulOnly = o.successfulOnly === true;
  for (const m of ATTACH_METHODS) {
    // --successful-only takes the methods that hook no syscall, and only those; without it, none of them
    if (m.hooksSyscalls === successfulOnly) {
      const reason = successfulOnly ? NOT_WITH_SUCCESSFUL_ONLY : ONLY_WITH_SUCCESSFUL_ONLY;
      rejected.push(...m.candidateIds.map((id) => ({ id, reason })));
      continue;
    }
    const p = m.plan(facts, o.attach === m.kind);
    candidates.push(...p.candidates.filter((c) => !o.attach || c.attach === o.attach));
    rejected.push(...p.rejected);
  }
  const scratch = chooseScratch(facts);
  const lifecycle = chooseLifecycle(facts, o.lifecycle);
  const loops = chooseLoops(facts, o.loops);
  return {
    arch: f.arch,
    kernel: f.release,
    fatal: candidates.length
      ? null
      : successfulOnly && o.attach
        ? `--successful-only hooks no syscall: it cannot be combined with the attach method ${o.attach}`
        : 'no attach method is available on this kernel: ' + rejected.map((r) => `${r.id}: ${r.reason}`).join('; '),
    candidates,
    rejected,
    lifecycle: lifecycle.kinds,
    lifecycleWhy: lifecycle.why,
    loops: loops.kinds,
    loopsWhy: loops.why,
    sleepableWhy: sleepable.why,
    compatWhy: compat.why,
    x32Why: x32.why,
    scratchSlots: scratch.slots,
    scratchWhy: scratch.why,
  };
}

/** one of the values an override accepts, or an error naming the variable and the choices */
function oneOf<T extends string>(name: string, v: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(v)) return v as T;
  const list = choices.length > 1 ? `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}` : choices[0];
  throw new Error(`${name}=${v}: expected ${list}`);
}

/** The override set from the environment (EXECLENS_ATTACH, EXECLENS_NO_SLEEP, EXECLENS_LIFECYCLE, EXECLENS_LOOPS). */
export function overridesFromEnv(env: NodeJS.ProcessEnv): Overrides {
  const o: Overrides = {};
  if (env.EXECLENS_ATTACH) o.attach = oneOf('EXECLENS_ATTACH', env.EXECLENS_ATTACH, ATTACH_KINDS);
  if (env.EXECLENS_NO_SLEEP && env.EXECLENS_NO_SLEEP !== '0') o.noSleep = true;
  if (env.EXECLENS_LIFECYCLE) o.lifecycle = oneOf('EXECLENS_LIFECYCLE', env.EXECLENS_LIFECYCLE, LIFECYCLE_KINDS);
  if (env.EXECLENS_LOOPS) o.loops = oneOf('EXECLENS_LOOPS', env.EXECLENS_LOOPS, LOOP_KINDS);
  return o;
}
