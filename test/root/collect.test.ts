/** collect -F jsonl and -F json on real commands, both backends: forks, exits, metadata, the schemas. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { release } from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXECLENS } from '../helpers/paths.js';
import { collect, documentErrors, requireRoot, schemaErrors, STARTUP_MS } from '../helpers/trace.js';
import { decodePerfetto } from '../helpers/perfetto.js';

/** a tree with an exit code, a subshell that exits 3 (fork, no exec), a shell killed by SIGKILL, a failed exec */
const SCRIPT = '/bin/true a; (exit 3); sh -c "kill -KILL \\$\\$"; /nonexistent/x 2>/dev/null; exit 0';

interface Rec {
  type: string;
  pid: number;
  ppid?: number;
  argv?: string[];
  result?: number;
  exit_code?: number | null;
  exit_signal?: string | null;
}

/** every process seen forked or exec'ing has one exit, with the status each part of SCRIPT ends with */
function checkLives(recs: Rec[]): void {
  const execs = recs.filter((r) => r.type === 'exec');
  const forks = recs.filter((r) => r.type === 'fork');
  const exits = new Map<number, Rec>();
  for (const x of recs.filter((r) => r.type === 'exit')) {
    assert.ok(!exits.has(x.pid), `one exit for ${x.pid}`);
    exits.set(x.pid, x);
  }
  for (const p of new Set([...execs, ...forks].map((r) => r.pid)))
    assert.ok(exits.has(p), `process ${p} has its exit record`);
  const root = execs[0]!;
  const status = (r: Rec | undefined) => [exits.get(r!.pid)?.exit_code, exits.get(r!.pid)?.exit_signal];
  assert.deepEqual(status(root), [0, null], 'the command exits 0');
  assert.deepEqual(status(execs.find((e) => e.argv?.[0] === '/bin/true')), [0, null]);
  assert.deepEqual(
    status(execs.find((e) => e.argv?.[0] === 'sh' && e !== root)),
    [null, 'SIGKILL'],
    'killed by SIGKILL',
  );
  const subshell = forks.find((f) => f.ppid === root.pid && !execs.some((e) => e.pid === f.pid));
  assert.ok(subshell, 'the subshell: a fork of the root without an exec');
  assert.deepEqual(status(subshell), [3, null], 'the subshell exits 3');
  const failed = execs.find((e) => e.argv?.[0] === '/nonexistent/x');
  assert.equal(failed?.result, -2);
  for (const e of execs.slice(1)) {
    const f = forks.find((x) => x.pid === e.pid);
    assert.ok(f && recs.indexOf(f) < recs.indexOf(e), `the fork of ${e.pid} comes before its exec`);
  }
}

for (const backend of ['ebpf', 'ptrace'] as const) {
  const name = (s: string) => (backend === 'ebpf' ? s : `ptrace: ${s}`);
  const b = ['--backend', backend];

  test(
    name(
      'collect -F jsonl: exec records as log --json, a fork record per process and an exit record with its code or signal, every line valid against the schema, the summary last',
    ),
    (t) => {
      if (!requireRoot(t)) return;
      const r = collect('jsonl', ['sh', '-c', SCRIPT], { extra: b });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^execlens: 4 execs \(1 failed\)/m);
      const recs = r
        .data!.toString()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Rec);
      for (const rec of recs) assert.equal(schemaErrors(rec), null, JSON.stringify(rec).slice(0, 300));
      assert.equal(recs.at(-1)!.type, 'summary');
      assert.equal(recs.filter((x) => x.type === 'summary').length, 1);
      checkLives(recs);
    },
  );

  test(
    name(
      'collect -F json: one document valid against schema/trace-document.v1.json with metadata (version, kernel, plan, start, the command, its cwd, env and fds), every exec, fork and exit, and the summary',
    ),
    (t) => {
      if (!requireRoot(t)) return;
      const env = { ...process.env, EXECLENS_BASELINE_TEST: 'here' };
      const r = collect('json', ['sh', '-c', SCRIPT], { extra: b, cwd: '/usr', env });
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.data!.toString()) as {
        metadata: {
          backend: string;
          plan: string;
          command: string[];
          kernel: { release: string };
          start_time: string;
          baseline: { cwd: string; env: string[]; fds: { fd: number }[] };
        };
        events: Rec[];
        summary: { execs: number };
      };
      assert.equal(documentErrors(doc), null);
      const m = doc.metadata;
      assert.equal(m.backend, backend);
      assert.equal(backend === 'ptrace', m.plan.startsWith('ptrace'));
      assert.deepEqual(m.command, ['sh', '-c', SCRIPT]);
      assert.equal(m.kernel.release, release());
      assert.ok(Math.abs(Date.parse(m.start_time) - Date.now()) < 120_000);
      assert.equal(m.baseline.cwd, '/usr');
      assert.ok(m.baseline.env.includes('EXECLENS_BASELINE_TEST=here'));
      assert.deepEqual(
        m.baseline.fds.map((f) => f.fd),
        [0, 1, 2],
      );
      assert.equal(doc.summary.execs, 4);
      checkLives(doc.events);
    },
  );

  test(
    name(
      "collect -F perfetto: decoded back with the vendored definitions, a track per process under its parent's, a slice per image ending with the exit code or signal, the failed exec an instant, argv and cwd annotated",
    ),
    (t) => {
      if (!requireRoot(t)) return;
      const r = collect('perfetto', ['sh', '-c', SCRIPT], { extra: b, cwd: '/usr' });
      assert.equal(r.code, 0, r.stderr);
      const tr = decodePerfetto(r.data!);
      const tracks = [...tr.tracks].map(([uuid, d]) => ({ uuid, ...d }));
      const root = tracks.find((x) => x.parent === null)!;
      assert.equal(root.name, `execlens: sh -c '${SCRIPT}'`);
      const shTrack = tracks.find((x) => x.parent === root.uuid)!;
      assert.match(shTrack.name, /^\d+ sh$/);
      const kids = tracks.filter((x) => x.parent === shTrack.uuid);
      assert.equal(kids.length, 4, `the shell's 4 children: ${JSON.stringify(tracks)}`);
      const slicesOf = (uuid: number) => tr.slices.filter((s) => s.track === uuid);
      const [sh] = slicesOf(shTrack.uuid);
      assert.deepEqual(
        [sh!.name, sh!.args.argv, sh!.args.cwd, sh!.endArgs.exit_code],
        ['sh', ['sh', '-c', SCRIPT], '/usr', 0],
      );
      const endOf = (re: RegExp) => slicesOf(kids.find((k) => re.test(k.name))!.uuid).at(-1)!;
      assert.deepEqual(
        [endOf(/ true$/).name, endOf(/ true$/).args.argv, endOf(/ true$/).endArgs.exit_code],
        ['true', ['/bin/true', 'a'], 0],
      );
      const forkedSh = kids.filter((k) => / sh$/.test(k.name)).map((k) => slicesOf(k.uuid).at(-1)!.endArgs);
      assert.ok(
        forkedSh.some((e) => e.exit_code === 3),
        `the subshell exits 3: ${JSON.stringify(forkedSh)}`,
      );
      assert.ok(
        forkedSh.some((e) => e.exit_signal === 'SIGKILL'),
        'the killed shell',
      );
      const failed = tr.instants.filter((i) => i.name.startsWith('exec failed'));
      assert.deepEqual(
        failed.map((i) => [i.name, i.args.argv]),
        [['exec failed: ENOENT x', ['/nonexistent/x']]],
      );
      for (const s of tr.slices) assert.ok(s.end !== null && s.end >= s.begin, `slice ${s.name} ends after it begins`);
    },
  );
}

test('collect -F jsonl without a command (eBPF, the whole system) until SIGINT: a marker exec, its exit, and the summary last', async (t) => {
  if (!requireRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'execlens-collect-sys-'));
  const out = join(dir, 'sys.jsonl');
  const p = spawn(EXECLENS, ['collect', '-F', 'jsonl', '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    const marker = `execlens-collect-marker-${process.pid}`;
    let seen = false;
    for (const end = Date.now() + STARTUP_MS; !seen && Date.now() < end;) {
      spawnSync('/bin/echo', [marker], { stdio: 'ignore' });
      seen = existsSync(out) && readFileSync(out, 'utf8').includes(marker);
      if (!seen) await new Promise((res) => setTimeout(res, 200));
    }
    assert.ok(seen, `the marker exec was written: ${stderr}`);
    const exited = new Promise<number | null>((res) => p.on('exit', (c) => res(c)));
    p.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    const recs = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Rec);
    for (const rec of recs) assert.equal(schemaErrors(rec), null, JSON.stringify(rec).slice(0, 300));
    const mine = recs.find((r) => r.type === 'exec' && r.argv?.[1] === marker)!;
    assert.equal(mine.ppid, process.pid);
    const exit = recs.find((r) => r.type === 'exit' && r.pid === mine.pid);
    assert.deepEqual([exit?.exit_code, exit?.exit_signal], [0, null], "the marker echo's exit");
    assert.equal(recs.at(-1)!.type, 'summary');
  } finally {
    p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
