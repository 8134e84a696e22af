/**
 * Which backend traces: --backend ebpf (default), ptrace, or auto (eBPF where it can load, else ptrace).
 * Each backend's modules are imported only when chosen, so `--backend ptrace` never loads libbpf or koffi,
 * and `auto` falls back to ptrace when libbpf itself is missing.
 */
import { EXIT, ExeclensError } from '../exitcodes.js';
import { readCapEff } from '../kernel/features.js';
import type { Overrides } from '../plan/plan.js';
import { missingCapabilities } from './preflight.js';
import type { TraceSource } from './source.js';
import type { KernelSelect } from './ebpf/open.js';

export type BackendKind = 'ebpf' | 'ptrace' | 'auto';

export interface BackendOptions {
  backend: BackendKind;
  systemWide: boolean;
  overrides: Overrides;
  ringBytes: number;
  captureFds: boolean;
  /** filters the eBPF backend does in the kernel (the ptrace backend leaves them to userspace) */
  select?: KernelSelect;
  verbose: boolean;
  /** one line on stderr */
  say: (line: string) => void;
}

/** refusals auto answers with ptrace: no privileges, no libbpf or kernel support, every candidate refused */
const FALLBACK_CODES: readonly number[] = [EXIT.NO_PERMISSION, EXIT.KERNEL_UNSUPPORTED, EXIT.BPF_REFUSED];

async function ptrace(): Promise<TraceSource> {
  const { PtraceSource } = await import('./ptrace/source.js');
  return new PtraceSource(process.env.EXECLENS_PTRACE_NO_SECCOMP !== '1');
}

export async function openBackend(o: BackendOptions): Promise<TraceSource> {
  if (o.backend === 'ptrace' && o.systemWide)
    throw new ExeclensError(
      'the ptrace backend traces a command: give one after --, or use --backend ebpf for system-wide tracing',
      EXIT.USAGE,
    );
  if (o.backend === 'ptrace') return ptrace();
  const auto = o.backend === 'auto' && !o.systemWide;
  if (auto && missingCapabilities({ euid: process.geteuid?.() ?? -1, capEff: readCapEff() }).length) {
    if (o.verbose) o.say('backend: ptrace (auto: no privileges for BPF)');
    return ptrace();
  }
  try {
    const { openEbpf } = await import('./ebpf/open.js');
    return openEbpf({
      systemWide: o.systemWide,
      overrides: o.overrides,
      ringBytes: o.ringBytes,
      captureFds: o.captureFds,
      select: o.select,
      say: o.verbose ? o.say : null,
    });
  } catch (e) {
    if (!auto || !(e instanceof ExeclensError) || !FALLBACK_CODES.includes(e.exitCode)) throw e;
    o.say(`eBPF cannot trace here (${e.message}); falling back to ptrace`);
    return ptrace();
  }
}
