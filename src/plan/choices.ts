/**
 * The plan's choices besides the attach method, each a small pure function of the kernel facts:
 * sleepable entry programs, compat (32-bit) hooks, scratch buffers per CPU, and the loop variant.
 */
import { SCRATCH_SLOTS } from '../events/layout.js';
import { X32_PREFIXES } from '../kernel/features.js';
import type { Choice, CompatChoice, KernelFacts, PlanFacts, X32Choice } from './facts.js';

/** how the programs that copy argv/env/fds run their loops: bpf_loop callbacks (5.17+) or unrolled (every kernel) */
export const LOOP_KINDS = ['bpf_loop', 'unrolled'] as const;
export type LoopKind = (typeof LOOP_KINDS)[number];

/** Sleepable syscall-entry programs (fentry.s): 7.1 allows them on syscalls, older kernels with error injection. */
export function chooseSleepable(k: KernelFacts, noSleep: boolean): Choice {
  if (noSleep) return { ok: false, why: 'sleepable programs forbidden by override (EXECLENS_NO_SLEEP / --no-sleep)' };
  if (k.atLeast(7, 1)) return { ok: true, why: 'kernel >= 7.1 allows sleepable fentry on syscalls' };
  const errInj = k.kc('CONFIG_FUNCTION_ERROR_INJECTION');
  if (errInj) return { ok: true, why: 'CONFIG_FUNCTION_ERROR_INJECTION=y allows sleepable fentry on syscalls' };
  return {
    ok: false,
    why: `kernel ${k.f.version.join('.')} < 7.1 and CONFIG_FUNCTION_ERROR_INJECTION is ${errInj === null ? 'unknown' : 'unset'}: non-sleepable, bpf_probe_read_user`,
  };
}

/** Compat hooks: x86_64's ia32 and arm64's AArch32 wrappers, when the kernel runs such programs and has the symbols. */
export function chooseCompat(k: KernelFacts): CompatChoice {
  const f = k.f;
  const abi = f.arch === 'x86_64' ? 'ia32' : f.arch === 'aarch64' ? 'aarch32' : null;
  const prefix = f.arch === 'x86_64' ? '__ia32_compat_sys_' : '__arm64_compat_sys_';
  const config = f.arch === 'x86_64' ? 'CONFIG_IA32_EMULATION' : 'CONFIG_COMPAT';
  const kernelRuns = k.kc(config);
  const c = (ok: boolean, why: string): CompatChoice => ({ ok, why, abi, prefix, kernelRuns });
  let r: CompatChoice;
  if (!abi) r = c(false, `${f.arch}: compat hooks not implemented; 32-bit execs are caught at sched_process_exec only`);
  else if (kernelRuns === false) r = c(false, `${config} is not set: no 32-bit programs can run, nothing to hook`);
  else if (f.arch === 'x86_64' && f.ia32Emulation === false) {
    // the wrappers exist but never run; a 64-bit execve of a 32-bit binary fails with ENOEXEC, reported as such
    r = {
      ...c(
        false,
        'IA32 emulation is off this boot (ia32_emulation=false or CONFIG_IA32_EMULATION_DEFAULT_DISABLED, Linux >= 6.7): no 32-bit programs can run, nothing to hook; exec of a 32-bit binary fails with ENOEXEC',
      ),
      kernelRuns: false,
    };
  } else if (k.sym(`${prefix}execve`) === false)
    r = c(false, `${prefix}execve not in ${k.symSource}: compat execs not hookable`);
  else r = c(true, `${abi} programs possible (${config}): hooking ${prefix}execve[at] (optional hooks)`);
  return r;
}

/**
 * x32 hooks (x86_64): where the kernel runs x32 programs this boot and has their execve wrappers. raw_syscalls
 * needs no hook of its own (it tells x32 by the number's __X32_SYSCALL_BIT); the syscall tracepoints never
 * see x32 syscalls.
 */
export function chooseX32(k: KernelFacts): X32Choice {
  const f = k.f;
  const no = (why: string, kernelRuns: boolean | null): X32Choice => ({ ok: false, why, prefix: null, kernelRuns });
  if (f.arch !== 'x86_64') return no(`${f.arch}: no x32 ABI`, null);
  // CONFIG_X86_X32 before 5.18 (83a44a4f47ad renamed it CONFIG_X86_X32_ABI)
  const abi = k.kc('CONFIG_X86_X32_ABI');
  const built = abi === true || k.kc('CONFIG_X86_X32') === true ? true : abi;
  if (f.x32Enabled === false)
    return no(
      built === false
        ? 'CONFIG_X86_X32_ABI is not set: the kernel runs no x32 programs'
        : 'x32 ABI built in but off this boot (syscall.x32=N, Debian default): no x32 programs run; boot with syscall.x32=y to trace them',
      false,
    );
  if (built === false && f.x32Enabled !== true)
    return no('CONFIG_X86_X32_ABI is not set: the kernel runs no x32 programs', false);
  const runs = f.x32Enabled === true ? true : null;
  const prefix = X32_PREFIXES.find((p) => k.sym(`${p}execve`) === true) ?? null;
  if (!prefix)
    return no(
      `x32 ${runs ? 'programs run here' : 'ABI state unknown'}, but neither ${X32_PREFIXES.map((p) => `${p}execve`).join(' nor ')} is in ${k.symSource}: x32 execs seen by raw_syscalls (by number) only`,
      runs,
    );
  return {
    ok: true,
    why: `x32 programs ${runs ? 'run on this kernel' : 'may run (state unknown)'}: hooking ${prefix}execve[at] (optional hooks)`,
    prefix,
    kernelRuns: runs,
  };
}

/**
 * Scratch buffers. A kernel with CONFIG_PREEMPTION runs tracing programs with migration (not preemption)
 * disabled: another program can run on the CPU in the middle of ours and would reuse its per-CPU scratch
 * buffer. The same program is never run twice at once on a CPU, so one buffer per program is safe.
 */
export function chooseScratch(facts: PlanFacts): { slots: number; why: string } {
  const preempt = facts.kc('CONFIG_PREEMPTION');
  if (preempt === false)
    return {
      slots: 1,
      why: 'CONFIG_PREEMPTION is not set: a program runs to its end on its CPU; one scratch buffer per CPU',
    };
  return {
    slots: SCRATCH_SLOTS,
    why: `${preempt ? 'CONFIG_PREEMPTION=y' : 'kernel config unknown'}: a program may be preempted on its CPU by another; one scratch buffer per CPU and program (${SCRATCH_SLOTS})`,
  };
}

/**
 * The same loop bodies run as bpf_loop callbacks (verified once: a few thousand instructions) or unrolled
 * (verified iteration by iteration: ~200K per program, most of the start-up time). Unrolled is the fallback.
 */
export function chooseLoops(facts: PlanFacts, forced?: LoopKind): { kinds: LoopKind[]; why: string } {
  const f = facts.f;
  if (forced) return { kinds: [forced], why: `forced by override: ${forced}` };
  // riscv64 Debian kernels boot with the JIT off; 6.12 then interprets our programs
  if (f.jit === 0)
    return {
      kinds: ['unrolled'],
      why: 'BPF JIT off (net.core.bpf_jit_enable=0): the interpreter runs no bpf_loop callbacks (the verifier refuses them with EINVAL); unrolled loops',
    };
  if (f.bpfLoop === true)
    return {
      kinds: ['bpf_loop', 'unrolled'],
      why: 'bpf_loop in the kernel BTF (5.17+): loop bodies verified once; unrolled loops as fallback',
    };
  if (f.bpfLoop === false)
    return { kinds: ['unrolled'], why: 'bpf_loop not in the kernel BTF (< 5.17): unrolled loops' };
  if (facts.atLeast(5, 17))
    return {
      kinds: ['bpf_loop', 'unrolled'],
      why: `kernel ${f.version.join('.')} >= 5.17 has bpf_loop (not checked in BTF): unrolled loops as fallback`,
    };
  return { kinds: ['unrolled'], why: `kernel ${f.version.join('.')} < 5.17: no bpf_loop; unrolled loops` };
}
