/** Output batched between flushes, counted in events so a failed write can say how many it lost. */
import type { Writer } from './writer.js';

export class Batch {
  private parts: string[] = [];
  constructor(readonly writer: Writer) {}

  /** add one event's output, made only while the output still works */
  add(make: () => string): void {
    if (this.writer.failed) this.writer.dropped(1);
    else this.parts.push(make());
  }

  flush(): void {
    if (!this.parts.length) return;
    this.writer.write(this.parts.join(''), this.parts.length);
    this.parts = [];
  }
}
