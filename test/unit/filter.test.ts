/** The userspace exec filters: what each keeps, the first that drops an exec is counted, forks and exits pass. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterSink, hasFilters, rejectedBy } from '../../src/pipeline/filter.js';
import { summaryLine, summaryRecord } from '../../src/pipeline/summary.js';
import type { ExecItem, Sink } from '../../src/output/sink.js';
import type { Summary } from '../../src/pipeline/summary.js';
import { schemaErrors } from '../helpers/trace.js';
import { B, execEvent, exitOf, forkOf, summaryOf } from '../helpers/events.js';

const ok = {
  ev: execEvent({ comm: B('echo'), filename: B('/bin/echo'), argv: [B('echo'), B('--color=auto'), B('x')], uid: 1000 }),
  diff: null,
};
const failed = {
  ev: execEvent({ ret: -13, comm: B('sh'), filename: B('/tmp/noexec'), argv: [B('/tmp/noexec')], uid: 0 }),
  diff: null,
};

test('each filter: successful/failed only, comm, filename, argv (any argument), uid; none set keeps all', () => {
  assert.equal(hasFilters({}), false);
  assert.equal(rejectedBy(ok, {}), null);
  assert.equal(rejectedBy(failed, { result: 'successful' }), 'successful_only');
  assert.equal(rejectedBy(ok, { result: 'failed' }), 'failed_only');
  assert.equal(rejectedBy(failed, { result: 'failed' }), null);
  assert.equal(rejectedBy(ok, { comm: /^ech/ }), null);
  assert.equal(rejectedBy(failed, { comm: /^ech/ }), 'comm', "a failed exec keeps the caller's comm");
  assert.equal(rejectedBy(ok, { filename: /^\/bin\// }), null);
  assert.equal(rejectedBy(failed, { filename: /^\/bin\// }), 'filename');
  assert.equal(rejectedBy(ok, { argv: /^--color/ }), null, 'a later argument matches');
  assert.equal(rejectedBy(ok, { argv: /^echo$/ }), null, 'argv[0] counts');
  assert.equal(rejectedBy(failed, { argv: /^--color/ }), 'argv');
  assert.equal(rejectedBy(ok, { uid: 1000 }), null);
  assert.equal(rejectedBy(ok, { uid: 0 }), 'uid');
  assert.equal(
    rejectedBy(failed, { result: 'successful', uid: 1000 }),
    'successful_only',
    'counted under the first filter that drops it',
  );
});

test('FilterSink: passes kept execs, every fork and exit; the summary gets filtered_out (schema-valid) and the text line says it', () => {
  const seen: string[] = [];
  let summary: Summary | undefined;
  const inner: Sink = {
    exec: (x: ExecItem) => void seen.push(`exec ${x.ev.comm.toString()}`),
    fork: (f) => void seen.push(`fork ${f.childPid}`),
    exit: (x) => void seen.push(`exit ${x.pid}`),
    summary: (s) => void (summary = s),
    flush: () => {},
  };
  const sink = new FilterSink(inner, { result: 'successful', comm: /^echo$/ });
  sink.fork(forkOf(7, 42, 1n));
  sink.exec(ok);
  sink.exec(failed);
  sink.exec({ ev: execEvent({ comm: B('cat') }), diff: null });
  sink.exit(exitOf(42, 0, 2n));
  sink.summary(summaryOf(), null);
  assert.deepEqual(seen, ['fork 42', 'exec echo', 'exit 42']);
  assert.deepEqual(summary!.filteredOut, { successful_only: 1, comm: 1 });
  const rec = summaryRecord(summary!, null);
  assert.deepEqual(rec.filtered_out, { successful_only: 1, comm: 1 });
  assert.equal(schemaErrors(rec), null);
  assert.match(summaryLine(summary!, null), /, 2 execs filtered out \(successful-only 1, comm 1\)\n$/);
  assert.deepEqual(summaryRecord(summaryOf(), null).filtered_out, {}, 'no filters: an empty count');
});
