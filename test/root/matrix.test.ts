import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths.js';
import { requireRoot } from '../helpers/trace.js';
import type { CellResult } from '../../matrix/report.js';

/** Inside a matrix guest these would boot QEMU inside QEMU: skip there. */
const inGuest = process.env.EXECLENS_IN_MATRIX === '1';
const haveQemu = existsSync('/usr/bin/qemu-system-x86_64');
const skip = inGuest
  ? 'running inside a matrix guest'
  : haveQemu
    ? false
    : 'qemu-system-x86 not installed (scripts/setup.sh installs it)';

test(
  'matrix: QEMU is installed where root tests are required (CI)',
  { skip: inGuest || process.env.EXECLENS_REQUIRE_ROOT_TESTS !== '1' ? 'not required here' : false },
  () => {
    assert.ok(haveQemu, 'qemu-system-x86_64 missing: scripts/setup.sh should have installed qemu-system-x86');
  },
);

function matrix(
  args: string[],
  timeoutS: number,
  env: NodeJS.ProcessEnv = {},
): { code: number | null; results: CellResult[]; stderr: string } {
  const out = mkdtempSync(join(tmpdir(), 'execlens-matrix-'));
  const r = spawnSync('node', [join(ROOT, 'dist/matrix/run.js'), '--out', out, ...args], {
    encoding: 'utf8',
    timeout: (timeoutS + 300) * 1000,
    env: { ...process.env, ...env },
  });
  const resPath = join(out, 'results.json');
  return {
    code: r.status,
    results: existsSync(resPath) ? (JSON.parse(readFileSync(resPath, 'utf8')) as CellResult[]) : [],
    stderr: r.stderr,
  };
}

test(
  'matrix: a real cell (Debian 6.1 cloud amd64, clang 14) boots, runs the root tests inside, and reports them',
  { skip },
  (t) => {
    if (!requireRoot(t)) return;
    // the whole root suite under TCG: 651 s on 2026-12-02 (59 tests, three other guests on the two cores);
    // 1848 s in CI and 2032 s here on 2026-12-03 (157 tests): an hour leaves room within CI's 90 minutes
    // (it was 25-45 min before the virtiofs cache fix, when every node start re-read its binary)
    const r = matrix(['--kernel', 'bookworm', '--arch', 'x86_64', '--clang', '14', '--timeout', '3600'], 3600);
    const [cell] = r.results;
    assert.ok(cell, r.stderr);
    assert.equal(cell.id, 'bookworm/x86_64/clang14');
    assert.match(cell.kernelRelease ?? '', /^6\.1\./);
    assert.ok(cell.counts && cell.counts.tests >= 20, `tests ran in the guest: ${JSON.stringify(cell.counts)}`);
    assert.ok(cell.plan, 'doctor --json came back with a plan');
    assert.ok(
      cell.programs.length > 0 && cell.programs.every((p) => p.verifiedInsns > 0 && p.verifiedInsns < 1000000),
      'verifier statistics per program',
    );
    const failed = (cell.failed ?? [])
      .map((f) => `\n  failed in the guest: ${f.name}${f.message ? ` — ${f.message}` : ''}`)
      .join('');
    assert.equal(cell.status, 'pass', `${cell.reason}${failed}\n${r.stderr.slice(-2000)}`);
    assert.equal(r.code, 0);
  },
);

test(
  "matrix --coverage on the host cell: a report of the cell's BPF lines, the merged lcov, and the branch table, where the plan's attach and lifecycle programs ran and the kprobe wrappers only if the plan is kprobe",
  { skip: inGuest ? 'running inside a matrix guest' : false },
  (t) => {
    if (!requireRoot(t)) return;
    const out = mkdtempSync(join(tmpdir(), 'execlens-matrix-cov-'));
    const r = spawnSync(
      'node',
      [join(ROOT, 'dist/matrix/run.js'), '--out', out, '--kernel', 'host', '--coverage', '--tests', 'execveat'],
      { encoding: 'utf8', timeout: 900_000 },
    );
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const [cell] = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as CellResult[];
    assert.ok(cell!.counts && cell!.counts.tests > 0, `the tests ran and reported: ${JSON.stringify(cell!.counts)}`);
    const cov = cell!.coverage!;
    assert.ok(cov, `no coverage: ${r.stdout.slice(-1500)}`);
    assert.ok(cov.dumps > 0 && cov.lines.hit > 0 && cov.lines.hit < cov.lines.found, JSON.stringify(cov.lines));
    // the plan, e.g. raw_syscalls+tp_btf+bpf_loop: its attach method's and lifecycle's branches ran
    const [attach, lifecycle] = cell!.plan!.split('+');
    assert.ok((cov.branches[attach!] ?? 0) > 0, `${attach}: ${JSON.stringify(cov.branches)}`);
    assert.ok((cov.branches[lifecycle!] ?? 0) > 0, `${lifecycle}: ${JSON.stringify(cov.branches)}`);
    if (attach !== 'kprobe') assert.equal(cov.branches.kprobe, 0, 'in the object, never run');
    assert.ok(existsSync(join(out, cell!.id.replace(/\//g, '_'), 'coverage/bpf.lcov')), "the cell's report");
    assert.ok(existsSync(join(out, 'coverage/bpf.lcov')), 'the merged lcov');
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    assert.match(summary, /^## BPF coverage$/m);
    assert.match(summary, new RegExp(`^\\| \`${attach}\` [^|]+\\| ✓ \\d+ \\|$`, 'm'));
    assert.match(summary, /^Reached by no cell: .*`kprobe-direct`/m, 'no kernel of today lacks syscall wrappers');
  },
);

// A KVM that cannot run the guest, without depending on this machine's KVM: the first attempt is a stand-in
// (qemu.ts simulatedStall) that stalls the way the issue's machines did, and the cell must boot again under
// TCG at once and pass. The payload is doctor only: the fallback is what is tested, not the suite.
for (const [how, limitS] of [
  ['paused', 5],
  ['spinning', 10],
] as const) {
  test(
    `matrix: a ${how} first (KVM) attempt is stopped within ${limitS} s and the cell passes under TCG`,
    { skip },
    (t) => {
      if (!requireRoot(t)) return;
      const r = matrix(
        ['--kernel', 'bookworm', '--arch', 'x86_64', '--clang', '14', '--timeout', '600', '--payload', 'true'],
        600,
        {
          EXECLENS_MATRIX_SIMULATE_KVM_STALL: how,
          EXECLENS_MATRIX_KVM_BOOT_S: '5',
        },
      );
      const [cell] = r.results;
      assert.ok(cell?.accel?.attempts, r.stderr);
      const [stalled, tcg, ...more] = cell.accel.attempts;
      assert.deepEqual(more, []);
      assert.equal(stalled!.label, `simulated KVM stall: ${how}`);
      assert.match(
        stalled!.stopped ?? '',
        how === 'paused' ? /QEMU run state 'prelaunch'/ : /no guest output within 5 s \(run state 'running'\)/,
      );
      assert.ok(stalled!.seconds < limitS, `the stalled attempt ran ${stalled!.seconds} s`);
      assert.equal(tcg!.accel, 'tcg');
      assert.equal(tcg!.stopped, null);
      assert.ok(tcg!.markerS !== null && tcg!.markerS < 60, `TCG boot reached /init: ${tcg!.markerS}`);
      assert.equal(cell.accel.used, 'tcg');
      assert.match(cell.accel.reason, new RegExp(`^simulated KVM stall: ${how} failed after`));
      assert.equal(cell.status, 'pass', `${cell.reason}\n${r.stderr.slice(-2000)}`);
      assert.ok(cell.seconds < 300, `the cell took ${cell.seconds} s`);
    },
  );
}

test('matrix: a deliberately failing payload is a failed cell, not a green one', { skip }, (t) => {
  if (!requireRoot(t)) return;
  const r = matrix(
    [
      '--kernel',
      'bookworm',
      '--arch',
      'x86_64',
      '--clang',
      '14',
      '--timeout',
      '600',
      '--payload',
      'echo failing on purpose; false',
    ],
    600,
  );
  const [cell] = r.results;
  assert.ok(cell, r.stderr);
  assert.equal(cell.status, 'fail');
  assert.match(cell.reason ?? '', /tests exited 1/);
  assert.equal(r.code, 1);
});

test(
  'matrix: a kernel that never finishes booting times out as a failed cell, with its console kept',
  { skip },
  (t) => {
    if (!requireRoot(t)) return;
    // init is replaced by a sleep: the guest never powers off
    const r = matrix(
      [
        '--kernel',
        'bookworm',
        '--arch',
        'x86_64',
        '--clang',
        '14',
        '--timeout',
        '40',
        '--append',
        'rdinit=/bin/busybox -- sleep 100000',
      ],
      40,
    );
    const [cell] = r.results;
    assert.ok(cell, r.stderr);
    assert.equal(cell.status, 'timeout');
    assert.match(cell.reason ?? '', /no power-off within 40 s \(console: .*console\.log\)/);
    assert.equal(r.code, 1);
  },
);

test('matrix: SIGTERM to the runner stops its guests (no QEMU left emulating), exit 143', { skip }, async (t) => {
  if (!requireRoot(t)) return;
  const out = mkdtempSync(join(tmpdir(), 'execlens-matrix-'));
  // a guest that would run for 100000 s
  const p = spawn(
    'node',
    [
      join(ROOT, 'dist/matrix/run.js'),
      '--out',
      out,
      '--kernel',
      'bookworm',
      '--arch',
      'x86_64',
      '--clang',
      '14',
      '--timeout',
      '600',
      '--append',
      'rdinit=/bin/busybox -- sleep 100000',
    ],
    // TCG from the start: on a host whose KVM attempt exits at once (`failed to set MSR 0x10a`) the first QEMU
    // is gone before the runner boots the TCG retry, and the wait below could see the one that died, not the
    // guest SIGTERM must stop (the CI run of 9b932c5 failed so). The fallback has its own tests above.
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, EXECLENS_MATRIX_ACCEL: 'tcg' } },
  );
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const guests = () =>
    spawnSync('pgrep', ['-f', `${out}/`], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .filter(Boolean);
  const end = Date.now() + 300_000;
  const qemuUp = () => spawnSync('pgrep', ['-f', `qemu-system.*${out}/`]).status === 0;
  while (!qemuUp() && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  assert.ok(qemuUp(), `guest started: ${stderr}`);
  const code = await new Promise<number | null>((res) => {
    p.on('exit', (c) => res(c));
    p.kill('SIGTERM');
  });
  assert.equal(code, 143, stderr);
  assert.match(stderr, /SIGTERM: stopped 2 guest process\(es\)/, 'QEMU and its virtiofsd');
  for (let i = 0; i < 50 && guests().length; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(guests(), [], 'no QEMU or virtiofsd of this run left');
});
