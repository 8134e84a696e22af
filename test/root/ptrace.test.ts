/**
 * The ptrace backend beyond the shared behavioural suite (log.test.ts runs
 * every test against both backends): unprivileged use, auto selection, the
 * fallback without seccomp, and detaching on SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXECLENS } from '../helpers/paths.js';
import { execlensForNobody, NOBODY } from '../helpers/nobody.js';
import { byFile, requireRoot, STARTUP_MS, trace, waitFor, type JsonExec } from '../helpers/trace.js';

const README_CMD = ['sh', '-c', 'cd /tmp; env FOO=1 /bin/echo "a b"'];

/** Run execlens as an unprivileged user; JSON events land in a directory it can write. */
function runAsNobody(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { code: number | null; stderr: string; execs: JsonExec[]; records: Record<string, unknown>[] } {
  const dir = mkdtempSync(join(tmpdir(), 'execlens-nobody-'));
  chmodSync(dir, 0o777);
  const out = join(dir, 'ev.jsonl');
  try {
    const r = spawnSync(execlensForNobody(), ['log', '--json', '-o', out, ...args], {
      encoding: 'utf8',
      uid: NOBODY,
      gid: NOBODY,
      cwd: '/',
      env: { PATH: '/usr/bin:/bin', HOME: '/', ...env },
      timeout: 120000,
    });
    if (r.error) throw r.error;
    const records = existsSync(out)
      ? readFileSync(out, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      : [];
    return {
      code: r.status,
      stderr: r.stderr,
      records,
      execs: records.filter((x) => x.type === 'exec') as unknown as JsonExec[],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** what must match between backends, per exec */
const essence = (e: JsonExec) => ({
  filename: e.filename,
  argv: e.argv,
  cwd: e.cwd,
  result: e.result,
  env_diff: e.env_diff,
  interpreter: e.interpreter,
});

test('ptrace: works as an unprivileged user and sees the same execs as the eBPF backend', (t) => {
  if (!requireRoot(t)) return; // root is needed to become nobody and for the eBPF side of the comparison
  const p = runAsNobody(['--backend', 'ptrace', '--', ...README_CMD]);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(p.execs.length, 3, JSON.stringify(p.execs.map((e) => e.filename)));
  assert.ok(p.execs.every((e) => e.uid === NOBODY));
  const [sh, env, echo] = p.execs as [JsonExec, JsonExec, JsonExec];
  assert.equal(env.ppid, sh.pid);
  assert.equal(echo.pid, env.pid);
  assert.equal(echo.env_diff!.added.FOO, '1');
  const summary = p.records.at(-1) as { type: string; plan: string };
  assert.equal(summary.type, 'summary');
  assert.equal(summary.plan, 'ptrace+seccomp');

  const b = trace(README_CMD, { cwd: '/', env: { PATH: '/usr/bin:/bin', HOME: '/' } });
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(
    p.execs.map(essence),
    b.execs.map(essence),
    'same filename, argv, cwd, result, env diff and interpreter per exec',
  );
});

test('ptrace: --backend auto picks ptrace when BPF is not allowed, and says why with -v', (t) => {
  if (!requireRoot(t)) return;
  const r = runAsNobody(['--backend', 'auto', '-v', '--', '/bin/echo', 'hi']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /backend: ptrace \(auto: no privileges for BPF\)/);
  assert.deepEqual(
    byFile({ execs: r.execs } as Parameters<typeof byFile>[0], 'echo').map((e) => e.argv),
    [['/bin/echo', 'hi']],
  );
});

test('ptrace: without seccomp (every syscall stops) the same events come out', (t) => {
  if (!requireRoot(t)) return;
  const r = trace(README_CMD, {
    extra: ['--backend', 'ptrace'],
    env: { ...process.env, EXECLENS_PTRACE_NO_SECCOMP: '1' },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary!.plan, 'ptrace');
  assert.deepEqual(
    r.execs.map((e) => e.argv),
    [
      ['sh', '-c', 'cd /tmp; env FOO=1 /bin/echo "a b"'],
      ['env', 'FOO=1', '/bin/echo', 'a b'],
      ['/bin/echo', 'a b'],
    ],
  );
});

test('ptrace: SIGTERM detaches; the command runs on untraced and the summary is printed', async (t) => {
  if (!requireRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'execlens-ptdetach-'));
  const out = join(dir, 'ev.jsonl');
  const done = join(dir, 'done');
  try {
    // the shell's own builtins after the detach: it must survive us
    const p = spawn(
      EXECLENS,
      ['log', '--json', '--backend', 'ptrace', '-o', out, '--', 'sh', '-c', `/bin/true; sleep 1; echo ok > ${done}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    await waitFor(
      () => existsSync(out) && readFileSync(out, 'utf8').includes('/usr/bin/sleep'),
      STARTUP_MS,
      'the sleep exec',
    ); // a loaded TCG guest: minutes
    const code = new Promise<number | null>((res) => p.on('exit', res));
    p.kill('SIGTERM');
    assert.equal(await code, 143);
    // the shell creates the file before it writes to it: wait for the line, not the file (a 6.12 guest read '')
    await waitFor(
      () => existsSync(done) && readFileSync(done, 'utf8') === 'ok\n',
      30000,
      'the detached command to write ok',
    );
    const last = JSON.parse(readFileSync(out, 'utf8').trim().split('\n').at(-1)!) as {
      type: string;
      stopped_by: string;
    };
    assert.equal(last.type, 'summary');
    assert.equal(last.stopped_by, 'SIGTERM');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ptrace: system-wide tracing is refused with what to do (exit 64)', () => {
  const r = spawnSync(EXECLENS, ['log', '--backend', 'ptrace'], { encoding: 'utf8' });
  assert.equal(r.status, 64);
  assert.match(r.stderr, /^execlens: the ptrace backend traces a command: give one after --/);
});

/** run execlens in a private mount namespace with these files hidden (bind-mounted /dev/null over them) */
function withHidden(files: string[], args: string[]): { status: number | null; stdout: string; stderr: string } {
  const mounts = files.map((f) => `mount --bind /dev/null '${f}'`).join(' && ');
  const r = spawnSync('unshare', ['-m', 'sh', '-c', `${mounts} && exec "$0" "$@"`, EXECLENS, ...args], {
    encoding: 'utf8',
    timeout: 120000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const LIBBPF = spawnSync('sh', ['-c', 'readlink -f "$(ldconfig -p | sed -n "s/.*libbpf.so.1 .*=> //p" | head -1)"'], {
  encoding: 'utf8',
}).stdout.trim();
// koffi's native addon (its platform package, e.g. @koromix/koffi-linux-x64/linux_x64/koffi.node)
const KOFFI_NODE = spawnSync(
  'sh',
  [
    '-c',
    `find ${JSON.stringify(join(EXECLENS, '../../node_modules'))} -path '*koffi*' -name koffi.node | grep -v musl | head -1`,
  ],
  { encoding: 'utf8' },
).stdout.trim();

test(
  'ptrace: --backend ptrace loads neither libbpf nor koffi (both hidden), and auto falls back to ptrace when libbpf is missing',
  { skip: LIBBPF && KOFFI_NODE ? false : 'libbpf.so.1 or koffi addon not found' },
  (t) => {
    if (!requireRoot(t)) return;
    const p = withHidden([LIBBPF, KOFFI_NODE], ['log', '--backend', 'ptrace', '--json', '--', '/bin/echo', 'no-ffi']);
    assert.equal(p.status, 0, p.stderr);
    assert.equal(p.stdout, 'no-ffi\n', "the command's own output alone on stdout");
    assert.match(p.stderr, /"argv":\["\/bin\/echo","no-ffi"\]/, 'the events on stderr');
    assert.doesNotMatch(p.stderr, /internal error|\n\s+at /);
    const a = withHidden([LIBBPF], ['log', '--backend', 'auto', '--json', '--', '/bin/echo', 'fallback']);
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stderr, /eBPF cannot trace here \(cannot load libbpf\.so\.1 .*\); falling back to ptrace/);
    assert.match(a.stderr, /"plan":"ptrace\+seccomp"/);
    const e = withHidden([LIBBPF], ['log', '--', '/bin/true']);
    assert.equal(e.status, 78, 'the eBPF backend without libbpf: kernel/setup unsupported');
    assert.match(e.stderr, /^execlens: cannot load libbpf\.so\.1 .*install it: apt-get install libbpf1\n$/);
  },
);
