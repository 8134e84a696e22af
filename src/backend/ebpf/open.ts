/**
 * The eBPF backend for `log`: probe, check privileges, bring the plan up (src/backend/ebpf/bringup.ts, the
 * same path doctor takes) and wrap the loaded tracer as a record source. Loaded on use: the ptrace backend
 * never loads this module, libbpf or koffi.
 */
import { EXIT, ExeclensError } from '../../exitcodes.js';
import type { FilterName } from '../../pipeline/filter.js';
import { probeKernel } from '../../kernel/features.js';
import type { Overrides } from '../../plan/plan.js';
import { checkPidNamespace, checkPrivileges, readPidNamespace } from '../preflight.js';
import type { TraceSource } from '../source.js';
import { bringUp, refusalLine, type BpfUp } from './bringup.js';
import { EbpfSource } from './source.js';

export interface EbpfOpenOptions {
  systemWide: boolean;
  overrides: Overrides;
  ringBytes: number;
  captureFds: boolean;
  /** --uid, --cgroup: done in the kernel (bpf/lib/select.bpf.h) */
  select?: KernelSelect;
  /** -v: each attempt and the chosen plan on stderr */
  say: ((line: string) => void) | null;
}

export interface KernelSelect {
  uid?: number;
  /** the cgroup v2: its id (the directory's inode) and depth (the root's 0) */
  cgroup?: { id: bigint; level: number };
}

/** argv/env block limit in 32 KiB chunks (64 = 2 MiB) */
const BLOCK_CHUNKS = 64;

function explain(up: BpfUp, say: (line: string) => void): void {
  for (const a of up.attempts) {
    const skipped = a.cached ? `skipped, refused earlier this boot (${a.cached}; 'execlens doctor' tries again): ` : '';
    say(
      `attempt ${a.candidate}/${a.lifecycle}${a.loops ? `/${a.loops}` : ''}: ${a.ok ? 'ok' : `${skipped}${a.stage} failed: ${a.error ?? ''}${a.program ? ` (${a.program})` : ''}`}`,
    );
  }
  const t = up.tracer!;
  say(`plan: ${t.candidate.id} + ${t.lifecycle}, ${t.loops} loops (${t.candidate.why})`);
  for (const b of t.candidate.blind) say(`blind spot: ${b}`);
}

/** the source, or an ExeclensError saying why eBPF cannot trace here (69 refused, 77 privileges, 78 kernel) */
export function openEbpf(o: EbpfOpenOptions): TraceSource {
  const features = probeKernel('use');
  checkPrivileges(features, o.ringBytes);
  if (!o.systemWide) checkPidNamespace(readPidNamespace());
  const sel = o.select ?? {};
  const up = bringUp({
    features,
    overrides: o.overrides,
    filter: !o.systemWide,
    captureEnv: true,
    captureFds: o.captureFds,
    ringBytes: o.ringBytes,
    blockChunks: BLOCK_CHUNKS,
    refusals: 'use',
    uidOnly: sel.uid,
    cgroup: sel.cgroup,
  });
  if (!up.tracer) throw new ExeclensError(refusalLine(up), up.plan.fatal ? EXIT.KERNEL_UNSUPPORTED : EXIT.BPF_REFUSED);
  if (o.say) explain(up, o.say);
  try {
    const inKernel: FilterName[] = [];
    if (sel.uid !== undefined) inKernel.push('uid');
    if (sel.cgroup !== undefined) inKernel.push('cgroup');
    return new EbpfSource(up.tracer, o.ringBytes, features.possibleCpus, inKernel);
  } catch (e) {
    up.tracer.close();
    throw e;
  }
}
