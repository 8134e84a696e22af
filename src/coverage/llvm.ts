/** The LLVM tools the coverage build and report run: those of the clang that built the object (LLVM_BIN). */
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

export class ToolError extends Error {}

/** LLVM_BIN, else the directory of the real `clang` ($CLANG): /usr/lib/llvm-14/bin on Debian 12 */
export function llvmBin(): string {
  if (process.env.LLVM_BIN) return process.env.LLVM_BIN;
  const clang = process.env.CLANG ?? 'clang';
  const which = spawnSync('sh', ['-c', `command -v ${JSON.stringify(clang)}`], { encoding: 'utf8' });
  const path = which.stdout.trim();
  if (which.status !== 0 || !path) throw new ToolError(`${clang} not found (apt-get install clang llvm)`);
  return dirname(realpathSync(path));
}

/** Run an LLVM tool; its stdout, or a ToolError with its stderr's head. */
export function runTool(tool: string, args: string[], opts: { maxBuffer?: number } = {}): string {
  const path = join(llvmBin(), tool);
  const bin = existsSync(path) ? path : tool;
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: opts.maxBuffer ?? 512 << 20 });
  if (r.error) throw new ToolError(`${tool}: ${r.error.message}`);
  if (r.status !== 0) throw new ToolError(`${tool} ${args.slice(0, 3).join(' ')} … failed (${r.status}): ${r.stderr.trim().split('\n').slice(0, 4).join(' | ')}`);
  return r.stdout;
}
