/**
 * Every attach method, in order of preference: the plan tries their candidates in this order. Adding a
 * method is one module here, its wrappers under bpf/attach/, and a line in this list. The last one hooks no
 * syscall (AttachMethod.hooksSyscalls): the plan takes it, and only it, with --successful-only.
 */
import { fentry } from './fentry.js';
import { LIFECYCLE_PREFIXES } from './lifecycle.js';
import { kprobe } from './kprobe.js';
import { lifecycleOnly } from './lifecycle-only.js';
import type { AttachMethod, Refusal } from './method.js';
import { rawSyscalls } from './raw-syscalls.js';
import { tracepoint } from './tracepoint.js';

export const ATTACH_METHODS: readonly AttachMethod[] = [fentry, kprobe, rawSyscalls, tracepoint, lifecycleOnly];

/** the --attach / EXECLENS_ATTACH values: the methods that hook the syscall (the one that does not is --successful-only) */
export const ATTACH_KINDS: readonly string[] = ATTACH_METHODS.filter((m) => m.hooksSyscalls).map((m) => m.kind);

export function methodByKind(kind: string): AttachMethod | undefined {
  return ATTACH_METHODS.find((m) => m.kind === kind);
}

/** the method that makes a candidate (fentry.s -> fentry) */
export function methodOfCandidate(id: string): AttachMethod | undefined {
  return ATTACH_METHODS.find((m) => m.candidateIds.includes(id));
}

/** the CLI flags that force one candidate (the attach test walks the plan with them) */
export function forceFlags(candidateId: string): string[] {
  const m = methodOfCandidate(candidateId);
  if (!m) throw new Error(`no attach method makes candidate ${candidateId}`);
  return m.forceFlags(candidateId);
}

/** what a refused attempt of this candidate usually means */
export function methodHint(a: Refusal): string | undefined {
  return methodOfCandidate(a.candidate)?.hint?.(a);
}

/** whether a loaded BPF program is one of execlens's (by the name prefixes of every method and the lifecycle) */
export function isExeclensProgram(name: string): boolean {
  return [...ATTACH_METHODS.flatMap((m) => m.programPrefixes), ...LIFECYCLE_PREFIXES].some((p) => name.startsWith(p));
}
