/**
 * The compat (32-bit) syscall wrappers, hooked beside the native ones by the fentry and kprobe methods:
 * `__ia32_compat_sys_execve[at]` (x86_64) and `__arm64_compat_sys_execve[at]` (arm64), wrappers in
 * bpf/attach/compat.bpf.h. Optional hooks: a refusal drops them, not the candidate.
 */
import type { PlanFacts } from '../plan/facts.js';
import { SYSCALLS, type HookSpec } from './method.js';

export function compatHooks(facts: PlanFacts, kind: 'fentry' | 'kprobe'): HookSpec[] {
  const c = facts.compat;
  if (!c.ok || !c.abi) return [];
  const abi = c.abi;
  return SYSCALLS.flatMap((sc): HookSpec[] => {
    const target = `${c.prefix}${sc}`;
    // never sleepable: 7.2 allows sleepable fentry on native syscalls only
    // ("__ia32_compat_sys_execve is not sleepable", seen in the kernel matrix)
    if (kind === 'fentry')
      return [
        { program: `fentry_compat_${sc}`, kind: 'fentry', role: 'enter', syscall: sc, abi, target, optional: true },
        { program: `fexit_compat_${sc}`, kind: 'fexit', role: 'exit', syscall: sc, abi, target, optional: true },
      ];
    // one kretprobe program serves both syscalls (attached twice): verified once
    return [
      { program: `kprobe_compat_${sc}`, kind: 'kprobe', role: 'enter', syscall: sc, abi, target, optional: true },
      { program: 'kretprobe_compat_execve', kind: 'kretprobe', role: 'exit', syscall: sc, abi, target, optional: true },
    ];
  });
}
