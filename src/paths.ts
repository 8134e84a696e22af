/**
 * Where execlens's own files are: the package root is two levels above this module (dist/src/paths.js).
 * Built files come from one of two places: a checkout's own build for this machine (`npm run build`:
 * build/bpf, build/native), or, in an installed package, the prebuilt files of every shipped arch
 * (build/arch/<process.arch>/, made by `npm pack`'s prepack). The checkout's own build wins, so a
 * rebuilt object is never shadowed by an older packed one.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** a file of the package (schema/exec-event.v2.json, package.json) */
export const packageFile = (rel: string): string => join(PACKAGE_ROOT, rel);

/** node's arch names of the prebuilt files a package ships (pack/prepack.ts builds them) */
export const PACKED_ARCHES = ['x64', 'arm64', 'riscv64'] as const;

/** the prebuilt file `name` for this process's arch, in an installed package */
export const packedFile = (name: string, arch: string = process.arch): string =>
  packageFile(`build/arch/${arch}/${name}`);

/** the checkout's own build when there is one, else the packed file for this arch */
function built(checkoutRel: string, name: string): string {
  const own = packageFile(checkoutRel);
  return existsSync(own) ? own : packedFile(name);
}

/** the CO-RE BPF object (EXECLENS_BPF_OBJECT: another one) */
export const bpfObjectFile = (): string =>
  process.env.EXECLENS_BPF_OBJECT || built('build/bpf/execlens.bpf.o', 'execlens.bpf.o');

/** what built the BPF object (scripts/build-bpf.sh writes it beside the object) */
export const bpfBuildInfoFile = (): string => bpfObjectFile().replace(/\.o$/, '.json');

/** the ptrace backend's helper, also the eBPF backend's exec shim (EXECLENS_PTRACE_HELPER: another one) */
export const ptraceHelperFile = (): string =>
  process.env.EXECLENS_PTRACE_HELPER || built('build/native/execlens-ptrace', 'execlens-ptrace');
