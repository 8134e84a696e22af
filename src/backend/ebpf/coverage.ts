/**
 * Opt-in BPF code coverage (npm run coverage, docs/coverage.md). With EXECLENS_COVERAGE=DIR the loader takes
 * the coverage flavour of the object (build/bpf-cov/execlens.bpf.o, built by scripts/build-bpf-coverage.sh,
 * unless EXECLENS_BPF_OBJECT names one) and, when a tracer is closed, writes its counters (the `.data.profc`
 * global-data map) to DIR as one JSON file; src/coverage turns those into a profile. Without the variable
 * nothing here runs.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageFile } from '../../paths.js';
import { libbpf, type Ptr } from './libbpf.js';

export const COVERAGE_ENV = 'EXECLENS_COVERAGE';
export const COUNTER_MAP = '.data.profc';
export const DUMP_FORMAT = 'execlens-bpf-counters/1';

export interface CounterDump {
  format: typeof DUMP_FORMAT;
  /** the loaded object and its SHA-256: the layout (build/bpf-cov/…cov.json) is matched on it */
  object: string;
  objectSha256: string;
  pid: number;
  at: string;
  /** the plan that ran, e.g. fentry+tp_btf+bpf_loop */
  plan: string;
  /** the map's bytes, base64: u64 little-endian counters at the offsets of the layout */
  counters: string;
}

export function coverageDir(): string | undefined {
  return process.env[COVERAGE_ENV] || undefined;
}

export function coverageObjectPath(): string {
  return packageFile('build/bpf-cov/execlens.bpf.o');
}

const hashes = new Map<string, string>();
function sha256(path: string): string {
  let h = hashes.get(path);
  if (!h) hashes.set(path, (h = createHash('sha256').update(readFileSync(path)).digest('hex')));
  return h;
}

let seq = 0;

/**
 * Read the counter map of a loaded object and write it to the coverage directory. Called before the object
 * is freed; a failure is reported on stderr and never stops the tracer's own shutdown.
 */
export function dumpCounters(obj: Ptr, objectPath: string, plan: string): void {
  const dir = coverageDir();
  if (!dir) return;
  try {
    const lb = libbpf();
    const map = lb.objectFindMap(obj, COUNTER_MAP);
    if (!map)
      throw new Error(`no ${COUNTER_MAP} map in ${objectPath}: not a coverage build (scripts/build-bpf-coverage.sh)`);
    const size = Buffer.alloc(8);
    lb.mapInitialValue(map, size);
    const value = Buffer.alloc(Number(size.readBigUInt64LE()));
    if (lb.mapLookup(lb.mapFd(map), Buffer.alloc(4), value) !== 0) throw new Error(`cannot read ${COUNTER_MAP}`);
    const dump: CounterDump = {
      format: DUMP_FORMAT,
      object: objectPath,
      objectSha256: sha256(objectPath),
      pid: process.pid,
      at: new Date().toISOString(),
      plan,
      counters: value.toString('base64'),
    };
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `bpf-${process.pid}-${Date.now()}-${seq++}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(dump) + '\n');
    renameSync(`${file}.tmp`, file);
  } catch (e) {
    process.stderr.write(`execlens: coverage: counters not written: ${(e as Error).message}\n`);
  }
}
