/**
 * The kernel's slow facts, remembered for the rest of the boot: its config (a gunzip of /proc/config.gz) and
 * which attach symbols its BTF has (a walk over ~5 MB of /sys/kernel/btf/vmlinux) cost tens of ms per start
 * and cannot change until the next boot — the running kernel's image and config are fixed, and the
 * candidate symbols are vmlinux's own, never a module's. Everything else probeKernel() reads (mounts,
 * capabilities, sysctls) is read fresh every time. The file lives in /run (tmpfs: gone at reboot) beside the
 * refusals (src/backend/ebpf/refusals.ts) and names the boot, the kernel and the execlens build it is for.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { VERSION } from '../version.js';
import type { KernelFeatures } from './features.js';

export type SlowFacts = Pick<
  KernelFeatures,
  'kconfigSource' | 'kconfig' | 'symbols' | 'symbolsSource' | 'bpfLoop' | 'bpfMemcg'
>;

/** EXECLENS_FACTS_CACHE: another file (tests use their own) */
export const FACTS_PATH = process.env.EXECLENS_FACTS_CACHE ?? '/run/execlens/kernel-facts.json';

export function factsKey(release: string, schema: number): string | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return `${boot}|${release}|features ${schema}|execlens ${VERSION}`;
  } catch {
    return null;
  }
}

export function readFacts(path: string, key: string): SlowFacts | null {
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as { key: string; facts: SlowFacts };
    return r.key === key && r.facts && typeof r.facts.kconfig === 'object' ? r.facts : null;
  } catch {
    return null;
  }
}

/** best effort: a read-only /run (not root) just means probing again next time */
export function writeFacts(path: string, key: string, facts: SlowFacts): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    const tmp = `${path}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ key, facts }) + '\n', { mode: 0o644 });
    renameSync(tmp, path);
  } catch {
    /* no memory this time */
  }
}
