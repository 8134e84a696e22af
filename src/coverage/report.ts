/**
 * The coverage report: the BPF counter dumps summed into build/coverage/bpf.profdata, llvm-cov's lcov, JSON
 * and HTML of bpf/, the V8 coverage of src/ as lcov (c8), one HTML report of both (genhtml) and summary.txt.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { packageFile } from '../paths.js';
import { formatTable, relativiseLcov, summariseLcov, type FileSummary } from './lcov.js';
import { runTool, ToolError } from './llvm.js';
import { accumulate, parseDump, parseLayout, textProfile } from './profile.js';

export interface ReportOptions {
  dumps: string;
  layout: string;
  mapping: string;
  v8?: string;
  out: string;
}

interface CovSummary {
  count: number;
  covered: number;
}
interface CovFile {
  filename: string;
  summary: Record<'lines' | 'functions' | 'regions' | 'branches', CovSummary>;
}
interface CovFunction {
  name: string;
  count: number;
  filenames: string[];
  /** [line, col, endLine, endCol, count, fileId, expandedFileId, kind]; kind 0 = code */
  regions: number[][];
  /** [line, col, endLine, endCol, trueCount, falseCount, fileId, expandedFileId, kind] */
  branches: number[][];
}
export interface CovExport {
  data: { files: CovFile[]; functions: CovFunction[] }[];
}

function readDumps(dir: string): { file: string; text: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, text: readFileSync(join(dir, f), 'utf8') }));
}

/** dumps -> bpf.proftext -> bpf.profdata; the header lines of the summary */
function bpfProfile(o: ReportOptions): { profdata: string; lines: string[] } {
  const layout = parseLayout(readFileSync(o.layout, 'utf8'));
  const dumps = readDumps(o.dumps);
  const acc = accumulate(dumps, layout);
  const plans = new Map<string, number>();
  for (const d of dumps) {
    try {
      const p = parseDump(d.text).plan;
      plans.set(p, (plans.get(p) ?? 0) + 1);
    } catch {
      // counted in acc.skipped
    }
  }
  const text = join(o.out, 'bpf.proftext');
  writeFileSync(text, textProfile(layout, acc.counts));
  const profdata = join(o.out, 'bpf.profdata');
  runTool('llvm-profdata', ['merge', '-o', profdata, text]);
  const lines = [`BPF: ${acc.used} counter dumps from ${o.dumps} (plans: ${[...plans].map(([p, n]) => `${p} ×${n}`).join(', ') || 'none'})`];
  if (acc.skipped.length) lines.push(`  ${acc.skipped.length} dumps not counted: ${acc.skipped.map((s) => `${s.file}: ${s.reason}`).join('; ')}`);
  return { profdata, lines };
}

const ratio = (s: CovSummary): string => `${s.covered}/${s.count} (${s.count ? ((100 * s.covered) / s.count).toFixed(1) : '-'}%)`;

function bpfTable(exp: CovExport): string {
  const files = exp.data[0]?.files ?? [];
  const w = Math.max(4, ...files.map((f) => f.filename.length));
  const cols = ['lines', 'functions', 'regions', 'branches'] as const;
  const head = `${'file'.padEnd(w)} ${cols.map((c) => c.padStart(18)).join(' ')}`;
  const rows = files.map((f) => `${f.filename.padEnd(w)} ${cols.map((c) => ratio(f.summary[c]).padStart(18)).join(' ')}`);
  return [head, ...rows].join('\n') + '\n';
}

/** one row per function: where, how often it was entered, its code regions and branch outcomes reached */
export function functionTable(exp: CovExport): string {
  const rows = (exp.data[0]?.functions ?? []).map((f) => {
    const code = f.regions.filter((r) => r[7] === 0);
    const own = code.filter((r) => r[5] === 0);
    const at = `${f.filenames[0] ?? '?'}:${own[0]?.[0] ?? code[0]?.[0] ?? '?'}`;
    const regions = `${code.filter((r) => r[4]! > 0).length}/${code.length}`;
    const outcomes = f.branches.reduce((a, b) => a + (b[4]! > 0 ? 1 : 0) + (b[5]! > 0 ? 1 : 0), 0);
    return { at, name: f.name, count: f.count, regions, branches: `${outcomes}/${2 * f.branches.length}` };
  });
  rows.sort((a, b) => a.at.localeCompare(b.at, 'en', { numeric: true }));
  const w = Math.max(8, ...rows.map((r) => r.name.length));
  const v = Math.max(5, ...rows.map((r) => r.at.length));
  const head = `${'function'.padEnd(w)} ${'where'.padEnd(v)} ${'entered'.padStart(10)} ${'regions'.padStart(9)} ${'branches'.padStart(9)}`;
  const body = rows.map((r) => `${r.name.padEnd(w)} ${r.at.padEnd(v)} ${String(r.count).padStart(10)} ${r.regions.padStart(9)} ${r.branches.padStart(9)}`);
  return [head, ...body].join('\n') + '\n';
}

/**
 * The code regions no run reached inside functions that did run (the branches a kernel or a test never
 * took), one per source line, with the line's text; functions never entered are listed on their own.
 */
export function unreachedRegions(exp: CovExport, readSource: (file: string) => string[] | undefined): string[] {
  const seen = new Map<string, string>();
  for (const f of exp.data[0]?.functions ?? []) {
    if (f.count === 0) continue;
    // a region inside a macro's expansion is shown where the macro is used (its expansion region, kind 1)
    const expansion = new Map(f.regions.filter((r) => r[7] === 1).map((r) => [r[6]!, r]));
    for (const r of f.regions) {
      if (r[7] !== 0 || r[4] !== 0) continue;
      let [fileId, line] = [r[5]!, r[0]!];
      for (let e = expansion.get(fileId), hops = 0; e && hops < 16; e = expansion.get(fileId), hops++) [fileId, line] = [e[5]!, e[0]!];
      const file = f.filenames[fileId] ?? '?';
      const key = `${file}:${line}`;
      if (!seen.has(key)) seen.set(key, (readSource(file)?.[line - 1] ?? '').trim());
    }
  }
  return [...seen].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })).map(([k, text]) => `${k}  ${text}`);
}

/** a source file's lines by its repository path (relative to root), read once */
export function sourceReader(root = '.'): (file: string) => string[] | undefined {
  const cache = new Map<string, string[] | undefined>();
  return (file) => {
    if (!cache.has(file)) {
      const p = isAbsolute(file) ? file : join(root, file);
      cache.set(file, existsSync(p) ? readFileSync(p, 'utf8').split('\n') : undefined);
    }
    return cache.get(file);
  };
}

/** lcov, JSON and llvm-cov's HTML of the BPF sources; their tables for the summary */
function bpfReports(o: ReportOptions, profdata: string): { exp: CovExport; text: string[] } {
  const base = ['-instr-profile', profdata, o.mapping];
  writeFileSync(join(o.out, 'bpf.lcov'), relativiseLcov(runTool('llvm-cov', ['export', '-format=lcov', ...base]), process.cwd()));
  const json = runTool('llvm-cov', ['export', '-format=text', ...base]);
  writeFileSync(join(o.out, 'bpf.json'), json);
  const exp = JSON.parse(json) as CovExport;
  rmSync(join(o.out, 'bpf-html'), { recursive: true, force: true });
  runTool('llvm-cov', ['show', '-format=html', '-show-line-counts-or-regions', '-show-branches=count', '-output-dir', join(o.out, 'bpf-html'), ...base]);
  const never = (exp.data[0]?.functions ?? []).filter((f) => f.count === 0).map((f) => f.name);
  const unreached = unreachedRegions(exp, sourceReader());
  return {
    exp,
    text: [
      'BPF per file (llvm-cov: lines, functions, regions, branches covered/total)',
      bpfTable(exp),
      'BPF per function (entered: the function\'s entry count; regions: code regions run; branches: outcomes taken)',
      functionTable(exp),
      `BPF functions never run here (${never.length}): ${never.join(', ') || 'none'}`,
      '',
      `BPF code not reached inside functions that ran (${unreached.length} regions, by the line they start on)`,
      ...unreached,
      '',
    ],
  };
}

/** modules that compile to nothing but `export {};` (interfaces, types): no code to run, so not counted */
export function typeOnlyModules(distSrc: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) {
        const code = readFileSync(p, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '').replace(/export \{\};/g, '');
        if (!code.trim()) out.push(p);
      }
    }
  };
  walk(distSrc);
  return out.sort();
}

/** V8 coverage of the test runs (every execlens process they started) -> src.lcov through c8 */
function srcReport(o: ReportOptions): { files: FileSummary[]; note?: string } {
  if (!o.v8 || !existsSync(o.v8) || !readdirSync(o.v8).length) return { files: [], note: 'src: no V8 coverage (--v8)' };
  const dir = join(o.out, 'src');
  rmSync(dir, { recursive: true, force: true });
  const c8 = packageFile('node_modules/.bin/c8');
  const args = ['report', '--temp-directory', o.v8, '--reports-dir', dir, '--reporter', 'lcovonly',
    // --all: a module no run loaded counts, as 0; include both sides of the source-map remap
    '--all', '--src', 'dist/src', '--include', 'dist/src/**', '--include', 'src/**', '--exclude-after-remap',
    ...typeOnlyModules('dist/src').flatMap((m) => ['--exclude', m.replace(/^dist\//, '').replace(/\.js$/, '.ts')])];
  const r = spawnSync(c8, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new ToolError(`c8 report failed (${r.status}): ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
  const lcov = relativiseLcov(readFileSync(join(dir, 'lcov.info'), 'utf8'), process.cwd());
  writeFileSync(join(o.out, 'src.lcov'), lcov);
  return { files: summariseLcov(lcov) };
}

/** genhtml over both lcov files: one HTML report of the kernel and the user side */
function html(o: ReportOptions): string {
  const inputs = ['bpf.lcov', 'src.lcov'].map((f) => join(o.out, f)).filter((f) => existsSync(f));
  const dir = join(o.out, 'html');
  rmSync(dir, { recursive: true, force: true });
  const r = spawnSync('genhtml', ['--quiet', '--branch-coverage', '--title', 'execlens', '-o', dir, ...inputs], { encoding: 'utf8' });
  if (r.error) return `HTML: genhtml not found (apt-get install lcov); llvm-cov's BPF report is in ${join(o.out, 'bpf-html')}`;
  if (r.status !== 0) throw new ToolError(`genhtml failed (${r.status}): ${r.stderr.trim().split('\n').slice(0, 4).join(' | ')}`);
  return `HTML: ${join(dir, 'index.html')} (bpf/ and src/), ${join(o.out, 'bpf-html', 'index.html')} (bpf/, regions)`;
}

export function report(o: ReportOptions): string {
  mkdirSync(o.out, { recursive: true });
  const prof = bpfProfile(o);
  const bpf = bpfReports(o, prof.profdata);
  const src = srcReport(o);
  const lines = [...prof.lines, '', ...bpf.text];
  lines.push(src.note ?? `src per file (V8 coverage of every execlens process the runs started; c8)\n${formatTable(src.files)}`);
  lines.push(html(o), '');
  const text = lines.join('\n');
  writeFileSync(join(o.out, 'summary.txt'), text);
  return text;
}
