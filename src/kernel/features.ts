/**
 * Probe the running kernel -> KernelFeatures (plain JSON data, no decisions).
 * choosePlan() decides; the matrix records one of these per cell as a fixture.
 */
import { FACTS_PATH, factsKey, readFacts, writeFacts, type SlowFacts } from './facts-cache.js';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { btfFuncNames } from './btf.js';
import os from 'node:os';

/**
 * node:zlib only when /proc/config.gz is read, i.e. when the per-boot facts cache misses: loading it costs
 * 3-10 ms of every start-up otherwise. require() keeps probeKernel synchronous.
 */
function gunzipSync(b: Buffer): Buffer {
  return (createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib')).gunzipSync(b);
}

/**
 * bumped when a recorded fact is added or changes meaning (2: ia32Emulation, CONFIG_IA32_EMULATION_DEFAULT_DISABLED;
 * 3: x32Enabled, the __x64_compat_sys_exec* wrappers)
 */
export const FEATURES_SCHEMA = 3;

/** kconfig options that matter to the plan (only these are recorded) */
export const KCONFIG_KEYS = [
  'CONFIG_BPF_SYSCALL',
  'CONFIG_BPF_JIT',
  'CONFIG_DEBUG_INFO_BTF',
  'CONFIG_KPROBES',
  'CONFIG_KPROBES_ON_FTRACE',
  'CONFIG_KPROBE_EVENTS',
  'CONFIG_FTRACE_SYSCALLS',
  'CONFIG_FUNCTION_ERROR_INJECTION',
  'CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS',
  'CONFIG_IA32_EMULATION',
  'CONFIG_X86_X32_ABI',
  // its name before 5.18 (83a44a4f47ad renamed it)
  'CONFIG_X86_X32',
  'CONFIG_COMPAT',
  'CONFIG_BPF_LSM',
  'CONFIG_ARCH_HAS_SYSCALL_WRAPPER',
  'CONFIG_BPF_EVENTS',
  'CONFIG_SECURITY_LOCKDOWN_LSM',
  'CONFIG_PREEMPTION',
  'CONFIG_IA32_EMULATION_DEFAULT_DISABLED',
] as const;

/** symbols the plan may attach to, looked up in /proc/kallsyms */
/** the compat (32-bit) syscall wrappers execlens hooks on this arch */
export function compatSymbols(arch: string): string[] {
  if (arch === 'x86_64') return ['__ia32_compat_sys_execve', '__ia32_compat_sys_execveat'];
  if (arch === 'aarch64') return ['__arm64_compat_sys_execve', '__arm64_compat_sys_execveat'];
  return [];
}

export function candidateSymbols(arch: string): string[] {
  const p = syscallPrefix(arch);
  const out = [`${p}sys_execve`, `${p}sys_execveat`, '__se_sys_execve', '__se_sys_execveat', ...compatSymbols(arch)];
  if (arch === 'x86_64') out.push(...X32_SYMBOLS);
  return out;
}

/**
 * x86_64's x32 execve/execveat wrappers: `__x64_compat_sys_*` on 6.1 (seen in the kernel matrix's bookworm
 * kernel booted with syscall.x32=y), `__x32_compat_sys_*` on kernels from before the compat stubs took the
 * x64 prefix. Both are looked up; the plan hooks the pair the kernel has.
 */
export const X32_PREFIXES = ['__x64_compat_sys_', '__x32_compat_sys_'] as const;
const X32_SYMBOLS = X32_PREFIXES.flatMap((p) => [`${p}execve`, `${p}execveat`]);

export function syscallPrefix(arch: string): string {
  switch (arch) {
    case 'x86_64':
      return '__x64_';
    case 'aarch64':
      return '__arm64_';
    case 'riscv64':
      return '__riscv_';
    case 's390x':
      return '__s390x_';
    default:
      return '__';
  }
}

export interface KernelFeatures {
  schema: number;
  arch: string;
  release: string;
  version: [number, number, number];
  kconfigSource: string | null;
  kconfig: Record<string, string>;
  btf: boolean;
  /** presence of candidate symbols (null: neither BTF nor kallsyms readable) */
  symbols: Record<string, boolean> | null;
  /** where symbols came from: BTF FUNCs (what fentry attaches to), plus kallsyms where a kprobe may need a name BTF lacks */
  symbolsSource?: 'btf' | 'btf+kallsyms' | 'kallsyms' | null;
  /** the bpf_loop helper (5.17+) is in the kernel's BTF; null/absent: unknown (no BTF, or a feature set recorded before this field) */
  bpfLoop?: boolean | null;
  /**
   * BPF maps are charged to the memory cgroup, not to RLIMIT_MEMLOCK (5.11): the bpf_ktime_get_coarse_ns helper
   * of the same release is in the kernel's BTF, the proxy libbpf's own probe uses. null/absent: unknown.
   */
  bpfMemcg?: boolean | null;
  tracefs: string | null;
  bpffs: boolean;
  /** syscall tracepoints present in tracefs (null: tracefs not available) */
  syscallTracepoints: Record<string, boolean> | null;
  kprobePmu: boolean;
  kprobeEvents: boolean;
  jit: number | null;
  unprivilegedBpfDisabled: number | null;
  lockdown: string | null;
  /**
   * x86_64: does the kernel run 32-bit programs this boot? Since Linux 6.7 ("x86: Make IA32_EMULATION boot
   * time configurable") `ia32_emulation=` on the command line, or CONFIG_IA32_EMULATION_DEFAULT_DISABLED,
   * can turn IA32 emulation off in a kernel built with it. null: not x86_64 or unknown (fixtures from before).
   */
  ia32Emulation?: boolean | null;
  /**
   * x86_64: does the kernel run x32 programs this boot? Built in (CONFIG_X86_X32_ABI), then
   * /sys/module/syscall/parameters/x32 (Debian builds it off by default: boot with syscall.x32=y).
   * null: not x86_64 or unknown (fixtures from before).
   */
  x32Enabled?: boolean | null;
  euid: number;
  /** effective capability set (hex) from /proc/self/status */
  capEff: string | null;
  possibleCpus: number;
}

export function parseVersion(release: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  if (!m) return [0, 0, 0];
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

export function parseKconfig(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const wanted = new Set<string>(KCONFIG_KEYS);
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m && wanted.has(m[1]!)) out[m[1]!] = m[2]!;
  }
  return out;
}

function readText(p: string): string | null {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

function readKconfig(release: string): { source: string | null; text: string | null } {
  try {
    const gz = readFileSync('/proc/config.gz');
    return { source: '/proc/config.gz', text: gunzipSync(gz).toString('utf8') };
  } catch {
    /* fall through */
  }
  for (const p of [`/boot/config-${release}`, `/lib/modules/${release}/config`]) {
    const t = readText(p);
    if (t) return { source: p, text: t };
  }
  return { source: null, text: null };
}

function readKallsyms(names: string[]): Record<string, boolean> | null {
  const text = readText('/proc/kallsyms');
  if (!text) return null;
  // lines are "address type name[\t[module]]": a plain substring search is ~20x faster than a regex over 10 MB
  const found: Record<string, boolean> = {};
  for (const n of names) found[n] = text.includes(` T ${n}\n`) || text.includes(` t ${n}\n`);
  return found;
}

const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

/**
 * Candidate symbols from BTF (fentry's view; a few ms) and, only where a kprobe
 * could need a name BTF lacks, from kallsyms (40-150 ms of kernel time to read here).
 */
export function lookupSymbols(
  arch: string,
  kprobesPossible: boolean,
  compatPossible: boolean,
): Pick<KernelFeatures, 'symbols' | 'symbolsSource' | 'bpfLoop' | 'bpfMemcg'> {
  const names = candidateSymbols(arch);
  let fromBtf: Record<string, boolean> | null = null;
  let bpfLoop: boolean | null = null;
  let bpfMemcg: boolean | null = null;
  try {
    // the bpf_loop helper's implementation is a FUNC in BTF like any other kernel function
    const all = btfFuncNames(readFileSync(VMLINUX_BTF), [...names, 'bpf_loop', 'bpf_ktime_get_coarse_ns']);
    if (all) {
      bpfLoop = all.bpf_loop === true;
      bpfMemcg = all.bpf_ktime_get_coarse_ns === true;
      fromBtf = Object.fromEntries(names.map((n) => [n, all[n] === true]));
    }
  } catch {
    /* no BTF: kallsyms only */
  }
  if (!fromBtf) {
    const ks = readKallsyms(names);
    return { symbols: ks, symbolsSource: ks ? 'kallsyms' : null, bpfLoop, bpfMemcg };
  }
  const btf = fromBtf;
  const p = syscallPrefix(arch);
  const needed = [`${p}sys_execve`, `${p}sys_execveat`, ...(compatPossible ? compatSymbols(arch) : [])];
  if (!kprobesPossible || needed.every((n) => btf[n])) return { symbols: btf, symbolsSource: 'btf', bpfLoop, bpfMemcg };
  const ks = readKallsyms(names);
  if (!ks) return { symbols: btf, symbolsSource: 'btf', bpfLoop, bpfMemcg };
  return {
    symbols: Object.fromEntries(names.map((n) => [n, btf[n] === true || ks[n] === true])),
    symbolsSource: 'btf+kallsyms',
    bpfLoop,
    bpfMemcg,
  };
}

export function findTracefs(): string | null {
  for (const p of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) {
    if (existsSync(`${p}/events`)) return p;
  }
  return null;
}

export function isBpffsMounted(): boolean {
  const m = readText('/proc/mounts') ?? '';
  return m.split('\n').some((l) => l.split(' ')[2] === 'bpf');
}

function readNum(p: string): number | null {
  const t = readText(p);
  if (t === null) return null;
  const n = Number(t.trim());
  return Number.isFinite(n) ? n : null;
}

function possibleCpus(): number {
  const t = readText('/sys/devices/system/cpu/possible');
  if (!t) return os.cpus().length;
  let n = 0;
  for (const part of t.trim().split(',')) {
    const [a, b] = part.split('-').map(Number);
    n += b === undefined ? 1 : b - (a ?? 0) + 1;
  }
  return n;
}

/**
 * What this kernel offers. cache 'use': the slow facts (config, BTF symbols) from this boot's record when
 * there is one (src/kernel/facts-cache.ts); 'refresh': probed and recorded (doctor); 'off': probed only.
 */
export function probeKernel(cache: 'use' | 'refresh' | 'off' = 'off'): KernelFeatures {
  const release = os.release();
  const arch = os.machine
    ? os.machine()
    : process.arch === 'x64'
      ? 'x86_64'
      : process.arch === 'arm64'
        ? 'aarch64'
        : process.arch;
  const key =
    cache === 'off' || process.env.EXECLENS_NO_FACTS_CACHE === '1' ? null : factsKey(release, FEATURES_SCHEMA);
  const remembered = key && cache === 'use' ? readFacts(FACTS_PATH, key) : null;
  const tracefs = findTracefs();
  let syscallTracepoints: Record<string, boolean> | null = null;
  if (tracefs) {
    const dir = `${tracefs}/events/syscalls`;
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {
      /* no syscall tracepoints */
    }
    syscallTracepoints = Object.fromEntries(
      ['sys_enter_execve', 'sys_exit_execve', 'sys_enter_execveat', 'sys_exit_execveat'].map((n) => [
        n,
        entries.includes(n),
      ]),
    );
  }
  const capEff = readCapEff();
  const kprobePmu = existsSync('/sys/bus/event_source/devices/kprobe');
  const kprobeEvents = tracefs !== null && existsSync(`${tracefs}/kprobe_events`);
  const slow = remembered ?? slowFacts(release, arch, kprobePmu || kprobeEvents);
  if (key && !remembered) writeFacts(FACTS_PATH, key, slow);
  const lockdownText = readText('/sys/kernel/security/lockdown');
  return {
    schema: FEATURES_SCHEMA,
    arch,
    release,
    version: parseVersion(release),
    ...slow,
    btf: existsSync(VMLINUX_BTF),
    tracefs,
    bpffs: isBpffsMounted(),
    syscallTracepoints,
    kprobePmu,
    kprobeEvents,
    jit: readNum('/proc/sys/net/core/bpf_jit_enable'),
    unprivilegedBpfDisabled: readNum('/proc/sys/kernel/unprivileged_bpf_disabled'),
    lockdown: lockdownText ? (/\[(\w+)\]/.exec(lockdownText)?.[1] ?? null) : null,
    ia32Emulation: arch === 'x86_64' ? ia32Emulation(slow.kconfig, readText('/proc/cmdline')) : null,
    x32Enabled: arch === 'x86_64' ? x32Enabled(slow.kconfig, readText('/sys/module/syscall/parameters/x32')) : null,
    euid: process.geteuid ? process.geteuid() : -1,
    capEff,
    possibleCpus: possibleCpus(),
  };
}

/** IA32 emulation on this boot: built in, then the command line's ia32_emulation= over the build's default */
export function ia32Emulation(kconfig: Record<string, string>, cmdline: string | null): boolean | null {
  if (kconfig.CONFIG_IA32_EMULATION === undefined) return Object.keys(kconfig).length ? false : null;
  const arg = cmdline === null ? undefined : /(?:^|\s)ia32_emulation=(\S+)/.exec(cmdline)?.[1];
  // the kernel parses it with kstrtobool: 1/y/Y/on and 0/n/N/off, among others
  if (arg !== undefined && /^(1|y|on|true)/i.test(arg)) return true;
  if (arg !== undefined && /^(0|n|off|false)/i.test(arg)) return false;
  return kconfig.CONFIG_IA32_EMULATION_DEFAULT_DISABLED !== 'y';
}

/**
 * x32 on this boot. Debian's kernels carry a patch (never upstream) that builds x32 in but off unless
 * booted with syscall.x32=y, and shows the state in /sys/module/syscall/parameters/x32 (Y/N): where that file
 * is, it decides (and says x32 is built in). Without it, x32 is on wherever it is built in: CONFIG_X86_X32_ABI,
 * CONFIG_X86_X32 before 5.18.
 */
export function x32Enabled(kconfig: Record<string, string>, param: string | null): boolean | null {
  if (param !== null) return /^[Y1]/i.test(param.trim());
  if (!Object.keys(kconfig).length) return null;
  return kconfig.CONFIG_X86_X32_ABI === 'y' || kconfig.CONFIG_X86_X32 === 'y';
}

/** the facts that cost a gunzip and a BTF walk (cached per boot by probeKernel) */
function slowFacts(release: string, arch: string, kprobesPossible: boolean): SlowFacts {
  const kc = readKconfig(release);
  const kconfig = kc.text ? parseKconfig(kc.text) : {};
  const compatPossible = kconfig.CONFIG_IA32_EMULATION === 'y' || kconfig.CONFIG_COMPAT === 'y' || !kc.text;
  return { kconfigSource: kc.source, kconfig, ...lookupSymbols(arch, kprobesPossible, compatPossible) };
}

/** Effective capabilities of this process (hex, from /proc/self/status), null if unreadable. */
export function readCapEff(): string | null {
  return /^CapEff:\s*([0-9a-f]+)/m.exec(readText('/proc/self/status') ?? '')?.[1] ?? null;
}
