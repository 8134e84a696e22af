/** Per-file totals of an lcov tracefile (LF/LH, FNF/FNH, BRF/BRH), and paths made relative to the repository. */

export interface Ratio {
  hit: number;
  found: number;
}

export interface FileSummary {
  file: string;
  lines: Ratio;
  functions: Ratio;
  branches: Ratio;
}

const zero = (): Ratio => ({ hit: 0, found: 0 });

export function summariseLcov(text: string): FileSummary[] {
  const out: FileSummary[] = [];
  let cur: FileSummary | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const [key, val = ''] = line.split(/:(.*)/s);
    if (key === 'SF') cur = { file: val, lines: zero(), functions: zero(), branches: zero() };
    else if (key === 'end_of_record' && cur) {
      out.push(cur);
      cur = undefined;
    } else if (cur) {
      const n = Number(val);
      if (key === 'LF') cur.lines.found = n;
      else if (key === 'LH') cur.lines.hit = n;
      else if (key === 'FNF') cur.functions.found = n;
      else if (key === 'FNH') cur.functions.hit = n;
      else if (key === 'BRF') cur.branches.found = n;
      else if (key === 'BRH') cur.branches.hit = n;
    }
  }
  return out;
}

export function totals(files: FileSummary[]): FileSummary {
  const t: FileSummary = { file: 'TOTAL', lines: zero(), functions: zero(), branches: zero() };
  for (const f of files) {
    for (const k of ['lines', 'functions', 'branches'] as const) {
      t[k].hit += f[k].hit;
      t[k].found += f[k].found;
    }
  }
  return t;
}

/** SF: lines under `root` made relative (Codecov and genhtml --prefix want repository paths) */
export function relativiseLcov(text: string, root: string): string {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return text.replace(/^SF:(.*)$/gm, (_, p: string) => `SF:${p.startsWith(prefix) ? p.slice(prefix.length) : p}`);
}

export const pct = (r: Ratio): string => (r.found ? `${((100 * r.hit) / r.found).toFixed(1)}%` : '-');

/** one table row per file: lines, functions, branches as hit/found (pct) */
export function formatTable(files: FileSummary[]): string {
  const cell = (r: Ratio) => `${r.hit}/${r.found} (${pct(r)})`.padStart(18);
  const w = Math.max(4, ...files.map((f) => f.file.length));
  const head = `${'file'.padEnd(w)} ${'lines'.padStart(18)} ${'functions'.padStart(18)} ${'branches'.padStart(18)}`;
  const rows = [...files, totals(files)].map((f) => `${f.file.padEnd(w)} ${cell(f.lines)} ${cell(f.functions)} ${cell(f.branches)}`);
  return [head, ...rows].join('\n') + '\n';
}

/**
 * Lines found and hit counted from the DA records themselves, as lcov -a and genhtml count them (llvm-cov's own
 * LF leaves out some lines it writes DA records for): the same count for a cell's tracefile and a merged one.
 */
export function daLines(text: string): Ratio {
  const seen = new Map<string, number>();
  let file = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('SF:')) file = line.slice(3);
    else if (line.startsWith('DA:')) {
      const [l, n] = line.slice(3).split(',');
      const k = `${file}:${l}`;
      seen.set(k, (seen.get(k) ?? 0) + Number(n));
    }
  }
  return { found: seen.size, hit: [...seen.values()].filter((n) => n > 0).length };
}
