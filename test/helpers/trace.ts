/** Run real commands under `execlens log --json` and read back what it saw. */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Ajv } from 'ajv';
import { EXECLENS, ROOT } from './paths.js';

export interface JsonExec {
  type: 'exec';
  pid: number;
  ppid: number;
  ns_pid: number;
  ns_level: number;
  tid: number;
  comm: string;
  syscall: string;
  filename: string | null;
  filename_b64?: string;
  argv: string[];
  argv_b64?: string[];
  interpreter: string[] | null;
  cwd: string | null;
  cwd_b64?: string;
  env_diff: { added: Record<string, string>; removed: string[]; changed: Record<string, string> } | null;
  env_diff_b64?: { added: string[]; removed: string[]; changed: string[] };
  env?: string[];
  env_b64?: string[];
  result: number;
  errno: string | null;
  compat: boolean;
  uid: number;
  euid: number;
  fds: { fd: number; path: string; type: string; flags: string[]; cloexec: boolean }[];
  truncated: { argv: boolean; env: boolean; filename: boolean; cwd: boolean; fds: boolean };
  argv_bytes: number | null;
  flags: string[];
  lost_chunks: number;
}

/** the JSON summary record (schema 2, snake_case: docs/json-schema.md) */
export interface JsonSummary {
  type: 'summary';
  schema: number;
  execs: number;
  /** null: failed execs were not traced (--successful-only on eBPF) */
  failed: number | null;
  lost_records: number;
  ring_drops: { exec: number; chunk: number; other: number };
  incomplete_execs: number;
  read_faults: number;
  truncated: { argv: number; env: number; filename: number; cwd: number; fds: number };
  program_misses: Record<string, number>;
  unwritten: number;
  output_failed: string | null;
  plan: string;
  exit_code: number | null;
  exit_signal: string | null;
  stopped_by: string | null;
  filtered_out: Record<string, number>;
}

/** program runs the kernel skipped, from a JSON summary (each may be a lost exec, fork or exit) */
export function missedRunsOf(s: JsonSummary): number {
  return Object.values(s.program_misses).reduce((a, b) => a + b, 0);
}

export interface TraceResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  execs: JsonExec[];
  summary: JsonSummary | undefined;
  stderr: string;
  stdout: string;
  records: Record<string, unknown>[];
}

export function isRoot(): boolean {
  return process.geteuid?.() === 0;
}

/**
 * Root tests skip visibly when not root; with EXECLENS_REQUIRE_ROOT_TESTS=1
 * (set by .ci/run) not being root is a failure instead.
 */
export function requireRoot(t: TestContext): boolean {
  if (isRoot()) return true;
  if (process.env.EXECLENS_REQUIRE_ROOT_TESTS === '1')
    throw new Error('root tests are required here (EXECLENS_REQUIRE_ROOT_TESTS=1) but we are not root');
  t.skip('needs root (BPF): run the test suite as root');
  return false;
}

export function trace(
  cmd: string[],
  opts: { extra?: string[]; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): TraceResult {
  const dir = mkdtempSync(join(tmpdir(), 'execlens-test-'));
  const out = join(dir, 'events.jsonl');
  try {
    const r: SpawnSyncReturns<string> = spawnSync(
      EXECLENS,
      ['log', '--json', '-o', out, ...(opts.extra ?? []), '--', ...cmd],
      {
        encoding: 'utf8',
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        // an emulated 1-vCPU guest (kernel matrix) with a busy neighbour needs minutes to start
        timeout: opts.timeoutMs ?? (process.env.EXECLENS_IN_MATRIX === '1' ? 600000 : 120000),
        maxBuffer: 64 << 20,
      },
    );
    let lines: Record<string, unknown>[] = [];
    try {
      lines = readFileSync(out, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    } catch {
      /* no output file: the error is in stderr */
    }
    assertSchema(lines);
    return {
      code: r.status,
      signal: r.signal,
      execs: lines.filter((l) => l.type === 'exec') as unknown as JsonExec[],
      summary: lines.find((l) => l.type === 'summary') as unknown as JsonSummary | undefined,
      stderr: r.stderr,
      stdout: r.stdout,
      records: lines,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function argvBytes(e: JsonExec): Buffer[] {
  return e.argv_b64 ? e.argv_b64.map((b) => Buffer.from(b, 'base64')) : e.argv.map((s) => Buffer.from(s));
}

/** events whose filename ends with name */
export function byFile(r: TraceResult, name: string): JsonExec[] {
  return r.execs.filter((e) => e.filename !== null && (e.filename === name || e.filename.endsWith(`/${name}`)));
}

/** every record a root test reads is checked against the project's JSON Schema: a test fails on a record that does not validate */
function assertSchema(records: Record<string, unknown>[]): void {
  for (const r of records) {
    const err = schemaErrors(r);
    if (err) throw new Error(`record fails schema/exec-event.v2.json: ${err}\n${JSON.stringify(r).slice(0, 500)}`);
  }
}

let validator: (((x: unknown) => boolean) & { errors?: unknown }) | undefined;
/** Validate a JSON Lines record against schema/exec-event.v2.json; returns the errors or null. */
export function schemaErrors(rec: unknown): string | null {
  if (!validator) {
    const schema = JSON.parse(readFileSync(join(ROOT, 'schema/exec-event.v2.json'), 'utf8')) as object;
    validator = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  return validator(rec) ? null : JSON.stringify(validator.errors);
}

/**
 * How long a tracer may take to start tracing: execlens starts in ~1 s here, but in an emulated
 * guest (kernel matrix: one TCG vCPU, other guests beside it) verification alone can take minutes
 * (seen: ~130 s per start on arm64 7.2).
 */
export const STARTUP_MS = process.env.EXECLENS_IN_MATRIX === '1' ? 600_000 : 240_000;

export async function waitFor(
  pred: () => boolean,
  ms: number,
  what = 'condition',
  context?: () => string,
): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end)
      throw new Error(`timed out after ${ms / 1000} s waiting for ${what}${context ? ` (${context()})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Read a JSON Lines file line by line (outputs of 100,000 execs are too big for one string). */
export async function readJsonLines(path: string, each: (rec: Record<string, unknown>) => void): Promise<void> {
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line) continue;
    const rec = JSON.parse(line) as Record<string, unknown>;
    assertSchema([rec]);
    each(rec);
  }
}

/** `execlens log --json` in the background: resolves when it exits, like trace() but concurrent. */
export function traceAsync(cmd: string[], opts: { extra?: string[]; timeoutMs?: number } = {}): Promise<TraceResult> {
  const dir = mkdtempSync(join(tmpdir(), 'execlens-test-'));
  const out = join(dir, 'events.jsonl');
  const p = spawn(EXECLENS, ['log', '--json', '-o', out, ...(opts.extra ?? []), '--', ...cmd], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 300000);
  return new Promise((resolve) => {
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      let lines: Record<string, unknown>[] = [];
      try {
        lines = readFileSync(out, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      } catch {
        /* no output file: the error is in stderr */
      }
      assertSchema(lines);
      rmSync(dir, { recursive: true, force: true });
      resolve({
        code,
        signal,
        stdout,
        stderr,
        records: lines,
        execs: lines.filter((l) => l.type === 'exec') as unknown as JsonExec[],
        summary: lines.find((l) => l.type === 'summary') as unknown as JsonSummary | undefined,
      });
    });
  });
}

/**
 * What must not differ between two runs of one workload that differ only in how it was traced (attach
 * method, loop variant): pids, pipe/socket inode numbers and times do.
 */
export function execShape(e: JsonExec): Record<string, unknown> {
  return {
    filename: e.filename,
    argv: e.argv,
    cwd: e.cwd,
    env_diff: e.env_diff,
    result: e.result,
    errno: e.errno,
    truncated: e.truncated,
    fds: e.fds.map((f) => ({
      fd: f.fd,
      cloexec: f.cloexec,
      path: /^(pipe|socket|anon_inode):/.test(f.path) ? f.path.split(':')[0] : f.path,
    })),
  };
}

let docValidator: (((x: unknown) => boolean) & { errors?: unknown }) | undefined;
/** Validate a collect -F json document against schema/trace-document.v1.json (its records by schema/exec-event.v2.json). */
export function documentErrors(doc: unknown): string | null {
  if (!docValidator) {
    const load = (f: string) => JSON.parse(readFileSync(join(ROOT, 'schema', f), 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addSchema(load('exec-event.v2.json'));
    docValidator = ajv.compile(load('trace-document.v1.json'));
  }
  return docValidator(doc) ? null : JSON.stringify(docValidator.errors).slice(0, 2000);
}

/** `execlens collect -F FORMAT -o FILE -- CMD`: the run's result and the file's bytes */
export function collect(
  format: string,
  cmd: string[],
  opts: { extra?: string[]; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): {
  code: number | null;
  stdout: string;
  stderr: string;
  data: Buffer | null;
} {
  const dir = mkdtempSync(join(tmpdir(), 'execlens-collect-'));
  const out = join(dir, 'out');
  try {
    const r = spawnSync(EXECLENS, ['collect', '-F', format, '-o', out, ...(opts.extra ?? []), '--', ...cmd], {
      encoding: 'utf8',
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      timeout: opts.timeoutMs ?? 120000,
      maxBuffer: 64 << 20,
    });
    let data: Buffer | null = null;
    try {
      data = readFileSync(out);
    } catch {
      /* not written: the error is in stderr */
    }
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, data };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Tests that build into the checkout (the npm package, the coverage object) or build a real project (zlib's
 * configure + make, minutes under an emulated CPU): a kernel-matrix guest mounts the checkout read-only and has
 * no network, and what they test does not depend on the kernel.
 */
export const HOST_ONLY: string | false =
  process.env.EXECLENS_IN_MATRIX === '1'
    ? 'builds into the checkout, read-only in a kernel-matrix guest: runs on the host'
    : false;
