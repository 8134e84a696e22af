/**
 * execlens kernel matrix: boot Debian kernels under QEMU and run the tracer's
 * root tests and `doctor --json` inside each, per clang version.
 *   npm run matrix -- --kernel 6.1,6.12 --arch x86_64 --clang 14,19 [--only 6.1/x86_64/clang14]
 *                     [--timeout 900] [--jobs N] [--payload CMD] [--out DIR] [--append ARGS]
 *                     [--tests log,lifecycle] [--test-pattern REGEX] [--save-fixtures]
 *   npm run matrix -- --report DIR1,FILE.json,DIR2 [--out DIR]   (reports from earlier, even interrupted,
 *                     runs: cell directories, or the results.json of an earlier report; later ones win)
 * Writes DIR/results.json, DIR/summary.md (also to $GITHUB_STEP_SUMMARY), DIR/junit.xml,
 * DIR/<cell>/console.log, and test/fixtures/features/matrix-<cell>.json (with --save-fixtures).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEBIAN_ARCH, expandCells, FOREIGN, KERNELS, NODE_ARCH, type Arch, type Cell } from './cells.js';
import { CommanderError } from 'commander';
import { matrixCommand, parseMatrixArgs, type TestSelection } from './args.js';
import { boot, killGuests } from './qemu.js';
import { junitCounts, junitFailures, M, mergeJunit, parseConsole, planOf, renderSummary, tapCounts, tapFailures, type CellResult } from './report.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');


const CACHE = process.env.EXECLENS_MATRIX_CACHE ?? join(homedir(), '.cache/execlens-matrix');

function log(msg: string): void {
  process.stderr.write(`[matrix ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** mtime of the newest file under bpf/: a cached object older than it is rebuilt */
function newestBpfSource(): number {
  const walk = (d: string): number[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [statSync(join(d, e.name)).mtimeMs]));
  return Math.max(...walk(join(ROOT, 'bpf')));
}

/** root test files to run as a cell's payload (the matrix's own tests would boot QEMU inside the cell) */
function rootTestFiles(prefix: string): string[] {
  return readdirSync(join(ROOT, 'dist/test/root')).filter((f) => f.endsWith('.test.js') && f !== 'matrix.test.js').sort().map((f) => `${prefix}${f}`);
}

/** BPF object built by one clang version (installed from apt on demand) */
function bpfObject(clang: number, arch: Arch): string {
  const out = join(ROOT, `build/matrix/clang${clang}-${arch}`);
  const obj = join(out, 'execlens.bpf.o');
  if (existsSync(obj) && statSync(obj).mtimeMs >= newestBpfSource()) return obj;
  const bin = `clang-${clang}`;
  aptEnsure([bin, `llvm-${clang}`]);
  const btf = arch === 'x86_64' ? {} : { VMLINUX_BTF: foreignBtf(arch) };
  execFileSync(join(ROOT, 'scripts/build-bpf.sh'), { env: { ...process.env, CLANG: bin, ARCH: arch, OUT: out, ...btf }, stdio: ['ignore', 'ignore', 'inherit'] });
  return obj;
}

/** Debian kernel package of a cell: [unpacked dir, kernel release, vmlinuz] */
function kernelPackage(suite: string, arch: Arch, flavour: string): [string, string, string] {
  return execFileSync(join(ROOT, 'scripts/matrix-kernel.sh'), [suite, DEBIAN_ARCH[arch], flavour, CACHE], { encoding: 'utf8' }).trim().split(' ') as [string, string, string];
}

/** apt-get install what is missing (the matrix's own tools: cross compilers, debootstrap, QEMU) */
function aptEnsure(pkgs: string[]): void {
  const missing = pkgs.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
  if (!missing.length) return;
  log(`installing ${missing.join(' ')} from apt`);
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** QEMU 10 (bookworm-backports, unpacked in the cache): the system's 7.2 has no RVA23 CPU */
function riscvQemu(): { binary: string; bios: string } {
  const [binary, bios] = execFileSync(join(ROOT, 'scripts/matrix-qemu.sh'), [CACHE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split(' ') as [string, string];
  return { binary, bios };
}

/** BTF of another arch's kernel, cut out of its boot image: vmlinux.h of that arch's BPF object */
function foreignBtf(arch: Arch): string {
  const f = FOREIGN[arch];
  const k = KERNELS.find((d) => d.label === f?.btfKernel);
  if (!f || !k?.flavour[arch]) throw new Error(`no BTF source kernel for ${arch}`);
  const [, kver, vmlinuz] = kernelPackage(k.suite, arch, k.flavour[arch]!);
  const out = join(ROOT, `build/matrix/btf-${kver}.btf`);
  mkdirSync(dirname(out), { recursive: true });
  if (!existsSync(out)) execFileSync('python3', [join(ROOT, 'scripts/carve-btf.py'), vmlinuz, out], { stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

/**
 * What a guest of another arch runs the checkout with: its own Debian root (Node,
 * libbpf, bpftool), koffi's native package for that arch (beside the host's in
 * node_modules: koffi looks for it there by process.arch), and the ptrace helper
 * cross-built for it. Returns the root and the helper.
 */
function foreignUserspace(arch: Arch): { root: string; helper: string } {
  const f = FOREIGN[arch];
  if (!f) throw new Error(`no userspace defined for ${arch} guests`);
  aptEnsure(['debootstrap', 'qemu-user-static', 'binfmt-support', `gcc-${f.gnu}`, `libc6-dev-${DEBIAN_ARCH[arch]}-cross`, ...(arch === 'arm64' ? ['qemu-system-arm'] : [])]);
  log(`${arch}: Debian ${f.suite} root (built once, cached)`);
  const root = execFileSync(join(ROOT, 'scripts/matrix-rootfs.sh'), [f.suite, DEBIAN_ARCH[arch], CACHE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  mkdirSync(join(root, ROOT), { recursive: true }); // the checkout's mount point inside that root
  const koffiVersion = (JSON.parse(readFileSync(join(ROOT, 'node_modules/koffi/package.json'), 'utf8')) as { version: string }).version;
  const pkg = `@koromix/koffi-linux-${NODE_ARCH[arch]}`;
  const pkgDir = join(ROOT, 'node_modules', pkg);
  const have = existsSync(join(pkgDir, 'package.json')) ? (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version : null;
  if (have !== koffiVersion) {
    log(`${arch}: fetching ${pkg}@${koffiVersion} from the npm registry`);
    const dl = join(CACHE, 'npm');
    mkdirSync(dl, { recursive: true });
    const tgz = execFileSync('npm', ['pack', '--silent', `${pkg}@${koffiVersion}`, '--pack-destination', dl], { encoding: 'utf8' }).trim().split('\n').pop()!;
    mkdirSync(pkgDir, { recursive: true });
    execFileSync('tar', ['-xzf', join(dl, tgz), '-C', pkgDir, '--strip-components=1']);
  }
  const outDir = join(ROOT, `build/matrix/native-${arch}`);
  const helper = join(outDir, 'execlens-ptrace');
  const src = join(ROOT, 'native/ptrace/execlens-ptrace.c');
  if (!existsSync(helper) || statSync(helper).mtimeMs < statSync(src).mtimeMs) {
    execFileSync(join(ROOT, 'scripts/build-native.sh'), { env: { ...process.env, CC: f.cc, OUT: outDir }, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  // the compat test's 32-bit program (AArch32 on arm64)
  if (arch === 'arm64') execFileSync(join(ROOT, 'scripts/fetch-compat-busybox.sh'), ['armhf'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { root, helper };
}

/** the root test files a selection names (all of them when it names none) */
function selectedTestFiles(prefix: string, sel: TestSelection): string[] {
  return rootTestFiles(prefix).filter((f) => !sel.files.length || sel.files.some((n) => f.endsWith(`/${n}.test.js`)));
}

function payloadScript(obj: string, custom: string | null, sel: TestSelection, arch: Arch, helper: string | null): string {
  const files = selectedTestFiles('dist/test/root/', sel);
  const tests = `${sel.pattern ? `--test-name-pattern='${sel.pattern.replace(/'/g, `'\\''`)}' ` : ''}${files.join(' ')}`;
  return `#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/run TMPDIR=/run/tmp
export EXECLENS_BPF_OBJECT=${obj} EXECLENS_REQUIRE_ROOT_TESTS=1 EXECLENS_IN_MATRIX=1
${arch === 'x86_64' ? `export EXECLENS_COMPAT_BINARY=${ROOT}/build/i386/busybox` : ''}
${helper ? `# the arch's ptrace helper where the checkout has the host's (tests that copy the install or reset the env find it there)
mount --bind ${helper} ${ROOT}/build/native/execlens-ptrace || echo "EXECLENS-GUEST: cannot bind ${helper} over the host helper"` : ''}
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
`;
}

/** A cell's verdict from its console log (also used to re-report cells of an interrupted run). */
function verdict(base: CellResult, consoleText: string, timedOut: boolean, timeoutS: number, consolePath: string): CellResult {
  const p = parseConsole(consoleText);
  const r: CellResult = { ...base, junit: p.junit, doctor: p.doctor, kernelRelease: base.kernelRelease ?? p.kernelRelease };
  Object.assign(r, planOf(p.doctor));
  if (p.junit) {
    r.counts = junitCounts(p.junit);
    r.failed = junitFailures(p.junit);
  } else {
    r.counts = tapCounts(consoleText); // the tests that finished before the cell was cut short
    r.failed = tapFailures(consoleText);
  }
  if (timedOut) return { ...r, status: 'timeout', reason: `no power-off within ${timeoutS} s (console: ${consolePath})` };
  if (!p.booted) return { ...r, status: 'boot-failure', reason: `kernel did not reach /init (console: ${consolePath})` };
  if (p.testExit === null) return { ...r, status: 'fail', reason: 'payload did not finish' };
  if (!p.doctor) return { ...r, status: 'fail', reason: 'doctor --json printed nothing (execlens did not start in the guest; see the console)' };
  if (p.testExit !== 0 || (r.counts && r.counts.failures > 0)) return { ...r, status: 'fail', reason: `tests exited ${p.testExit}${r.counts ? `, ${r.counts.failures} failed` : ''}${r.failed?.length ? `: ${r.failed.map((f) => f.name).join('; ')}` : ''}` };
  if (r.counts && r.counts.tests === 0) return { ...r, status: 'fail', reason: 'no tests ran' };
  return { ...r, status: 'pass' };
}

async function runCell(cell: Cell, o: { timeoutS: number; outDir: string; custom: string | null; append: string; saveFixtures: boolean; tests: TestSelection }): Promise<CellResult> {
  const dir = join(o.outDir, cell.id.replace(/\//g, '_'));
  mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  const base: CellResult = { id: cell.id, kernelRelease: null, status: 'error', reason: null, counts: null, plan: null, programs: [], refused: [], seconds: 0, junit: null, doctor: null };
  try {
    const obj = bpfObject(cell.clang, cell.arch);
    if (cell.kernel === 'host') return await runHost(obj, base, t0, o.tests);
    const k = cell.kernel;
    const [kdir, kver, vmlinuz] = kernelPackage(k.suite, cell.arch, k.flavour[cell.arch]!);
    base.kernelRelease = kver;
    const foreign = cell.arch === 'x86_64' ? null : foreignUserspace(cell.arch);
    const payload = join(dir, 'payload.sh');
    writeFileSync(payload, payloadScript(obj, o.custom, o.tests, cell.arch, foreign?.helper ?? null));
    const initrd = join(dir, 'initrd.gz');
    execFileSync(join(ROOT, 'scripts/matrix-initramfs.sh'), [kdir, kver, payload, initrd, ...(foreign ? [foreign.root, ROOT] : [])]);
    log(`${cell.id}: booting ${kver}`);
    const qemu = cell.arch === 'riscv64' ? riscvQemu() : undefined;
    const b = await boot({ arch: cell.arch, kernel: vmlinuz, initrd, memMiB: 2048, timeoutS: o.timeoutS, consoleLog: join(dir, 'console.log'), workDir: dir, extraAppend: o.append, qemu });
    base.seconds = (Date.now() - t0) / 1000;
    base.accel = { used: b.accel, reason: b.accelReason };
    log(`${cell.id}: ran under ${b.accel} (${b.accelReason})`);
    const r = verdict(base, b.console, b.timedOut, o.timeoutS, join(dir, 'console.log'));
    if (o.saveFixtures) saveFixture(r);
    return r;
  } catch (e) {
    return { ...base, status: 'error', reason: (e as Error).message.split('\n')[0]!, seconds: (Date.now() - t0) / 1000 };
  }
}

/**
 * The host kernel as a cell: doctor and the selected root tests run natively. The tests run in a child the
 * runner awaits (not spawnSync): guests of other cells keep being served meanwhile (their console pipes read,
 * their timeouts kept).
 */
async function runHost(obj: string, base: CellResult, t0: number, sel: TestSelection): Promise<CellResult> {
  const env = { ...process.env, EXECLENS_BPF_OBJECT: obj, EXECLENS_REQUIRE_ROOT_TESTS: '1' };
  const doctor = JSON.parse(execFileSync(join(ROOT, 'bin/execlens'), ['doctor', '--json', '--verifier-stats'], { env, encoding: 'utf8' })) as unknown;
  const junitPath = join(ROOT, 'build/matrix/host-junit.xml');
  rmSync(junitPath, { force: true });
  const files = selectedTestFiles('dist/test/root/', sel);
  const args = ['--test', '--test-concurrency=1', '--test-reporter=junit', `--test-reporter-destination=${junitPath}`, ...(sel.pattern ? [`--test-name-pattern=${sel.pattern}`] : []), ...files];
  const status = await new Promise<number | null>((resolve) => {
    const child = spawn('node', args, { cwd: ROOT, env, stdio: 'ignore' });
    child.on('error', () => resolve(null));
    child.on('exit', (code) => resolve(code));
  });
  const junit = existsSync(junitPath) ? readFileSync(junitPath, 'utf8') : null;
  const res: CellResult = { ...base, kernelRelease: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(), doctor, junit, counts: junit ? junitCounts(junit) : null, failed: junit ? junitFailures(junit) : [], ...planOf(doctor), seconds: (Date.now() - t0) / 1000 };
  return status === 0 ? { ...res, status: 'pass' } : { ...res, status: 'fail', reason: `tests exited ${status ?? 'without starting'}` };
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
    reportOnly(a.sources, outDir, a.saveFixtures);
    return;
  }
  const cells = expandCells({ kernels: a.kernels, arches: a.arches, clangs: a.clangs, only: a.only });
  if (!cells.length) throw new Error(`no cells selected (Debian ships no such kernel × arch${a.only.length ? `, or --only ${a.only.join(',')} matched none` : ''})`);
  mkdirSync(outDir, { recursive: true });
  const jobs = a.jobs ?? Math.max(1, cpus().length);
  const o = { timeoutS: a.timeoutS, outDir, custom: a.payload, append: a.append, saveFixtures: a.saveFixtures, tests: a.tests };
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
        log(`${c.id}: ${r.status}${r.reason ? ` (${r.reason})` : ''} in ${Math.round(r.seconds)} s${r.counts ? ` — ${r.counts.tests} tests, ${r.counts.failures} failed, ${r.counts.skipped} skipped` : ''}${r.plan ? `, plan ${r.plan}` : ''}`);
        for (const f of r.failed ?? []) log(`${c.id}: failed: ${f.name}${f.message ? ` — ${f.message}` : ''}`);
      }
    }),
  );
  writeReports(results, outDir);
  const failed = results.filter((r) => r.status !== 'pass');
  process.exitCode = a.expectFail ? (failed.length === results.length ? 0 : 1) : failed.length ? 1 : 0;
}

function writeReports(results: CellResult[], outDir: string): void {
  results.sort((a, b) => a.id.localeCompare(b.id));
  const summary = renderSummary(results);
  writeFileSync(join(outDir, 'summary.md'), summary);
  writeFileSync(join(outDir, 'junit.xml'), mergeJunit(results));
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(results.map(({ junit: _j, ...r }) => r), null, 2) + '\n');
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, `## execlens kernel matrix\n\n${summary}`);
  process.stdout.write(summary);
}

/**
 * A cell's kernel features as a plan-choice test fixture, with what the cell's
 * loader then did (every attempt in order, the chosen one): the unit tests
 * check that the plan computed from these features leads to the same walk.
 */
function saveFixture(r: CellResult): void {
  const d = r.doctor as { features?: object; attempts?: { candidate: string; lifecycle: string; loops?: string; ok: boolean; stage?: string }[] } | null;
  if (!d?.features) return;
  const attempts = (d.attempts ?? []).map((a) => ({ candidate: a.candidate, lifecycle: a.lifecycle, loops: a.loops ?? null, ok: a.ok, stage: a.stage ?? null }));
  const out = { ...d.features, _source: `recorded by the kernel matrix, cell ${r.id} (${r.kernelRelease ?? '?'})`, _attempts: attempts };
  writeFileSync(join(ROOT, `test/fixtures/features/matrix-${r.id.replace(/\//g, '_')}.json`), JSON.stringify(out, null, 2) + '\n');
}

/**
 * --report DIR[,DIR...]: rebuild the reports from cell directories of earlier
 * (possibly interrupted) runs: their result.json, or else their console.log.
 */
function reportOnly(dirs: string[], outDir: string, saveFixtures: boolean): void {
  const byId = new Map<string, CellResult>();
  for (const d of dirs) {
    // a results.json of an earlier report (e.g. docs/matrix/*-results.json): its cells as recorded
    if (d.endsWith('.json') && statSync(d).isFile()) {
      for (const r of JSON.parse(readFileSync(d, 'utf8')) as CellResult[]) byId.set(r.id, { ...r, junit: r.junit ?? null });
      continue;
    }
    for (const cellDir of readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(d, e.name))) {
      const m = /^(.+)_(x86_64|arm64|riscv64)_(clang\d+)$/.exec(basename(cellDir));
      if (!m) continue;
      const id = `${m[1]}/${m[2]}/${m[3]}`;
      const resPath = join(cellDir, 'result.json');
      const consolePath = join(cellDir, 'console.log');
      let r: CellResult | null = null;
      if (existsSync(resPath)) r = JSON.parse(readFileSync(resPath, 'utf8')) as CellResult;
      else if (existsSync(consolePath)) {
        const text = readFileSync(consolePath, 'utf8');
        const base: CellResult = { id, kernelRelease: null, status: 'error', reason: null, counts: null, plan: null, programs: [], refused: [], seconds: (statSync(consolePath).mtimeMs - statSync(join(cellDir, 'payload.sh')).mtimeMs) / 1000, junit: null, doctor: null };
        r = verdict(base, text, false, 0, consolePath);
        if (r.status === 'fail' && r.reason === 'payload did not finish') r = { ...r, status: 'error', reason: 'run interrupted before the cell finished' };
      }
      if (r) byId.set(id, r); // later directories win
    }
  }
  mkdirSync(outDir, { recursive: true });
  if (saveFixtures) for (const r of byId.values()) saveFixture(r);
  writeReports([...byId.values()], outDir);
}

// interrupted (Ctrl-C, a CI job cancelled, kill): no guest keeps emulating after the runner is gone;
// the cells that finished have their result.json (--report DIR re-reports them)
for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
  process.once(sig, () => {
    const k = killGuests();
    process.stderr.write(`matrix: ${sig}: stopped ${k} guest process(es); finished cells are in their result.json (--report)\n`);
    process.exit(128 + n);
  });
}

main().catch((e) => {
  process.stderr.write(`matrix: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
});
