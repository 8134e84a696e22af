/** --timestamp (text): wall (strace -tt), relative to the previous line (-r), unix seconds (-ttt), none. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { palette } from '../../src/output/color.js';
import { formatText, timeField, type FormatOptions } from '../../src/output/format.js';
import { TextSink } from '../../src/output/text-sink.js';
import { execEvent, FMT, MemoryWriter } from '../helpers/events.js';

const o = (timestamp: FormatOptions['timestamp']): FormatOptions => ({ ...FMT, timestamp });

test('timeField: wall HH:MM:SS.uuuuuu, unix seconds.uuuuuu since the epoch, relative %6d.%06d since the previous line or the start, none', () => {
  // boot 1.5 s + the offset 1_764_000_000 s: 2025-11-24T16:00:01.500Z
  const ts = 1_500_000_000n;
  const d = new Date(1_764_000_001_500);
  const pad = (n: number) => String(n).padStart(2, '0');
  assert.equal(
    timeField(ts, o('wall'), null),
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.500000`,
  );
  assert.equal(timeField(ts, o(undefined), null), timeField(ts, o('wall'), null), 'wall is the default');
  assert.equal(timeField(ts, o('unix'), null), '1764000001.500000');
  assert.equal(timeField(ts, o('relative'), null), '     0.500000', 'the first line: since the trace started (1.0 s)');
  assert.equal(timeField(ts, o('relative'), 1_499_876_544n), '     0.000123', 'microseconds, truncated');
  assert.equal(timeField(ts + 12_345_000_000n, o('relative'), ts), '    12.345000');
  assert.equal(timeField(ts, o('none'), null), null);
});

test('text lines: no time field with none; relative counts from the line before, through the sink', () => {
  const plain = palette(false);
  assert.match(formatText({ ev: execEvent(), diff: null }, o('none'), plain), /^42<7> sh ok \/bin\/echo /);
  const w = new MemoryWriter();
  const sink = new TextSink(w, o('relative'), plain);
  for (const ms of [1100n, 1150n, 2150n]) sink.exec({ ev: execEvent({ tsNs: ms * 1_000_000n }), diff: null });
  sink.flush();
  assert.deepEqual(
    w.text
      .trim()
      .split('\n')
      .map((l) => l.trim().split(' ')[0]),
    ['0.100000', '0.050000', '1.000000'],
  );
});
