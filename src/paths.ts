/** Where execlens's own files are: the package root is two levels above this module (dist/src/paths.js). */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** a file of the package (build/bpf/execlens.bpf.o, build/native/execlens-ptrace, package.json) */
export const packageFile = (rel: string): string => join(PACKAGE_ROOT, rel);
