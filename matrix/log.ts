/** The runner's progress lines on stderr, with the time of day. */
export function log(msg: string): void {
  process.stderr.write(`[matrix ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}
