/** The userspace exec filters: what each keeps, the first that drops an exec is counted, forks and exits pass. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addCounts, FilterSink, hasFilters, leftForUserspace, rejectedBy } from '../../src/pipeline/filter.js';
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

test("--cgroup: an exec in the cgroup or below it is kept, a sibling with the same prefix, a parent or an unknown cgroup dropped; --collect-cgroup's path is used when the item has one", () => {
  const at = (id: bigint) => ({ ev: execEvent({ cgroupId: id }), diff: null });
  const paths = new Map<bigint, string>([
    [1n, '/'],
    [2n, '/system.slice'],
    [3n, '/system.slice/nginx.service'],
    [4n, '/system.slice/nginx.service/worker'],
    [5n, '/system.slice/nginx.service-helper'],
  ]);
  const of = (id: bigint) => paths.get(id) ?? null;
  const f = { cgroup: '/system.slice/nginx.service' };
  assert.equal(hasFilters(f), true);
  assert.equal(rejectedBy(at(3n), f, of), null);
  assert.equal(rejectedBy(at(4n), f, of), null, 'a child cgroup');
  assert.equal(rejectedBy(at(5n), f, of), 'cgroup', 'a sibling whose name starts alike');
  assert.equal(rejectedBy(at(2n), f, of), 'cgroup', 'the parent');
  assert.equal(rejectedBy(at(99n), f, of), 'cgroup', 'an id no walk found');
  assert.equal(rejectedBy(at(5n), { cgroup: '/' }, of), null, 'the root holds every cgroup');
  const item = { ...at(99n), cgroup: { path: '/system.slice/nginx.service', containerId: null } };
  assert.equal(rejectedBy(item, f, of), null);
});

test("leftForUserspace: what a source applies in the kernel is left out; addCounts adds the kernel's and the sink's counts, zeros left out", () => {
  const f = { uid: 0, cgroup: '/a', comm: /x/ };
  assert.deepEqual(Object.keys(leftForUserspace(f, ['uid', 'cgroup'])), ['comm']);
  assert.deepEqual(leftForUserspace(f, []), f);
  assert.equal(hasFilters(leftForUserspace({ uid: 0 }, ['uid'])), false);
  assert.deepEqual(addCounts({ uid: 3, cgroup: 0 }, { uid: 1, comm: 2 }), { uid: 4, comm: 2 });
  assert.deepEqual(addCounts(undefined, {}), {});
});
