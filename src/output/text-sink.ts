/** The default output: one line per exec (src/output/format.ts formatText). The summary goes to stderr, not here. */
import type { Palette } from './color.js';
import { formatText, type FormatOptions } from './format.js';
import { Batch } from './batch.js';
import type { ExecItem, Sink } from './sink.js';
import type { Writer } from './writer.js';

export class TextSink implements Sink {
  private readonly batch: Batch;
  /** the previous line's time, for --timestamp relative */
  private prevTsNs: bigint | null = null;
  constructor(
    writer: Writer,
    private readonly fmt: FormatOptions,
    private readonly pal: Palette,
  ) {
    this.batch = new Batch(writer);
  }

  exec(x: ExecItem): void {
    this.batch.add(() => formatText(x, this.fmt, this.pal, this.prevTsNs));
    this.prevTsNs = x.ev.tsNs;
  }

  fork(): void {}
  exit(): void {}
  summary(): void {}

  flush(): void {
    this.batch.flush();
  }
}
