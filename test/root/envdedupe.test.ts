import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXECLENS } from '../helpers/paths.js';
import { byFile, requireRoot, STARTUP_MS, trace, waitFor, type JsonExec, type JsonSummary } from '../helpers/trace.js';

// Env dedupe (bpf/lib/envhash.bpf.h, src/events/envcache.ts): a tree that execs many times with a big
// inherited environment. Each exec is `env -0 > FILE`: FILE holds the environment the command really had,
// which the event's env must equal byte for byte.

/** 512 KiB of environment in 8 variables (one string may not exceed 128 KiB, MAX_ARG_STRLEN) */
function bigEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin', HOME: '/root' };
  for (let k = 0; k < 8; k++) env[`BIG${k}`] = String.fromCharCode(97 + k).repeat(64 << 10);
  return env;
}

const N = 60; // 60 x 512 KiB = 30 MiB of env: about the default 32 MiB ring, were each sent whole

interface DedupeSummary extends JsonSummary {
  env_dedupe: { sent: number; referenced: number; evicted: number; unresolved: number };
}

function run(dir: string, env: NodeJS.ProcessEnv) {
  // every env exec but the last has the same environment; the last adds CHANGED=1
  const script = `i=0; while [ $i -lt ${N} ]; do env -0 > ${dir}/env.$i; i=$((i+1)); done; CHANGED=1 env -0 > ${dir}/env.changed`;
  const r = trace(['sh', '-c', script], { extra: ['--show-env'], env: { ...process.env, ...env, ...bigEnv() } });
  assert.equal(r.code, 0, r.stderr);
  return { r, summary: r.summary as DedupeSummary, envs: byFile(r, 'env') };
}

const envItems = (e: JsonExec) => (e.env_b64 ? e.env_b64.map((b) => Buffer.from(b, 'base64').toString()) : e.env!);
const fileItems = (path: string) => readFileSync(path, 'latin1').split('\0').slice(0, -1);

test('env dedupe: 61 execs with 512 KiB of inherited env under the default ring each show the whole env the command had, nothing lost, the env sent whole at most 3 times (the env of sh, of the env execs, the changed one)', (t) => {
  if (!requireRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'execlens-envdedupe-'));
  try {
    const { r, summary, envs } = run(dir, {});
    assert.equal(summary.lost_records, 0, r.stderr);
    assert.deepEqual(summary.ring_drops, { exec: 0, chunk: 0, other: 0 });
    assert.equal(summary.incomplete_execs, 0);
    assert.equal(envs.length, N + 1);
    for (let i = 0; i < N; i++) {
      const e = envs[i]!;
      assert.deepEqual(envItems(e), fileItems(join(dir, `env.${i}`)), `exec ${i}: the env the command had`);
      // (unrolled plans mark FDS_TRUNC when the tree holds fds above 31: not about env)
      assert.deepEqual(
        e.flags.filter((f) => /ENV|CHUNK/.test(f)),
        [],
        `exec ${i}: no env or chunk flag`,
      );
      assert.equal(e.lost_chunks, 0);
    }
    const changed = envs[N]!;
    assert.deepEqual(envItems(changed), fileItems(join(dir, 'env.changed')));
    assert.deepEqual(changed.env_diff!.added, { CHANGED: '1' }, 'a changed env shows in the diff');
    assert.deepEqual(envs[1]!.env_diff, { added: {}, removed: [], changed: {} });
    if (!summary.plan.includes('bpf_loop')) {
      // unrolled plans (before 5.17) do not dedupe: every env is sent whole, as before
      assert.equal(summary.env_dedupe.referenced, 0);
      return;
    }
    // sh's own env (as execlens passed it), the env execs' (sh's order, sent once), the changed one
    t.diagnostic(`env sent whole ${summary.env_dedupe.sent} of ${summary.execs} execs`);
    assert.ok(summary.env_dedupe.sent <= 3, JSON.stringify(summary.env_dedupe));
    assert.ok(summary.env_dedupe.referenced >= N - 1, JSON.stringify(summary.env_dedupe));
    assert.equal(summary.env_dedupe.unresolved, 0);
    assert.equal(summary.env_dedupe.sent + summary.env_dedupe.referenced, summary.execs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('env dedupe off (EXECLENS_ENV_DEDUPE=0): every env sent whole, and the events show the same environments', (t) => {
  if (!requireRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'execlens-envdedupe-'));
  try {
    const { summary, envs } = run(dir, { EXECLENS_ENV_DEDUPE: '0' });
    assert.deepEqual(summary.env_dedupe, { sent: 0, referenced: 0, evicted: 0, unresolved: 0 });
    for (let i = 0; i < 3; i++) assert.deepEqual(envItems(envs[i]!), fileItems(join(dir, `env.${i}`)));
    assert.deepEqual(envItems(envs[N]!), fileItems(join(dir, 'env.changed')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('env dedupe: 40 execs with 1 MiB of env each while the reader is stopped fit the default 32 MiB ring: none lost, each env whole', async (t) => {
  if (!requireRoot(t)) return;
  // the bench's heavy workload, with the worst reader: stopped from the first exec of the storm to its end.
  // Sent whole, 40 MiB of env overflow the ring (seen: 5 execs and ~300 chunks dropped with EXECLENS_ENV_DEDUPE=0)
  const dir = mkdtempSync(join(tmpdir(), 'execlens-envdedupe-'));
  const out = join(dir, 'ev.jsonl');
  const go = join(dir, 'go');
  const done = join(dir, 'done');
  const script =
    `while [ ! -e ${go} ]; do sleep 0.05; done; v=$(head -c 65536 /dev/zero | tr '\\0' x); ` +
    `for j in $(seq 16); do export BIG$j=$v; done; i=0; while [ $i -lt 40 ]; do /bin/true heavy $i; i=$((i+1)); done; : > ${done}`;
  const tracer = spawn(EXECLENS, ['log', '--json', '-o', out, '--', 'sh', '-c', script], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  tracer.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await waitFor(() => existsSync(out) && readFileSync(out, 'utf8').includes('"sleep"'), STARTUP_MS, 'the first exec');
    process.kill(tracer.pid!, 'SIGSTOP');
    writeFileSync(go, '');
    await waitFor(() => existsSync(done), 120000, 'the storm to finish');
    process.kill(tracer.pid!, 'SIGCONT');
    const code = await new Promise<number | null>((res) =>
      tracer.exitCode !== null ? res(tracer.exitCode) : tracer.on('exit', res),
    );
    assert.equal(code, 0, stderr);
    const recs = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = recs.at(-1) as unknown as DedupeSummary;
    if (!summary.plan.includes('bpf_loop')) return t.skip('unrolled plan: env is sent whole (no dedupe before 5.17)');
    assert.deepEqual(summary.ring_drops, { exec: 0, chunk: 0, other: 0 }, JSON.stringify(summary));
    assert.equal(summary.lost_records, 0);
    const heavy = (recs.filter((r) => r.type === 'exec') as unknown as JsonExec[]).filter((e) => e.argv[1] === 'heavy');
    assert.equal(heavy.length, 40);
    for (const e of heavy) {
      assert.deepEqual(e.flags, [], `exec ${e.argv[2]}`);
      assert.ok((e as JsonExec & { env_bytes: number }).env_bytes > 1 << 20, 'a whole MiB of env');
    }
    assert.ok(summary.env_dedupe.referenced >= 39, JSON.stringify(summary.env_dedupe));
  } finally {
    if (tracer.exitCode === null) {
      process.kill(tracer.pid!, 'SIGCONT');
      tracer.kill('SIGINT');
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

test('env dedupe: when userspace drops a block for its budget the kernel forgets it and sends it whole again: every env right, none unresolved', (t) => {
  if (!requireRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'execlens-envdedupe-'));
  try {
    // two 512 KiB envs in turn with room for one: each block pushes the other out (EXECLENS_ENV_CACHE_BYTES)
    // (the sleeps give the reader time to drop a block before the next exec looks its hash up; without them
    // the references on their way are served from the retired copy, as the second half checks)
    const script = `i=0; while [ $i -lt 6 ]; do env -0 > ${dir}/env.a$i; sleep 0.2; ALT=1 env -0 > ${dir}/env.b$i; sleep 0.2; i=$((i+1)); done`;
    const r = trace(['sh', '-c', script], {
      extra: ['--show-env'],
      env: { ...process.env, ...bigEnv(), EXECLENS_ENV_CACHE_BYTES: String(700 << 10) },
    });
    assert.equal(r.code, 0, r.stderr);
    const summary = r.summary as DedupeSummary;
    const envs = byFile(r, 'env');
    assert.equal(envs.length, 12);
    for (let i = 0; i < 6; i++) {
      assert.deepEqual(envItems(envs[2 * i]!), fileItems(join(dir, `env.a${i}`)), `a${i}`);
      assert.deepEqual(envItems(envs[2 * i + 1]!), fileItems(join(dir, `env.b${i}`)), `b${i}`);
    }
    if (!summary.plan.includes('bpf_loop')) return;
    t.diagnostic(JSON.stringify(summary.env_dedupe));
    assert.equal(summary.env_dedupe.unresolved, 0);
    // sent again after each drop: sh's, then a and b in turn (every exec but the first sleep of each round)
    assert.ok(summary.env_dedupe.sent >= 8, JSON.stringify(summary.env_dedupe));
    assert.ok(summary.env_dedupe.evicted >= 6, JSON.stringify(summary.env_dedupe));
    assert.equal(summary.incomplete_execs, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
