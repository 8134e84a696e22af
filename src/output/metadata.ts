/**
 * The head of a collect -F json document: what made the trace (execlens, kernel, plan), when it started,
 * and what the traced command started from — its argv, and the cwd, environment and fds it was given,
 * the baseline its first exec's env diff is taken against.
 */
import { jsonString, jsonStrings } from './format.js';
import { JSON_SCHEMA_VERSION } from './format.js';

export interface MetadataInput {
  version: string;
  kernel: { release: string; version: string; arch: string };
  plan: string;
  backend: string;
  startTime: Date;
  /** the command's argv; null: the whole system */
  command: Buffer[] | null;
  baseline: { env: Buffer[]; cwd: Buffer | null; fds: { fd: number; path: string }[] };
}

export function metadataRecord(m: MetadataInput): Record<string, unknown> {
  const argv = m.command ? jsonStrings(m.command) : null;
  const env = jsonStrings(m.baseline.env);
  const cwd = jsonString(m.baseline.cwd);
  const baseline: Record<string, unknown> = { cwd: cwd.v, env: env.v, fds: m.baseline.fds };
  if (cwd.b64) baseline.cwd_b64 = cwd.b64;
  if (env.b64) baseline.env_b64 = env.b64;
  const rec: Record<string, unknown> = {
    execlens_version: m.version,
    record_schema: JSON_SCHEMA_VERSION,
    kernel: m.kernel,
    plan: m.plan,
    backend: m.backend,
    start_time: m.startTime.toISOString(),
    command: argv ? argv.v : null,
    baseline,
  };
  if (argv?.b64) rec.command_b64 = argv.b64;
  return rec;
}
