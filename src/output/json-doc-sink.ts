/**
 * collect -F json: the whole run as one JSON document (schema/trace-document.v1.json): metadata (execlens,
 * kernel, plan, start, the traced command and what it started from), every exec, fork and exit in the order
 * they happened, and the summary. Written as it goes (the document's head first, each event as it comes,
 * the summary and the closing brace last), so a long run is not held in memory.
 */
import type { RawExit, RawFork } from '../events/types.js';
import { summaryRecord, type Summary } from '../pipeline/summary.js';
import { Batch } from './batch.js';
import { toJsonRecord, type FormatOptions } from './format.js';
import { exitRecord, forkRecord } from './lifecycle.js';
import type { ExecItem, Sink } from './sink.js';
import type { Writer } from './writer.js';

export const DOCUMENT_SCHEMA_VERSION = 1;

export class JsonDocumentSink implements Sink {
  private readonly batch: Batch;
  private first = true;
  constructor(
    writer: Writer,
    private readonly fmt: FormatOptions,
    metadata: Record<string, unknown>,
  ) {
    this.batch = new Batch(writer);
    const head = { type: 'execlens-trace', schema: DOCUMENT_SCHEMA_VERSION, metadata };
    // the head without its closing brace: events and the summary follow as members of the same object
    writer.write(JSON.stringify(head).slice(0, -1) + ',"events":[');
  }

  private add(rec: () => Record<string, unknown>): void {
    this.batch.add(() => {
      const sep = this.first ? '\n' : ',\n';
      this.first = false;
      return sep + JSON.stringify(rec());
    });
  }

  exec(x: ExecItem): void {
    this.add(() => toJsonRecord(x, this.fmt));
  }

  fork(f: RawFork): void {
    this.add(() => forkRecord(f, this.fmt));
  }

  exit(x: RawExit): void {
    this.add(() => exitRecord(x, this.fmt));
  }

  summary(s: Summary, stoppedBy: string | null): void {
    this.batch.flush();
    this.batch.writer.write(`\n],"summary":${JSON.stringify(summaryRecord(s, stoppedBy))}}\n`);
  }

  flush(): void {
    this.batch.flush();
  }
}
