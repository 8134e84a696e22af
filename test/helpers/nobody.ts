import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './paths.js';

export const NOBODY = 65534;

/**
 * The runtime files of execlens in a directory every user can reach: the
 * checkout may live where an unprivileged user cannot go (e.g. under /root).
 */
let nobodyCopy: string | null = null;
export function execlensForNobody(): string {
  if (nobodyCopy) return join(nobodyCopy, 'bin/execlens');
  const dir = mkdtempSync(join(tmpdir(), 'execlens-nobody-install-'));
  for (const p of [
    'bin',
    'dist/src',
    'package.json',
    'build/native',
    'build/bpf/execlens.bpf.o',
    'node_modules/commander',
    'node_modules/koffi',
    'node_modules/@koromix',
  ]) {
    if (existsSync(join(ROOT, p))) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  }
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  nobodyCopy = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'bin/execlens');
}
