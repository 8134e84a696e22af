/** `execlens doctor`: what the kernel offers, the plan and why, every refused attempt. */
import { bringUp, type BpfUp } from '../backend/ebpf/bringup.js';
import { MEMLOCK_CAP, memlockShortfall, missingCapabilities, readLimits } from '../backend/preflight.js';
import { probeKernel } from '../kernel/features.js';
import type { Overrides } from '../plan/plan.js';
import type { ProgStats, VerifierStat } from '../backend/ebpf/loader.js';
import { EXIT } from '../exitcodes.js';
import { readCapEff } from '../kernel/features.js';
import { DEFAULT_RING_MIB } from '../pipeline/summary.js';
import { nativeHelperPath } from '../backend/execspec.js';
import { existsSync } from 'node:fs';
import { ATTACH_METHODS } from '../attach/registry.js';

/** version of `doctor --json`'s report (its own, apart from the event schema): bumped when a field changes meaning */
export const DOCTOR_SCHEMA = 1;

export interface DoctorReport {
  schema: typeof DOCTOR_SCHEMA;
  features: BpfUp['features'];
  tracefs: BpfUp['mount'];
  bpffs: string;
  plan: BpfUp['plan'];
  attempts: BpfUp['attempts'];
  chosen: {
    candidate: string;
    lifecycle: string;
    loops: string;
    sleepable: boolean;
    hooks: { program: string; kind: string; target: string; abi: string }[];
    blind: string[];
  } | null;
  programs: ProgStats[];
  missingCapabilities: string[];
  /** before 5.11, without CAP_SYS_RESOURCE: what RLIMIT_MEMLOCK log's default ring needs (null: enough, or charged elsewhere) */
  memlock: string | null;
  objectPath: string;
  /** what `log --backend auto` would use here, and why */
  backend: { auto: 'ebpf' | 'ptrace'; why: string; ptraceHelper: string | null };
  /** per program of the chosen plan, with --verifier-stats */
  verifier: Record<string, VerifierStat> | null;
}

export function doctorReport(overrides: Overrides, opts: { verifierStats?: boolean } = {}): DoctorReport {
  // the effective capabilities, not the uid: CAP_BPF + CAP_PERFMON + CAP_SYS_ADMIN without root is enough (as for log)
  const features = probeKernel('refresh');
  const caps = missingCapabilities({ euid: process.geteuid?.() ?? -1, capEff: readCapEff() });
  // what log's default ring would need (doctor's own trial loads use a 1 MiB ring)
  const memlock = caps.length ? null : memlockShortfall(features, readLimits(), DEFAULT_RING_MIB << 20);
  const missing = memlock ? ['CAP_SYS_RESOURCE'] : caps;
  // without privileges: detection and the plan, no trial loads (the same bring-up path as log's)
  // doctor probes everything again and rewrites this boot's record (src/kernel/facts-cache.ts)
  const up = bringUp({
    features,
    overrides,
    filter: true,
    captureEnv: true,
    captureFds: true,
    ringBytes: 1 << 20,
    blockChunks: 64,
    verifierStats: opts.verifierStats === true,
    refusals: 'refresh',
    trial: missing.length === 0,
  });
  const t = up.tracer;
  const report: DoctorReport = {
    schema: DOCTOR_SCHEMA,
    features: up.features,
    tracefs: up.mount,
    bpffs: up.features.bpffs
      ? 'mounted (not needed: execlens pins nothing)'
      : 'not mounted (not needed: execlens pins nothing)',
    plan: up.plan,
    attempts: up.attempts,
    chosen: t
      ? {
          candidate: t.candidate.id,
          lifecycle: t.lifecycle,
          loops: t.loops,
          sleepable: t.candidate.sleepable,
          hooks: t.hooks.map((h) => ({ program: t.loadedName(h.program), kind: h.kind, target: h.target, abi: h.abi })),
          blind: t.candidate.blind,
        }
      : null,
    programs: t ? t.progStats() : [],
    missingCapabilities: missing,
    memlock,
    objectPath: up.objectPath,
    backend: autoBackend(missing, t !== undefined),
    verifier: up.verifier ?? null,
  };
  t?.close();
  return report;
}

function autoBackend(missing: string[], loaded: boolean): DoctorReport['backend'] {
  const helper = nativeHelperPath();
  const ptraceHelper = existsSync(helper) ? helper : null;
  if (missing.length)
    return { auto: 'ptrace', why: `no privileges for BPF (missing ${missing.join(', ')})`, ptraceHelper };
  if (!loaded) return { auto: 'ptrace', why: 'BPF refused by every candidate (see the trial loads)', ptraceHelper };
  return { auto: 'ebpf', why: 'the eBPF plan loads', ptraceHelper };
}

export function doctorExitCode(r: DoctorReport): number {
  if (r.plan.fatal) return EXIT.KERNEL_UNSUPPORTED;
  if (r.missingCapabilities.length) return EXIT.NO_PERMISSION;
  return r.chosen ? EXIT.OK : EXIT.BPF_REFUSED;
}

/** every attach method of the registry: what it is, and whether this plan has it (or why not) */
export function attachMethodLines(plan: DoctorReport['plan']): string[] {
  const L: string[] = [];
  const w = Math.max(...ATTACH_METHODS.map((m) => m.kind.length));
  for (const m of ATTACH_METHODS) {
    const ids = m.candidateIds.filter((id) => plan.candidates.some((c) => c.id === id));
    L.push(`  ${m.kind.padEnd(w)} ${m.summary} (since ${m.since})`);
    if (ids.length) L.push(`  ${''.padEnd(w)} candidate: ${ids.join(', ')}`);
    // one line per reason: --successful-only rules out each candidate of a method for the same one
    const byReason = new Map<string, string[]>();
    for (const rj of plan.rejected.filter((x) => m.candidateIds.includes(x.id)))
      byReason.set(rj.reason, [...(byReason.get(rj.reason) ?? []), rj.id]);
    for (const [reason, rids] of byReason) L.push(`  ${''.padEnd(w)} ruled out ${rids.join(', ')}: ${reason}`);
    if (!ids.length && !byReason.size) L.push(`  ${''.padEnd(w)} not in this plan (an --attach override)`);
  }
  return L;
}

export function formatDoctor(r: DoctorReport): string {
  const f = r.features;
  const L: string[] = [];
  const yn = (b: boolean | null | undefined) => (b === null || b === undefined ? '?' : b ? 'yes' : 'no');
  L.push(`kernel      ${f.release} (${f.arch}), version ${f.version.join('.')}`);
  L.push(`kconfig     ${f.kconfigSource ?? 'not found (/proc/config.gz, /boot/config-*)'}`);
  for (const [k, v] of Object.entries(f.kconfig)) L.push(`              ${k}=${v}`);
  L.push(`BTF         ${yn(f.btf)} (/sys/kernel/btf/vmlinux)`);
  L.push(`tracefs     ${r.tracefs.note}`);
  L.push(`bpffs       ${r.bpffs}`);
  L.push(`kprobes     PMU ${yn(f.kprobePmu)}, kprobe_events ${yn(f.kprobeEvents)}`);
  L.push(
    `JIT         bpf_jit_enable=${f.jit ?? '?'}; unprivileged_bpf_disabled=${f.unprivilegedBpfDisabled ?? '?'}; lockdown=${f.lockdown ?? '?'}`,
  );
  L.push(
    `privileges  euid ${f.euid}, CapEff ${f.capEff ?? '?'}${r.missingCapabilities.length ? `; MISSING ${r.memlock ? `${MEMLOCK_CAP} or ${r.memlock}` : r.missingCapabilities.join(', ')}` : ''}`,
  );
  if (f.symbols)
    L.push(
      `symbols     ${f.symbolsSource ? `(${f.symbolsSource}) ` : ''}${Object.entries(f.symbols)
        .map(([k, v]) => `${k}${v ? '' : ' (absent)'}`)
        .join(', ')}`,
    );
  if (f.syscallTracepoints)
    L.push(
      `tracepoints ${Object.entries(f.syscallTracepoints)
        .map(([k, v]) => `${k}${v ? '' : ' (absent)'}`)
        .join(', ')}`,
    );
  L.push('');
  L.push('plan');
  if (r.plan.fatal) L.push(`  FATAL: ${r.plan.fatal}`);
  L.push(
    `  candidates, in order: ${r.plan.candidates.map((c) => c.id + (c.forced ? ' (forced)' : '')).join(' -> ') || 'none'}`,
  );
  L.push(...attachMethodLines(r.plan));
  L.push(`  sleepable  ${r.plan.sleepableWhy}`);
  L.push(`  compat     ${r.plan.compatWhy}`);
  if (r.plan.arch === 'x86_64') L.push(`  x32        ${r.plan.x32Why}`);
  L.push(`  scratch    ${r.plan.scratchWhy}`);
  L.push(`  lifecycle  ${r.plan.lifecycleWhy}`);
  L.push(`  loops      ${r.plan.loopsWhy}`);
  L.push('');
  L.push('trial loads');
  if (r.attempts.length === 0) L.push('  none (not root, or the plan is fatal)');
  for (const a of r.attempts) {
    L.push(
      `  ${a.ok ? 'OK    ' : 'FAILED'} ${a.candidate} + ${a.lifecycle}${a.loops ? ` (${a.loops})` : ''}${a.ok ? '' : `: ${a.stage} failed${a.program ? ` in ${a.program}` : ''}: ${a.error ?? '?'}${a.errno !== undefined ? ` (errno ${a.errno})` : ''}`}`,
    );
    if (a.hint) L.push(`         -> ${a.hint}`);
    for (const d of a.droppedHooks ?? []) L.push(`         dropped ${d.program} (${d.target}): ${d.reason}`);
    if (!a.ok) for (const l of (a.log ?? []).slice(0, 12)) L.push(`         | ${l}`);
  }
  L.push('');
  if (r.chosen) {
    L.push(
      `chosen      ${r.chosen.candidate} + ${r.chosen.lifecycle}, ${r.chosen.loops} loops${r.chosen.sleepable ? ' (sleepable)' : ''}`,
    );
    for (const h of r.chosen.hooks) L.push(`              ${h.kind.padEnd(10)} ${h.target} [${h.abi}] -> ${h.program}`);
    for (const b of r.chosen.blind) L.push(`blind spot  ${b}`);
    L.push('programs    name                       verified insns   xlated insns');
    for (const p of r.programs)
      L.push(
        `              ${p.name.padEnd(26)} ${String(p.verifiedInsns).padStart(14)} ${String(p.xlatedInsns).padStart(14)}`,
      );
    if (r.verifier) {
      L.push('verifier    name                       processed insns  total states  peak states  verify ms');
      for (const [n, v] of Object.entries(r.verifier))
        L.push(
          `              ${n.padEnd(26)} ${String(v.processedInsns).padStart(15)} ${String(v.totalStates).padStart(13)} ${String(v.peakStates).padStart(12)} ${v.verifyUs === null ? '?' : (v.verifyUs / 1000).toFixed(1).padStart(10)}`,
        );
    }
  } else {
    L.push('chosen      nothing: execlens cannot trace with eBPF here');
  }
  L.push(
    `backend     --backend auto would use ${r.backend.auto}: ${r.backend.why}; ptrace helper ${r.backend.ptraceHelper ?? 'not built (npm run build)'}`,
  );
  return L.join('\n') + '\n';
}
