import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { btfBlob } from '../helpers/btf.js';
import { ROOT } from '../helpers/paths.js';
import { CommanderError } from 'commander';
import { parseMatrixArgs } from '../../matrix/args.js';
import { expandCells, kernelLabel } from '../../matrix/cells.js';
import { serially } from '../../matrix/prepare.js';
import { chooseAccel } from '../../matrix/qemu.js';
import { judgeAttempt, kvmBootDeadline, KVM_BOOT_DEADLINE_S, type AttemptObservation } from '../../matrix/bootwatch.js';
import {
  junitCounts,
  junitFailures,
  M,
  mergeJunit,
  parseConsole,
  planOf,
  renderSummary,
  tapCounts,
  tapFailures,
  type CellResult,
} from '../../matrix/report.js';
import { parseVerifierStats } from '../../src/backend/ebpf/loader.js';
import { compareVerifier, renderVerifierChanges, verifierChartSvg } from '../../matrix/verifier.js';

test('cells: kernels × arches × clangs, skipping what Debian does not ship, --only filters', () => {
  const cells = expandCells({
    kernels: ['bookworm', 'trixie', 'experimental'],
    arches: ['x86_64', 'riscv64'],
    clangs: [14, 19],
  });
  const ids = cells.map((c) => c.id);
  assert.ok(ids.includes('bookworm/x86_64/clang14'));
  assert.ok(ids.includes('trixie/riscv64/clang19'));
  assert.ok(!ids.some((i) => i.startsWith('bookworm/riscv64')), 'no riscv64 kernels in bookworm');
  assert.ok(!ids.some((i) => i.startsWith('experimental/riscv64')));
  assert.equal(cells.length, 2 + 4 + 2); // bookworm x86 (2), trixie x86+riscv (4), experimental x86 (2)
  const only = expandCells({
    kernels: ['bookworm', 'trixie'],
    arches: ['x86_64'],
    clangs: [14, 19],
    only: ['trixie/x86_64/clang19'],
  });
  assert.deepEqual(
    only.map((c) => c.id),
    ['trixie/x86_64/clang19'],
  );
  assert.throws(() => expandCells({ kernels: ['4.19'], arches: ['x86_64'], clangs: [14] }), /unknown kernel 4\.19/);
  assert.deepEqual(
    expandCells({ kernels: ['host'], arches: ['x86_64'], clangs: [14] }).map((c) => c.id),
    ['host/x86_64/clang14'],
  );
});

test('cells are named by the Debian suite they follow; the version labels of stable releases still name them, stale ones do not', () => {
  assert.equal(kernelLabel('6.1'), 'bookworm');
  assert.equal(kernelLabel('5.10'), 'bullseye');
  assert.equal(kernelLabel('6.12'), 'trixie');
  assert.equal(kernelLabel('sid'), 'sid');
  assert.equal(kernelLabel('7.2'), null, 'sid moves on: a version label for it would lie');
  assert.deepEqual(
    expandCells({ kernels: ['6.1'], arches: ['x86_64'], clangs: [14] }).map((c) => c.id),
    ['bookworm/x86_64/clang14'],
  );
  const a = parseMatrixArgs(['--kernel', '6.12,sid', '--only', '6.12/x86_64/clang14']);
  assert.ok(a.mode === 'run');
  assert.deepEqual(a.kernels, ['trixie', 'sid']);
  assert.deepEqual(a.only, ['trixie/x86_64/clang14']);
  assert.throws(
    () => parseMatrixArgs(['--kernel', '7.3-rc']),
    /unknown kernel 7\.3-rc; known: bullseye, .*experimental, host/,
  );
});

const JUNIT = `<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testcase name="a" time="0.1" classname="test"/>
  <testcase name="b" time="0.1" classname="test"><failure type="testCodeFailure" message="boom">x</failure></testcase>
  <testcase name="c" time="0.1" classname="test"><skipped type="skipped" message="no i386"/></testcase>
</testsuites>`;

test('junit counts and merge (a failed cell becomes a failing test case)', () => {
  assert.deepEqual(junitCounts(JUNIT), { tests: 3, failures: 1, skipped: 1 });
  const merged = mergeJunit([
    { id: '6.1/x86_64/clang14', junit: JUNIT, status: 'fail', reason: 'tests exited 1' },
    { id: '7.2/x86_64/clang19', junit: null, status: 'timeout', reason: 'no power-off within 900 s' },
  ]);
  assert.match(merged, /<testsuite name="6.1\/x86_64\/clang14" tests="4" failures="2" skipped="1">/);
  assert.match(merged, /<testsuite name="7.2\/x86_64\/clang19" tests="1" failures="1"/);
  assert.match(merged, /message="no power-off within 900 s"/);
});

/** bytes of a .tar.gz (any binary: the block is base64 of raw bytes, not of text) */
const TAR = gzipSync(Buffer.from([0, 1, 2, 255, 254, 13, 10, 0]));

test('console parsing: boot line, doctor, junit and coverage blocks, exit codes', () => {
  const doctor = {
    chosen: { candidate: 'kprobe', lifecycle: 'tp_btf' },
    programs: [{ name: 'btf_sched_exec', verifiedInsns: 241961, xlatedInsns: 1641 }],
    attempts: [
      {
        candidate: 'fentry',
        ok: false,
        error: 'Argument list too long',
        log: ['processed 1000001 insns (limit 1000000)'],
      },
    ],
  };
  const b64 = (s: string) =>
    gzipSync(s)
      .toString('base64')
      .replace(/(.{76})/g, '$1\n');
  const consoleText = [
    '[    0.000000] Linux version 6.1.0-50-cloud-amd64',
    'EXECLENS-GUEST: kernel 6.1.0-50-cloud-amd64 booted',
    M.doctorBegin,
    b64(JSON.stringify(doctor)),
    M.doctorEnd,
    'TAP version 13',
    `${M.testExit}1===`,
    M.junitBegin,
    b64(JUNIT),
    M.junitEnd,
    M.coverageBegin,
    TAR.toString('base64').replace(/(.{76})/g, '$1\n'),
    M.coverageEnd,
    'EXECLENS-GUEST: payload exit 0',
  ].join('\r\n');
  const p = parseConsole(consoleText);
  assert.equal(p.booted, true);
  assert.equal(p.kernelRelease, '6.1.0-50-cloud-amd64');
  assert.equal(p.testExit, 1);
  assert.equal(p.payloadExit, 0);
  assert.deepEqual(p.doctor, doctor);
  assert.equal(p.junit, JUNIT);
  assert.deepEqual(
    p.coverageTar,
    TAR,
    '--coverage: the counters archive, byte for byte (CR LF and line breaks dropped)',
  );
  const plan = planOf(p.doctor);
  assert.equal(plan.plan, 'kprobe+tp_btf');
  assert.deepEqual(plan.refused, [{ candidate: 'fentry', error: 'Argument list too long', insns: 1000001 }]);
  const noBoot = parseConsole('qemu: could not load kernel');
  assert.equal(noBoot.booted, false);
  assert.equal(noBoot.doctor, null);
  assert.equal(noBoot.coverageTar, null);
});

test('summary table: rows kernel × arch, columns clang, failures shown with reason', () => {
  const mk = (id: string, status: CellResult['status'], extra: Partial<CellResult> = {}): CellResult => ({
    id,
    kernelRelease: '6.1.0-50-cloud-amd64',
    status,
    reason: null,
    counts: { tests: 45, failures: 0, skipped: 1 },
    plan: 'kprobe+tp_btf',
    programs: [{ name: 'btf_sched_exec', verifiedInsns: 241961, xlatedInsns: 1 }],
    refused: [],
    seconds: 300,
    junit: null,
    doctor: null,
    ...extra,
  });
  const failed = [
    { name: 'cwd follows cd', message: 'expected /tmp' },
    { name: 'a | b', message: '' },
  ];
  const md = renderSummary([
    mk('6.1/x86_64/clang14', 'pass'),
    mk('6.1/x86_64/clang19', 'fail', {
      reason: 'tests exited 1',
      counts: { tests: 45, failures: 2, skipped: 1 },
      failed,
    }),
  ]);
  assert.match(md, /\| kernel × arch \| release \| clang 14 \| clang 19 \|/);
  assert.match(
    md,
    /\| 6\.1 x86_64 \| 6\.1\.0-50-cloud-amd64 \| \*\*pass\*\*<br>44✓ 0✗ 1⊘<br>kprobe\+tp_btf<br>max 241,961 insns \(btf_sched_exec\)<br>300 s \| \*\*FAIL\*\*<br>42✓ 2✗ 1⊘/,
  );
  assert.match(md, /tests exited 1/);
  // the failed tests are named under the table (a '|' in a name cannot break the table)
  assert.match(
    md,
    /Failed tests:\n\n- 6\.1\/x86_64\/clang19: cwd follows cd — expected \/tmp\n- 6\.1\/x86_64\/clang19: a \\\| b\n/,
  );
  // the planOf of a doctor that used bpf_loop says so
  assert.equal(
    planOf({ chosen: { candidate: 'fentry', lifecycle: 'tp_btf', loops: 'bpf_loop' } }).plan,
    'fentry+tp_btf+bpf_loop',
  );
});

test('verifier statistics: parsed from a BPF_LOG_STATS log, and used where prog info has no verified_insns (< 5.16)', () => {
  const log =
    'func#0 @0\nverification time 212096 usec\nstack depth 64+0\nprocessed 241409 insns (limit 1000000) max_states_per_insn 14 total_states 7827 peak_states 569 mark_read 43\n';
  assert.deepEqual(parseVerifierStats(log), {
    processedInsns: 241409,
    maxStatesPerInsn: 14,
    totalStates: 7827,
    peakStates: 569,
    verifyUs: 212096,
    stackDepth: '64+0',
  });
  assert.equal(parseVerifierStats('no stats here'), null);
  const p = planOf({
    chosen: { candidate: 'kprobe', lifecycle: 'tp_btf' },
    programs: [{ name: 'kprobe_execve', verifiedInsns: 0, xlatedInsns: 500 }],
    verifier: { kprobe_execve: { processedInsns: 1234, totalStates: 56, peakStates: 7, verifyUs: 800 } },
  });
  assert.deepEqual(p.programs, [
    { name: 'kprobe_execve', verifiedInsns: 1234, xlatedInsns: 500, totalStates: 56, peakStates: 7, verifyUs: 800 },
  ]);
});

test('accelerator: KVM only for a native guest with a usable /dev/kvm; EXECLENS_MATRIX_ACCEL forces one', () => {
  const yes = () => true;
  const no = () => false;
  assert.deepEqual(chooseAccel('x86_64', 'x64', {}, yes), { accel: 'kvm', reason: '/dev/kvm opens', forced: false });
  assert.equal(chooseAccel('x86_64', 'x64', {}, no).accel, 'tcg');
  assert.match(chooseAccel('x86_64', 'x64', {}, no).reason, /cannot be opened/);
  assert.equal(chooseAccel('arm64', 'x64', {}, yes).accel, 'tcg');
  assert.deepEqual(chooseAccel('x86_64', 'x64', { EXECLENS_MATRIX_ACCEL: 'tcg' }, yes), {
    accel: 'tcg',
    reason: 'EXECLENS_MATRIX_ACCEL=tcg',
    forced: true,
  });
  assert.equal(chooseAccel('x86_64', 'x64', { EXECLENS_MATRIX_ACCEL: 'KVM' }, no).forced, true);
  assert.throws(() => chooseAccel('x86_64', 'x64', { EXECLENS_MATRIX_ACCEL: 'hvf' }, yes), /expected kvm, tcg or auto/);
});

test('boot watch: a paused or internal-error guest, a KVM failure on stderr, a lost file server or a silent boot past the deadline stop the attempt; a booting guest does not', () => {
  const booting: AttemptObservation = {
    elapsedS: 2,
    markerSeen: false,
    runState: 'running',
    qemuStderr: '',
    fileServerExit: null,
    bootDeadlineS: 30,
  };
  assert.deepEqual(judgeAttempt(booting), { stop: false });
  assert.deepEqual(judgeAttempt({ ...booting, runState: null }), { stop: false }, 'QMP not answering yet');
  assert.deepEqual(
    judgeAttempt({ ...booting, elapsedS: 3000, markerSeen: true }),
    { stop: false },
    "a long payload is the timeout's business",
  );
  assert.deepEqual(
    judgeAttempt({ ...booting, elapsedS: 3000, bootDeadlineS: null }),
    { stop: false },
    'no deadline under TCG',
  );
  assert.deepEqual(
    judgeAttempt({ ...booting, runState: 'shutdown' }),
    { stop: false },
    'power-off: QEMU exits by itself',
  );
  // what the machine showed: QEMU paused the guest on a KVM internal error and kept running
  const kvmErr = 'KVM internal error. Suberror: 1\nemulation failure\nEAX=00000000 EBX=00000000\n';
  assert.deepEqual(judgeAttempt({ ...booting, qemuStderr: kvmErr }), {
    stop: true,
    reason: 'QEMU: KVM internal error. Suberror: 1',
  });
  for (const state of [
    'internal-error',
    'paused',
    'prelaunch',
    'guest-panicked',
    'io-error',
    'debug',
    'suspended',
    'watchdog',
  ])
    assert.deepEqual(
      judgeAttempt({ ...booting, markerSeen: true, runState: state }),
      { stop: true, reason: `guest not running: QEMU run state '${state}'` },
      state,
    );
  assert.deepEqual(judgeAttempt({ ...booting, elapsedS: 30.5 }), {
    stop: true,
    reason: "no guest output within 30 s (run state 'running')",
  });
  assert.deepEqual(judgeAttempt({ ...booting, elapsedS: 30.5, markerSeen: true }), { stop: false });
  assert.deepEqual(
    judgeAttempt({ ...booting, fileServerExit: { how: 'SIGSEGV', agoS: 1 } }),
    { stop: false },
    'grace for a power-off',
  );
  assert.deepEqual(judgeAttempt({ ...booting, markerSeen: true, fileServerExit: { how: 'SIGSEGV', agoS: 6 } }), {
    stop: true,
    reason: 'virtiofsd exited (SIGSEGV) while the guest ran',
  });
  assert.equal(kvmBootDeadline({}), KVM_BOOT_DEADLINE_S);
  assert.equal(kvmBootDeadline({ EXECLENS_MATRIX_KVM_BOOT_S: '2.5' }), 2.5);
  assert.throws(() => kvmBootDeadline({ EXECLENS_MATRIX_KVM_BOOT_S: '0' }), /expected a positive number/);
});

test('carve-btf: finds the kernel BTF inside a non-ELF boot image (plain and gzip), ignores a false magic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carve-'));
  // a small valid BTF blob: header + one INT type (4 bytes, 32-bit encoding) + strings
  const btf = btfBlob([{ name: 'int', kind: 1, size: 4, tail: [32] }]);
  // a stray magic with an impossible header before the real one
  const image = Buffer.concat([
    Buffer.alloc(4096, 0x41),
    Buffer.from([0x9f, 0xeb, 1, 0, 99, 0, 0, 0]),
    Buffer.alloc(100, 7),
    btf,
    Buffer.alloc(4096, 0x42),
  ]);
  for (const [name, data] of [
    ['Image', image],
    ['Image.gz', gzipSync(image)],
  ] as const) {
    writeFileSync(join(dir, name), data);
    const r = spawnSync('python3', [join(ROOT, 'scripts/carve-btf.py'), join(dir, name), join(dir, `${name}.btf`)], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readFileSync(join(dir, `${name}.btf`)), btf);
  }
  writeFileSync(join(dir, 'none'), Buffer.alloc(8192, 1));
  const none = spawnSync('python3', [join(ROOT, 'scripts/carve-btf.py'), join(dir, 'none'), join(dir, 'none.btf')], {
    encoding: 'utf8',
  });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no BTF found/);
});

test('a cell cut short: the tests that finished are counted from the console TAP', () => {
  const text = [
    'TAP version 13',
    '# Subtest: a',
    'ok 1 - a',
    '  ---',
    'not ok 2 - b: <x>',
    'ok 3 - c # SKIP no armhf',
    'noise ok 4 - x',
    '',
  ].join('\n');
  assert.deepEqual(tapCounts(text), { tests: 3, failures: 1, skipped: 1 });
  assert.equal(tapCounts('no tests here'), null);
  assert.deepEqual(tapFailures(text), [{ name: 'b: <x>', message: '' }]);
});

test('failed guest tests are named with the first lines of their message, from what node --test-reporter=junit really writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'execlens-junit-'));
  const file = join(dir, 'fixture.test.mjs');
  writeFileSync(
    file,
    [
      "import { test } from 'node:test';",
      "import assert from 'node:assert/strict';",
      "test('passes with <angle> brackets', () => {});",
      "test('argv <quoted> & \"kept\"', () => { assert.equal(1, 2, 'argv differs & <x>\\nsecond line'); });",
      "test('skipped', { skip: 'no i386' }, () => {});",
      '',
    ].join('\n'),
  );
  // NODE_TEST_CONTEXT would make the child a subtest of this run instead of a runner of its own
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=junit', file], { encoding: 'utf8', env });
  assert.equal(r.status, 1, r.stderr);
  assert.deepEqual(junitCounts(r.stdout), { tests: 3, failures: 1, skipped: 1 });
  const failed = junitFailures(r.stdout);
  assert.equal(failed.length, 1);
  assert.match(failed[0]!.name, /^argv <quoted> & /);
  assert.match(failed[0]!.message, /^argv differs & <x> \/ second line \/ 1 !== 2/);
  assert.ok(!/ at /.test(failed[0]!.message), `no stack in the message: ${failed[0]!.message}`);
  assert.equal(junitFailures(r.stdout, 20)[0]!.message.length, 20);
  // an error that is not an assertion (an fs error thrown in a test) has no bracket before it
  const thrown =
    '<testsuites><testcase name="t"><failure type="testCodeFailure" message="x">Error [ERR_TEST_FAILURE]: ENOENT: no such file\n    at readFileSync (node:fs:448:20)\n</failure></testcase></testsuites>';
  assert.deepEqual(junitFailures(thrown), [{ name: 't', message: 'ENOENT: no such file' }]);
});

test('matrix args: lists, numbers and the test selection are parsed; defaults are the CI cell', () => {
  const a = parseMatrixArgs([
    '--kernel',
    '6.1,sid',
    '--arch',
    'arm64',
    '--clang',
    '14,19',
    '--timeout',
    '5400',
    '--jobs',
    '2',
    '--tests',
    'log,lifecycle',
    '--test-pattern',
    "ia32|it's",
    '--append',
    'rdinit=/bin/busybox -- sleep 1',
  ]);
  assert.equal(a.mode, 'run');
  if (a.mode !== 'run') return;
  assert.deepEqual(
    [a.kernels, a.arches, a.clangs, a.timeoutS, a.jobs],
    [['bookworm', 'sid'], ['arm64'], [14, 19], 5400, 2],
  );
  assert.deepEqual(a.tests, { files: ['log', 'lifecycle'], pattern: "ia32|it's" });
  assert.equal(a.append, 'rdinit=/bin/busybox -- sleep 1');
  const d = parseMatrixArgs([]);
  assert.ok(
    d.mode === 'run' &&
      d.kernels.join() === 'bookworm' &&
      d.arches.join() === 'x86_64' &&
      d.clangs.join() === '14' &&
      d.jobs === null &&
      d.payload === null &&
      !d.expectFail &&
      !d.coverage,
  );
  assert.equal((parseMatrixArgs(['--coverage']) as { coverage: boolean }).coverage, true);
  const r = parseMatrixArgs(['--report', 'a,b.json', '--out', '/tmp/x']);
  assert.deepEqual(r, {
    mode: 'report',
    sources: ['a', 'b.json'],
    outDir: '/tmp/x',
    saveFixtures: false,
    compare: null,
  });
  assert.equal((parseMatrixArgs(['--report', 'a', '--save-fixtures']) as { saveFixtures: boolean }).saveFixtures, true);
});

test('matrix args: unknown flags, kernels, arches and bad numbers are refused (no run starts); --help is not a run', () => {
  const code = (argv: string[]): string => {
    try {
      parseMatrixArgs(argv);
      return 'parsed';
    } catch (e) {
      assert.ok(e instanceof CommanderError, String(e));
      return e.code;
    }
  };
  assert.equal(code(['--bogus']), 'commander.unknownOption');
  assert.equal(code(['--kernel', '9.9']), 'commander.invalidArgument');
  assert.equal(code(['--arch', 'mips']), 'commander.invalidArgument');
  assert.equal(code(['--clang', 'latest']), 'commander.invalidArgument');
  assert.equal(code(['--timeout', '-5']), 'commander.invalidArgument');
  assert.equal(code(['--help']), 'commander.helpDisplayed');
  assert.equal(code(['--kernel', 'host,6.12']), 'parsed');
});

test('serially: preparations run one at a time in order, and a failed one does not stop the next', async () => {
  const events: string[] = [];
  const step =
    (name: string, ms: number, fail = false) =>
    async () => {
      events.push(`${name} start`);
      await new Promise((r) => setTimeout(r, ms));
      events.push(`${name} end`);
      if (fail) throw new Error(`${name} failed`);
      return name;
    };
  const a = serially(step('a', 30));
  const b = serially(step('b', 1, true));
  const c = serially(step('c', 1));
  assert.equal(await a, 'a');
  await assert.rejects(b, /b failed/);
  assert.equal(await c, 'c');
  assert.deepEqual(events, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
});

function cellWith(id: string, programs: [string, number][]): CellResult {
  return {
    id,
    kernelRelease: 'x',
    status: 'pass',
    reason: null,
    counts: null,
    plan: null,
    programs: programs.map(([name, n]) => ({ name, verifiedInsns: n, xlatedInsns: 1 })),
    refused: [],
    seconds: 1,
    junit: null,
    doctor: null,
  };
}

test('verifier cost: a program that grows past the margin is a regression; old cell ids match their suite names; the chart has a bar per program and cell', () => {
  const baseline = [
    cellWith('6.1/x86_64/clang14', [
      ['fexit_execve_loop', 8000],
      ['btf_sched_fork', 100],
    ]),
    cellWith('sid/x86_64/clang14', [['x', 10]]),
  ];
  const current = [
    cellWith('bookworm/x86_64/clang14', [
      ['fexit_execve_loop', 8900],
      ['btf_sched_fork', 105],
      ['new_prog', 50],
    ]),
  ];
  const changes = compareVerifier(baseline, current, 10);
  assert.deepEqual(
    changes.map((c) => [c.program, c.before, c.after, c.regression]),
    [
      ['fexit_execve_loop', 8000, 8900, true],
      ['btf_sched_fork', 100, 105, false],
    ],
  );
  assert.equal(changes[0]!.cell, 'bookworm/x86_64/clang14');
  assert.equal(
    compareVerifier(baseline, current, 15).filter((c) => c.regression).length,
    0,
    '11.25% is inside a 15% margin',
  );
  const md = renderVerifierChanges(changes, 10, 'base.json');
  assert.match(md, /\*\*1 regression\(s\)\*\*/);
  assert.match(md, /\| bookworm\/x86_64\/clang14 \| fexit_execve_loop \| 8,000 \| 8,900 \| \*\*\+11\.3%\*\* \|/);
  const svg = verifierChartSvg(
    [...current, cellWith('trixie/x86_64/clang14', [['fexit_execve_loop', 7900]])],
    'a <title> & more',
  );
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/);
  assert.equal((svg.match(/<rect x=/g) ?? []).length, 4, 'bars: fexit_execve_loop ×2, btf_sched_fork, new_prog');
  assert.ok(svg.includes('a &lt;title&gt; &amp; more'));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  const a = parseMatrixArgs(['--compare', 'base.json', '--margin', '5']);
  assert.deepEqual(a.compare, { baseline: 'base.json', marginPct: 5 });
  assert.equal(parseMatrixArgs([]).compare, null);
});
