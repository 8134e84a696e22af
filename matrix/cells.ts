/**
 * The kernel matrix: which kernels (Debian suite + flavour, resolved to the
 * newest package at run time), which arches, which clang versions. Pure.
 */
export type Arch = 'x86_64' | 'arm64' | 'riscv64';

export interface KernelDef {
  /**
   * label used in cell ids: the Debian suite (and flavour) the cell follows, never a version typed in — sid and
   * experimental move on, and the version a cell ran is resolved at run time and written in every report
   */
  label: string;
  suite: string;
  /** Debian flavour per arch (linux-image-<flavour> meta package) */
  flavour: Partial<Record<Arch, string>>;
}

const CLOUD = { x86_64: 'cloud-amd64', arm64: 'cloud-arm64' } as const;

export const KERNELS: KernelDef[] = [
  { label: 'bullseye', suite: 'bullseye', flavour: CLOUD },
  { label: 'bookworm', suite: 'bookworm', flavour: CLOUD },
  { label: 'bookworm-generic', suite: 'bookworm', flavour: { x86_64: 'amd64', arm64: 'arm64' } },
  { label: 'trixie', suite: 'trixie', flavour: { ...CLOUD, riscv64: 'riscv64' } },
  { label: 'trixie-backports', suite: 'trixie-backports', flavour: { ...CLOUD, riscv64: 'riscv64' } },
  { label: 'sid', suite: 'sid', flavour: { ...CLOUD, riscv64: 'riscv64' } },
  { label: 'experimental', suite: 'experimental', flavour: { x86_64: 'cloud-amd64' } },
];

/**
 * The version labels of earlier runs, for a stable release only (its kernel series never changes): they name
 * the same cells. sid, backports and experimental had version labels too (7.2, 7.3, 7.3-rc) that went stale.
 */
export const KERNEL_ALIASES: Record<string, string> = {
  '5.10': 'bullseye',
  '6.1': 'bookworm',
  '6.1-generic': 'bookworm-generic',
  '6.12': 'trixie',
};

/** a --kernel name as a cell label (aliases resolved), or null when unknown */
export function kernelLabel(name: string): string | null {
  if (name === 'host') return name;
  const label = KERNEL_ALIASES[name] ?? name;
  return KERNELS.some((k) => k.label === label) ? label : null;
}

export const DEBIAN_ARCH: Record<Arch, string> = { x86_64: 'amd64', arm64: 'arm64', riscv64: 'riscv64' };

/**
 * A guest of another arch than the host's cannot run the host root: it gets a
 * debootstrap'd Debian root (scripts/matrix-rootfs.sh) of this suite, whose
 * Node must run execlens (bookworm: Node 18; trixie: Node 20; riscv64 is a
 * Debian release arch from trixie on). The BPF object of such an arch is built
 * against the BTF of `btfKernel` (CO-RE carries it to the other kernels).
 */
export const FOREIGN: Partial<Record<Arch, { suite: string; btfKernel: string; cc: string; gnu: string }>> = {
  arm64: { suite: 'bookworm', btfKernel: 'bookworm', cc: 'aarch64-linux-gnu-gcc', gnu: 'aarch64-linux-gnu' },
  riscv64: { suite: 'trixie', btfKernel: 'trixie', cc: 'riscv64-linux-gnu-gcc', gnu: 'riscv64-linux-gnu' },
};

/** node's process.arch for a guest arch (koffi's per-arch native package is named by it) */
export const NODE_ARCH: Record<Arch, string> = { x86_64: 'x64', arm64: 'arm64', riscv64: 'riscv64' };

export interface Cell {
  id: string;
  kernel: KernelDef | 'host';
  arch: Arch;
  clang: number;
}

export function cellId(kernel: string, arch: Arch, clang: number): string {
  return `${kernel}/${arch}/clang${clang}`;
}

export interface ExpandOptions {
  kernels: string[];
  arches: Arch[];
  clangs: number[];
  /** exact cell ids to keep (e.g. trixie/x86_64/clang19) */
  only?: string[];
}

/** kernels × arches × clangs, dropping combinations Debian does not ship */
export function expandCells(o: ExpandOptions): Cell[] {
  const out: Cell[] = [];
  for (const k of o.kernels) {
    if (k === 'host') {
      for (const c of o.clangs) out.push({ id: cellId('host', 'x86_64', c), kernel: 'host', arch: 'x86_64', clang: c });
      continue;
    }
    const label = kernelLabel(k);
    const def = KERNELS.find((d) => d.label === label);
    if (!def) throw new Error(`unknown kernel ${k}; known: ${KERNELS.map((d) => d.label).join(', ')}, host`);
    for (const a of o.arches) {
      if (!def.flavour[a]) continue;
      for (const c of o.clangs) out.push({ id: cellId(def.label, a, c), kernel: def, arch: a, clang: c });
    }
  }
  return o.only?.length ? out.filter((c) => o.only!.includes(c.id)) : out;
}

/** The default set run by .ci/run: one real cell. */
export const CI_CELLS = { kernels: ['bookworm'], arches: ['x86_64' as Arch], clangs: [14] };
