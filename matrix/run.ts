/**
 * execlens kernel matrix: boot Debian kernels under QEMU and run the tracer's
 * root tests and `doctor --json` inside each, per clang version.
 *   npm run matrix -- --kernel bookworm,trixie --arch x86_64 --clang 14,19 [--only bookworm/x86_64/clang14]
 *                     [--timeout 900] [--jobs N] [--payload CMD] [--out DIR] [--append ARGS]
 *                     [--tests log,lifecycle] [--test-pattern REGEX] [--save-fixtures]
 *   npm run matrix -- --report DIR1,FILE.json,DIR2 [--out DIR] [--save-fixtures]   (reports from earlier, even interrupted,
 *                     runs: cell directories, or the results.json of an earlier report; later ones win)
 * Writes DIR/results.json, DIR/summary.md (also to $GITHUB_STEP_SUMMARY), DIR/junit.xml,
 * DIR/<cell>/console.log, and test/fixtures/features/matrix-<cell>.json (with --save-fixtures).
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { expandCells, type Arch, type Cell } from './cells.js';
import { CommanderError } from 'commander';
import { matrixCommand, parseMatrixArgs, type CompareSpec, type TestSelection } from './args.js';
import { boot, killGuests } from './qemu.js';
import { log } from './log.js';
import { cellCoverage, coverageSection, type CoverageBuild } from './coverage.js';
import {
  bpfCoverageObject,
  bpfObject,
  foreignUserspace,
  initramfs,
  kernelPackage,
  riscvQemu,
  ROOT,
  serially,
} from './prepare.js';
import { compareVerifier, renderVerifierChanges, verifierChartSvg } from './verifier.js';
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
} from './report.js';

/** root test files to run as a cell's payload (the matrix's own tests would boot QEMU inside the cell) */
function rootTestFiles(prefix: string): string[] {
  return readdirSync(join(ROOT, 'dist/test/root'))
    .filter((f) => f.endsWith('.test.js') && f !== 'matrix.test.js')
    .sort()
    .map((f) => `${prefix}${f}`);
}

/** the root test files a selection names (all of them when it names none) */
function selectedTestFiles(prefix: string, sel: TestSelection): string[] {
  return rootTestFiles(prefix).filter((f) => !sel.files.length || sel.files.some((n) => f.endsWith(`/${n}.test.js`)));
}

/** where a guest's tracers write their counter dumps (EXECLENS_COVERAGE), sent back on the console at the end */
const GUEST_COUNTERS = '/run/bpf-counters';

function payloadScript(
  obj: string,
  custom: string | null,
  sel: TestSelection,
  arch: Arch,
  helper: string | null,
  coverage = false,
): string {
  const files = selectedTestFiles('dist/test/root/', sel);
  const tests = `${sel.pattern ? `--test-name-pattern='${sel.pattern.replace(/'/g, `'\\''`)}' ` : ''}${files.join(' ')}`;
  return `#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/run TMPDIR=/run/tmp
export EXECLENS_BPF_OBJECT=${obj} EXECLENS_REQUIRE_ROOT_TESTS=1 EXECLENS_IN_MATRIX=1
${
  coverage
    ? `# tests run execlens as nobody too: its tracers write here as well
export EXECLENS_COVERAGE=${GUEST_COUNTERS}
mkdir -p ${GUEST_COUNTERS} && chmod 1777 ${GUEST_COUNTERS}`
    : ''
}
${arch === 'x86_64' ? `export EXECLENS_COMPAT_BINARY=${ROOT}/build/i386/busybox` : ''}
${
  helper
    ? `# the arch's ptrace helper where the checkout has the host's (tests that copy the install or reset the env find it there)
mount --bind ${helper} ${ROOT}/build/native/execlens-ptrace || echo "EXECLENS-GUEST: cannot bind ${helper} over the host helper"
# and the test programs built with it (scripts/build-native.sh)
mount --bind ${dirname(helper)}/test ${ROOT}/build/native/test || echo "EXECLENS-GUEST: cannot bind the arch's test programs"`
    : ''
}
mkdir -p /run/tmp
cd ${ROOT}
# riscv64 kernels boot with the BPF JIT off; where the kernel then refuses execlens (7.x: "requires BPF JIT
# compiler"), do what execlens's error says, and say so on the console
if [ "$(cat /proc/sys/net/core/bpf_jit_enable 2>/dev/null)" = 0 ] && ! ./bin/execlens log -q -o /dev/null -- true 2>/run/jit.err; then
  echo "EXECLENS-GUEST: BPF JIT off, execlens refused: $(cat /run/jit.err)"
  sysctl -qw net.core.bpf_jit_enable=1 && echo "EXECLENS-GUEST: enabled the BPF JIT (net.core.bpf_jit_enable=1)"
fi
echo '${M.doctorBegin}'
./bin/execlens doctor --json --verifier-stats | gzip -c | base64
echo '${M.doctorEnd}'
${custom ?? `node --test --test-concurrency=1 --test-reporter=junit --test-reporter-destination=/run/junit.xml --test-reporter=tap --test-reporter-destination=stdout ${tests}`}
echo "${M.testExit}$?==="
echo '${M.junitBegin}'
[ -f /run/junit.xml ] && gzip -c /run/junit.xml | base64
echo '${M.junitEnd}'
${
  coverage
    ? `echo '${M.coverageBegin}'
tar czf - -C ${GUEST_COUNTERS} . | base64
echo '${M.coverageEnd}'`
    : ''
}
`;
}

/** why a cell whose tests ran is red: their exit status, how many failed, and which */
function testsFailed(exit: number | string, r: CellResult): string {
  return `tests exited ${exit}${r.counts ? `, ${r.counts.failures} failed` : ''}${r.failed?.length ? `: ${r.failed.map((f) => f.name).join('; ')}` : ''}`;
}

/** A cell's verdict from its console log (also used to re-report cells of an interrupted run). */
function verdict(
  base: CellResult,
  consoleText: string,
  timedOut: boolean,
  timeoutS: number,
  consolePath: string,
  stalled: string | null = null,
): CellResult {
  const p = parseConsole(consoleText);
  const r: CellResult = {
    ...base,
    junit: p.junit,
    doctor: p.doctor,
    kernelRelease: base.kernelRelease ?? p.kernelRelease,
  };
  Object.assign(r, planOf(p.doctor));
  if (p.junit) {
    r.counts = junitCounts(p.junit);
    r.failed = junitFailures(p.junit);
  } else {
    r.counts = tapCounts(consoleText); // the tests that finished before the cell was cut short
    r.failed = tapFailures(consoleText);
  }
  if (timedOut)
    return { ...r, status: 'timeout', reason: `no power-off within ${timeoutS} s (console: ${consolePath})` };
  // stopped by the boot watch (paused or internal-error run state, file server gone): at once, not at the timeout
  if (stalled)
    return {
      ...r,
      status: p.booted ? 'fail' : 'boot-failure',
      reason: `guest stopped: ${stalled} (console: ${consolePath})`,
    };
  if (!p.booted)
    return { ...r, status: 'boot-failure', reason: `kernel did not reach /init (console: ${consolePath})` };
  if (p.testExit === null) return { ...r, status: 'fail', reason: 'payload did not finish' };
  if (!p.doctor)
    return {
      ...r,
      status: 'fail',
      reason: 'doctor --json printed nothing (execlens did not start in the guest; see the console)',
    };
  if (p.testExit !== 0 || (r.counts && r.counts.failures > 0))
    return { ...r, status: 'fail', reason: testsFailed(p.testExit, r) };
  if (r.counts && r.counts.tests === 0) return { ...r, status: 'fail', reason: 'no tests ran' };
  return { ...r, status: 'pass' };
}

async function runCell(
  cell: Cell,
  o: {
    timeoutS: number;
    outDir: string;
    custom: string | null;
    append: string;
    saveFixtures: boolean;
    tests: TestSelection;
    coverage: boolean;
  },
): Promise<CellResult> {
  const dir = join(o.outDir, cell.id.replace(/\//g, '_'));
  mkdirSync(dir, { recursive: true });
  let t0 = Date.now();
  const base: CellResult = {
    id: cell.id,
    kernelRelease: null,
    status: 'error',
    reason: null,
    counts: null,
    plan: null,
    programs: [],
    refused: [],
    seconds: 0,
    junit: null,
    doctor: null,
  };
  try {
    const prep = await serially(async () => {
      t0 = Date.now(); // a cell's time starts with its own preparation, not with the wait for another's
      const cov: CoverageBuild | null = o.coverage ? await bpfCoverageObject(cell.clang, cell.arch) : null;
      const obj = cov ? cov.obj : await bpfObject(cell.clang, cell.arch);
      if (cell.kernel === 'host') return { obj, cov, guest: null };
      const k = cell.kernel;
      const [kdir, kver, vmlinuz] = await kernelPackage(k.suite, cell.arch, k.flavour[cell.arch]!);
      base.kernelRelease = kver;
      const foreign = cell.arch === 'x86_64' ? null : await foreignUserspace(cell.arch);
      const payload = join(dir, 'payload.sh');
      writeFileSync(payload, payloadScript(obj, o.custom, o.tests, cell.arch, foreign?.helper ?? null, cov !== null));
      const initrd = join(dir, 'initrd.gz');
      await initramfs(kdir, kver, payload, initrd, foreign);
      const qemu = cell.arch === 'riscv64' ? await riscvQemu() : undefined;
      return { obj, cov, guest: { kver, vmlinuz, initrd, qemu } };
    });
    const say = (m: string) => log(`${cell.id}: ${m}`);
    if (!prep.guest) {
      const counters = prep.cov ? join(dir, 'bpf-counters') : null;
      const r = await runHost(prep.obj, base, t0, o.tests, counters);
      return prep.cov ? { ...r, coverage: cellCoverage(dir, prep.cov, null, say) } : r;
    }
    const { kver, vmlinuz, initrd, qemu } = prep.guest;
    log(`${cell.id}: booting ${kver}`);
    const b = await boot({
      arch: cell.arch,
      kernel: vmlinuz,
      initrd,
      memMiB: 2048,
      timeoutS: o.timeoutS,
      consoleLog: join(dir, 'console.log'),
      workDir: dir,
      extraAppend: o.append,
      qemu,
    });
    base.seconds = (Date.now() - t0) / 1000;
    base.accel = { used: b.accel, reason: b.accelReason, attempts: b.attempts };
    log(`${cell.id}: ran under ${b.accel} (${b.accelReason})`);
    const r = verdict(base, b.console, b.timedOut, o.timeoutS, join(dir, 'console.log'), b.stalled);
    if (o.saveFixtures) saveFixture(r);
    if (prep.cov) r.coverage = cellCoverage(dir, prep.cov, parseConsole(b.console).coverageTar, say);
    return r;
  } catch (e) {
    return {
      ...base,
      status: 'error',
      reason: (e as Error).message.split('\n')[0]!,
      seconds: (Date.now() - t0) / 1000,
    };
  }
}

/**
 * The host kernel as a cell: doctor and the selected root tests run natively. The tests run in a child the
 * runner awaits (not spawnSync): guests of other cells keep being served meanwhile (their console pipes read,
 * their timeouts kept).
 */
async function runHost(
  obj: string,
  base: CellResult,
  t0: number,
  sel: TestSelection,
  counters: string | null,
): Promise<CellResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, EXECLENS_BPF_OBJECT: obj, EXECLENS_REQUIRE_ROOT_TESTS: '1' };
  // started from a test (node --test sets it in its children): the suite here would report to that runner
  // over stdout instead of writing its JUnit
  delete env.NODE_TEST_CONTEXT;
  if (counters) {
    // tests run execlens as nobody too: its tracers write their dumps here as well
    mkdirSync(counters, { recursive: true, mode: 0o1777 });
    chmodSync(counters, 0o1777);
    env.EXECLENS_COVERAGE = counters;
  }
  const doctor = JSON.parse(
    execFileSync(join(ROOT, 'bin/execlens'), ['doctor', '--json', '--verifier-stats'], { env, encoding: 'utf8' }),
  ) as unknown;
  const junitPath = join(ROOT, 'build/matrix/host-junit.xml');
  rmSync(junitPath, { force: true });
  const files = selectedTestFiles('dist/test/root/', sel);
  const args = [
    '--test',
    '--test-concurrency=1',
    '--test-reporter=junit',
    `--test-reporter-destination=${junitPath}`,
    ...(sel.pattern ? [`--test-name-pattern=${sel.pattern}`] : []),
    ...files,
  ];
  const status = await new Promise<number | null>((resolve) => {
    const child = spawn('node', args, { cwd: ROOT, env, stdio: 'ignore' });
    child.on('error', () => resolve(null));
    child.on('exit', (code) => resolve(code));
  });
  const junit = existsSync(junitPath) ? readFileSync(junitPath, 'utf8') : null;
  const res: CellResult = {
    ...base,
    kernelRelease: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
    doctor,
    junit,
    counts: junit ? junitCounts(junit) : null,
    failed: junit ? junitFailures(junit) : [],
    ...planOf(doctor),
    seconds: (Date.now() - t0) / 1000,
  };
  return status === 0
    ? { ...res, status: 'pass' }
    : { ...res, status: 'fail', reason: testsFailed(status ?? 'without starting', res) };
}

async function main(): Promise<void> {
  let a;
  try {
    a = parseMatrixArgs(process.argv.slice(2), matrixCommand());
  } catch (e) {
    // commander has printed the help or the error already
    if (e instanceof CommanderError) {
      process.exitCode = e.code === 'commander.helpDisplayed' ? 0 : 2;
      return;
    }
    throw e;
  }
  const outDir = a.outDir ?? join(ROOT, 'build/matrix/results');
  if (a.mode === 'report') {
    const ok = reportOnly(a.sources, outDir, a.saveFixtures, a.compare);
    if (!ok) process.exitCode = 1;
    return;
  }
  const cells = expandCells({ kernels: a.kernels, arches: a.arches, clangs: a.clangs, only: a.only });
  if (!cells.length)
    throw new Error(
      `no cells selected (Debian ships no such kernel × arch${a.only.length ? `, or --only ${a.only.join(',')} matched none` : ''})`,
    );
  mkdirSync(outDir, { recursive: true });
  const jobs = a.jobs ?? Math.max(1, cpus().length);
  const o = {
    timeoutS: a.timeoutS,
    outDir,
    custom: a.payload,
    append: a.append,
    saveFixtures: a.saveFixtures,
    tests: a.tests,
    coverage: a.coverage,
  };
  log(`${cells.length} cell(s), ${jobs} at a time: ${cells.map((c) => c.id).join(' ')}`);
  const results: CellResult[] = [];
  const queue = [...cells];
  await Promise.all(
    Array.from({ length: Math.min(jobs, queue.length) }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        log(`${c.id}: started`);
        const r = await runCell(c, o);
        results.push(r);
        // each cell's result as soon as it is known: an interrupted run can still be reported (--report)
        writeFileSync(join(outDir, c.id.replace(/\//g, '_'), 'result.json'), JSON.stringify(r) + '\n');
        log(
          `${c.id}: ${r.status}${r.reason ? ` (${r.reason})` : ''} in ${Math.round(r.seconds)} s${r.counts ? ` — ${r.counts.tests} tests, ${r.counts.failures} failed, ${r.counts.skipped} skipped` : ''}${r.plan ? `, plan ${r.plan}` : ''}`,
        );
        for (const f of r.failed ?? []) log(`${c.id}: failed: ${f.name}${f.message ? ` — ${f.message}` : ''}`);
      }
    }),
  );
  const costOk = writeReports(results, outDir, a.compare);
  const failed = results.filter((r) => r.status !== 'pass');
  process.exitCode = a.expectFail ? (failed.length === results.length ? 0 : 1) : failed.length || !costOk ? 1 : 0;
}

/** results.json of a run (a file, or a run directory holding one) */
function readResults(path: string): CellResult[] {
  const file = statSync(path).isDirectory() ? join(path, 'results.json') : path;
  return JSON.parse(readFileSync(file, 'utf8')) as CellResult[];
}

/** writes every report; false when --compare found a verifier-cost regression */
function writeReports(results: CellResult[], outDir: string, compare: CompareSpec | null, from?: string): boolean {
  results.sort((a, b) => a.id.localeCompare(b.id));
  const when = from ?? `run of ${new Date().toISOString().slice(0, 10)}`;
  const title = `execlens: processed instructions per BPF program and matrix cell (log scale), ${when}`;
  writeFileSync(join(outDir, 'verifier.svg'), verifierChartSvg(results, title));
  let summary = renderSummary(results);
  const cov = coverageSection(results, outDir);
  if (cov) summary += `\n${cov}`;
  let ok = true;
  if (compare) {
    const changes = compareVerifier(readResults(compare.baseline), results, compare.marginPct);
    const text = renderVerifierChanges(changes, compare.marginPct, basename(compare.baseline));
    writeFileSync(join(outDir, 'verifier-compare.md'), text);
    summary += `\n${text}`;
    ok = !changes.some((c) => c.regression);
  }
  writeFileSync(join(outDir, 'summary.md'), summary);
  writeFileSync(join(outDir, 'junit.xml'), mergeJunit(results));
  writeFileSync(
    join(outDir, 'results.json'),
    JSON.stringify(
      results.map(({ junit: _j, ...r }) => r),
      null,
      2,
    ) + '\n',
  );
  if (process.env.GITHUB_STEP_SUMMARY)
    appendFileSync(process.env.GITHUB_STEP_SUMMARY, `## execlens kernel matrix\n\n${summary}`);
  process.stdout.write(summary);
  return ok;
}

/**
 * A cell's kernel features as a plan-choice test fixture, with what the cell's
 * loader then did (every attempt in order, the chosen one): the unit tests
 * check that the plan computed from these features leads to the same walk.
 */
function saveFixture(r: CellResult): void {
  const d = r.doctor as {
    features?: object;
    attempts?: { candidate: string; lifecycle: string; loops?: string; ok: boolean; stage?: string }[];
  } | null;
  if (!d?.features) return;
  const attempts = (d.attempts ?? []).map((a) => ({
    candidate: a.candidate,
    lifecycle: a.lifecycle,
    loops: a.loops ?? null,
    ok: a.ok,
    stage: a.stage ?? null,
  }));
  const out = {
    ...d.features,
    _source: `recorded by the kernel matrix, cell ${r.id} (${r.kernelRelease ?? '?'})`,
    _attempts: attempts,
  };
  writeFileSync(
    join(ROOT, `test/fixtures/features/matrix-${r.id.replace(/\//g, '_')}.json`),
    JSON.stringify(out, null, 2) + '\n',
  );
}

/**
 * --report DIR[,DIR...]: rebuild the reports from cell directories of earlier
 * (possibly interrupted) runs: their result.json, or else their console.log.
 */
function reportOnly(dirs: string[], outDir: string, saveFixtures: boolean, compare: CompareSpec | null): boolean {
  const byId = new Map<string, CellResult>();
  for (const d of dirs) {
    // a results.json of an earlier report (e.g. docs/matrix/*-results.json): its cells as recorded
    if (d.endsWith('.json') && statSync(d).isFile()) {
      for (const r of JSON.parse(readFileSync(d, 'utf8')) as CellResult[])
        byId.set(r.id, { ...r, junit: r.junit ?? null });
      continue;
    }
    for (const cellDir of readdirSync(d, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(d, e.name))) {
      const m = /^(.+)_(x86_64|arm64|riscv64)_(clang\d+)$/.exec(basename(cellDir));
      if (!m) continue;
      const id = `${m[1]}/${m[2]}/${m[3]}`;
      const resPath = join(cellDir, 'result.json');
      const consolePath = join(cellDir, 'console.log');
      let r: CellResult | null = null;
      if (existsSync(resPath)) r = JSON.parse(readFileSync(resPath, 'utf8')) as CellResult;
      else if (existsSync(consolePath)) {
        const text = readFileSync(consolePath, 'utf8');
        const base: CellResult = {
          id,
          kernelRelease: null,
          status: 'error',
          reason: null,
          counts: null,
          plan: null,
          programs: [],
          refused: [],
          seconds: (statSync(consolePath).mtimeMs - statSync(join(cellDir, 'payload.sh')).mtimeMs) / 1000,
          junit: null,
          doctor: null,
        };
        r = verdict(base, text, false, 0, consolePath);
        if (r.status === 'fail' && r.reason === 'payload did not finish')
          r = { ...r, status: 'error', reason: 'run interrupted before the cell finished' };
      }
      if (r) byId.set(id, r); // later directories win
    }
  }
  mkdirSync(outDir, { recursive: true });
  if (saveFixtures) for (const r of byId.values()) saveFixture(r);
  return writeReports([...byId.values()], outDir, compare, dirs.map((d) => basename(d)).join(', '));
}

// interrupted (Ctrl-C, a CI job cancelled, kill): no guest keeps emulating after the runner is gone;
// the cells that finished have their result.json (--report DIR re-reports them)
for (const [sig, n] of [
  ['SIGINT', 2],
  ['SIGTERM', 15],
  ['SIGHUP', 1],
] as const) {
  process.once(sig, () => {
    const k = killGuests();
    process.stderr.write(
      `matrix: ${sig}: stopped ${k} guest process(es); finished cells are in their result.json (--report)\n`,
    );
    process.exit(128 + n);
  });
}

main().catch((e) => {
  process.stderr.write(`matrix: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
});
