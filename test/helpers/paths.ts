import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** repository root (tests run from dist/test/...) */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const fixture = (p: string): string => join(ROOT, 'test/fixtures', p);
export const EXECLENS = join(ROOT, 'bin/execlens');
