/** The matrix runner's command line (commander, as the execlens CLI): options in, a typed plan of the run out. */
import { Command, InvalidArgumentError } from 'commander';
import { KERNEL_ALIASES, KERNELS, kernelLabel, type Arch } from './cells.js';

const ARCHES: readonly Arch[] = ['x86_64', 'arm64', 'riscv64'];

/** which root tests a cell runs: file basenames (log, lifecycle, ...; empty: all) and a name pattern */
export interface TestSelection {
  files: string[];
  pattern: string | null;
}

/** --compare: a results.json (or a run directory holding one) whose verifier cost this run must not exceed */
export interface CompareSpec {
  baseline: string;
  marginPct: number;
}

export type MatrixArgs =
  | {
      mode: 'report';
      sources: string[];
      outDir: string | null;
      /** also refresh the plan-choice fixtures from the cells' recorded doctor */
      saveFixtures: boolean;
      compare: CompareSpec | null;
    }
  | {
      mode: 'run';
      compare: CompareSpec | null;
      kernels: string[];
      arches: Arch[];
      clangs: number[];
      only: string[];
      timeoutS: number;
      jobs: number | null;
      outDir: string | null;
      /** shell command run instead of doctor + the root tests (null: the real payload) */
      payload: string | null;
      append: string;
      tests: TestSelection;
      saveFixtures: boolean;
      expectFail: boolean;
      /** run the cells with the coverage build of the BPF object and report which BPF lines each one ran */
      coverage: boolean;
    };

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function kernelList(v: string): string[] {
  const ks = list(v);
  const bad = ks.filter((k) => kernelLabel(k) === null);
  const known = [...KERNELS.map((k) => k.label), 'host'];
  if (bad.length)
    throw new InvalidArgumentError(
      `unknown kernel ${bad.join(', ')}; known: ${known.join(', ')} (or ${Object.keys(KERNEL_ALIASES).join(', ')} for the stable releases)`,
    );
  return ks.map((k) => kernelLabel(k)!);
}

/** a cell id with its kernel part as a label (6.12/x86_64/clang19 -> trixie/x86_64/clang19) */
function onlyId(id: string): string {
  const [k, ...rest] = id.split('/');
  return [kernelLabel(k!) ?? k!, ...rest].join('/');
}

function archList(v: string): Arch[] {
  const as = list(v);
  const bad = as.filter((a) => !(ARCHES as readonly string[]).includes(a));
  if (bad.length) throw new InvalidArgumentError(`unknown arch ${bad.join(', ')}; known: ${ARCHES.join(', ')}`);
  return as as Arch[];
}

function clangList(v: string): number[] {
  return list(v).map((c) => {
    const n = Number(c);
    if (!Number.isInteger(n) || n < 10)
      throw new InvalidArgumentError(`clang version '${c}': expected a major version such as 14`);
    return n;
  });
}

interface RawOpts {
  kernel: string[];
  arch: Arch[];
  clang: number[];
  only?: string;
  timeout: number;
  jobs?: number;
  out?: string;
  payload?: string;
  append: string;
  tests?: string;
  testPattern?: string;
  saveFixtures?: boolean;
  expectFail?: boolean;
  coverage?: boolean;
  report?: string;
  compare?: string;
  margin: number;
}

/** The matrix command; throws CommanderError on bad flags (and on --help, with code 'commander.helpDisplayed'). */
export function matrixCommand(): Command {
  return new Command('matrix')
    .description(
      'Boot Debian kernels under QEMU and run execlens doctor and its root tests inside each (kernel × arch × clang).',
    )
    .option(
      '--kernel <list>',
      `kernels, comma-separated (${KERNELS.map((k) => k.label).join(', ')}, host)`,
      kernelList,
      ['bookworm'],
    )
    .option('--arch <list>', `guest arches (${ARCHES.join(', ')})`, archList, ['x86_64' as Arch])
    .option(
      '--clang <list>',
      'clang major versions that build the BPF object (installed from apt on demand)',
      clangList,
      [14],
    )
    .option('--only <ids>', 'keep only these cells, e.g. trixie/x86_64/clang19')
    .option('--timeout <s>', 'seconds a guest may run before it is a failed cell', positiveInt, 1200)
    .option('--jobs <n>', 'cells at a time (default: the core count)', positiveInt)
    .option('--out <dir>', 'reports and cell directories (default: build/matrix/results)')
    .option('--payload <cmd>', 'shell command to run instead of the root tests (matrix self-tests)')
    .option('--append <args>', 'extra kernel command line', '')
    .option('--tests <names>', 'root test files to run, e.g. log,lifecycle (default: all)')
    .option('--test-pattern <regex>', 'only the tests whose names match')
    .option('--save-fixtures', "save each cell's doctor features as a plan-choice test fixture")
    .option(
      '--coverage',
      'BPF code coverage: each cell runs the coverage build and reports the lines and kernel-dependent branches it ran',
    )
    .option('--expect-fail', 'exit 0 only when every cell failed (self-test of failure reporting)')
    .option(
      '--compare <results>',
      "fail when a program's processed instructions grow past --margin against this results.json (or run directory)",
    )
    .option('--margin <pct>', 'allowed growth of processed instructions per program, in percent', positiveInt, 10)
    .option(
      '--report <sources>',
      'no run: rebuild the reports from cell directories and results.json files of earlier runs (later ones win)',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
}

/** Parse the matrix's arguments (without node and the script: process.argv.slice(2)). */
export function parseMatrixArgs(
  argv: string[],
  cmd: Command = matrixCommand().configureOutput({ writeErr: () => {}, writeOut: () => {} }),
): MatrixArgs {
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<RawOpts>();
  const compare = o.compare ? { baseline: o.compare, marginPct: o.margin } : null;
  if (o.report !== undefined)
    return {
      mode: 'report',
      sources: list(o.report),
      outDir: o.out ?? null,
      saveFixtures: o.saveFixtures === true,
      compare,
    };
  return {
    mode: 'run',
    compare,
    kernels: o.kernel,
    arches: o.arch,
    clangs: o.clang,
    only: list(o.only ?? '').map(onlyId),
    timeoutS: o.timeout,
    jobs: o.jobs ?? null,
    outDir: o.out ?? null,
    payload: o.payload ?? null,
    append: o.append,
    tests: { files: list(o.tests ?? ''), pattern: o.testPattern || null },
    saveFixtures: o.saveFixtures === true,
    expectFail: o.expectFail === true,
    coverage: o.coverage === true,
  };
}
