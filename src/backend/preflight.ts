/** Checks before loading anything: privileges and the command to run. */
import { accessSync, constants, readFileSync, readlinkSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { EXIT, ExeclensError } from '../exitcodes.js';
import type { KernelFeatures } from '../kernel/features.js';

const CAP_SYS_RESOURCE = 24n;
const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

export function missingCapabilities(f: Pick<KernelFeatures, 'euid' | 'capEff'>): string[] {
  const eff = f.capEff ? BigInt(`0x${f.capEff}`) : f.euid === 0 ? -1n : 0n;
  const has = (c: bigint) => eff === -1n || ((eff >> c) & 1n) === 1n;
  if (has(CAP_SYS_ADMIN)) return [];
  const missing: string[] = [];
  if (!has(CAP_BPF)) missing.push('CAP_BPF');
  if (!has(CAP_PERFMON)) missing.push('CAP_PERFMON');
  // attaching tracepoints and reading kernel memory still wants CAP_SYS_ADMIN on most kernels
  missing.push('CAP_SYS_ADMIN');
  return missing;
}

/** RLIMIT_MEMLOCK from /proc/self/limits ("Max locked memory"): soft and hard, bytes or Infinity; null if unknown */
export function memlockLimits(limits: string | null): { soft: number; hard: number } | null {
  const m = /^Max locked memory\s+(\S+)\s+(\S+)/m.exec(limits ?? '');
  if (!m) return null;
  const n = (v: string) => (v === 'unlimited' ? Infinity : Number(v));
  return { soft: n(m[1]!), hard: n(m[2]!) };
}

export function readLimits(): string | null {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return null;
  }
}

/**
 * What the maps of one trace lock, roughly: the ring, then the traced-pid hash (~5 MiB) and the stash LRU
 * (~3 MiB) whatever the machine, and the per-CPU scratch buffers (up to 7 × 66 KiB per CPU; bpftool map show
 * on the 6.18 host: 33.7 MB ring, 5.2 MB traced, 3.0 MB stashes, 0.9 MB scratch for 2 CPUs).
 */
export function memlockNeeded(ringBytes: number, cpus: number): number {
  return ringBytes + (9 << 20) + cpus * (512 << 10);
}

/**
 * Before 5.11 ("bpf: memcg-based memory accounting for bpf maps") the kernel charges every BPF map to
 * RLIMIT_MEMLOCK. libbpf first sets it to unlimited (soft and hard), which needs CAP_SYS_RESOURCE unless the
 * hard limit is unlimited already; without it the limit stays as it is — 64 KiB by default before 5.16 — and
 * the ring map is refused with EPERM (seen in the Debian 5.10 matrix cell, as uid 65534 with CAP_BPF,
 * CAP_PERFMON and CAP_SYS_ADMIN). Whether the kernel charges the limit: bpfMemcg (the helper of the same
 * release libbpf's own probe looks for), else the version. What is missing, or null.
 */
/** what lets libbpf lift the limit itself */
export const MEMLOCK_CAP = 'CAP_SYS_RESOURCE (with which libbpf raises the limit)';

export function memlockShortfall(
  f: Pick<KernelFeatures, 'euid' | 'capEff' | 'version' | 'bpfMemcg' | 'possibleCpus'>,
  limits: string | null,
  ringBytes: number,
): string | null {
  const [maj, min] = f.version;
  const memcg = f.bpfMemcg ?? (maj > 5 || (maj === 5 && min >= 11));
  if (memcg) return null;
  const eff = f.capEff ? BigInt(`0x${f.capEff}`) : f.euid === 0 ? -1n : 0n;
  if (eff === -1n || ((eff >> CAP_SYS_RESOURCE) & 1n) === 1n) return null;
  const l = memlockLimits(limits);
  // libbpf raises the soft limit to an unlimited hard one without any capability
  if (!l || l.hard === Infinity) return null;
  const need = memlockNeeded(ringBytes, f.possibleCpus);
  if (l.soft >= need) return null;
  const kib = (b: number) => `${Math.round(b / 1024)} KiB`;
  return `an RLIMIT_MEMLOCK of about ${Math.ceil(need / (1 << 20))} MiB (the ${ringBytes >> 20 || 1} MiB ring and the other maps; it is ${kib(l.soft)}, hard ${kib(l.hard)}: Linux ${maj}.${min} charges BPF maps to it, before 5.11)`;
}

export function checkPrivileges(
  f: Pick<KernelFeatures, 'euid' | 'capEff' | 'version' | 'bpfMemcg' | 'possibleCpus'>,
  ringBytes: number,
): void {
  const missing = missingCapabilities(f);
  if (missing.length)
    throw new ExeclensError(
      `the eBPF backend needs root or CAP_SYS_ADMIN (CAP_BPF and CAP_PERFMON alone are not enough; missing ${missing.join(', ')}): run with sudo, or use --backend ptrace`,
      EXIT.NO_PERMISSION,
    );
  const memlock = memlockShortfall(f, readLimits(), ringBytes);
  if (memlock)
    throw new ExeclensError(
      `the eBPF backend needs ${MEMLOCK_CAP} or ${memlock}: run with sudo, grant CAP_SYS_RESOURCE, raise the limit (ulimit -l unlimited; systemd LimitMEMLOCK=infinity), or use --backend ptrace`,
      EXIT.NO_PERMISSION,
    );
}

/** inode of the initial pid namespace (PROC_PID_INIT_INO in include/linux/proc_ns.h) */
const INIT_PID_NS = 'pid:[4026531836]';

/**
 * The tree filter seeds itself with our pid as the kernel sees it in the
 * initial pid namespace. Inside a container our pid differs: refuse with
 * what to do instead. `nsLink` is readlink(/proc/self/ns/pid), null if unreadable.
 */
export function checkPidNamespace(nsLink: string | null): void {
  if (nsLink !== null && nsLink !== INIT_PID_NS)
    throw new ExeclensError(
      `execlens runs inside a nested pid namespace (${nsLink}), where its pids differ from the kernel's: run it on the host or with the host's pid namespace (docker run --pid=host), or trace system-wide without a command`,
      EXIT.KERNEL_UNSUPPORTED,
    );
}

export function readPidNamespace(): string | null {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}

/**
 * Resolve CMD like execvp does, so "not found" is reported before any BPF is
 * loaded. Bytes in, bytes out: a command or PATH that is not UTF-8 must find
 * the same file the command would (paths are joined as latin1 strings, one
 * char per byte: join only looks at '/' and '.', which no multi-byte UTF-8
 * sequence contains).
 */
export function resolveCommand(cmd: Buffer, path: Buffer | null = null): Buffer {
  const name = cmd.toString('utf8');
  const check = (p: Buffer): Buffer | null => {
    try {
      if (statSync(p).isDirectory()) return null;
    } catch {
      return null;
    }
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      throw new ExeclensError(`${name}: permission denied (not executable)`, EXIT.NOT_EXECUTABLE);
    }
  };
  if (cmd.includes(0x2f)) {
    const r = check(cmd);
    if (r) return r;
    // as the shell says it: a directory exists but cannot be run (126), a missing file is 127
    if (statSync(cmd, { throwIfNoEntry: false })?.isDirectory())
      throw new ExeclensError(`${name}: is a directory`, EXIT.NOT_EXECUTABLE);
    throw new ExeclensError(`${name}: no such file or directory`, EXIT.NOT_FOUND);
  }
  const dirs = (path ?? Buffer.from('/usr/local/bin:/usr/bin:/bin')).toString('latin1').split(delimiter);
  for (const dir of dirs) {
    const r = check(Buffer.from(join(dir || '.', cmd.toString('latin1')), 'latin1'));
    if (r) return r;
  }
  throw new ExeclensError(`${name}: command not found`, EXIT.NOT_FOUND);
}
