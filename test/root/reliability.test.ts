/**
 * Reliability under load and in odd process setups: every exec is reported or
 * counted as lost, concurrent tracers stay apart, pid namespaces, huge argv/env.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXECLENS } from '../helpers/paths.js';
import {
  byFile,
  missedRunsOf,
  readJsonLines,
  requireRoot,
  trace,
  traceAsync,
  waitFor,
  type JsonExec,
  type JsonSummary,
  STARTUP_MS,
} from '../helpers/trace.js';

/** Matrix guests run under TCG (~50× slower): the same tests at a smaller scale. */
const IN_GUEST = process.env.EXECLENS_IN_MATRIX === '1';

/** A shell loop that execs `/bin/true TAG i` for i in [from, to). */
function storm(tag: string, from: number, to: number): string {
  return `i=${from}; while [ $i -lt ${to} ]; do /bin/true ${tag} $i; i=$((i+1)); done`;
}

/** Checks that the marker execs seen are exactly distinct indices below n; returns how many. */
function countMarkers(seen: Set<number>, argvs: Iterable<string[]>, tag: string, n: number): void {
  for (const a of argvs) {
    if (a[1] !== tag) continue;
    const i = Number(a[2]);
    assert.ok(
      a.length === 3 && a[0] === '/bin/true' && Number.isInteger(i) && i >= 0 && i < n,
      `unexpected argv ${JSON.stringify(a)}`,
    );
    assert.ok(!seen.has(i), `exec ${i} reported twice`);
    seen.add(i);
  }
}

test(
  `${IN_GUEST ? '600' : '100,000'} execs system-wide: every exec is reported or counted lost (reported + system-wide lost counters >= expected; nothing lost means all reported)`,
  { timeout: 1800000 },
  async (t) => {
    if (!requireRoot(t)) return;
    const n = IN_GUEST ? 600 : 100000;
    const dir = mkdtempSync(join(tmpdir(), 'execlens-100k-'));
    const out = join(dir, 'ev.jsonl');
    const tag = `mk${process.pid}`;
    const tracer = spawn(EXECLENS, ['log', '--json', '--no-fds', '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    tracer.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      // ready when a probe exec shows up
      await waitFor(
        () => {
          spawnSync('/bin/true', [`${tag}-ready`]);
          return existsSync(out) && readFileSync(out, { encoding: 'utf8', flag: 'r' }).includes(`${tag}-ready`);
        },
        STARTUP_MS,
        'the tracer to report a probe exec',
        () =>
          `tracer ${tracer.exitCode === null ? 'still running' : `exited ${tracer.exitCode}`}, stderr: ${stderr.trim() || '(none)'}`,
      );
      // two loops, one per core
      const half = n / 2;
      const loops = [0, 1].map((k) => spawn('sh', ['-c', storm(tag, k * half, (k + 1) * half)], { stdio: 'ignore' }));
      const codes = await Promise.all(loops.map((l) => new Promise<number | null>((res) => l.on('exit', res))));
      assert.deepEqual(codes, [0, 0]);
      const exited = new Promise<number | null>((res) => tracer.on('exit', res));
      tracer.kill('SIGINT');
      assert.equal(await exited, 130, stderr);
      const seen = new Set<number>();
      let summary: JsonSummary | undefined;
      const argvs: string[][] = [];
      await readJsonLines(out, (r) => {
        if (r.type === 'exec') {
          const e = r as unknown as JsonExec;
          if (e.argv[1] === tag) argvs.push(e.argv);
        } else if (r.type === 'summary') summary = r as unknown as JsonSummary;
      });
      countMarkers(seen, argvs, tag, n);
      assert.ok(summary, 'a summary record ends the output');
      // ring drops and program runs the kernel skipped are counted system-wide: an upper bound for ours
      const missed = missedRunsOf(summary);
      const lost = summary.ring_drops.exec + summary.lost_records + missed;
      assert.ok(seen.size + lost >= n, `reported ${seen.size} + lost ${lost} < expected ${n}`);
      if (lost === 0) assert.equal(seen.size, n, 'nothing lost, so every exec was reported');
      t.diagnostic(
        `reported ${seen.size}/${n}, lost ${lost} (kernel-skipped program runs ${missed}), incomplete ${summary.incomplete_execs}`,
      );
    } finally {
      if (tracer.exitCode === null) tracer.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'a stalled reader loses execs in the kernel, and every one is counted: reported + lost == expected exactly',
  { timeout: 600000 },
  async (t) => {
    if (!requireRoot(t)) return;
    // the 1 MiB ring holds a few hundred execs: more than that must overflow it
    const n = IN_GUEST ? 800 : 2000;
    const dir = mkdtempSync(join(tmpdir(), 'execlens-loss-'));
    const out = join(dir, 'ev.jsonl');
    const go = join(dir, 'go');
    const done = join(dir, 'done');
    const tag = 'lossy';
    // the tracee waits for `go`, then execs n times; the 1 MiB ring holds a few hundred of them
    const script = `while [ ! -e ${go} ]; do sleep 0.05; done; ${storm(tag, 0, n)}; : > ${done}`;
    const tracer = spawn(EXECLENS, ['log', '--json', '--ring-size', '1', '-o', out, '--', 'sh', '-c', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    tracer.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await waitFor(
        () => existsSync(out) && readFileSync(out, 'utf8').includes('"sleep"'),
        STARTUP_MS,
        'the first traced exec',
      );
      // stop the reader, let the tracee run to the end, then let the reader drain
      process.kill(tracer.pid!, 'SIGSTOP');
      writeFileSync(go, '');
      await waitFor(() => existsSync(done), 600000, 'the storm to finish');
      process.kill(tracer.pid!, 'SIGCONT');
      const code = await new Promise<number | null>((res) =>
        tracer.exitCode !== null ? res(tracer.exitCode) : tracer.on('exit', res),
      );
      assert.equal(code, 0, stderr);
      const recs = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string });
      const seen = new Set<number>();
      countMarkers(
        seen,
        (recs.filter((r) => r.type === 'exec') as JsonExec[]).map((e) => e.argv),
        tag,
        n,
      );
      const summary = recs.at(-1) as JsonSummary;
      assert.equal(summary.type, 'summary');
      assert.ok(
        summary.ring_drops.exec > 0,
        `the stalled reader made the kernel drop execs (${JSON.stringify(summary)})`,
      );
      const missed = missedRunsOf(summary);
      if (missed === 0)
        assert.equal(
          seen.size + summary.ring_drops.exec,
          n,
          `reported ${seen.size} + dropped ${summary.ring_drops.exec}`,
        );
      else
        assert.ok(
          seen.size + summary.ring_drops.exec + missed >= n,
          `reported ${seen.size} + dropped ${summary.ring_drops.exec} + kernel-skipped runs ${missed} < ${n}`,
        );
      assert.match(stderr, /LOST/, 'the end-of-run summary says so');
      t.diagnostic(
        `reported ${seen.size}, dropped in the kernel ${summary.ring_drops.exec}, incomplete ${summary.incomplete_execs}`,
      );
    } finally {
      if (tracer.exitCode === null) {
        try {
          process.kill(tracer.pid!, 'SIGCONT');
        } catch {
          /* gone */
        }
        tracer.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'two tracers at once each see their own tree completely, and nothing of the other',
  { timeout: 600000 },
  async (t) => {
    if (!requireRoot(t)) return;
    const n = IN_GUEST ? 60 : 500;
    const [a, b] = await Promise.all(
      ['treeA', 'treeB'].map((tag) => traceAsync(['sh', '-c', `sh -c '${storm(tag, 0, n)}'`])),
    );
    for (const [r, mine, other] of [
      [a!, 'treeA', 'treeB'],
      [b!, 'treeB', 'treeA'],
    ] as const) {
      assert.equal(r.code, 0, r.stderr);
      const seen = new Set<number>();
      countMarkers(
        seen,
        r.execs.map((e) => e.argv),
        mine,
        n,
      );
      const missed = missedRunsOf(r.summary!);
      if (missed === 0) assert.equal(seen.size, n, `${mine}: every exec of its own tree`);
      else
        assert.ok(seen.size + missed >= n, `${mine}: ${seen.size} seen + ${missed} kernel-skipped program runs < ${n}`);
      assert.equal(r.execs.filter((e) => e.argv[1] === other).length, 0, `${mine}: nothing of ${other}`);
      assert.equal(r.summary!.ring_drops.exec, 0);
    }
  },
);

test('a new pid namespace (unshare -pf): global pids link up, ns_pid is what the process sees as $$', (t) => {
  if (!requireRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'execlens-pidns-'));
  try {
    const f = join(dir, 'pids');
    // the outer sh is pid 1 of the new namespace; the inner one is its child
    const r = trace(['unshare', '-pf', 'sh', '-c', `echo $$ >> ${f}; /bin/sh -c 'echo $$ $PPID >> ${f}'`]);
    assert.equal(r.code, 0, r.stderr);
    const [outerSeen, innerLine] = readFileSync(f, 'utf8').trim().split('\n');
    const [innerSelf, innerParent] = innerLine!.split(' ').map(Number);
    const [unshare] = byFile(r, 'unshare').filter((e) => e.result === 0);
    // sh is searched along PATH: the failed attempts are reported too
    const shells = byFile(r, 'sh').filter((e) => e.result === 0);
    assert.ok(unshare && shells.length === 2, JSON.stringify(r.execs.map((e) => e.filename)));
    const [outer, inner] = shells as [JsonExec, JsonExec];
    assert.equal(unshare.ns_level, 0);
    assert.equal(unshare.ns_pid, unshare.pid, 'in the initial namespace both are the same');
    assert.equal(outer.ns_level, 1);
    assert.equal(outer.ns_pid, Number(outerSeen), 'ns_pid is what the shell saw as $$');
    assert.equal(outer.ns_pid, 1);
    assert.equal(outer.ppid, unshare.pid, 'the namespace init is a child of unshare (global pids)');
    assert.equal(inner.ns_level, 1);
    assert.equal(inner.ns_pid, innerSelf);
    assert.equal(innerParent, outer.ns_pid, "$PPID inside matches the parent's ns_pid");
    assert.equal(inner.ppid, outer.pid, 'global parent link');
    assert.notEqual(inner.pid, inner.ns_pid);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a 1 MiB ring that wraps many times: every record that crosses its end comes back whole', (t) => {
  if (!requireRoot(t)) return;
  // each exec: ~10 KB of argv unique to it (+ env, cwd, fds): a few MiB in all through a 1 MiB ring
  const n = IN_GUEST ? 120 : 300;
  const script = `i=0; while [ $i -lt ${n} ]; do /bin/true wrap $i $(printf "%0${'$'}((9000 + i))d" $i); i=$((i+1)); done`;
  const r = trace(['bash', '-c', script], { extra: ['--ring-size', '1'] });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary!.lost_records, 0, 'nothing lost: the producer is exec-bound, the reader keeps up');
  assert.equal(r.summary!.incomplete_execs, 0);
  const execs = byFile(r, 'true').filter((e) => e.argv[1] === 'wrap');
  assert.equal(execs.length, n);
  for (const e of execs) {
    const i = Number(e.argv[2]);
    assert.equal(e.argv.length, 4, `exec ${i}`);
    assert.equal(e.argv[3], String(i).padStart(9000 + i, '0'), `exec ${i}: argv[3] intact`);
  }
});

test('100,000 arguments in one exec: captured whole', (t) => {
  if (!requireRoot(t)) return;
  // 100,000 arguments of 4 bytes: 0.5 MB of strings + 0.8 MB of pointers, under the 2 MiB ARG_MAX
  const args = Array.from({ length: 100000 }, (_, i) => (i % 10000).toString(36).padStart(4, 'a'));
  const r = trace(['/bin/true', ...args], { extra: ['--no-fds'], timeoutMs: 300000 });
  assert.equal(r.code, 0, r.stderr);
  const [e] = byFile(r, 'true');
  assert.ok(e);
  assert.equal(e.argv.length, 100001);
  assert.deepEqual(e.argv.slice(1), args);
  assert.equal(e.truncated.argv, false);
});

test('a 1 MiB environment built by a parent shell: captured whole', (t) => {
  if (!requireRoot(t)) return;
  // 16 variables of 64 KiB (a single string may not exceed 128 KiB)
  const big: Record<string, string> = {};
  for (let i = 0; i < 16; i++) big[`BIG${i}`] = String.fromCharCode(97 + i).repeat(65536 - 6);
  const exports = Object.keys(big)
    .map((k) => `export ${k}="$(printf '%*s' ${big[k]!.length} '' | tr ' ' ${big[k]![0]})"`)
    .join('; ');
  const r = trace(['sh', '-c', `${exports}; exec /bin/true`], { extra: ['--show-env', '--no-fds'], timeoutMs: 300000 });
  assert.equal(r.code, 0, r.stderr);
  const [e] = byFile(r, 'true');
  assert.ok(e && e.env, 'full environment requested');
  assert.equal(e.truncated.env, false);
  for (const [k, v] of Object.entries(big)) assert.ok(e.env.includes(`${k}=${v}`), `${k} whole`);
  assert.ok(e.env.join('').length >= 1 << 20);
});

test('execlens itself inside a nested pid namespace refuses with what to do (exit 78), before loading anything', (t) => {
  if (!requireRoot(t)) return;
  const r = spawnSync('unshare', ['-pf', EXECLENS, 'log', '--', '/bin/true'], { encoding: 'utf8' });
  assert.equal(r.status, 78, r.stderr);
  assert.match(r.stderr, /^execlens: execlens runs inside a nested pid namespace \(pid:\[\d+\]\).*--pid=host.*\n$/);
});
