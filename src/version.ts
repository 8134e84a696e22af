/** execlens's version: the one in package.json (dist/src/version.js -> ../../package.json), never repeated. */
import { readFileSync } from 'node:fs';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
