// Renders a live exec list while synthetic execs arrive at RATE/s for SECONDS, with one renderer:
//   node run.mjs ink|termkit|raw [--rate 10000] [--seconds 60] [--fps 20] [--out result.json]
// Run it on a pty (stdout must be a TTY), e.g.:
//   script -qec "stty rows 50 cols 160; node run.mjs ink --out ink.json" /dev/null >/dev/null
// Reports whether ingestion kept up (backlog), achieved frames/s, CPU per frame, event-loop delay, peak RSS.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const lib = args[0];
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : args[i + 1];
};
const RATE = Number(opt('rate', 10000));
const SECONDS = Number(opt('seconds', 60));
const FPS = Number(opt('fps', 20));
const OUT = opt('out', null);
/** the history cap of the view model: a ring of this many rows */
const CAP = 100000;

const W = process.stdout.columns || 160;
const H = (process.stdout.rows || 50) - 1;

// synthetic execs shaped like a compile: cc with a dozen flags and a file
const names = ['cc', 'as', 'ld', 'sh', 'make', 'collect2', 'cc1'];
let nextPid = 1000;
function makeExec(i) {
  const pid = nextPid++;
  const fn = `/usr/bin/${names[i % names.length]}`;
  const argv = [names[i % names.length], '-O2', '-Wall', '-c', '-o', `obj/file${i}.o`, `src/dir${i % 17}/file${i}.c`, '-Iinclude', '-DNDEBUG'];
  return { t: Date.now(), pid, ppid: pid - 1, ok: i % 97 !== 0, fn, argv };
}
const ring = new Array(CAP);
let total = 0;
function push(x) {
  ring[total % CAP] = x;
  total++;
}
function lastRows(n) {
  const out = [];
  for (let i = Math.max(0, total - n); i < total; i++) out.push(ring[i % CAP]);
  return out;
}
const clock = (t) => new Date(t).toISOString().slice(11, 23);

// --- renderers: each gets the visible rows and a status line, once per frame ---
async function inkRenderer() {
  const React = (await import('react')).default;
  const { render, Box, Text } = await import('ink');
  const h = React.createElement;
  const Row = ({ r }) =>
    h(Text, { wrap: 'truncate' },
      h(Text, { dimColor: true }, clock(r.t)), ' ', h(Text, { bold: true }, String(r.pid)), h(Text, { dimColor: true }, `<${r.ppid}>`), ' ',
      r.ok ? h(Text, { color: 'green' }, 'ok') : h(Text, { color: 'red' }, 'ENOENT'), ' ',
      h(Text, { color: 'yellow' }, r.fn), ' ', r.argv.join(' '));
  const App = ({ rows, status }) =>
    h(Box, { flexDirection: 'column', width: W, height: H + 1 },
      ...rows.map((r, i) => h(Row, { key: i, r })), h(Text, { inverse: true, wrap: 'truncate' }, status));
  let inst = null;
  return {
    frame(rows, status) {
      const el = h(App, { rows, status });
      if (!inst) inst = render(el, { patchConsole: false, exitOnCtrlC: false });
      else inst.rerender(el);
    },
    end() {
      inst?.unmount();
    },
  };
}

async function termkitRenderer() {
  const tk = (await import('terminal-kit')).default;
  const term = tk.terminal;
  const sb = new tk.ScreenBuffer({ dst: term, width: W, height: H + 1 });
  term.fullscreen(true);
  return {
    frame(rows, status) {
      sb.fill({ char: ' ', attr: {} });
      rows.forEach((r, y) => {
        sb.moveTo(0, y);
        sb.put({ attr: { dim: true } }, clock(r.t));
        sb.put({ attr: {} }, ' ');
        sb.put({ attr: { bold: true } }, String(r.pid));
        sb.put({ attr: { dim: true } }, `<${r.ppid}>`);
        sb.put({ attr: {} }, ' ');
        sb.put({ attr: { color: r.ok ? 'green' : 'red' } }, r.ok ? 'ok' : 'ENOENT');
        sb.put({ attr: {} }, ' ');
        sb.put({ attr: { color: 'yellow' } }, r.fn);
        sb.put({ attr: {} }, ' ' + r.argv.join(' '));
      });
      sb.moveTo(0, H);
      sb.put({ attr: { inverse: true } }, status.padEnd(W));
      sb.draw({ delta: true });
    },
    end() {
      term.fullscreen(false);
    },
  };
}

/** the floor: whole lines with SGR codes, rewritten only where they changed */
async function rawRenderer() {
  const prev = [];
  const sgr = (c, s) => `\x1b[${c}m${s}\x1b[0m`;
  process.stdout.write('\x1b[?1049h\x1b[?25l');
  return {
    frame(rows, status) {
      const lines = rows.map((r) => `${sgr(2, clock(r.t))} ${sgr(1, r.pid)}${sgr(2, `<${r.ppid}>`)} ${r.ok ? sgr(32, 'ok') : sgr(31, 'ENOENT')} ${sgr(33, r.fn)} ${r.argv.join(' ')}`.slice(0, W + 60));
      lines.push(sgr(7, status.padEnd(W)));
      let out = '';
      lines.forEach((l, y) => {
        if (prev[y] !== l) out += `\x1b[${y + 1};1H${l}\x1b[K`;
        prev[y] = l;
      });
      if (out) process.stdout.write(out);
    },
    end() {
      process.stdout.write('\x1b[?25h\x1b[?1049l');
    },
  };
}

const renderers = { ink: inkRenderer, termkit: termkitRenderer, raw: rawRenderer };
if (!renderers[lib]) {
  process.stderr.write(`usage: node run.mjs ${Object.keys(renderers).join('|')} [--rate N] [--seconds N] [--fps N] [--out FILE]\n`);
  process.exit(64);
}
// before the renderer exists: terminal-kit keeps the write function it finds
let bytesOut = 0;
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  bytesOut += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
  return write(chunk, ...rest);
};

const r = await renderers[lib]();
const eld = monitorEventLoopDelay({ resolution: 5 });
eld.enable();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
let frames = 0;
let frameMs = 0;
let maxFrameMs = 0;
let maxBacklog = 0;
let peakRss = 0;
const ingest = setInterval(() => {
  const due = Math.min(RATE * SECONDS, Math.floor(((performance.now() - t0) / 1000) * RATE));
  maxBacklog = Math.max(maxBacklog, due - total);
  while (total < due) push(makeExec(total));
}, 10);
const draw = setInterval(() => {
  const s = performance.now();
  r.frame(lastRows(H), ` ${total} execs  lost 0  frame ${frames}  follow`);
  const d = performance.now() - s;
  frames++;
  frameMs += d;
  maxFrameMs = Math.max(maxFrameMs, d);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 1000 / FPS);
await new Promise((res) => setTimeout(res, SECONDS * 1000));
clearInterval(ingest);
clearInterval(draw);
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
r.end();
eld.disable();
const result = {
  lib, rate: RATE, seconds: SECONDS, fps_target: FPS, size: `${W}x${H + 1}`, execs: total, expected: RATE * SECONDS,
  max_backlog: maxBacklog, frames, fps: +(frames / wall).toFixed(1), frame_ms_avg: +(frameMs / frames).toFixed(2),
  frame_ms_max: +maxFrameMs.toFixed(1), cpu_pct: +(((cpu.user + cpu.system) / 1e6 / wall) * 100).toFixed(1),
  loop_delay_p99_ms: +(eld.percentile(99) / 1e6).toFixed(1), loop_delay_max_ms: +(eld.max / 1e6).toFixed(1),
  peak_rss_mib: +(peakRss / 2 ** 20).toFixed(1), out_kib_per_s: +(bytesOut / 1024 / wall).toFixed(0), node: process.version,
  load_avg_1m: +(await import('node:os')).loadavg()[0].toFixed(2),
};
if (OUT) writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
process.exit(0);
