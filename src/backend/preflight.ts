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

/** RLIMIT_MEMLOCK's soft limit from /proc/self/limits ("Max locked memory"): bytes, Infinity, null if unknown */
export function memlockLimit(limits: string | null): number | null {
  const m = /^Max locked memory\s+(\S+)/m.exec(limits ?? '');
  if (!m) return null;
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

export function readLimits(): string | null {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return null;
  }
}

/**
 * Before 5.11 ("bpf: memcg-based memory accounting for bpf maps", 5.11) the kernel charges every BPF map to
 * RLIMIT_MEMLOCK. libbpf raises the limit to infinity first, which takes CAP_SYS_RESOURCE (root has it); with
 * CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN alone the limit stays as it is, 64 KiB by default before 5.16, and the
 * ring map alone is refused with EPERM (seen in the Debian 5.10 matrix cell). What is missing then, or null.
 */
export function memlockShortfall(
  f: Pick<KernelFeatures, 'euid' | 'capEff' | 'version'>,
  limits: string | null,
  ringBytes: number,
): string | null {
  const [maj, min] = f.version;
  if (maj > 5 || (maj === 5 && min >= 11)) return null;
  const eff = f.capEff ? BigInt(`0x${f.capEff}`) : f.euid === 0 ? -1n : 0n;
  if (eff === -1n || ((eff >> CAP_SYS_RESOURCE) & 1n) === 1n) return null;
  const limit = memlockLimit(limits);
  if (limit === null || limit >= ringBytes) return null;
  return `CAP_SYS_RESOURCE or an RLIMIT_MEMLOCK of at least the ring's ${ringBytes >> 20 || 1} MiB (it is ${Math.round(limit / 1024)} KiB: Linux ${maj}.${min} < 5.11 charges BPF maps to it)`;
}

export function checkPrivileges(f: Pick<KernelFeatures, 'euid' | 'capEff' | 'version'>, ringBytes: number): void {
  const missing = missingCapabilities(f);
  if (missing.length)
    throw new ExeclensError(
      `the eBPF backend needs root or CAP_SYS_ADMIN (CAP_BPF and CAP_PERFMON alone are not enough; missing ${missing.join(', ')}): run with sudo, or use --backend ptrace`,
      EXIT.NO_PERMISSION,
    );
  const memlock = memlockShortfall(f, readLimits(), ringBytes);
  if (memlock)
    throw new ExeclensError(
      `the eBPF backend needs ${memlock}: run with sudo, grant CAP_SYS_RESOURCE, raise the limit (ulimit -l unlimited; systemd LimitMEMLOCK=infinity), or use --backend ptrace`,
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
