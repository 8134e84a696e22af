/**
 * execlens benchmark: workload wall/CPU time under each tracer, as a ratio to
 * the untraced run, events captured vs expected (argv compared), tracer
 * start-up, peak RSS, in-kernel BPF time per exec, and userspace decode speed.
 * Modes are interleaved per repetition so machine noise hits all alike.
 *   npm run bench -- [--reps N] [--scale F] [--only storm,make-j2] [--modes execlens,bpftrace,...]
 * Results: bench/results/<stamp>.json and .md
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Assembler } from '../src/events/assemble.js';
import { readRawRecords } from '../src/events/rawfile.js';
import { formatText, toJsonRecord, type FormatOptions } from '../src/output/format.js';
import { palette } from '../src/output/color.js';
import { isExeclensProgram } from '../src/attach/registry.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const EXECLENS = join(ROOT, 'bin/execlens');

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}
const list = (v: string): string[] =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

// parsed before anything runs: --help and a bad flag answer without starting the benchmark
const opts = new Command('bench')
  .description(
    'Time workloads untraced and under each tracer (execlens, bpftrace, strace, …), interleaved per repetition; results in bench/results/.',
  )
  .option('--reps <n>', 'repetitions of every workload × mode', positive, 5)
  .option('--scale <f>', 'workload size factor (0.2: a fifth of the execs)', positive, 1)
  .addOption(
    new Option('--only <workloads>', 'comma-separated workload names (an unknown name lists them)')
      .argParser(list)
      .default([], 'all'),
  )
  .addOption(
    new Option('--modes <modes>', 'comma-separated modes, untraced always included (an unknown name lists them)')
      .argParser(list)
      .default([], 'all'),
  )
  .option('--decode-only', 'measure only the userspace decode speed (no root, no tracer) and print it as JSON')
  .showHelpAfterError()
  .parse(process.argv)
  .opts<{ reps: number; scale: number; only: string[]; modes: string[]; decodeOnly?: boolean }>();
const REPS = Math.round(opts.reps);
const SCALE = opts.scale;

interface Workload {
  name: string;
  script: string;
  /** argv we expect to see for each /bin/true exec */
  expectArgs: number;
  expected: number;
  setup?: () => void;
}

const ARG50 = Array.from({ length: 50 }, (_, i) => `a${String(i).padStart(2, '0')}_xxxxxxxxxxxxxxx`).join(' ');
const ARG1000 = Array.from({ length: 1000 }, (_, i) => `b${String(i).padStart(4, '0')}`).join(' ');
const N = Math.round(5000 * SCALE);
const NH = Math.round(200 * SCALE);
const work = mkdtempSync(join(tmpdir(), 'execlens-bench-'));

function makeProject(): void {
  const d = join(work, 'proj');
  mkdirSync(d, { recursive: true });
  const objs: string[] = [];
  for (let i = 0; i < 24; i++) {
    writeFileSync(join(d, `f${i}.c`), `int f${i}(int x){return x*${i}+1;}\n`);
    objs.push(`f${i}.o`);
  }
  writeFileSync(join(d, 'main.c'), 'int main(void){return 0;}\n');
  writeFileSync(
    join(d, 'Makefile'),
    `prog: main.o ${objs.join(' ')}\n\tcc -o $@ $^\n%.o: %.c\n\tcc -O0 -c -o $@ $<\nclean:\n\trm -f *.o prog\n`,
  );
}

const WORKLOADS: Workload[] = [
  { name: 'storm', script: `i=0; while [ $i -lt ${N} ]; do /bin/true; i=$((i+1)); done`, expectArgs: 1, expected: N },
  {
    name: 'storm50',
    script: `i=0; while [ $i -lt ${N} ]; do /bin/true ${ARG50}; i=$((i+1)); done`,
    expectArgs: 51,
    expected: N,
  },
  { name: 'xargs-P2', script: `seq ${N} | xargs -P2 -n1 /bin/true`, expectArgs: 2, expected: N },
  // one syscall after another and no exec: what a plan that runs on every syscall (raw_syscalls, and the
  // syscall tracepoints' slow path) costs a syscall-heavy program
  {
    name: 'syscalls',
    script: `dd if=/dev/zero of=/dev/null bs=1 count=${Math.round(1000000 * SCALE)} status=none`,
    expectArgs: -1,
    expected: 0,
  },
  {
    name: 'make-j2',
    script: `cd ${join(work, 'proj')} && make -s clean && make -s -j2`,
    expectArgs: -1,
    expected: 0,
    setup: makeProject,
  },
  {
    name: 'heavy',
    // 1 MiB of environment in 16 variables (one string may not exceed 128 KiB, MAX_ARG_STRLEN)
    script: `v=$(head -c 65536 /dev/zero | tr '\\0' x); for j in $(seq 16); do export BIG$j=$v; done; i=0; while [ $i -lt ${NH} ]; do /bin/true ${ARG1000}; i=$((i+1)); done`,
    expectArgs: 1001,
    expected: NH,
  },
];

interface Mode {
  name: string;
  cmd(script: string, out: string): string[];
  /** count /bin/true execs in the output whose argv has n entries */
  /** [execs of /bin/true with the whole argv (n entries), execs of /bin/true seen at all] */
  count?(out: string, n: number): [number, number];
  available(): boolean;
}

const BT_SCRIPT =
  'tracepoint:syscalls:sys_enter_execve { printf("%d %s ", pid, str(args->filename)); join(args->argv); }';

const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const MODES: Mode[] = [
  { name: 'untraced', cmd: (s) => ['sh', '-c', s], available: () => true },
  {
    name: 'execlens',
    cmd: (s, out) => [EXECLENS, 'log', '-q', '-o', out, '--', 'sh', '-c', s],
    count: (out, n) => {
      const ls = readFileSync(out, 'utf8')
        .split('\n')
        .filter((l) => l.includes(' /bin/true argv: /bin/true'));
      return [ls.filter((l) => l.split(' argv: ')[1]!.split(' cwd: ')[0]!.split(' ').length === n).length, ls.length];
    },
    available: () => true,
  },
  {
    name: 'execlens --json',
    cmd: (s, out) => [EXECLENS, 'log', '-q', '--json', '-o', out, '--', 'sh', '-c', s],
    count: (out, n) => {
      const es = readFileSync(out, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { filename?: string; argv?: string[] })
        .filter((e) => e.filename === '/bin/true');
      return [es.filter((e) => e.argv?.length === n).length, es.length];
    },
    available: () => true,
  },
  {
    // the other plan that loads here (this machine: raw_syscalls is the default, syscall tracepoints the fallback)
    name: 'execlens --attach tracepoint',
    cmd: (s, out) => [EXECLENS, 'log', '-q', '--attach', 'tracepoint', '-o', out, '--', 'sh', '-c', s],
    count: (out, n) => MODES[1]!.count!(out, n),
    available: () => true,
  },
  {
    // no syscall hook (plan lifecycle-only): failed execs are not traced, untraced tasks keep the fast syscall path
    name: 'execlens --successful-only',
    cmd: (s, out) => [EXECLENS, 'log', '-q', '--successful-only', '-o', out, '--', 'sh', '-c', s],
    count: (out, n) => MODES[1]!.count!(out, n),
    available: () => true,
  },
  {
    name: 'execlens --backend ptrace',
    cmd: (s, out) => [EXECLENS, 'log', '-q', '--backend', 'ptrace', '-o', out, '--', 'sh', '-c', s],
    count: (out, n) => MODES[1]!.count!(out, n),
    available: () => true,
  },
  {
    name: 'strace -f',
    cmd: (s, out) => [
      'strace',
      '-f',
      '-qq',
      '-v',
      '-s',
      '256',
      '-e',
      'trace=execve,execveat',
      '-o',
      out,
      'sh',
      '-c',
      s,
    ],
    count: (out, n) => {
      const ms = readFileSync(out, 'utf8')
        .split('\n')
        .map((l) => /execve\("\/bin\/true", \[(.*?)\], /.exec(l))
        .filter((m) => m !== null);
      return [ms.filter((m) => m[1]!.split('", "').length === n).length, ms.length];
    },
    available: () => has('strace'),
  },
  {
    name: 'strace -f --seccomp-bpf',
    cmd: (s, out) => [
      'strace',
      '-f',
      '-qq',
      '--seccomp-bpf',
      '-v',
      '-s',
      '256',
      '-e',
      'trace=execve,execveat',
      '-o',
      out,
      'sh',
      '-c',
      s,
    ],
    count: (out, n) => MODES.find((m) => m.name === 'strace -f')!.count!(out, n),
    available: () => has('strace'),
  },
  {
    name: 'bpftrace',
    cmd: (s, out) => {
      const f = `${out}.sh`;
      writeFileSync(f, s);
      return ['bpftrace', '-o', out, '-e', BT_SCRIPT, '-c', `/bin/sh ${f}`];
    },
    count: (out, n) => {
      const ls = readFileSync(out, 'utf8')
        .split('\n')
        .filter((l) => / \/bin\/true \/bin\/true/.test(l));
      return [ls.filter((l) => l.trim().split(/\s+/).length - 2 === n).length, ls.length];
    },
    available: () => has('bpftrace'),
  },
];

interface Sample {
  wall: number;
  cpu: number;
  rss: number;
  captured: number | null;
  seen: number | null;
  exit: number | null;
}

function runOnce(m: Mode, w: Workload): Sample {
  const out = join(work, `out-${process.pid}`);
  rmSync(out, { force: true });
  const cmd = m.cmd(w.script, out);
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', join(work, 'time'), ...cmd], {
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 << 20,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const [u, s, rss] = readFileSync(join(work, 'time'), 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  let captured: number | null = null;
  let seen: number | null = null;
  if (m.count && w.expectArgs > 0 && existsSync(out)) [captured, seen] = m.count(out, w.expectArgs);
  return { wall, cpu: u! + s!, rss: rss!, captured, seen, exit: r.status };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** in-kernel BPF ns per exec, from bpf_stats for a tracer running system-wide in the background */
async function bpfTimePerExec(
  tracer: string[],
  progFilter: (name: string) => boolean,
  w: Workload,
): Promise<number | null> {
  execFileSync('sysctl', ['-q', 'kernel.bpf_stats_enabled=1']);
  const p = spawn(tracer[0]!, tracer.slice(1), { stdio: 'ignore' });
  try {
    // ready when its programs are loaded, plus a moment for the attach
    const end = Date.now() + 30000;
    while (!hasProg(progFilter)) {
      if (Date.now() > end) throw new Error(`${tracer[0]} did not load its programs`);
      await new Promise((res) => setTimeout(res, 100));
    }
    await new Promise((res) => setTimeout(res, 500));
    const before = progStats(progFilter);
    spawnSync('sh', ['-c', w.script], { stdio: 'ignore' });
    const after = progStats(progFilter);
    return (after - before) / w.expected;
  } finally {
    p.kill('SIGINT');
    await new Promise((res) => p.on('exit', res));
    execFileSync('sysctl', ['-q', 'kernel.bpf_stats_enabled=0']);
  }
}

function hasProg(filter: (name: string) => boolean): boolean {
  const progs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as {
    name?: string;
  }[];
  return progs.some((p) => p.name !== undefined && filter(p.name));
}

function progStats(filter: (name: string) => boolean): number {
  const progs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as {
    name?: string;
    run_time_ns?: number;
  }[];
  return progs.filter((p) => p.name && filter(p.name)).reduce((a, p) => a + (p.run_time_ns ?? 0), 0);
}

/**
 * Decode throughput of the recorded fixture, one core. The records are handed over as the ring reader hands
 * them (Uint8Array views into one buffer, src/backend/ebpf/ringbuf.ts), and each format runs a warm-up pass
 * first: a trace long enough to be limited by decoding runs JIT-compiled code, which the first 20,000 execs
 * of a process do not.
 */
function decodeBench(): { eventsPerSec: Record<string, number> } {
  const files = readRawRecords(join(ROOT, 'test/fixtures/records/x86_64-tracepoint.bin'));
  const ring = new Uint8Array(files.reduce((n, r) => n + r.length + 8, 0));
  const recs: Uint8Array[] = [];
  let at = 0;
  for (const r of files) {
    ring.set(r, at);
    recs.push(ring.subarray(at, at + r.length));
    at += r.length + 8;
  }
  const o: FormatOptions = { fullEnv: false, showFds: true, showCmdline: false, startNs: 0n, bootToWallNs: 0n };
  const res: Record<string, number> = {};
  for (const fmt of ['decode only', 'text', 'json']) {
    let rate = 0;
    for (const reps of [4000, 20000]) {
      const asm = new Assembler();
      let execs = 0;
      const t0 = process.hrtime.bigint();
      let sink = 0;
      for (let rep = 0; rep < reps; rep++) {
        for (const r of recs) {
          const x = asm.push(r);
          if (x?.kind === 'exec') {
            execs++;
            if (fmt === 'text') sink += formatText({ ev: x.ev, diff: null }, o, palette(false)).length;
            else if (fmt === 'json') sink += JSON.stringify(toJsonRecord({ ev: x.ev, diff: null }, o)).length;
          }
        }
      }
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      rate = Math.round(execs / s); // the last (warm) pass is the figure
      if (sink < 0) console.log(sink);
    }
    res[fmt] = rate;
  }
  return { eventsPerSec: res };
}

/** names given to --only / --modes that match nothing: one line and exit 64, before anything runs */
function checkNames(flag: string, given: string[], known: string[]): void {
  const unknown = given.filter((n) => !known.includes(n));
  if (!unknown.length) return;
  process.stderr.write(`bench: ${flag} ${unknown.join(',')}: no such name (known: ${known.join(', ')})\n`);
  rmSync(work, { recursive: true, force: true });
  process.exit(64);
}

async function main(): Promise<void> {
  if (opts.decodeOnly) {
    process.stdout.write(`${JSON.stringify(decodeBench())}\n`);
    rmSync(work, { recursive: true, force: true });
    return;
  }
  const only = opts.only;
  const modeSel = opts.modes;
  checkNames(
    '--only',
    only,
    WORKLOADS.map((w) => w.name),
  );
  checkNames(
    '--modes',
    modeSel,
    MODES.map((m) => m.name),
  );
  const workloads = WORKLOADS.filter((w) => !only.length || only.includes(w.name));
  // untraced is every ratio's baseline
  const modes = MODES.filter(
    (m) => m.available() && (!modeSel.length || modeSel.includes(m.name) || m.name === 'untraced'),
  );
  for (const w of workloads) w.setup?.();
  const samples = new Map<string, Sample[]>();
  for (let rep = 0; rep < REPS; rep++) {
    for (const w of workloads) {
      for (const m of modes) {
        const s = runOnce(m, w);
        const k = `${w.name}\t${m.name}`;
        samples.set(k, [...(samples.get(k) ?? []), s]);
        process.stderr.write(
          `rep ${rep + 1}/${REPS} ${w.name.padEnd(9)} ${m.name.padEnd(24)} ${s.wall.toFixed(2)} s${s.captured !== null ? ` complete ${s.captured} seen ${s.seen}/${w.expected}` : ''}\n`,
        );
      }
    }
  }
  // start-up: tracer -- /bin/true vs /bin/true
  const startup: Record<string, number> = {};
  const st = (cmd: string[]) => {
    const xs: number[] = [];
    for (let i = 0; i < Math.max(3, REPS); i++) {
      const t0 = process.hrtime.bigint();
      spawnSync(cmd[0]!, cmd.slice(1), { stdio: 'ignore' });
      xs.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    return median(xs);
  };
  const base = st(['/bin/true']);
  startup.execlens = st([EXECLENS, 'log', '-q', '-o', '/dev/null', '--', '/bin/true']) - base;
  startup['execlens --attach tracepoint'] =
    st([EXECLENS, 'log', '-q', '--attach', 'tracepoint', '-o', '/dev/null', '--', '/bin/true']) - base;
  if (modes.some((m) => m.name === 'execlens --successful-only'))
    startup['execlens --successful-only'] =
      st([EXECLENS, 'log', '-q', '--successful-only', '-o', '/dev/null', '--', '/bin/true']) - base;
  if (has('bpftrace')) startup.bpftrace = st(['bpftrace', '-e', BT_SCRIPT, '-c', '/bin/true']) - base;
  if (has('strace')) startup.strace = st(['strace', '-f', '-qq', '-o', '/dev/null', '/bin/true']) - base;

  const storm50 = WORKLOADS.find((w) => w.name === 'storm50')!;
  const bpfNs: Record<string, number | null> = {};
  bpfNs.execlens = await bpfTimePerExec([EXECLENS, 'log', '-q', '-o', '/dev/null'], isExeclensProgram, storm50);
  if (has('bpftrace'))
    bpfNs.bpftrace = await bpfTimePerExec(
      ['bpftrace', '-o', '/dev/null', '-e', BT_SCRIPT],
      (n) => n.startsWith('sys_enter_execv'),
      storm50,
    ).catch(() => null);
  const decode = decodeBench();

  const rows: Record<string, unknown>[] = [];
  for (const w of workloads) {
    const b = samples.get(`${w.name}\tuntraced`)!;
    const bw = median(b.map((s) => s.wall));
    const bc = median(b.map((s) => s.cpu));
    for (const m of modes) {
      const ss = samples.get(`${w.name}\t${m.name}`)!;
      const walls = ss.map((s) => s.wall);
      rows.push({
        workload: w.name,
        mode: m.name,
        wall_median_s: median(walls),
        wall_min_s: Math.min(...walls),
        wall_max_s: Math.max(...walls),
        ratio: median(walls) / bw,
        cpu_s: median(ss.map((s) => s.cpu)),
        cpu_ratio: median(ss.map((s) => s.cpu)) / bc,
        peak_rss_mib: Math.max(...ss.map((s) => s.rss)) / 1024,
        captured: ss[0]!.captured === null ? null : Math.min(...ss.map((s) => s.captured!)),
        seen: ss[0]!.seen === null ? null : Math.min(...ss.map((s) => s.seen!)),
        expected: w.expectArgs > 0 && m.name !== 'untraced' ? w.expected : null,
      });
    }
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const meta = {
    host: hostname(),
    kernel: release(),
    date: new Date().toISOString(),
    reps: REPS,
    scale: SCALE,
    plan: planName(),
  };
  const result = { meta, rows, startup_s: startup, bpf_ns_per_exec_storm50: bpfNs, decode };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, `bench/results/${stamp}.json`), JSON.stringify(result, null, 2) + '\n');
  const md = renderMarkdown(result);
  writeFileSync(join(ROOT, `bench/results/${stamp}.md`), md);
  process.stdout.write(md);
  rmSync(work, { recursive: true, force: true });
}

function planName(): string {
  try {
    const r = JSON.parse(execFileSync(EXECLENS, ['doctor', '--json'], { encoding: 'utf8' })) as {
      chosen?: { candidate: string; lifecycle: string; loops?: string };
    };
    return r.chosen
      ? `${r.chosen.candidate}+${r.chosen.lifecycle}${r.chosen.loops === 'bpf_loop' ? '+bpf_loop' : ''}`
      : 'none';
  } catch {
    return 'unknown';
  }
}

function renderMarkdown(r: {
  meta: Record<string, unknown>;
  rows: Record<string, unknown>[];
  startup_s: Record<string, number>;
  bpf_ns_per_exec_storm50: Record<string, number | null>;
  decode: { eventsPerSec: Record<string, number> };
}): string {
  const f = (x: unknown, d = 2) => (typeof x === 'number' ? x.toFixed(d) : '–');
  const L = [
    `### Benchmark ${String(r.meta.date)} — kernel ${String(r.meta.kernel)}, plan ${String(r.meta.plan)}, ${String(r.meta.reps)} reps (median), scale ${String(r.meta.scale)}`,
    '',
    '| workload | mode | wall s (min–max) | × untraced | CPU s | CPU × | peak RSS MiB | execs seen / complete argv / expected |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const x of r.rows)
    L.push(
      `| ${String(x.workload)} | ${String(x.mode)} | ${f(x.wall_median_s)} (${f(x.wall_min_s)}–${f(x.wall_max_s)}) | ${f(x.ratio, 3)} | ${f(x.cpu_s)} | ${f(x.cpu_ratio)} | ${f(x.peak_rss_mib, 0)} | ${x.expected === null ? '–' : `${String(x.seen)} / ${String(x.captured)} / ${String(x.expected)}`} |`,
    );
  L.push(
    '',
    `Start-up (tracer -- /bin/true minus /bin/true): ${Object.entries(r.startup_s)
      .map(([k, v]) => `${k} ${v.toFixed(3)} s`)
      .join(', ')}`,
  );
  L.push(
    `In-kernel BPF time per exec, storm50 (bpf_stats): ${Object.entries(r.bpf_ns_per_exec_storm50)
      .map(([k, v]) => `${k} ${v === null ? '–' : (v / 1000).toFixed(1) + ' µs'}`)
      .join(', ')}`,
  );
  L.push(
    `Userspace decode (recorded records, events/s, one core): ${Object.entries(r.decode.eventsPerSec)
      .map(([k, v]) => `${k} ${v.toLocaleString('en')}`)
      .join(', ')}`,
    '',
  );
  return L.join('\n');
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
