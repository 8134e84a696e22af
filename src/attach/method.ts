/**
 * What an attach method is, as data: how it is probed (a candidate, or a reason and the kernel it needs),
 * which BPF programs it hooks where, what it cannot see, and how libbpf attaches its hooks. Every method
 * is one module of this folder; `registry.ts` lists them in order of preference. choosePlan folds over the
 * registry, the CLI's --attach choices, the env check, doctor and the tests read it: nothing lists the
 * methods by hand.
 */
import type { Ptr } from '../backend/ebpf/libbpf.js';
import type { PlanFacts } from '../plan/facts.js';

export type HookKind = 'fentry' | 'fexit' | 'kprobe' | 'kretprobe' | 'raw_tp' | 'tracepoint';

export interface HookSpec {
  /** BPF program name (bpf/attach/*.bpf.h) */
  program: string;
  kind: HookKind;
  role: 'enter' | 'exit';
  /** any: a raw syscall tracepoint, filtered by syscall number in the program */
  syscall: 'execve' | 'execveat' | 'any';
  /** ia32: x86_64's 32-bit ABI; aarch32: arm64's; x32: x86_64's ILP32 ABI; native+…: one program for all,
   * told apart by ABI (and x32 by its syscall numbers) */
  abi: 'native' | 'ia32' | 'aarch32' | 'x32' | 'native+ia32' | 'native+aarch32' | 'native+x32' | 'native+ia32+x32';
  /** kernel function (fentry target / kprobe symbol); tracepoints: category/name */
  target: string;
  /** a failure to load/attach drops the hook (recorded) instead of the candidate */
  optional: boolean;
}

export interface Candidate {
  id: string;
  /** the method (AttachMethod.kind) that made it */
  attach: string;
  sleepable: boolean;
  hooks: HookSpec[];
  why: string;
  /** what this candidate cannot see */
  blind: string[];
  /** forced by an override although detection rejected it: the reason detection gave */
  forced?: string;
}

export interface Rejected {
  id: string;
  reason: string;
}

/** a method's answer for one kernel: its candidates (best first) and what it ruled out, with why */
export interface MethodPlan {
  candidates: Candidate[];
  rejected: Rejected[];
}

/** the libbpf calls that attach a loaded program (a subset of src/backend/ebpf/libbpf.ts, so this folder loads no FFI) */
export interface HookAttacher {
  programAttach(prog: Ptr): Ptr | null;
  programAttachKprobe(prog: Ptr, ret: boolean, fn: string): Ptr | null;
  programAttachTracepoint(prog: Ptr, category: string, name: string): Ptr | null;
}

/** a refused trial load, as the loader records it */
export interface Refusal {
  candidate: string;
  stage: string;
  errno?: number;
}

export interface AttachMethod {
  /** the --attach / EXECLENS_ATTACH value */
  kind: string;
  /** candidate ids it can produce, best first */
  candidateIds: readonly string[];
  /** one line: what it hooks and what it costs (--help, doctor) */
  summary: string;
  /** the first kernel execlens uses it on (5.8 at least: the BPF ring buffer), per arch where it differs */
  since: string;
  /** name prefixes of its BPF programs (the bench counts their run time) */
  programPrefixes: readonly string[];
  /**
   * true: it hooks execve/execveat at the syscall, so it sees failed execs and what only the entry knows
   * (the syscall, execveat's dirfd and flags, the comm before the exec). false: it hooks no syscall at all,
   * only the lifecycle programs run (--successful-only); the plan takes the one kind or the other.
   */
  hooksSyscalls: boolean;
  /** probe: candidates for this kernel, or why not; `forced` keeps a candidate detection rejected */
  plan(facts: PlanFacts, forced: boolean): MethodPlan;
  /** attach one of its hooks */
  attach(lb: HookAttacher, prog: Ptr, h: HookSpec): Ptr | null;
  /** what a refusal of this method usually means */
  hint?(a: Refusal): string | undefined;
  /** the CLI flags that force one of its candidates */
  forceFlags(candidateId: string): string[];
}

export const SYSCALLS = ['execve', 'execveat'] as const;
export type Syscall = (typeof SYSCALLS)[number];
