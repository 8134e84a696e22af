/**
 * fentry/fexit on the native syscall wrappers (BPF trampolines), and fentry.s: the same entry programs
 * sleepable, so they may fault in the caller's pages (bpf_copy_from_user). The fastest path.
 * Wrappers: bpf/attach/fentry.bpf.h.
 */
import type { PlanFacts } from '../plan/facts.js';
import { compatHooks } from './compat.js';
import { x32Hooks } from './x32.js';
import { SYSCALLS, type AttachMethod, type Candidate, type HookSpec, type MethodPlan } from './method.js';

/** first kernel with fentry (BPF trampolines with direct calls) per arch: x86_64 5.5, arm64 6.4, riscv64 6.8 */
const FENTRY_SINCE: Record<string, [number, number]> = { x86_64: [5, 5], aarch64: [6, 4], riscv64: [6, 8] };

/** why fentry cannot work here, or null */
function unusable(facts: PlanFacts): string | null {
  const since = FENTRY_SINCE[facts.arch];
  const direct = facts.kc('CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS');
  if (!since) return `fentry not supported on ${facts.arch} by execlens`;
  if (direct === false)
    return 'CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS is not set: fentry attach would fail with ENOTSUPP (524)';
  if (direct === null && !facts.atLeast(since[0], since[1]))
    return `${facts.arch} has fentry only since ${since.join('.')}`;
  if (facts.sym(facts.wrapper('execve')) === false) return `${facts.wrapper('execve')} not in ${facts.symSource}`;
  return null;
}

function candidate(facts: PlanFacts, sleep: boolean): Candidate {
  return {
    id: sleep ? 'fentry.s' : 'fentry',
    attach: 'fentry',
    sleepable: sleep,
    hooks: [
      ...SYSCALLS.flatMap((sc): HookSpec[] => [
        {
          program: `${sleep ? 'fentry_s' : 'fentry'}_${sc}`,
          kind: 'fentry',
          role: 'enter',
          syscall: sc,
          abi: 'native',
          target: facts.wrapper(sc),
          optional: false,
        },
        {
          program: `fexit_${sc}`,
          kind: 'fexit',
          role: 'exit',
          syscall: sc,
          abi: 'native',
          target: facts.wrapper(sc),
          optional: false,
        },
      ]),
      ...compatHooks(facts, 'fentry'),
      ...x32Hooks(facts, 'fentry'),
    ],
    why: sleep
      ? `fastest path; sleepable (${facts.sleepable.why})`
      : 'fastest path (BPF trampoline on the syscall wrapper)',
    blind: facts.compatBlindUnhooked,
  };
}

export const fentry: AttachMethod = {
  kind: 'fentry',
  candidateIds: ['fentry.s', 'fentry'],
  summary:
    'BPF trampolines on the syscall wrappers (fentry.s: sleepable entry, 7.1+ or CONFIG_FUNCTION_ERROR_INJECTION)',
  since: 'x86_64 5.5, arm64 6.4, riscv64 6.8',
  programPrefixes: ['fentry_', 'fexit_'],
  hooksSyscalls: true,

  plan(facts: PlanFacts, forced: boolean): MethodPlan {
    const reason = unusable(facts);
    const out: MethodPlan = { candidates: [], rejected: [] };
    if (reason === null || forced) {
      if (facts.sleepable.ok) out.candidates.push(candidate(facts, true));
      out.candidates.push(candidate(facts, false));
      if (reason !== null) for (const c of out.candidates) c.forced = reason;
    }
    if (reason !== null) out.rejected.push({ id: 'fentry', reason });
    else if (!facts.sleepable.ok) out.rejected.push({ id: 'fentry.s', reason: facts.sleepable.why });
    return out;
  },

  attach: (lb, prog) => lb.programAttach(prog),

  hint(a) {
    if (a.stage === 'load' && a.errno === 1)
      return 'fentry refused before the verifier (EPERM as root): lockdown, an LSM or the hypervisor forbids BPF trampolines here';
    if (a.stage === 'attach' && a.errno === 524)
      return 'ENOTSUPP: this kernel cannot attach BPF trampolines (no DYNAMIC_FTRACE_WITH_DIRECT_CALLS)';
    return undefined;
  },

  forceFlags: (id) => (id === 'fentry' ? ['--attach', 'fentry', '--no-sleep'] : ['--attach', 'fentry']),
};
