/**
 * The kernel facts a plan is chosen from, with the questions every choice asks of them (a kconfig value,
 * a symbol, a version) and the choices the attach methods build on (sleepable entry programs, compat
 * hooks). Pure: built from KernelFeatures, no I/O.
 */
import { syscallPrefix, type KernelFeatures } from '../kernel/features.js';
import type { Syscall } from '../attach/method.js';

export interface Choice {
  /** what was chosen */
  ok: boolean;
  why: string;
}

/** 32-bit (compat) execs: x86_64's ia32, arm64's AArch32 */
export interface CompatChoice extends Choice {
  abi: 'ia32' | 'aarch32' | null;
  /** the compat syscall wrappers' prefix (__ia32_compat_sys_, __arm64_compat_sys_) */
  prefix: string;
  /** false: the kernel runs no 32-bit programs at all (nothing to hook, nothing blind) */
  kernelRuns: boolean | null;
}

/** x86_64's x32 ABI: its execs go through their own compat wrappers (64-bit registers, 32-bit pointers) */
export interface X32Choice extends Choice {
  /** the wrappers' prefix the kernel has (__x64_compat_sys_ or __x32_compat_sys_); null: none */
  prefix: string | null;
  /** false: the kernel runs no x32 programs (not built in, or off this boot); null: not x86_64 or unknown */
  kernelRuns: boolean | null;
}

/** the questions every choice asks of the kernel */
export class KernelFacts {
  constructor(readonly f: KernelFeatures) {}

  get arch(): string {
    return this.f.arch;
  }

  atLeast(maj: number, min: number): boolean {
    const v = this.f.version;
    return v[0] > maj || (v[0] === maj && v[1] >= min);
  }

  /** kconfig value: true (y/m), false (unset), null (no config known) */
  kc(key: string): boolean | null {
    if (!this.f.kconfigSource) return null;
    const v = this.f.kconfig[key];
    return v === 'y' || v === 'm';
  }

  /** a kernel symbol: true/false, null when nothing was probed */
  sym(name: string): boolean | null {
    if (!this.f.symbols) return null;
    return this.f.symbols[name] ?? false;
  }

  /** where the symbol answers came from, for reasons ("not in BTF") */
  get symSource(): string {
    const s = this.f.symbolsSource;
    return s === 'btf' ? 'BTF' : s === 'btf+kallsyms' ? 'BTF or kallsyms' : 'kallsyms';
  }

  /** the native syscall wrapper (__x64_sys_execve, …) */
  wrapper(sc: Syscall): string {
    return `${syscallPrefix(this.f.arch)}sys_${sc}`;
  }
}

/** the kernel facts and the two choices the attach methods build on */
export class PlanFacts extends KernelFacts {
  constructor(
    f: KernelFeatures,
    readonly sleepable: Choice,
    readonly compat: CompatChoice,
    readonly x32: X32Choice = { ok: false, why: 'not x86_64', prefix: null, kernelRuns: null },
  ) {
    super(f);
  }

  /** a failed compat exec is invisible unless its wrappers are hooked (and the kernel runs 32-bit programs) */
  get compatBlindUnhooked(): string[] {
    return [
      ...(this.compat.ok || this.compat.kernelRuns === false ? [] : ['failed compat (32-bit) execs']),
      ...this.x32BlindUnhooked,
    ];
  }

  /** the same for x32: a failed x32 exec is invisible, a successful one is seen without its entry record */
  get x32BlindUnhooked(): string[] {
    return this.x32.ok || this.x32.kernelRuns !== true ? [] : ['failed x32 execs'];
  }
}
