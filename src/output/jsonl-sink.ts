/** --json: JSON Lines, one exec record per exec and a summary record at the end (docs/json-schema.md). */
import { summaryRecord, type Summary } from '../pipeline/summary.js';
import { Batch } from './batch.js';
import { toJsonRecord, type FormatOptions } from './format.js';
import type { ExecItem, Sink } from './sink.js';
import type { Writer } from './writer.js';

export class JsonLinesSink implements Sink {
  private readonly batch: Batch;
  constructor(
    writer: Writer,
    private readonly fmt: FormatOptions,
  ) {
    this.batch = new Batch(writer);
  }

  exec(x: ExecItem): void {
    this.batch.add(() => JSON.stringify(toJsonRecord(x, this.fmt)) + '\n');
  }

  fork(): void {}
  exit(): void {}

  summary(s: Summary, stoppedBy: string | null): void {
    this.batch.flush();
    this.batch.writer.write(JSON.stringify(summaryRecord(s, stoppedBy)) + '\n');
  }

  flush(): void {
    this.batch.flush();
  }
}
