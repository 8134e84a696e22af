import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXECLENS, ROOT } from '../helpers/paths.js';
import { byFile, requireRoot, trace, waitFor, STARTUP_MS } from '../helpers/trace.js';
import { probeKernel } from '../../src/kernel/features.js';

/** ids of every BPF program, link and map on the system */
function bpfObjects(): Set<string> {
  const ids = new Set<string>();
  for (const kind of ['prog', 'link', 'map']) {
    for (const o of bpftoolShow(kind)) ids.add(`${kind}:${o.id}`);
  }
  return ids;
}

/**
 * `bpftool -j KIND show`, again when it fails: it walks ids and then opens each,
 * and an object freed in between (the tracer starting or exiting right then)
 * makes it exit non-zero (seen in an arm64 matrix guest).
 */
function bpftoolShow(kind: string): { id: number }[] {
  for (let attempt = 1; ; attempt++) {
    const r = spawnSync('bpftool', ['-j', kind, 'show'], { encoding: 'utf8' });
    if (r.status === 0) return JSON.parse(r.stdout) as { id: number }[];
    if (attempt === 5) throw new Error(`bpftool -j ${kind} show failed 5 times: ${r.stderr || r.stdout}`);
  }
}

/** generous: under an emulated kernel (matrix cells, TCG) start-up takes tens of seconds */

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  test(`${sig} during a run: summary printed, exit 128+n, no BPF program, link or map left`, async (t) => {
    if (!requireRoot(t)) return;
    const before = bpfObjects();
    const dir = mkdtempSync(join(tmpdir(), 'execlens-sig-'));
    const out = join(dir, 'ev.jsonl');
    const p = spawn(
      EXECLENS,
      ['log', '--json', '-o', out, '--', 'sh', '-c', 'while :; do /bin/true; sleep 0.02; done'],
      { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
    );
    let during = new Set<string>();
    await waitFor(() => existsSync(out) && readFileSync(out, 'utf8').includes('/bin/true'), STARTUP_MS);
    during = bpfObjects();
    const code = new Promise<number | null>((res) => p.on('exit', (c) => res(c)));
    p.kill(sig);
    const c = await code;
    // the tracee was detached from us on purpose: stop it now
    try {
      process.kill(-p.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
    assert.equal(c, sig === 'SIGINT' ? 130 : 143);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; stopped_by?: string });
    const summary = lines.at(-1)!;
    assert.equal(summary.type, 'summary');
    assert.equal(summary.stopped_by, sig);
    assert.ok(
      [...during].some((id) => !before.has(id)),
      'the tracer had BPF objects while running',
    );
    // the tracer closed every fd before exiting; the kernel frees tracing (tp_btf/fentry) programs
    // after an RCU grace period, so give it a bounded time: a pinned or leaked object never goes away
    const leaked = () => [...bpfObjects()].filter((id) => !before.has(id));
    await waitFor(() => leaked().length === 0, 30000).catch(() => undefined);
    assert.deepEqual(leaked(), [], 'nothing of ours is left 30 s after the signal');
  });
}

test('SIGKILL of the tracer: the kernel frees everything and the next run works', async (t) => {
  if (!requireRoot(t)) return;
  const before = bpfObjects();
  const p = spawn(EXECLENS, ['log', '-q', '-o', '/dev/null', '--', 'sleep', '30'], { stdio: 'ignore' });
  await waitFor(() => [...bpfObjects()].some((id) => !before.has(id)), STARTUP_MS);
  const exited = new Promise((res) => p.on('exit', res));
  p.kill('SIGKILL');
  await exited;
  spawnSync('pkill', ['-f', '^sleep 30$']);
  await waitFor(() => [...bpfObjects()].every((id) => before.has(id)), STARTUP_MS);
  const r = trace(['/bin/true']);
  assert.equal(r.code, 0);
  assert.equal(byFile(r, 'true').length, 1);
});

test('a tracee that forks and exits before its children: the children are still followed', (t) => {
  if (!requireRoot(t)) return;
  const r = trace(['sh', '-c', '(sleep 0.3; /bin/echo late >/dev/null) & exit 0']);
  assert.equal(r.code, 0);
  const [late] = byFile(r, 'echo');
  assert.ok(late, 'the orphaned child exec is reported');
  assert.deepEqual(late.argv, ['/bin/echo', 'late']);
});

test('a tracee that never execs: no exec events, clean summary', (t) => {
  if (!requireRoot(t)) return;
  // python is the tracee itself; it forks but never execs again
  const r = trace([
    '/usr/bin/python3',
    '-c',
    'import os\npid = os.fork()\nos._exit(0) if pid == 0 else os.waitpid(pid, 0)',
  ]);
  assert.equal(r.code, 0);
  assert.equal(r.execs.length, 1, 'only the tracee itself');
  assert.equal(r.summary!.lost_records, 0);
});

/** 32-bit ABI of this arch (x86_64: ia32, arm64: AArch32) and Debian's static busybox built for it */
const COMPAT_ARCH =
  process.arch === 'x64'
    ? { abi: 'ia32', deb: 'i386' }
    : process.arch === 'arm64'
      ? { abi: 'AArch32', deb: 'armhf' }
      : null;
const COMPAT_BIN = process.env.EXECLENS_COMPAT_BINARY ?? join(ROOT, `build/${COMPAT_ARCH?.deb ?? 'none'}/busybox`);
/** ia32_emulation=false on the kernel command line (Linux >= 6.7): the kernel runs no 32-bit program this boot */
const IA32_OFF = process.arch === 'x64' && probeKernel().ia32Emulation === false;

function compatSkip(): string | false {
  if (!COMPAT_ARCH) return `${process.arch} has no 32-bit compat ABI that execlens hooks`;
  if (IA32_OFF) return 'IA32 emulation is off this boot: the ENOEXEC test below covers it';
  if (!existsSync(COMPAT_BIN))
    return `no ${COMPAT_ARCH.deb} test binary at ${COMPAT_BIN} (scripts/fetch-compat-busybox.sh ${COMPAT_ARCH.deb} fetches Debian's busybox-static:${COMPAT_ARCH.deb})`;
  // a direct execv (execvp would retry an ENOEXEC file with /bin/sh and hide the errno)
  const r = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      'import os,sys\ntry:\n  os.execv(sys.argv[1], [sys.argv[1], "true"])\nexcept OSError as e:\n  print(e.errno); sys.exit(3)',
      COMPAT_BIN,
    ],
    { encoding: 'utf8' },
  );
  if (r.status === 3 && r.stdout.trim() === '8')
    return `this machine cannot run ${COMPAT_ARCH.abi} programs (exec gives ENOEXEC: no 32-bit support in the kernel or the CPU, or blocked by its hypervisor); runs in the kernel-matrix guests`;
  if (r.status !== 0) return `${COMPAT_BIN} does not run here (status ${r.status}: ${r.stdout.trim()})`;
  return false;
}

const ia32OffSkip = !IA32_OFF
  ? 'IA32 emulation is on (kernel-matrix cells boot with ia32_emulation=false to run this)'
  : !existsSync(COMPAT_BIN)
    ? `no ${COMPAT_BIN}`
    : false;
for (const backend of ['ebpf', 'ptrace'] as const) {
  test(
    `${backend === 'ptrace' ? 'ptrace: ' : ''}IA32 emulation off this boot: execlens loads without compat hooks and a 32-bit program's exec is reported as ENOEXEC`,
    { skip: ia32OffSkip },
    (t) => {
      if (!requireRoot(t)) return;
      const py =
        'import os,sys\ntry:\n  os.execv(sys.argv[1], [sys.argv[1], "true"])\nexcept OSError as e:\n  sys.exit(e.errno)';
      const r = trace(['/usr/bin/python3', '-c', py, COMPAT_BIN], { extra: ['--backend', backend] });
      assert.equal(r.code, 8, `python's exit code is the errno (ENOEXEC = 8): ${r.stderr}`);
      const e = r.execs.find((x) => x.filename === COMPAT_BIN);
      assert.ok(e, `saw ${JSON.stringify(r.execs.map((x) => [x.filename, x.errno]))}`);
      assert.equal(e.errno, 'ENOEXEC');
    },
  );
}

for (const backend of ['ebpf', 'ptrace'] as const) {
  test(
    `${backend === 'ptrace' ? 'ptrace: ' : ''}a 32-bit (${COMPAT_ARCH?.abi ?? 'compat'}) static program is reported with the compat flag`,
    { skip: compatSkip() },
    (t) => {
      if (!requireRoot(t)) return;
      const r = trace([COMPAT_BIN, 'sh', '-c', `${COMPAT_BIN} echo hi`], { extra: ['--backend', backend] });
      assert.equal(r.code, 0, r.stderr);
      const compat = r.execs.filter((e) => e.compat);
      assert.ok(compat.length >= 1, `saw ${JSON.stringify(r.execs.map((e) => [e.filename, e.compat]))}`);
      assert.ok(compat.some((e) => e.argv.includes('echo') && e.argv.includes('hi')));
    },
  );
}

/*
 * The attach plans that see compat syscalls (fentry/kprobe on the compat wrappers, raw
 * sys_enter/sys_exit) report a 32-bit program's failed exec and give its successful ones
 * their entry record. (Syscall tracepoints cannot: doctor states that blind spot.)
 */
for (const attach of [null, 'raw_syscalls'] as const) {
  test(
    `a 32-bit (${COMPAT_ARCH?.abi ?? 'compat'}) program's failed exec is reported (ENOENT, argv, compat) and its successful one has its entry record${attach ? ` (--attach ${attach})` : ' (default plan)'}`,
    { skip: compatSkip() },
    (t) => {
      if (!requireRoot(t)) return;
      const r = trace([COMPAT_BIN, 'sh', '-c', `/nonexistent/cmd one two 2>/dev/null; ${COMPAT_BIN} echo hi`], {
        extra: attach ? ['--attach', attach] : [],
      });
      assert.equal(r.code, 0, r.stderr);
      if (!attach && r.summary!.plan.startsWith('tracepoint'))
        return t.skip(`the default plan here is ${r.summary!.plan}, blind to failed compat execs by design`);
      const failed = r.execs.find((e) => e.filename === '/nonexistent/cmd');
      assert.ok(
        failed,
        `saw ${JSON.stringify(r.execs.map((e) => [e.filename, e.errno, e.compat]))} with plan ${r.summary!.plan}`,
      );
      assert.equal(failed.errno, 'ENOENT');
      assert.deepEqual(failed.argv, ['/nonexistent/cmd', 'one', 'two']);
      assert.equal(failed.compat, true);
      const echo = r.execs.find((e) => e.compat && e.argv.includes('echo'));
      assert.ok(echo, 'the successful 32-bit exec');
      assert.ok(!echo.flags.includes('NO_ENTRY'), `entry record seen: ${echo.flags.join(',')}`);
      assert.equal(echo.syscall, 'execve');
    },
  );
}
