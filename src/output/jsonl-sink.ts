/**
 * JSON Lines (docs/json-schema.md): one exec record per exec and a summary record at the end (`log --json`);
 * with `lifecycle` (`collect -F jsonl`) also a fork record per new process and an exit record per ended one.
 */
import type { RawExit, RawFork } from '../events/types.js';
import { summaryRecord, type Summary } from '../pipeline/summary.js';
import { Batch } from './batch.js';
import { toJsonRecord, type FormatOptions } from './format.js';
import { exitRecord, forkRecord } from './lifecycle.js';
import type { ExecItem, Sink } from './sink.js';
import type { Writer } from './writer.js';

export class JsonLinesSink implements Sink {
  private readonly batch: Batch;
  constructor(
    writer: Writer,
    private readonly fmt: FormatOptions,
    private readonly lifecycle = false,
  ) {
    this.batch = new Batch(writer);
  }

  exec(x: ExecItem): void {
    this.batch.add(() => JSON.stringify(toJsonRecord(x, this.fmt)) + '\n');
  }

  fork(f: RawFork): void {
    if (this.lifecycle) this.batch.add(() => JSON.stringify(forkRecord(f, this.fmt)) + '\n');
  }

  exit(x: RawExit): void {
    if (this.lifecycle) this.batch.add(() => JSON.stringify(exitRecord(x, this.fmt)) + '\n');
  }

  summary(s: Summary, stoppedBy: string | null): void {
    this.batch.flush();
    this.batch.writer.write(JSON.stringify(summaryRecord(s, stoppedBy)) + '\n');
  }

  flush(): void {
    this.batch.flush();
  }
}
