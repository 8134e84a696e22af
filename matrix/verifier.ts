/**
 * Verifier cost across the matrix: processed instructions per program per cell, compared with a baseline run
 * (`--compare`: tracexec's ukci-complexity report is the model) and drawn as an SVG chart. Pure.
 *
 * The SVG is written by hand: it is a few rectangles and labels, where a charting library would bring a
 * browser or canvas dependency for no gain in what the chart shows.
 */
import { kernelLabel } from './cells.js';
import type { CellResult } from './report.js';

export interface VerifierChange {
  cell: string;
  program: string;
  before: number;
  after: number;
  /** (after - before) / before, in percent */
  growthPct: number;
  regression: boolean;
}

/** a cell id of an earlier run in today's naming (6.1/x86_64/clang14 -> bookworm/x86_64/clang14) */
function currentId(id: string): string {
  const [k, ...rest] = id.split('/');
  return [kernelLabel(k!) ?? k!, ...rest].join('/');
}

/** every program loaded in both runs of the same cell; a regression grows by more than marginPct */
export function compareVerifier(baseline: CellResult[], current: CellResult[], marginPct: number): VerifierChange[] {
  const before = new Map(baseline.map((r) => [currentId(r.id), r]));
  const out: VerifierChange[] = [];
  for (const r of current) {
    const b = before.get(currentId(r.id));
    if (!b) continue;
    const old = new Map(b.programs.map((p) => [p.name, p.verifiedInsns]));
    for (const p of r.programs) {
      const o = old.get(p.name);
      if (!o || !p.verifiedInsns) continue;
      const growthPct = ((p.verifiedInsns - o) / o) * 100;
      out.push({
        cell: currentId(r.id),
        program: p.name,
        before: o,
        after: p.verifiedInsns,
        growthPct,
        regression: growthPct > marginPct,
      });
    }
  }
  return out.sort((a, b) => b.growthPct - a.growthPct);
}

const fmt = (n: number) => n.toLocaleString('en');

/** Markdown: the regressions first, then the largest changes either way */
export function renderVerifierChanges(changes: VerifierChange[], marginPct: number, baselineName: string): string {
  const bad = changes.filter((c) => c.regression);
  const L = [
    `Verifier cost against ${baselineName} (processed instructions; a program that grows by more than ${marginPct}% fails):`,
    '',
  ];
  if (!changes.length) return L.concat('no cell and program in common with the baseline', '').join('\n');
  L.push(bad.length ? `**${bad.length} regression(s)**` : `no regression (${changes.length} programs compared)`, '');
  const shown = [...bad, ...changes.filter((c) => !c.regression && Math.abs(c.growthPct) >= 1).slice(0, 20)];
  if (shown.length) {
    L.push('| cell | program | before | after | change |', '|---|---|---|---|---|');
    for (const c of shown) {
      const pct = `${c.growthPct >= 0 ? '+' : ''}${c.growthPct.toFixed(1)}%`;
      L.push(
        `| ${c.cell} | ${c.program} | ${fmt(c.before)} | ${fmt(c.after)} | ${c.regression ? `**${pct}**` : pct} |`,
      );
    }
  }
  return L.join('\n') + '\n';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Small multiples: one panel per program (costliest first), one bar per cell that loaded it, length by
 * processed instructions on a shared log scale so 700 and 200,000 both read.
 */
export function verifierChartSvg(results: CellResult[], title: string): string {
  const byProgram = new Map<string, { cell: string; insns: number }[]>();
  for (const r of [...results].sort((a, b) => a.id.localeCompare(b.id))) {
    for (const p of r.programs) {
      if (!p.verifiedInsns) continue;
      if (!byProgram.has(p.name)) byProgram.set(p.name, []);
      byProgram.get(p.name)!.push({ cell: r.id, insns: p.verifiedInsns });
    }
  }
  const panels = [...byProgram].sort(
    (a, b) => Math.max(...b[1].map((x) => x.insns)) - Math.max(...a[1].map((x) => x.insns)),
  );
  const max = Math.max(10, ...panels.flatMap(([, v]) => v.map((x) => x.insns)));
  const COLS = 3,
    LABEL = 190,
    BAR = 170,
    ROW = 13,
    PAD = 12,
    W = LABEL + BAR + 70;
  const logw = (n: number) => (Math.log10(Math.max(n, 1)) / Math.log10(max)) * BAR;
  const heights = panels.map(([, v]) => 22 + v.length * ROW + PAD);
  const rows = Math.ceil(panels.length / COLS);
  const rowH = Array.from({ length: rows }, (_, i) => Math.max(0, ...heights.slice(i * COLS, i * COLS + COLS)));
  const out: string[] = [];
  let y0 = 34;
  panels.forEach(([name, v], i) => {
    const col = i % COLS;
    if (i > 0 && col === 0) y0 += rowH[i / COLS - 1]!;
    const x0 = col * W + PAD;
    out.push(`<text x="${x0}" y="${y0 + 12}" font-weight="bold">${esc(name)}</text>`);
    v.forEach((b, j) => {
      const y = y0 + 20 + j * ROW;
      out.push(`<text x="${x0 + LABEL - 4}" y="${y + 10}" text-anchor="end">${esc(b.cell)}</text>`);
      out.push(
        `<rect x="${x0 + LABEL}" y="${y + 2}" width="${logw(b.insns).toFixed(1)}" height="${ROW - 3}" fill="#4a7ab5"/>`,
      );
      out.push(`<text x="${(x0 + LABEL + logw(b.insns) + 3).toFixed(1)}" y="${y + 10}">${fmt(b.insns)}</text>`);
    });
  });
  const height = y0 + (rowH.at(-1) ?? 0) + PAD;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${COLS * W + PAD}" height="${height}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${PAD}" y="20" font-size="13" font-weight="bold">${esc(title)}</text>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
