/**
 * execlens tui under load: synthetic execs shaped like a compile's (argv, a ~40-variable environment,
 * cwd, 3 fds, each copied, as the decoder allocates them) go through the TUI's own sink, store, list and
 * screen at RATE/s for SECONDS, while the screen redraws at its frame rate in a 160x50 tmux pty.
 * Reports whether ingestion kept up (backlog), frames/s, CPU, event-loop delay (key latency), RSS over time
 * and what the history cap dropped. Decoding and assembly are measured by bench/run.ts (decode speed).
 *   node dist/bench/tui-load.js [--rate 10000] [--seconds 60] [--mode flat|tree] [--filter TEXT]
 * Results: bench/results/tui-<stamp>.json
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { ExecEvent } from '../src/events/types.js';
import { TuiSink } from '../src/output/tui-sink.js';
import { App } from '../src/tui/app.js';
import { DEFAULT_LIMITS, ExecStore } from '../src/tui/model/store.js';
import { ListView } from '../src/tui/model/view.js';
import { Screen } from '../src/tui/term/screen.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : args[i + 1]!;
};
const RATE = Number(opt('rate', '10000'));
const SECONDS = Number(opt('seconds', '60'));
const MODE = opt('mode', 'flat') as 'flat' | 'tree';
const FILTER = opt('filter', '');
const OUT = opt('out', join(ROOT, 'bench/results', `tui-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));

/** not on a terminal: run ourselves in a detached tmux window of 160x50 and wait */
function viaTmux(): void {
  const name = `execlens-tui-bench-${process.pid}`;
  const cmd = [process.execPath, fileURLToPath(import.meta.url), ...args, '--out', OUT]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(' ');
  execFileSync('tmux', ['new-session', '-d', '-s', name, '-x', '160', '-y', '50', `${cmd}; tmux wait-for -S ${name}`]);
  execFileSync('tmux', ['wait-for', name]);
  process.stdout.write(`${OUT}\n`);
}

const B = (s: string) => Buffer.from(s);
const ENV = Object.entries(process.env)
  .slice(0, 40)
  .map(([k, v]) => `${k}=${v}`);
while (ENV.length < 40) ENV.push(`VAR${ENV.length}=${'x'.repeat(40)}`);

function makeExec(i: number, pid: number): ExecEvent {
  const dir = `src/dir${i % 17}`;
  return {
    execId: BigInt(i),
    tsNs: process.hrtime.bigint(),
    enterTsNs: process.hrtime.bigint(),
    pid,
    tid: pid,
    ppid: i % 50 === 0 ? 1000 : pid - 1,
    ret: i % 997 === 0 ? -2 : 0,
    flags: 0,
    syscall: 0,
    atFd: -100,
    atFlags: 0,
    uid: 1000,
    gid: 1000,
    euid: 1000,
    egid: 1000,
    comm: B('cc1'),
    oldComm: B('cc'),
    nsPid: pid,
    nsLevel: 0,
    cgroupId: 0n,
    argvTotal: 120,
    envTotal: 3000,
    filename: B('/usr/lib/gcc/x86_64-linux-gnu/12/cc1'),
    argv: ['cc1', '-quiet', '-O2', '-Wall', '-Iinclude', '-DNDEBUG', `${dir}/file${i}.c`, '-o', `/tmp/cc${i}.s`].map(B),
    env: ENV.map(B),
    interpreter: null,
    cwd: B('/home/user/project'),
    fds: [0, 1, 2].map((fd) => ({
      fd,
      path: B('/dev/pts/3'),
      flags: 2,
      ino: 3n,
      dev: 1,
      mode: 0o20620,
      cloexec: false,
    })),
    exe: null,
    unreadable: { argv: [], env: [] },
    missingChunks: 0,
  };
}

async function main(): Promise<void> {
  // before the screen exists (terminal-kit keeps the write it finds): what the screen costs the terminal: bytes written, and time blocked writing (a TTY write is synchronous)
  let outBytes = 0;
  let writeMs = 0;
  const write = process.stdout.write.bind(process.stdout) as (c: string | Uint8Array) => boolean;
  process.stdout.write = ((c: string | Uint8Array) => {
    const t = performance.now();
    outBytes += typeof c === 'string' ? Buffer.byteLength(c) : c.length;
    const r = write(c);
    writeMs += performance.now() - t;
    return r;
  }) as typeof process.stdout.write;
  const store = new ExecStore(DEFAULT_LIMITS);
  const view = new ListView(store);
  const sink = new TuiSink(store, view);
  const screen = new Screen();
  let processed = 0;
  const app = new App({
    store,
    view,
    screen,
    pane: null,
    pty: null,
    fmt: { startNs: 0n, bootToWallNs: 0n },
    title: 'bench',
    copyFile: '/dev/null',
    stats: () => ({ execs: processed, failed: 0, lost: 0 }),
    stops: null,
  });
  view.setMode(MODE);
  if (FILTER) view.setFilter({ text: FILTER, regex: false, caseSensitive: false });
  screen.start();
  const eld = monitorEventLoopDelay({ resolution: 5 });
  eld.enable();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let frames = 0;
  let maxBacklog = 0;
  const rss: { s: number; mib: number; held: number; dropped: number }[] = [];
  const ingest = setInterval(() => {
    const due = Math.min(RATE * SECONDS, Math.floor(((performance.now() - t0) / 1000) * RATE));
    maxBacklog = Math.max(maxBacklog, due - processed);
    // as the pipeline does: a batch of items, then flush
    for (; processed < due; processed++) {
      const pid = 10000 + processed;
      if (processed % 50 !== 0)
        sink.fork({ kind: 'fork', cpu: 0, seq: 0, tsNs: 0n, parentPid: pid - 1, childPid: pid });
      sink.exec({ ev: makeExec(processed, pid), diff: null });
      if (processed % 3 === 0)
        sink.exit({ kind: 'exit', cpu: 0, seq: 0, tsNs: 0n, pid, exitCode: processed % 101 === 0 ? 256 : 0 });
    }
    sink.flush();
  }, 10);
  const draw = setInterval(() => {
    if (!sink.dirty && !app.dirty) return;
    sink.dirty = false;
    app.render();
    frames++;
  }, 50);
  const sample = setInterval(
    () =>
      rss.push({
        s: Math.round((performance.now() - t0) / 1000),
        mib: +(process.memoryUsage().rss / 2 ** 20).toFixed(0),
        held: store.size,
        dropped: store.dropped,
      }),
    5000,
  );
  await new Promise((res) => setTimeout(res, SECONDS * 1000));
  [ingest, draw, sample].forEach(clearInterval);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  screen.restore();
  const result = {
    bench: 'tui-load',
    rate: RATE,
    seconds: SECONDS,
    mode: MODE,
    filter: FILTER || null,
    size: `${screen.width}x${screen.height}`,
    execs: processed,
    expected: RATE * SECONDS,
    max_backlog: maxBacklog,
    fps: +(frames / wall).toFixed(1),
    out_kib_per_s: +(outBytes / 1024 / wall).toFixed(0),
    write_blocked_pct: +((writeMs / 1000 / wall) * 100).toFixed(1),
    cpu_pct: +(((cpu.user + cpu.system) / 1e6 / wall) * 100).toFixed(1),
    // the figure a loaded machine disturbs least: CPU time (generation, ingestion, drawing) per exec
    cpu_us_per_exec: +((cpu.user + cpu.system) / processed).toFixed(1),
    loop_delay_p99_ms: +(eld.percentile(99) / 1e6).toFixed(1),
    loop_delay_max_ms: +(eld.max / 1e6).toFixed(1),
    held: store.size,
    held_mib: +(store.heldBytes / 2 ** 20).toFixed(0),
    dropped: store.dropped,
    rss_mib_over_time: rss,
    limits: store.limits,
    node: process.version,
    load_avg_1m: +os.loadavg()[0]!.toFixed(2),
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  process.exit(0);
}

if (!process.stdout.isTTY) viaTmux();
else await main();
