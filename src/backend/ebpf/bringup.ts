/**
 * Bring the eBPF backend up: probe, plan, mount tracefs if needed, trial-load.
 * Shared by `log` (which then reads events) and `doctor` (which reports).
 */
import { EXIT, ExeclensError } from '../../exitcodes.js';
import { LibbpfMissing } from './libbpf.js';
import {
  defaultObjectPath,
  loadPlan,
  verifierStats,
  type Attempt,
  type LoadedTracer,
  type VerifierStat,
} from './loader.js';
import { currentKey, readRefusals, REFUSALS_PATH, writeRefusals } from './refusals.js';
import { probeKernel, type KernelFeatures } from '../../kernel/features.js';
import { describeTracefs, ensureTracefs, type MountResult } from '../../kernel/mounts.js';
import { choosePlan, type LoadPlan, type Overrides } from '../../plan/plan.js';
import { existsSync } from 'node:fs';

export interface BpfUpOptions {
  /** already probed (probing reads kallsyms and the kernel config: do it once) */
  features?: KernelFeatures;
  overrides: Overrides;
  filter: boolean;
  captureEnv: boolean;
  captureFds: boolean;
  ringBytes: number;
  /** argv/env block limit in 32 KiB chunks (64 = 2 MiB) */
  blockChunks: number;
  /** --uid and --cgroup (its id and depth), done in the kernel */
  uidOnly?: number;
  cgroup?: { id: bigint; level: number };
  /** load the chosen programs once more with verifier statistics (doctor --verifier-stats) */
  verifierStats?: boolean;
  /**
   * refusals remembered for this boot (src/backend/ebpf/refusals.ts): 'use' skips candidates refused
   * earlier (log), 'refresh' tries all and rewrites the record (doctor), 'off' neither
   */
  refusals?: 'use' | 'refresh' | 'off';
  /** false: probe and plan only, no trial loads and nothing mounted (doctor without privileges) */
  trial?: boolean;
}

export interface BpfUp {
  features: KernelFeatures;
  plan: LoadPlan;
  mount: MountResult;
  attempts: Attempt[];
  tracer: LoadedTracer | undefined;
  objectPath: string;
  verifier?: Record<string, VerifierStat>;
}

export function bringUp(o: BpfUpOptions): BpfUp {
  const features = o.features ?? probeKernel();
  const plan = choosePlan(features, o.overrides);
  const mount = o.trial === false ? describeTracefs() : ensureTracefs();
  const objectPath = defaultObjectPath();
  const up: BpfUp = { features, plan, mount, attempts: [], tracer: undefined, objectPath };
  if (plan.fatal || o.trial === false) return up;
  if (!existsSync(objectPath))
    throw new ExeclensError(
      `BPF object not found at ${objectPath}: run 'npm run build:bpf' (or set EXECLENS_BPF_OBJECT)`,
      EXIT.SOFTWARE,
    );
  try {
    const lo = {
      objectPath,
      plan,
      config: {
        filter: o.filter,
        blockChunks: o.blockChunks,
        captureEnv: o.captureEnv,
        captureFds: o.captureFds,
        uidOnly: o.uidOnly,
        cgroup: o.cgroup,
      },
      ringBytes: o.ringBytes,
      possibleCpus: features.possibleCpus,
    };
    const mode = process.env.EXECLENS_NO_REFUSAL_CACHE === '1' ? 'off' : (o.refusals ?? 'off');
    const key = mode === 'off' ? null : currentKey(objectPath, features.release);
    // a forced attach kind is always tried: the user asked for it
    const skip =
      key && mode === 'use' && !o.overrides.attach
        ? readRefusals(REFUSALS_PATH, key)
        : new Map<string, Attempt & { at: string }>();
    const r = loadPlan(lo, skip);
    if (key) writeRefusals(REFUSALS_PATH, key, r.attempts);
    up.attempts = r.attempts;
    up.tracer = r.tracer;
    if (o.verifierStats && r.tracer)
      up.verifier = verifierStats(lo, r.tracer.candidate, r.tracer.lifecycle, r.tracer.hooks, r.tracer.loops);
  } catch (e) {
    if (e instanceof LibbpfMissing) throw new ExeclensError(e.message, EXIT.KERNEL_UNSUPPORTED);
    throw e;
  }
  return up;
}

/** One line for the error when no candidate loaded. */
export function refusalLine(up: BpfUp): string {
  if (up.plan.fatal) return up.plan.fatal;
  // riscv64 kernels ship with the JIT off (no BPF_JIT_ALWAYS_ON) and 7.x refuses to interpret our programs
  if (up.attempts.some((a) => a.log?.some((l) => l.includes('requires BPF JIT compiler'))))
    return "the kernel's BPF JIT is off (net.core.bpf_jit_enable=0) and this kernel refuses to interpret execlens's programs: enable it with 'sysctl -w net.core.bpf_jit_enable=1', or use --backend ptrace";
  const last = up.attempts.map(
    (a) => `${a.candidate}/${a.lifecycle}: ${a.stage} failed${a.program ? ` (${a.program})` : ''}: ${a.error ?? '?'}`,
  );
  return `BPF refused on every candidate [${last.join('; ')}]; run 'execlens doctor' for details, or use --backend ptrace`;
}
