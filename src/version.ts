/** execlens's version: the one in package.json, never repeated. */
import { readFileSync } from 'node:fs';
import { packageFile } from './paths.js';

export const VERSION: string = (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }).version;
