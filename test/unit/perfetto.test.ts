/**
 * collect -F perfetto without root: the TracePacket subset matches Perfetto's own trace_packet.proto, and a
 * run fed to the sink decodes back (with the same vendored definitions) into the process tree's tracks,
 * a slice per program image ending with the exit status, failed execs as instants, and the annotations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { diffEnv } from '../../src/events/envdiff.js';
import { PERFETTO_DIR, perfettoRoot } from '../../src/output/perfetto/proto.js';
import { PerfettoSink, ROOT_UUID, SEQUENCE_ID } from '../../src/output/perfetto/perfetto-sink.js';
import { decodePerfetto } from '../helpers/perfetto.js';
import { B, execEvent, exitOf, fdInfo, forkOf, MemoryWriter, summaryOf } from '../helpers/events.js';

test("execlens/trace_subset.proto: every field of Trace and TracePacket has the name, number, type and label of Perfetto's own trace.proto and trace_packet.proto", () => {
  const upstream = new protobuf.Root();
  for (const f of ['trace.proto', 'trace_packet.proto'])
    protobuf.parse(readFileSync(join(PERFETTO_DIR, 'protos/perfetto/trace', f), 'utf8'), upstream, { keepCase: true });
  for (const msg of ['Trace', 'TracePacket']) {
    const ours = perfettoRoot().lookupType(`perfetto.protos.${msg}`);
    const theirs = upstream.lookupType(`perfetto.protos.${msg}`);
    for (const f of ours.fieldsArray) {
      const u = theirs.fields[f.name];
      assert.ok(u, `${msg}.${f.name} is in Perfetto's ${msg}`);
      assert.deepEqual(
        [f.id, f.type, f.repeated, f.partOf?.name ?? null],
        [u.id, u.type, u.repeated, u.partOf?.name ?? null],
        `${msg}.${f.name}`,
      );
    }
  }
  const flags = perfettoRoot().lookupEnum('perfetto.protos.TracePacket.SequenceFlags').values;
  const upFlags = upstream.lookupEnum('perfetto.protos.TracePacket.SequenceFlags').values;
  for (const [k, v] of Object.entries(flags)) assert.equal(upFlags[k], v, k);
});

/** a shell (10) that runs /bin/true (11), a subshell that fails to exec (12), a sleeper left running (13), then is killed */
function run(): MemoryWriter {
  const w = new MemoryWriter();
  const sink = new PerfettoSink(w, 'execlens: sh -c test', 1_000_000_000n);
  const ms = (n: number) => 1_000_000_000n + BigInt(n) * 1_000_000n;
  sink.exec({
    ev: execEvent({
      pid: 10,
      tid: 10,
      ppid: 1,
      tsNs: ms(1),
      filename: B('/bin/sh'),
      argv: [B('sh'), B('-c'), B('test')],
      comm: B('sh'),
    }),
    diff: null,
  });
  sink.fork(forkOf(10, 11, ms(2)));
  const tru = execEvent({
    pid: 11,
    tid: 11,
    ppid: 10,
    tsNs: ms(3),
    filename: B('/bin/true'),
    argv: [B('/bin/true'), B('x y')],
    cwd: B('/srv'),
    env: [B('A=1'), B('B=2')],
    fds: [fdInfo(0, '/dev/null'), fdInfo(5, '/etc/passwd', true)],
    euid: 0,
  });
  sink.exec({ ev: tru, diff: diffEnv([B('A=0'), B('C=3')], tru.env!) });
  sink.flush();
  sink.exit(exitOf(11, 0, ms(4)));
  sink.fork(forkOf(10, 12, ms(5)));
  sink.exec({
    ev: execEvent({ pid: 12, tid: 12, ppid: 10, tsNs: ms(6), ret: -2, filename: B('/nope/x'), argv: [B('x')] }),
    diff: null,
  });
  sink.exit(exitOf(12, 127 << 8, ms(7)));
  sink.fork(forkOf(10, 13, ms(8)));
  sink.exec({
    ev: execEvent({ pid: 13, tid: 13, ppid: 10, tsNs: ms(9), filename: B('/bin/sleep'), argv: [B('sleep'), B('9')] }),
    diff: null,
  });
  sink.exit(exitOf(10, 9, ms(10)));
  sink.summary(summaryOf({ execs: 4, failed: 1 }), 'SIGINT');
  return w;
}

test('perfetto: a track per process nested as the process tree, named PID program, all on one sequence that starts cleared', () => {
  const t = decodePerfetto(run().bytes);
  assert.deepEqual([...t.sequenceIds], [SEQUENCE_ID]);
  assert.equal(t.firstFlags, 1, 'SEQ_INCREMENTAL_STATE_CLEARED on the first packet');
  const byName = new Map([...t.tracks].map(([uuid, d]) => [d.name, { uuid, ...d }]));
  assert.deepEqual(t.tracks.get(ROOT_UUID), { name: 'execlens: sh -c test', parent: null });
  const sh = byName.get('10 sh')!;
  assert.equal(sh.parent, ROOT_UUID);
  for (const n of ['11 true', '12 sh', '13 sleep'])
    assert.equal(byName.get(n)?.parent, sh.uuid, `${n} under the shell: ${[...byName.keys()].join(', ')}`);
});

test('perfetto: a slice per program image from exec (or fork) to the next exec or the exit, ending with the exit status; failed exec an instant; annotations', () => {
  const t = decodePerfetto(run().bytes);
  const track = (name: string) => [...t.tracks].find(([, d]) => d.name === name)![0];
  const on = (name: string) => t.slices.filter((s) => s.track === track(name));
  const ms = (n: number) => 1_000_000_000 + n * 1_000_000;
  assert.deepEqual(
    on('10 sh').map((s) => [s.name, s.begin, s.end, s.endArgs]),
    [['sh', ms(1), ms(10), { status: 'killed by SIGKILL', exit_signal: 'SIGKILL' }]],
  );
  assert.deepEqual(
    on('11 true').map((s) => [s.name, s.begin, s.end]),
    [
      ['sh', ms(2), ms(3)],
      ['true', ms(3), ms(4)],
    ],
    'the forked shell, then true',
  );
  assert.equal(on('11 true')[0]!.args.forked, true);
  assert.deepEqual(on('11 true')[1]!.endArgs, { status: 'exit 0', exit_code: 0 });
  assert.deepEqual(
    on('12 sh').map((s) => [s.name, s.end, s.endArgs.exit_code]),
    [['sh', ms(7), 127]],
    'a failed exec leaves the image running',
  );
  assert.deepEqual(
    on('13 sleep').at(-1)!.endArgs,
    { still_running: true },
    'a process alive at the end: its slice ends with the trace',
  );
  const a = on('11 true')[1]!.args;
  assert.deepEqual(a.argv, ['/bin/true', 'x y']);
  assert.equal(a.filename, '/bin/true');
  assert.equal(a.cwd, '/srv');
  assert.deepEqual(a.env_diff, { added: ['B=2'], changed: ['A=1'], removed: ['C'] });
  assert.deepEqual(a.fds, [{ fd: 0, path: '/dev/null' }]);
  assert.equal(a.cloexec_fds, '5');
  assert.deepEqual(a.creds, { uid: 1000, gid: 1000, euid: 0, egid: 1000 });
  assert.equal(a.result, 0);
  const failed = t.instants.filter((i) => i.track === track('12 sh'));
  assert.deepEqual(
    failed.map((i) => [i.name, i.ts, i.args.result, i.args.errno, i.args.argv]),
    [['exec failed: ENOENT x', ms(6), -2, 'ENOENT', ['x']]],
  );
  const summary = t.instants.find((i) => i.name === 'summary')!;
  assert.equal(summary.track, ROOT_UUID);
  assert.deepEqual([summary.args.execs, summary.args.failed, summary.args.stopped_by], [4, 1, 'SIGINT']);
});
