/**
 * -p PID: processes that already run are traced from the moment execlens attaches, with what they start from
 * then on; Ctrl-C detaches and leaves them running; the run ends by itself when they are all gone. Both
 * backends: eBPF follows them in the kernel, the ptrace helper seizes them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXECLENS } from '../helpers/paths.js';
import { requireRoot, type JsonExec } from '../helpers/trace.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function execsIn(file: string): JsonExec[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JsonExec & { type: string })
    .filter((r) => r.type === 'exec');
}

/**
 * The tracer's start-up is part of each wait: under TCG on 5.10 (unrolled programs, ~900K instructions to
 * verify) with other guests beside it, a minute was not always enough (arm64 bullseye, 2026-12-04)
 */
const WAIT_MS = process.env.EXECLENS_IN_MATRIX === '1' ? 600000 : 60000;

async function waitFor(what: string, ok: () => boolean, ms = WAIT_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

for (const backend of ['ebpf', 'ptrace'] as const) {
  const name = (s: string) => (backend === 'ebpf' ? s : `ptrace: ${s}`);

  test(`${name('-p PID: a running shell loop is traced from the attach on (its later execs seen, earlier not); Ctrl-C detaches, exit 130, the loop keeps running')}`, async (t) => {
    if (!requireRoot(t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'execlens-attach-'));
    const tick = join(dir, 'tick');
    const out = join(dir, 'events.jsonl');
    // each round writes its number, then execs /bin/echo with it
    const loop = spawn(
      '/bin/bash',
      ['-c', `i=0; while :; do i=$((i+1)); echo $i > ${tick}; /bin/echo tick $i >/dev/null; sleep 0.1; done`],
      {
        stdio: 'ignore',
      },
    );
    try {
      const ticks = () => {
        try {
          return Number(readFileSync(tick, 'utf8')) || 0;
        } catch {
          return 0;
        }
      };
      await waitFor('the loop to run', () => ticks() >= 3);
      const before = ticks();
      const tracer = spawn(EXECLENS, ['log', '--backend', backend, '--json', '-o', out, '-p', String(loop.pid)], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      tracer.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      await waitFor('three echo execs in the trace', () => {
        try {
          return execsIn(out).filter((e) => e.filename === '/bin/echo').length >= 3;
        } catch {
          return false;
        }
      });
      const code = await new Promise<number | null>((res) => {
        tracer.on('exit', (c) => res(c));
        tracer.kill('SIGINT');
      });
      assert.equal(code, 130, stderr);
      assert.match(stderr, new RegExp(`tracing pid ${loop.pid} and what it starts from now on`));
      const echoes = execsIn(out).filter((e) => e.filename === '/bin/echo');
      for (const e of echoes) {
        assert.equal(e.ppid, loop.pid, 'a child of the attached shell');
        assert.ok(Number(e.argv[2]) > before - 1, `tick ${e.argv[2]} ran after the attach (loop was at ${before})`);
      }
      // no tick from before the attach, and they come in order with none missing
      const nums = echoes.map((e) => Number(e.argv[2]));
      assert.deepEqual(
        nums,
        Array.from({ length: nums.length }, (_, i) => nums[0]! + i),
      );
      // detached: the loop still runs and nothing of the tracer is left in the kernel's view of it
      const at = ticks();
      await waitFor('the loop to go on after the detach', () => ticks() > at + 2, 10000);
      assert.equal(loop.exitCode, null);
    } finally {
      loop.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name('-p PID: the run ends by itself, exit 0, when the attached process and the children it had are gone; what it execs after the attach is seen')}`, async (t) => {
    if (!requireRoot(t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'execlens-attach-'));
    const out = join(dir, 'events.jsonl');
    const go = join(dir, 'go');
    // a child (sleep, in a loop) that runs at the attach, then an exec of the attached process itself, once the
    // tracer says it is attached (start-up takes half a minute in an emulated guest)
    const sh = spawn('/bin/sh', ['-c', `while [ ! -e ${go} ]; do sleep 0.1; done; exec /bin/true after-attach`], {
      stdio: 'ignore',
    });
    try {
      const tracer = spawn(EXECLENS, ['log', '--backend', backend, '--json', '-o', out, '-p', String(sh.pid)], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      tracer.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((res) => tracer.on('exit', (c) => res(c)));
      await waitFor('the tracer to attach', () => stderr.includes('tracing pid'), 600000);
      writeFileSync(go, '');
      const code = await exited;
      assert.equal(code, 0, stderr);
      const execs = execsIn(out);
      const mine = execs.find((e) => e.filename === '/bin/true');
      assert.ok(mine, execs.map((e) => e.filename).join(' '));
      assert.deepEqual(mine.argv, ['/bin/true', 'after-attach']);
      assert.equal(mine.pid, sh.pid);
    } finally {
      sh.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name('-p PID of a process that has already exited (a zombie its parent has not reaped): the run ends at once, exit 0')}`, (t) => {
    if (!requireRoot(t)) return;
    // /bin/true exits at once; spawnSync below keeps this process from reaping it
    const z = spawn('/bin/true', [], { stdio: 'ignore' });
    spawnSync('sleep', ['0.5']);
    assert.match(readFileSync(`/proc/${z.pid}/stat`, 'latin1'), /\) Z /, 'a zombie');
    const r = spawnSync(EXECLENS, ['log', '--backend', backend, '--json', '-o', '/dev/null', '-p', String(z.pid)], {
      encoding: 'utf8',
      timeout: 600000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /0 execs/);
  });
}

test('-p PID with a command, or of no process: one line saying what to do, exit 64, nothing traced', (t) => {
  if (!requireRoot(t)) return;
  const cases: [string[], RegExp][] = [
    [['-p', String(process.pid), '--', '/bin/true'], /give -p PID or a command/],
    [['--backend', 'ptrace', '-p', '4194305'], /-p 4194305: no such process/],
    [['-p', '4194305'], /-p 4194305: no such process/],
    [['-p', '12x'], /-p 12x: not a process id/],
  ];
  for (const [args, why] of cases) {
    const r = spawnSync(EXECLENS, ['log', ...args], { encoding: 'utf8', timeout: 600000 });
    assert.equal(r.status, 64, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(r.stdout, '');
  }
});

test(
  'ptrace: -p of a process another tracer holds (strace): the helper says why in one line, exit 125, nothing traced',
  {
    // a foreign-arch matrix guest's debootstrapped root has no strace
    skip: existsSync('/usr/bin/strace') ? false : 'strace not installed',
  },
  async (t) => {
    if (!requireRoot(t)) return;
    const st = spawn('strace', ['-o', '/dev/null', 'sleep', '30'], { stdio: 'ignore' });
    let pid = 0;
    try {
      await waitFor('strace to start sleep', () => {
        const r = spawnSync('pgrep', ['-P', String(st.pid), '-x', 'sleep'], { encoding: 'utf8' });
        pid = Number(r.stdout.trim());
        return pid > 0;
      });
      const r = spawnSync(EXECLENS, ['log', '--backend', 'ptrace', '-q', '-p', String(pid)], {
        encoding: 'utf8',
        timeout: 600000,
      });
      assert.equal(r.status, 125, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`^execlens-ptrace: -p ${pid}: PTRACE_SEIZE: Operation not permitted \\(traced already`),
      );
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    } finally {
      st.kill('SIGKILL');
      if (pid) spawnSync('kill', ['-9', String(pid)]);
    }
  },
);

for (const backend of ['ebpf', 'ptrace'] as const)
  test(`${backend}: -p of the shell that runs execlens itself (-p $$): its execs are seen, execlens and its helper are left out (no deadlock), Ctrl-C ends it`, (t) => {
    if (!requireRoot(t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'execlens-attach-self-'));
    const out = join(dir, 'events.jsonl');
    try {
      const script = `${EXECLENS} log --backend ${backend} --json -q -o ${out} -p $$ 2>${dir}/err & t=$!
        while ! grep -q . ${dir}/err 2>/dev/null && [ ! -s ${out} ]; do sleep 0.2; done; sleep 1
        /bin/echo self-attached >/dev/null; sleep 1; kill -INT $t; wait $t; echo rc=$?`;
      const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', timeout: 600000 });
      assert.match(r.stdout, /rc=130/, r.stderr);
      const echo = execsIn(out).find((e) => e.filename === '/bin/echo');
      assert.deepEqual(echo?.argv, ['/bin/echo', 'self-attached']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
