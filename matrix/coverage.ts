/**
 * `--coverage`: BPF code coverage per cell and merged. A cell runs the coverage build of its BPF object
 * (prepare.ts bpfCoverageObject: its clang, its arch); its tracers write counter dumps (EXECLENS_COVERAGE), which
 * a guest sends back on the console as a .tar.gz. Each cell gets its own report (src/coverage: profdata with
 * the LLVM of its clang, llvm-cov's lcov, HTML, summary.txt); the cells' lcov files are merged with lcov -a
 * (by source line, so objects of different clangs and arches add up), and the summary gets the lines per cell
 * and merged and the table of kernel-dependent branches against the cells that ran them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { branchHits, branchTable } from '../src/coverage/branches.js';
import { daLines, pct } from '../src/coverage/lcov.js';
import { sourceReader } from '../src/coverage/report.js';
import { ROOT } from './prepare.js';
import type { CellResult } from './report.js';

export interface CoverageBuild {
  obj: string;
  mapping: string;
  layout: string;
  llvmBin: string;
}

/**
 * A cell's report from its counter dumps (in dir/bpf-counters, or in `tar`, the guest's archive of them);
 * null, with the reason on `say`, when there are none or the report fails.
 */
export function cellCoverage(
  dir: string,
  build: CoverageBuild,
  tar: Buffer | null,
  say: (s: string) => void,
): CellResult['coverage'] {
  const counters = join(dir, 'bpf-counters');
  mkdirSync(counters, { recursive: true });
  if (tar) {
    const file = join(dir, 'bpf-counters.tar.gz');
    writeFileSync(file, tar);
    const x = spawnSync('tar', ['xzf', file, '-C', counters], { encoding: 'utf8' });
    if (x.status !== 0) {
      say(`coverage: cannot unpack the guest's counters: ${x.stderr.trim()}`);
      return null;
    }
  }
  const dumps = readdirSync(counters).filter((f) => f.endsWith('.json')).length;
  if (!dumps) {
    say('coverage: no counter dumps came back (no tracer closed?)');
    return null;
  }
  const out = join(dir, 'coverage');
  // a child with the cell's LLVM (the profile and the mapping are that clang's) and the checkout as its cwd
  // (llvm-cov finds bpf/ sources by the relative names the build recorded)
  const r = spawnSync(
    'node',
    [
      join(ROOT, 'dist/src/coverage/cli.js'),
      'report',
      '--dumps',
      counters,
      '--layout',
      build.layout,
      '--mapping',
      build.mapping,
      '--out',
      out,
    ],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, LLVM_BIN: build.llvmBin }, maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) {
    say(`coverage: the report failed: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 3).join(' | ')}`);
    return null;
  }
  const lcov = readFileSync(join(out, 'bpf.lcov'), 'utf8');
  return {
    lines: daLines(lcov),
    branches: branchHits(lcov, sourceReader(ROOT)),
    dumps,
    report: join(out, 'summary.txt'),
  };
}

/** the cells' lcov files merged (lcov -a) into outDir/coverage/bpf.lcov, and its HTML; the merged line totals */
function mergeLcov(cellDirs: string[], outDir: string): { hit: number; found: number } | string {
  const inputs = cellDirs.map((d) => join(d, 'coverage', 'bpf.lcov')).filter((f) => existsSync(f));
  if (!inputs.length) return 'no cell report';
  const dir = join(outDir, 'coverage');
  mkdirSync(dir, { recursive: true });
  const merged = join(dir, 'bpf.lcov');
  const r = spawnSync('lcov', ['--quiet', ...inputs.flatMap((f) => ['-a', f]), '-o', merged], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.error) return 'lcov not found (apt-get install lcov)';
  if (r.status !== 0) return `lcov -a failed: ${r.stderr.trim().split('\n')[0]}`;
  spawnSync(
    'genhtml',
    ['--quiet', '--title', 'execlens BPF, merged over the matrix', '-o', join(dir, 'html'), merged],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  return daLines(readFileSync(merged, 'utf8'));
}

const ratio = (r: { hit: number; found: number }) => `${r.hit}/${r.found} (${pct(r)})`;

/** the summary's coverage section: lines per cell and merged, the branch × cell table */
export function coverageSection(results: CellResult[], outDir: string): string {
  const cells = results.filter((r) => r.coverage);
  if (!cells.length) return '';
  const dirOf = (id: string) => join(outDir, id.replace(/\//g, '_'));
  const merged = mergeLcov(
    cells.map((c) => dirOf(c.id)),
    outDir,
  );
  const rows = cells.map((c) => `| ${c.id} | ${ratio(c.coverage!.lines)} | ${c.coverage!.dumps} |`);
  rows.push(
    typeof merged === 'string'
      ? `| merged | ${merged} | |`
      : `| **merged** (\`coverage/bpf.lcov\`) | ${ratio(merged)} | |`,
  );
  const missing = results.filter((r) => !r.coverage).map((r) => r.id);
  return [
    '## BPF coverage',
    '',
    '| cell | lines of bpf/ (lcov DA lines run) | counter dumps |',
    '|---|---|---|',
    ...rows,
    '',
    ...(missing.length ? [`No coverage from: ${missing.join(', ')}.`, ''] : []),
    'Every cell loaded the coverage build of its BPF object: the verifier figures above are its (the counters cost instructions).',
    '',
    'Kernel-dependent branches against the cells that ran them (src/coverage/branches.ts):',
    '',
    branchTable(cells.map((c) => ({ id: c.id, hits: c.coverage!.branches }))),
  ].join('\n');
}
