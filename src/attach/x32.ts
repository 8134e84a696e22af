/**
 * x86_64's x32 execve/execveat wrappers, hooked beside the native and ia32 ones by the fentry and kprobe
 * methods where the kernel runs x32 programs: `__x64_compat_sys_execve[at]` (6.1) or `__x32_compat_sys_*`
 * (older kernels), wrappers in bpf/attach/x32.bpf.h. Optional hooks: a refusal drops them, not the candidate.
 */
import type { PlanFacts } from '../plan/facts.js';
import { SYSCALLS, type HookSpec } from './method.js';

export function x32Hooks(facts: PlanFacts, kind: 'fentry' | 'kprobe'): HookSpec[] {
  const x = facts.x32;
  if (!x.ok || !x.prefix) return [];
  const prefix = x.prefix;
  return SYSCALLS.flatMap((sc): HookSpec[] => {
    const target = `${prefix}${sc}`;
    const abi = 'x32' as const;
    // never sleepable, as the ia32 wrappers (compat.ts)
    if (kind === 'fentry')
      return [
        { program: `fentry_x32_${sc}`, kind: 'fentry', role: 'enter', syscall: sc, abi, target, optional: true },
        { program: `fexit_x32_${sc}`, kind: 'fexit', role: 'exit', syscall: sc, abi, target, optional: true },
      ];
    // the compat kretprobe program (bpf/attach/compat.bpf.h) serves x32 too: attached once more per wrapper
    return [
      { program: `kprobe_x32_${sc}`, kind: 'kprobe', role: 'enter', syscall: sc, abi, target, optional: true },
      { program: 'kretprobe_compat_execve', kind: 'kretprobe', role: 'exit', syscall: sc, abi, target, optional: true },
    ];
  });
}
