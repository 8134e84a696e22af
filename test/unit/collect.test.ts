/**
 * collect's JSON sinks without root: wait statuses, the jsonl fork/exit records and the json document,
 * each against the project's JSON Schemas (ajv), and log's choice of stream and colour.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EXECLENS } from '../helpers/paths.js';
import { JsonDocumentSink } from '../../src/output/json-doc-sink.js';
import { JsonLinesSink } from '../../src/output/jsonl-sink.js';
import { statusText, waitStatus } from '../../src/output/lifecycle.js';
import { metadataRecord } from '../../src/output/metadata.js';
import { destinationOf } from '../../src/output/writer.js';
import { colorFor, logSummaryOnStderr } from '../../src/cli/log.js';
import { documentErrors, schemaErrors } from '../helpers/trace.js';
import { B, execEvent, exitOf, FMT, forkOf, MemoryWriter, summaryOf } from '../helpers/events.js';

test('wait status: exit code, signal, core dump, an unnamed signal', () => {
  assert.deepEqual(waitStatus(3 << 8), { code: 3, signal: null, core: false });
  assert.deepEqual(waitStatus(9), { code: null, signal: 'SIGKILL', core: false });
  assert.deepEqual(waitStatus(0x80 | 11), { code: null, signal: 'SIGSEGV', core: true });
  assert.equal(statusText(waitStatus(0x80 | 6)), 'killed by SIGABRT (core dumped)');
  assert.equal(statusText(waitStatus(0)), 'exit 0');
  assert.match(waitStatus(40).signal!, /^SIG/);
});

function feed(sink: JsonLinesSink | JsonDocumentSink): void {
  sink.fork(forkOf(7, 42, 1_400_000_000n));
  sink.exec({ ev: execEvent(), diff: null });
  sink.flush();
  sink.exec({ ev: execEvent({ ret: -2, filename: B('/nope'), argv: [B('/nope')] }), diff: null });
  sink.exit(exitOf(42, 9, 1_600_000_000n));
  sink.summary(summaryOf(), null);
  sink.flush();
}

test("jsonl with forks and exits: every line valid against schema/exec-event.v2.json, in order, the summary last; log --json's has no fork or exit", () => {
  const w = new MemoryWriter();
  feed(new JsonLinesSink(w, FMT, true));
  const recs = w.text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const r of recs) assert.equal(schemaErrors(r), null, JSON.stringify(r));
  assert.deepEqual(
    recs.map((r) => r.type),
    ['fork', 'exec', 'exec', 'exit', 'summary'],
  );
  assert.deepEqual([recs[0]!.pid, recs[0]!.ppid, recs[0]!.t], [42, 7, 0.4]);
  assert.deepEqual([recs[3]!.exit_code, recs[3]!.exit_signal], [null, 'SIGKILL']);
  const plain = new MemoryWriter();
  feed(new JsonLinesSink(plain, FMT));
  assert.deepEqual(
    plain.text
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { type: string }).type),
    ['exec', 'exec', 'summary'],
  );
});

test('json document: one object valid against schema/trace-document.v1.json, its events in order, its metadata as given', () => {
  const w = new MemoryWriter();
  const meta = metadataRecord({
    version: '0.1.0',
    kernel: { release: '6.1.0', version: '#1 SMP', arch: 'x64' },
    plan: 'fentry+tp_btf',
    backend: 'ebpf',
    startTime: new Date(0),
    command: [B('sh'), Buffer.from([0xff])],
    baseline: { env: [B('A=1')], cwd: B('/tmp'), fds: [{ fd: 0, path: '/dev/null' }] },
  });
  feed(new JsonDocumentSink(w, FMT, meta));
  const doc = JSON.parse(w.text) as {
    metadata: Record<string, unknown>;
    events: { type: string }[];
    summary: { type: string };
  };
  assert.equal(documentErrors(doc), null);
  assert.deepEqual(
    doc.events.map((e) => e.type),
    ['fork', 'exec', 'exec', 'exit'],
  );
  assert.equal(doc.summary.type, 'summary');
  assert.deepEqual(doc.metadata.command_b64, [B('sh').toString('base64'), '/w==']);
  assert.equal((doc.metadata.baseline as { cwd: string }).cwd, '/tmp');
  const empty = new MemoryWriter();
  const s = new JsonDocumentSink(empty, FMT, meta);
  s.summary(summaryOf({ execs: 0 }), 'SIGINT');
  assert.equal(documentErrors(JSON.parse(empty.text)), null, 'a run that saw nothing is still a valid document');
});

test("log's stream: stderr with a command, stdout system-wide, -o - stdout, -o FILE the file; no colour into a file unless always", () => {
  assert.deepEqual(destinationOf(null, true), { kind: 'stderr' });
  assert.deepEqual(destinationOf(null, false), { kind: 'stdout' });
  assert.deepEqual(destinationOf('-', true), { kind: 'stdout' });
  assert.deepEqual(destinationOf('x.log', true), { kind: 'file', path: 'x.log' });
  assert.equal(colorFor('auto', { kind: 'file', path: 'x' }, {}), false);
  assert.equal(colorFor('always', { kind: 'file', path: 'x' }, {}), true);
  const s = summaryOf();
  assert.equal(
    logSummaryOnStderr(true, s, { kind: 'stderr' }),
    false,
    'JSON on stderr ends with its own summary record',
  );
  assert.equal(logSummaryOnStderr(true, s, { kind: 'stdout' }), false);
  assert.equal(logSummaryOnStderr(true, summaryOf({ lostRecords: 1 }), { kind: 'stdout' }), true);
  assert.equal(logSummaryOnStderr(false, s, { kind: 'stderr' }), true, 'text: the summary is the last line');
});

test("collect's command line: help names every format and its default file; no -F, an unknown -F, a bad --compiler or a bad filter regex are usage errors (64)", () => {
  const run = (args: string[]) => spawnSync(EXECLENS, args, { encoding: 'utf8' });
  const h = run(['collect', '--help']);
  assert.equal(h.status, 0);
  for (const f of [
    'json',
    'jsonl',
    'perfetto',
    'compile-commands',
    'compile_commands.json',
    'execlens-trace.pftrace',
    '--compiler',
    '--failed-only',
    '--comm',
  ])
    assert.ok(h.stdout.includes(f), f);
  assert.match(run(['--help']).stdout, /collect \[options\] \[cmd\.\.\.\]/);
  assert.ok(run(['log', '--help']).stdout.includes('--timestamp'));
  for (const bad of [
    ['collect', '--', 'true'],
    ['collect', '-F', 'svg', '--', 'true'],
    ['collect', '-F', 'compile-commands', '--compiler', '(', '--', 'true'],
    ['log', '--argv', '[', '--', 'true'],
    ['log', '--uid', '-1', '--', 'true'],
  ]) {
    const r = run(bad);
    assert.equal(r.status, 64, `${bad.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error: /, bad.join(' '));
  }
  assert.equal(run(['collect', '-F', 'json', '--']).status, 64, 'collect -- with nothing after it');
});
