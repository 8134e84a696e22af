/**
 * choosePlan: KernelFeatures + overrides -> LoadPlan. Pure: no I/O, so every
 * fallback decision is unit-tested against recorded feature sets
 * (test/fixtures/features/*.json). The loader trial-loads the candidates in
 * order; detection only predicts, the kernel decides.
 */
import { SCRATCH_SLOTS } from '../events/layout.js';
import { syscallPrefix, type KernelFeatures } from '../kernel/features.js';

export type AttachKind = 'fentry' | 'kprobe' | 'raw_syscalls' | 'tracepoint';
export type LifecycleKind = 'tp_btf' | 'raw_tp';
export type HookKind = 'fentry' | 'fexit' | 'kprobe' | 'kretprobe' | 'raw_tp' | 'tracepoint';
/** how the programs that copy argv/env/fds run their loops: bpf_loop callbacks (5.17+) or unrolled (every kernel) */
export type LoopKind = 'bpf_loop' | 'unrolled';

export interface Overrides {
  attach?: AttachKind;
  noSleep?: boolean;
  lifecycle?: LifecycleKind;
  loops?: LoopKind;
}

export interface HookSpec {
  /** BPF program name in bpf/execlens.bpf.c */
  program: string;
  kind: HookKind;
  role: 'enter' | 'exit';
  /** any: a raw syscall tracepoint, filtered by syscall number in the program */
  syscall: 'execve' | 'execveat' | 'any';
  /** ia32: x86_64's 32-bit ABI; aarch32: arm64's; native+…: one program for both, told apart by ABI */
  abi: 'native' | 'ia32' | 'aarch32' | 'native+ia32' | 'native+aarch32';
  /** kernel function (fentry target / kprobe symbol); tracepoints: category/name */
  target: string;
  /** a failure to load/attach drops the hook (recorded) instead of the candidate */
  optional: boolean;
}

export interface Candidate {
  id: 'fentry.s' | 'fentry' | 'kprobe' | 'raw_syscalls' | 'tracepoint';
  attach: AttachKind;
  sleepable: boolean;
  hooks: HookSpec[];
  why: string;
  /** what this candidate cannot see */
  blind: string[];
  /** forced by an override although detection rejected it */
  forced?: string;
}

export interface Rejected {
  id: string;
  reason: string;
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
  /** loop variants to try, in order (see bpf/execlens_common.bpf.h, RUN_LOOP) */
  loops: LoopKind[];
  loopsWhy: string;
  sleepableWhy: string;
  compatWhy: string;
  /** scratch buffers per CPU: 1, or one per program that uses one when programs can be preempted */
  scratchSlots: number;
  scratchWhy: string;
}

const MIN_KERNEL: [number, number] = [5, 8];

function atLeast(v: [number, number, number], maj: number, min: number): boolean {
  return v[0] > maj || (v[0] === maj && v[1] >= min);
}

/** kconfig value: true (y/m), false (unset), null (no config known) */
function kc(f: KernelFeatures, key: string): boolean | null {
  if (!f.kconfigSource) return null;
  const v = f.kconfig[key];
  return v === 'y' || v === 'm';
}

/** where the symbol answers came from, for reasons ("not in BTF") */
function symSource(f: KernelFeatures): string {
  return f.symbolsSource === 'btf' ? 'BTF' : f.symbolsSource === 'btf+kallsyms' ? 'BTF or kallsyms' : 'kallsyms';
}

function sym(f: KernelFeatures, name: string): boolean | null {
  if (!f.symbols) return null;
  return f.symbols[name] ?? false;
}

/** first kernel with fentry (BPF trampolines with direct calls) per arch */
const FENTRY_SINCE: Record<string, [number, number]> = { x86_64: [5, 5], aarch64: [6, 4], riscv64: [6, 8] };

export function choosePlan(f: KernelFeatures, o: Overrides = {}): LoadPlan {
  const rejected: Rejected[] = [];
  const candidates: Candidate[] = [];
  const prefix = syscallPrefix(f.arch);
  const wrapper = `${prefix}sys_execve`;
  const wrapperAt = `${prefix}sys_execveat`;
  const plan: LoadPlan = {
    arch: f.arch, kernel: f.release, fatal: null, candidates, rejected, lifecycle: [], lifecycleWhy: '', loops: ['unrolled'], loopsWhy: '', sleepableWhy: '', compatWhy: '', scratchSlots: 1, scratchWhy: '',
  };

  if (!f.btf) {
    plan.fatal = 'kernel has no BTF (/sys/kernel/btf/vmlinux missing): execlens needs CONFIG_DEBUG_INFO_BTF=y for CO-RE; use --backend ptrace';
    return plan;
  }
  if (!atLeast(f.version, MIN_KERNEL[0], MIN_KERNEL[1])) {
    plan.fatal = `kernel ${f.release} is older than ${MIN_KERNEL.join('.')} (no BPF ring buffer); use --backend ptrace`;
    return plan;
  }

  // ---- scratch buffers ----
  // A kernel with CONFIG_PREEMPTION runs tracing programs with migration (not
  // preemption) disabled: another program can run on the CPU in the middle of
  // ours and would reuse its per-CPU scratch buffer. The same program is never
  // run twice at once on a CPU, so one buffer per program is safe.
  const preempt = kc(f, 'CONFIG_PREEMPTION');
  if (preempt === false) {
    plan.scratchWhy = 'CONFIG_PREEMPTION is not set: a program runs to its end on its CPU; one scratch buffer per CPU';
  } else {
    plan.scratchSlots = SCRATCH_SLOTS;
    plan.scratchWhy = `${preempt ? 'CONFIG_PREEMPTION=y' : 'kernel config unknown'}: a program may be preempted on its CPU by another; one scratch buffer per CPU and program (${SCRATCH_SLOTS})`;
  }

  // ---- compat (32-bit) hooks: x86_64 ia32, arm64 AArch32 ----
  let compat: 'hook' | 'none' = 'none';
  const compatAbi = f.arch === 'x86_64' ? 'ia32' : f.arch === 'aarch64' ? 'aarch32' : null;
  const compatPrefix = f.arch === 'x86_64' ? '__ia32_compat_sys_' : '__arm64_compat_sys_';
  const compatConfig = f.arch === 'x86_64' ? 'CONFIG_IA32_EMULATION' : 'CONFIG_COMPAT';
  /** false: the kernel runs no 32-bit programs at all (nothing to hook, nothing blind) */
  const compatKernel = kc(f, compatConfig);
  if (compatAbi) {
    const s = sym(f, `${compatPrefix}execve`);
    if (compatKernel === false) plan.compatWhy = `${compatConfig} is not set: no 32-bit programs can run, nothing to hook`;
    else if (s === false) plan.compatWhy = `${compatPrefix}execve not in ${symSource(f)}: compat execs not hookable`;
    else {
      compat = 'hook';
      plan.compatWhy = `${compatAbi} programs possible (${compatConfig}): hooking ${compatPrefix}execve[at] (optional hooks)`;
    }
  } else {
    plan.compatWhy = `${f.arch}: compat hooks not implemented; 32-bit execs are caught at sched_process_exec only`;
  }
  const x32 = kc(f, 'CONFIG_X86_X32_ABI');
  if (f.arch === 'x86_64' && x32) plan.compatWhy += '; x32 ABI is enabled but not hooked: x32 execs only seen at sched_process_exec';

  // ---- sleepable ----
  const errInj = kc(f, 'CONFIG_FUNCTION_ERROR_INJECTION');
  let sleepable = false;
  if (o.noSleep) plan.sleepableWhy = 'sleepable programs forbidden by override (EXECLENS_NO_SLEEP / --no-sleep)';
  else if (atLeast(f.version, 7, 1)) {
    sleepable = true;
    plan.sleepableWhy = 'kernel >= 7.1 allows sleepable fentry on syscalls';
  } else if (errInj) {
    sleepable = true;
    plan.sleepableWhy = 'CONFIG_FUNCTION_ERROR_INJECTION=y allows sleepable fentry on syscalls';
  } else plan.sleepableWhy = `kernel ${f.version.join('.')} < 7.1 and CONFIG_FUNCTION_ERROR_INJECTION is ${errInj === null ? 'unknown' : 'unset'}: non-sleepable, bpf_probe_read_user`;

  const compatHooks = (k: 'fentry' | 'kprobe'): HookSpec[] => {
    if (compat !== 'hook' || !compatAbi) return [];
    const abi = compatAbi;
    const out: HookSpec[] = [];
    for (const sc of ['execve', 'execveat'] as const) {
      const target = `${compatPrefix}${sc}`;
      if (k === 'fentry') {
        // never sleepable: 7.2 allows sleepable fentry on native syscalls only
        // ("__ia32_compat_sys_execve is not sleepable", seen in the kernel matrix)
        out.push({ program: `fentry_compat_${sc}`, kind: 'fentry', role: 'enter', syscall: sc, abi, target, optional: true });
        out.push({ program: `fexit_compat_${sc}`, kind: 'fexit', role: 'exit', syscall: sc, abi, target, optional: true });
      } else {
        out.push({ program: `kprobe_compat_${sc}`, kind: 'kprobe', role: 'enter', syscall: sc, abi, target, optional: true });
        out.push({ program: 'kretprobe_compat_execve', kind: 'kretprobe', role: 'exit', syscall: sc, abi, target, optional: true });
      }
    }
    return out;
  };
  const compatBlind = compat === 'hook' || compatKernel === false ? [] : ['failed compat (32-bit) execs'];

  // ---- fentry ----
  {
    const since = FENTRY_SINCE[f.arch];
    const direct = kc(f, 'CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS');
    let reason: string | null = null;
    if (!since) reason = `fentry not supported on ${f.arch} by execlens`;
    else if (direct === false) reason = 'CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS is not set: fentry attach would fail with ENOTSUPP (524)';
    else if (direct === null && !atLeast(f.version, since[0], since[1])) reason = `${f.arch} has fentry only since ${since.join('.')}`;
    else if (sym(f, wrapper) === false) reason = `${wrapper} not in ${symSource(f)}`;
    const mk = (sleep: boolean): Candidate => ({
      id: sleep ? 'fentry.s' : 'fentry',
      attach: 'fentry',
      sleepable: sleep,
      hooks: [
        ...(['execve', 'execveat'] as const).flatMap((sc): HookSpec[] => [
          { program: `${sleep ? 'fentry_s' : 'fentry'}_${sc}`, kind: 'fentry', role: 'enter', syscall: sc, abi: 'native', target: sc === 'execve' ? wrapper : wrapperAt, optional: false },
          { program: `fexit_${sc}`, kind: 'fexit', role: 'exit', syscall: sc, abi: 'native', target: sc === 'execve' ? wrapper : wrapperAt, optional: false },
        ]),
        ...compatHooks('fentry'),
      ],
      why: sleep ? `fastest path; sleepable (${plan.sleepableWhy})` : 'fastest path (BPF trampoline on the syscall wrapper)',
      blind: compatBlind,
    });
    if (reason === null || o.attach === 'fentry') {
      if (sleepable) candidates.push(mk(true));
      candidates.push(mk(false));
      if (reason !== null) for (const c of candidates) c.forced = reason;
    }
    if (reason !== null) rejected.push({ id: 'fentry', reason });
    else if (!sleepable) rejected.push({ id: 'fentry.s', reason: plan.sleepableWhy });
  }

  // ---- kprobe ----
  {
    const kp = kc(f, 'CONFIG_KPROBES');
    let reason: string | null = null;
    let direct = false;
    let target = wrapper;
    let targetAt = wrapperAt;
    if (kp === false) reason = 'CONFIG_KPROBES is not set: kprobe attach would fail';
    else if (kp === null && !f.kprobePmu && !f.kprobeEvents) reason = 'no kprobe PMU and no kprobe_events in tracefs';
    else if (f.arch === 'riscv64' && kc(f, 'CONFIG_KPROBES_ON_FTRACE') !== true) reason = 'riscv64 without CONFIG_KPROBES_ON_FTRACE: a kprobe on an ftrace location fails with EINVAL';
    if (sym(f, wrapper) === false) {
      if (sym(f, '__se_sys_execve')) {
        direct = true;
        target = '__se_sys_execve';
        targetAt = '__se_sys_execveat';
      } else if (reason === null) reason = `neither ${wrapper} nor __se_sys_execve in ${symSource(f)}`;
    }
    if (reason === null || o.attach === 'kprobe') {
      const c: Candidate = {
        id: 'kprobe',
        attach: 'kprobe',
        sleepable: false,
        hooks: [
          ...(['execve', 'execveat'] as const).flatMap((sc): HookSpec[] => [
            { program: `${direct ? 'kprobe_direct' : 'kprobe'}_${sc}`, kind: 'kprobe', role: 'enter', syscall: sc, abi: 'native', target: sc === 'execve' ? target : targetAt, optional: false },
            // one exit program serves both syscalls (attached twice): verified once
            { program: 'kretprobe_execve', kind: 'kretprobe', role: 'exit', syscall: sc, abi: 'native', target: sc === 'execve' ? target : targetAt, optional: false },
          ]),
          ...compatHooks('kprobe'),
        ],
        why: direct ? `no syscall wrappers on this kernel: kprobe on ${target} with direct arguments` : `kprobe on ${target}`,
        blind: compatBlind,
      };
      if (reason !== null) c.forced = reason;
      candidates.push(c);
    }
    if (reason !== null) rejected.push({ id: 'kprobe', reason });
  }

  // ---- raw syscall tracepoints ----
  // One program on every syscall's entry and exit, filtered by number: a few
  // instructions per syscall of the whole system while tracing, but native and
  // compat execs alike, and links that detach at once (the per-syscall
  // tracepoints below are perf events: each detach waits for RCU, ~60-75 ms,
  // one after the other).
  {
    if (o.attach === undefined || o.attach === 'raw_syscalls') {
      const abi = compatAbi && compatKernel !== false ? (`native+${compatAbi}` as const) : ('native' as const);
      const c: Candidate = {
        id: 'raw_syscalls',
        attach: 'raw_syscalls',
        sleepable: false,
        hooks: [
          { program: 'raw_sys_enter', kind: 'raw_tp', role: 'enter', syscall: 'any', abi, target: 'sys_enter', optional: false },
          { program: 'raw_sys_exit', kind: 'raw_tp', role: 'exit', syscall: 'any', abi, target: 'sys_exit', optional: false },
        ],
        why: `raw syscall tracepoints (sys_enter/sys_exit, filtered by syscall number): ${abi === 'native' ? 'native ABI' : `native and ${compatAbi}`}, detach at once; runs on every syscall while tracing`,
        blind: [],
      };
      candidates.push(c);
    }
  }

  // ---- syscall tracepoints ----
  {
    let reason: string | null = null;
    const tps = f.syscallTracepoints;
    if (tps && !Object.values(tps).every(Boolean)) reason = 'syscall tracepoints missing (CONFIG_FTRACE_SYSCALLS unset?)';
    else if (kc(f, 'CONFIG_FTRACE_SYSCALLS') === false) reason = 'CONFIG_FTRACE_SYSCALLS is not set';
    if (reason === null || o.attach === 'tracepoint') {
      const c: Candidate = {
        id: 'tracepoint',
        attach: 'tracepoint',
        sleepable: false,
        hooks: (['execve', 'execveat'] as const).flatMap((sc): HookSpec[] => [
          { program: `tp_enter_${sc}`, kind: 'tracepoint', role: 'enter', syscall: sc, abi: 'native', target: `syscalls/sys_enter_${sc}`, optional: false },
          // one exit program serves both syscalls (attached twice): verified once
          { program: 'tp_exit_execve', kind: 'tracepoint', role: 'exit', syscall: sc, abi: 'native', target: `syscalls/sys_exit_${sc}`, optional: false },
        ]),
        why: 'syscall tracepoints: stable everywhere, slower than fentry, native ABI only',
        blind:
          compatAbi && compatKernel !== false
            ? [`failed ${compatAbi} (32-bit) execs: syscall tracepoints skip compat syscalls; successful ones are caught at sched_process_exec without the entry record (argv[0] as passed, execveat fd)`]
            : [],
      };
      if (reason !== null) c.forced = reason;
      candidates.push(c);
    }
    if (reason !== null) rejected.push({ id: 'tracepoint', reason });
  }

  if (o.attach) {
    const keep = candidates.filter((c) => c.attach === o.attach);
    candidates.splice(0, candidates.length, ...keep);
  }
  if (candidates.length === 0) plan.fatal = 'no attach method is available on this kernel: ' + rejected.map((r) => `${r.id}: ${r.reason}`).join('; ');

  // ---- lifecycle ----
  if (o.lifecycle) {
    plan.lifecycle = [o.lifecycle];
    plan.lifecycleWhy = `forced by override: ${o.lifecycle}`;
  } else if (atLeast(f.version, 5, 5)) {
    plan.lifecycle = ['tp_btf', 'raw_tp'];
    plan.lifecycleWhy = 'tp_btf (BTF-typed tracepoints, 5.5+), raw_tp as fallback';
  } else {
    plan.lifecycle = ['raw_tp'];
    plan.lifecycleWhy = 'kernel < 5.5: raw_tp';
  }

  // ---- loops ----
  // The same loop bodies run as bpf_loop callbacks (verified once: a few
  // thousand instructions) or unrolled (verified iteration by iteration:
  // ~200K per program, most of the start-up time). Unrolled is the fallback.
  const loopSince = atLeast(f.version, 5, 17);
  if (o.loops) {
    plan.loops = [o.loops];
    plan.loopsWhy = `forced by override: ${o.loops}`;
  } else if (f.jit === 0) {
    // riscv64 Debian kernels boot with the JIT off; 6.12 then interprets our programs
    plan.loopsWhy = 'BPF JIT off (net.core.bpf_jit_enable=0): the interpreter runs no bpf_loop callbacks (the verifier refuses them with EINVAL); unrolled loops';
  } else if (f.bpfLoop === true) {
    plan.loops = ['bpf_loop', 'unrolled'];
    plan.loopsWhy = 'bpf_loop in the kernel BTF (5.17+): loop bodies verified once; unrolled loops as fallback';
  } else if (f.bpfLoop === false) {
    plan.loopsWhy = 'bpf_loop not in the kernel BTF (< 5.17): unrolled loops';
  } else if (loopSince) {
    plan.loops = ['bpf_loop', 'unrolled'];
    plan.loopsWhy = `kernel ${f.version.join('.')} >= 5.17 has bpf_loop (not checked in BTF): unrolled loops as fallback`;
  } else {
    plan.loopsWhy = `kernel ${f.version.join('.')} < 5.17: no bpf_loop; unrolled loops`;
  }
  return plan;
}

/** The override set from the environment (EXECLENS_ATTACH, EXECLENS_NO_SLEEP, EXECLENS_LIFECYCLE, EXECLENS_LOOPS). */
export function overridesFromEnv(env: NodeJS.ProcessEnv): Overrides {
  const o: Overrides = {};
  const a = env.EXECLENS_ATTACH;
  if (a) {
    if (a !== 'fentry' && a !== 'kprobe' && a !== 'raw_syscalls' && a !== 'tracepoint') throw new Error(`EXECLENS_ATTACH=${a}: expected fentry, kprobe, raw_syscalls or tracepoint`);
    o.attach = a;
  }
  if (env.EXECLENS_NO_SLEEP && env.EXECLENS_NO_SLEEP !== '0') o.noSleep = true;
  const l = env.EXECLENS_LIFECYCLE;
  if (l) {
    if (l !== 'tp_btf' && l !== 'raw_tp') throw new Error(`EXECLENS_LIFECYCLE=${l}: expected tp_btf or raw_tp`);
    o.lifecycle = l;
  }
  const lp = env.EXECLENS_LOOPS;
  if (lp) {
    if (lp !== 'bpf_loop' && lp !== 'unrolled') throw new Error(`EXECLENS_LOOPS=${lp}: expected bpf_loop or unrolled`);
    o.loops = lp;
  }
  return o;
}
