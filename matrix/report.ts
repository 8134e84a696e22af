/** Parse a cell's console, JUnit and doctor output; render the reports. Pure. */
import { gunzipSync } from 'node:zlib';

export interface TestCounts {
  tests: number;
  failures: number;
  skipped: number;
}

export interface FailedTest {
  name: string;
  message: string;
}

export interface ProgramStat {
  name: string;
  /** processed instructions (prog info from 5.16, else the verifier's stats log) */
  verifiedInsns: number;
  xlatedInsns: number;
  totalStates?: number;
  peakStates?: number;
  verifyUs?: number | null;
}

export interface CellResult {
  id: string;
  kernelRelease: string | null;
  status: 'pass' | 'fail' | 'timeout' | 'boot-failure' | 'error';
  reason: string | null;
  counts: TestCounts | null;
  /** the guest tests that failed, with the first lines of their messages */
  failed?: FailedTest[];
  plan: string | null;
  programs: ProgramStat[];
  refused: { candidate: string; error: string; insns: number | null }[];
  seconds: number;
  /** QEMU accelerator the guest ran under (kvm/tcg) and why, and every QEMU start; null for the host cell */
  accel?: {
    used: string;
    reason: string;
    attempts?: {
      accel: string;
      label?: string;
      seconds: number;
      markerS: number | null;
      exitCode: number | null;
      stopped: string | null;
    }[];
  } | null;
  junit: string | null;
  doctor: unknown;
  /**
   * --coverage: the BPF lines the cell ran (llvm-cov's lcov totals of bpf/), each kernel-dependent branch's
   * entry count (src/coverage/branches.ts), the counter dumps that made it, and where its report is
   */
  coverage?: {
    lines: { hit: number; found: number };
    branches: Record<string, number | null>;
    dumps: number;
    report: string;
  } | null;
}

export const M = {
  booted: 'EXECLENS-GUEST: kernel ',
  payloadExit: 'EXECLENS-GUEST: payload exit ',
  doctorBegin: '===EXECLENS-DOCTOR-BEGIN===',
  doctorEnd: '===EXECLENS-DOCTOR-END===',
  junitBegin: '===EXECLENS-JUNIT-BEGIN===',
  junitEnd: '===EXECLENS-JUNIT-END===',
  coverageBegin: '===EXECLENS-COVERAGE-BEGIN===',
  coverageEnd: '===EXECLENS-COVERAGE-END===',
  testExit: '===EXECLENS-TEST-EXIT ',
} as const;

function between(text: string, a: string, b: string): string | null {
  const i = text.indexOf(a);
  if (i < 0) return null;
  const j = text.indexOf(b, i + a.length);
  if (j < 0) return null;
  return text.slice(i + a.length, j);
}

function unpack(b64: string | null): string | null {
  if (b64 === null) return null;
  const clean = b64.replace(/[^A-Za-z0-9+/=]/g, '');
  if (!clean) return null;
  try {
    return gunzipSync(Buffer.from(clean, 'base64')).toString('utf8');
  } catch {
    return null;
  }
}

function base64Block(b64: string | null): Buffer | null {
  const clean = (b64 ?? '').replace(/[^A-Za-z0-9+/=]/g, '');
  return clean ? Buffer.from(clean, 'base64') : null;
}

export interface ConsoleParse {
  booted: boolean;
  kernelRelease: string | null;
  payloadExit: number | null;
  testExit: number | null;
  doctor: unknown;
  junit: string | null;
  /** --coverage: the guest's counter dumps, a .tar.gz */
  coverageTar: Buffer | null;
}

export function parseConsole(text: string): ConsoleParse {
  const bootLine = text.split('\n').find((l) => l.includes(M.booted));
  const rel = bootLine ? (/kernel (\S+) booted/.exec(bootLine)?.[1] ?? null) : null;
  const pe = new RegExp(`${M.payloadExit}(\\d+)`).exec(text);
  const te = /===EXECLENS-TEST-EXIT (\d+)===/.exec(text);
  const doc = unpack(between(text, M.doctorBegin, M.doctorEnd));
  let doctor: unknown = null;
  try {
    doctor = doc ? JSON.parse(doc) : null;
  } catch {
    doctor = null;
  }
  return {
    booted: bootLine !== undefined,
    kernelRelease: rel,
    payloadExit: pe ? Number(pe[1]) : null,
    testExit: te ? Number(te[1]) : null,
    doctor,
    junit: unpack(between(text, M.junitBegin, M.junitEnd)),
    coverageTar: base64Block(between(text, M.coverageBegin, M.coverageEnd)),
  };
}

/**
 * Test counts from the TAP the payload also prints on the console, for a cell
 * whose JUnit never came (killed, timed out): the tests that finished.
 */
export function tapCounts(text: string): TestCounts | null {
  const lines = text.split('\n').filter((l) => /^(not )?ok \d+ - /.test(l));
  if (!lines.length) return null;
  const failures = lines.filter((l) => l.startsWith('not ok')).length;
  const skipped = lines.filter((l) => !l.startsWith('not ok') && /# SKIP\b/.test(l)).length;
  return { tests: lines.length, failures, skipped };
}

/** One <testcase> element; attribute values may hold a bare '>' (node's reporter leaves it unescaped) */
const TESTCASE = /<testcase\b(?:"[^"]*"|[^>"])*?(\/>|>[\s\S]*?<\/testcase>)/g;

/** Test counts from JUnit XML (node's junit reporter or any other) */
export function junitCounts(xml: string): TestCounts {
  const cases = xml.match(TESTCASE) ?? [];
  let failures = 0;
  let skipped = 0;
  for (const c of cases) {
    if (/<failure\b|<error\b/.test(c)) failures++;
    else if (/<skipped\b/.test(c)) skipped++;
  }
  return { tests: cases.length, failures, skipped };
}

function unescapeXml(s: string): string {
  return s.replace(
    /&(lt|gt|quot|apos|amp);/g,
    (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!,
  );
}

/**
 * The failed test cases of a JUnit document: name and the first lines of the
 * failure (node's reporter puts the whole error with its stack in the body).
 */
export function junitFailures(xml: string, maxChars = 300): FailedTest[] {
  const out: FailedTest[] = [];
  for (const c of xml.match(TESTCASE) ?? []) {
    const f = /<(failure|error)\b((?:"[^"]*"|[^>"])*?)(\/>|>([\s\S]*?)<\/\1>)/.exec(c);
    if (!f) continue;
    const name = unescapeXml(/\bname="([^"]*)"/.exec(c)?.[1] ?? '?');
    const body = unescapeXml(f[4] ?? '');
    const lines = body
      .replace(/^\s*\[?Error \[ERR_TEST_FAILURE\]: /, '')
      .split('\n')
      .map((l) => l.trim());
    const end = lines.findIndex((l) => l.startsWith('at ') || l.startsWith('] {'));
    let message = (end < 0 ? lines : lines.slice(0, end)).filter(Boolean).join(' / ');
    if (!message) message = unescapeXml(/\bmessage="([^"]*)"/.exec(f[2] ?? '')?.[1] ?? '');
    out.push({ name, message: message.length > maxChars ? `${message.slice(0, maxChars - 1)}…` : message });
  }
  return out;
}

/** The failed tests of a TAP stream (a cell cut short before its JUnit came): names only. */
export function tapFailures(text: string): FailedTest[] {
  return text
    .split('\n')
    .map((l) => /^not ok \d+ - (.*?)(?: # (?:SKIP|TODO)\b.*)?$/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined)
    .map((name) => ({ name, message: '' }));
}

/** Merge several JUnit documents into one <testsuites>, one <testsuite> per cell. */
export function mergeJunit(
  cells: { id: string; junit: string | null; status: string; reason: string | null }[],
): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
  const parts = cells.map((c) => {
    const inner = c.junit ? (c.junit.match(TESTCASE) ?? []).join('\n') : '';
    const cellCase =
      c.status === 'pass'
        ? ''
        : `<testcase name="cell ${esc(c.id)}" classname="matrix"><failure message="${esc(c.reason ?? c.status)}"/></testcase>`;
    const counts = c.junit ? junitCounts(c.junit) : { tests: 0, failures: 0, skipped: 0 };
    return `  <testsuite name="${esc(c.id)}" tests="${counts.tests + (cellCase ? 1 : 0)}" failures="${counts.failures + (cellCase ? 1 : 0)}" skipped="${counts.skipped}">\n${inner}\n${cellCase}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n${parts.join('\n')}\n</testsuites>\n`;
}

interface DoctorLike {
  chosen?: { candidate: string; lifecycle: string; loops?: string; sleepable?: boolean } | null;
  programs?: { name: string; verifiedInsns: number; xlatedInsns: number }[];
  attempts?: { candidate: string; ok: boolean; error?: string; log?: string[] }[];
  features?: { release?: string };
  verifier?: Record<
    string,
    { processedInsns: number; totalStates: number; peakStates: number; verifyUs: number | null }
  > | null;
}

export function planOf(doctor: unknown): {
  plan: string | null;
  programs: ProgramStat[];
  refused: CellResult['refused'];
} {
  const d = (doctor ?? {}) as DoctorLike;
  const plan = d.chosen
    ? `${d.chosen.candidate}+${d.chosen.lifecycle}${d.chosen.loops === 'bpf_loop' ? '+bpf_loop' : ''}`
    : null;
  const programs = (d.programs ?? []).map((p): ProgramStat => {
    const v = d.verifier?.[p.name];
    return v
      ? {
          name: p.name,
          verifiedInsns: p.verifiedInsns || v.processedInsns,
          xlatedInsns: p.xlatedInsns,
          totalStates: v.totalStates,
          peakStates: v.peakStates,
          verifyUs: v.verifyUs,
        }
      : { name: p.name, verifiedInsns: p.verifiedInsns, xlatedInsns: p.xlatedInsns };
  });
  const refused = (d.attempts ?? [])
    .filter((a) => !a.ok)
    .map((a) => {
      const m = (a.log ?? []).map((l) => /processed (\d+) insns/.exec(l)).find((x) => x);
      return { candidate: a.candidate, error: a.error ?? '?', insns: m ? Number(m[1]) : null };
    });
  return { plan, programs, refused };
}

/** Markdown: rows kernel × arch, columns clang versions */
export function renderSummary(results: CellResult[]): string {
  const rows = new Map<string, Map<number, CellResult>>();
  const clangs = new Set<number>();
  for (const r of results) {
    const [k, a, c] = r.id.split('/') as [string, string, string];
    const clang = Number(c.replace('clang', ''));
    clangs.add(clang);
    const key = `${k} ${a}`;
    if (!rows.has(key)) rows.set(key, new Map());
    rows.get(key)!.set(clang, r);
  }
  const cs = [...clangs].sort((a, b) => a - b);
  const L = [
    '| kernel × arch | release | ' + cs.map((c) => `clang ${c}`).join(' | ') + ' |',
    '|---|---|' + cs.map(() => '---|').join(''),
  ];
  for (const [key, m] of rows) {
    const rel = [...m.values()].find((r) => r.kernelRelease)?.kernelRelease ?? '?';
    const cells = cs.map((c) => {
      const r = m.get(c);
      if (!r) return '';
      const top = r.programs.length ? r.programs.reduce((a, b) => (b.verifiedInsns > a.verifiedInsns ? b : a)) : null;
      const maxInsns =
        top && top.verifiedInsns > 0
          ? `max ${top.verifiedInsns.toLocaleString('en')} insns (${top.name}${top.totalStates !== undefined ? `, ${top.totalStates.toLocaleString('en')} states` : ''})`
          : null;
      const counts = r.counts
        ? `${r.counts.tests - r.counts.failures - r.counts.skipped}✓ ${r.counts.failures}✗ ${r.counts.skipped}⊘`
        : '';
      const head = r.status === 'pass' ? '**pass**' : `**${r.status.toUpperCase()}**`;
      return [
        head,
        counts,
        r.plan ?? '',
        maxInsns ?? '',
        r.status !== 'pass' && r.reason ? r.reason.slice(0, 80) : '',
        `${Math.round(r.seconds)} s${r.accel ? ` (${r.accel.used})` : ''}`,
      ]
        .filter(Boolean)
        .join('<br>');
    });
    L.push(`| ${key} | ${rel} | ${cells.join(' | ')} |`);
  }
  const failed = results.filter((r) => r.failed?.length);
  if (failed.length) {
    L.push('', 'Failed tests:', '');
    for (const r of failed)
      for (const f of r.failed!)
        L.push(`- ${r.id}: ${f.name.replace(/\|/g, '\\|')}${f.message ? ` — ${f.message}` : ''}`);
  }
  return L.join('\n') + '\n';
}
