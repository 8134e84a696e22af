/**
 * `execlens log`: load the BPF plan, run the command (or trace the whole
 * system), stream formatted events, and end with a summary. Returns the exit
 * code: the command's (128+signal if killed) or execlens's own.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { bootTimeNs } from '../backend/ebpf/libbpf.js';
import { Assembler } from '../events/assemble.js';
import { ProcessTree } from '../events/tree.js';
import { EXIT, ExeclensError } from '../exitcodes.js';
import { palette, useColor, type ColorMode } from '../output/color.js';
import { formatText, toJsonRecord, type FormatOptions } from '../output/format.js';
import type { Overrides } from '../plan/plan.js';
import { bringUp, refusalLine } from '../backend/ebpf/bringup.js';
import { checkPidNamespace, checkPrivileges, missingCapabilities, readPidNamespace, resolveCommand } from '../backend/preflight.js';
import { EbpfSource } from '../backend/ebpf/source.js';
import { PtraceSource } from '../backend/ptrace/source.js';
import type { CommandSpec, TraceSource } from '../backend/source.js';
import { commandBytes, envValue, ownCwd, ownEnvironment } from '../backend/execspec.js';
import { probeKernel, readCapEff } from '../kernel/features.js';
import os from 'node:os';

export interface LogOptions {
  command: string[];
  json: boolean;
  output: string | null;
  fullEnv: boolean;
  showFds: boolean;
  showCmdline: boolean;
  color: ColorMode;
  user: string | null;
  overrides: Overrides;
  ringMiB: number;
  quiet: boolean;
  verbose: boolean;
  /** ebpf (default), ptrace, or auto: eBPF where it can load, else ptrace */
  backend: 'ebpf' | 'ptrace' | 'auto';
  /** also append every raw ring record (u32 length + bytes) to this file: fixtures, decode benchmark */
  recordRaw?: string | null;
}

export interface Summary {
  execs: number;
  failed: number;
  processes: number;
  /** execs traced after the output's reader went away (EPIPE), so not printed */
  unprinted?: number;
  lostRecords: number;
  ringDrops: { exec: number; chunk: number; other: number };
  incompleteExecs: number;
  orphanChunks: number;
  malformed: number;
  truncated: { argv: number; env: number };
  readFaults: number;
  /** program runs the kernel skipped, by program (see SourceCounters.programMisses) */
  programMisses: Record<string, number>;
  untrackedChildren: number;
  stashFull: number;
  durationS: number;
  plan: string;
  exitCode: number | null;
  exitSignal: string | null;
  /** CPU seconds used by execlens itself (user + system) */
  tracerCpuS: number;
  /** per-program run time, when kernel.bpf_stats_enabled=1 */
  bpf: { name: string; runTimeNs: number; runCnt: number }[];
}

export interface Writer {
  /** write formatted text holding `items` events */
  write(s: string, items?: number): void;
  close(): void;
  /** the reader went away (EPIPE: `execlens log ... | head`): nothing more can be printed */
  readonly closed: boolean;
  /** events handed to write() or dropped() that never reached the reader */
  readonly unprinted: number;
  /** events not formatted because the reader is gone */
  dropped(items: number): void;
}

/**
 * Output to a file, or to stdout. When stdout's reader goes away (EPIPE), the
 * writer says so instead of crashing: the run goes on to the command's end
 * (its exit code is what `log` returns) and the summary counts what was not printed.
 */
export function makeWriter(path: string | null, stdout: NodeJS.WritableStream = process.stdout): Writer {
  if (path) {
    const fd = openSync(path, 'w');
    return { write: (s) => void writeSync(fd, s), close: () => closeSync(fd), closed: false, unprinted: 0, dropped: () => undefined };
  }
  let closed = false;
  let unprinted = 0;
  const onError = (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    closed = true;
  };
  stdout.on('error', onError);
  return {
    write: (s, items = 0) => {
      if (closed) {
        unprinted += items;
        return;
      }
      // the error of a write to a closed pipe comes in its callback (and as an 'error' event)
      stdout.write(s, (e) => {
        if (e) unprinted += items;
      });
    },
    dropped: (items) => {
      unprinted += items;
    },
    close: () => void stdout.off('error', onError),
    get closed() {
      return closed;
    },
    get unprinted() {
      return unprinted;
    },
  };
}

/** --user NAME|UID -> uid/gid from /etc/passwd; default: the sudo caller, else ourselves */
export function resolveUser(user: string | null, env: NodeJS.ProcessEnv): { uid: number; gid: number } | null {
  if (user === null) {
    if (process.geteuid?.() === 0 && env.SUDO_UID && env.SUDO_GID) return { uid: Number(env.SUDO_UID), gid: Number(env.SUDO_GID) };
    return null;
  }
  const lines = readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const l of lines) {
    const f = l.split(':');
    if (f[0] === user || f[2] === user) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  if (/^\d+$/.test(user)) return { uid: Number(user), gid: Number(user) };
  throw new ExeclensError(`--user ${user}: no such user`, EXIT.USAGE);
}

function ringBytesFor(mib: number): number {
  if (!Number.isInteger(mib) || mib < 1 || mib > 1024 || (mib & (mib - 1)) !== 0)
    throw new ExeclensError(`--ring-size ${mib}: must be a power of two between 1 and 1024 (MiB)`, EXIT.USAGE);
  return mib << 20;
}

/** SIGINT/SIGTERM/SIGHUP handling, installed before anything is loaded so an early Ctrl-C still detaches cleanly. */
class StopSignals {
  signal: NodeJS.Signals | null = null;
  wake: (() => void) | null = null;
  private readonly on = (sig: NodeJS.Signals) => {
    this.signal = sig;
    this.wake?.();
  };
  install(): void {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, this.on);
  }
  remove(): void {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, this.on);
  }
}

export async function runLog(o: LogOptions): Promise<number> {
  const ringBytes = ringBytesFor(o.ringMiB);
  const stop = new StopSignals();
  stop.install();
  try {
    return await runLogInner(o, ringBytes, stop);
  } finally {
    stop.remove();
  }
}

async function runLogInner(o: LogOptions, ringBytes: number, stop: StopSignals): Promise<number> {
  const systemWide = o.command.length === 0;
  const err = (s: string) => process.stderr.write(`execlens: ${s}\n`);
  let backend = o.backend;
  if (backend === 'ptrace' && systemWide) throw new ExeclensError('the ptrace backend traces a command: give one after --, or use --backend ebpf for system-wide tracing', EXIT.USAGE);
  if (backend === 'auto' && !systemWide && missingCapabilities({ euid: process.geteuid?.() ?? -1, capEff: readCapEff() }).length) {
    backend = 'ptrace';
    if (o.verbose) err('backend: ptrace (auto: no privileges for BPF)');
  }
  // the command's argv and env as the bytes execlens got (Node's strings are lossy: execspec.ts)
  const argv = commandBytes(o.command);
  const env = ownEnvironment();
  const cmdPath = systemWide ? null : resolveCommand(argv[0]!, envValue(env, 'PATH'));
  const creds = systemWide ? null : resolveUser(o.user, process.env);
  let source: TraceSource | undefined;
  let ncpu = 1;
  if (backend === 'ptrace') {
    source = new PtraceSource(process.env.EXECLENS_PTRACE_NO_SECCOMP !== '1');
  } else {
    const features = probeKernel();
    ncpu = features.possibleCpus;
    checkPrivileges(features);
    if (!systemWide) checkPidNamespace(readPidNamespace());
    const up = bringUp({ features, overrides: o.overrides, filter: !systemWide, captureEnv: true, captureFds: o.showFds || o.json, ringBytes, blockChunks: 64, refusals: 'use' });
    if (!up.tracer) {
      if (backend === 'auto' && !systemWide) {
        err(`BPF refused (${refusalLine(up)}); falling back to ptrace`);
        source = new PtraceSource(true);
      } else throw new ExeclensError(refusalLine(up), up.plan.fatal ? EXIT.KERNEL_UNSUPPORTED : EXIT.BPF_REFUSED);
    } else {
      const tracer = up.tracer;
      if (o.verbose) {
        for (const a of up.attempts) err(`attempt ${a.candidate}/${a.lifecycle}${a.loops ? `/${a.loops}` : ''}: ${a.ok ? 'ok' : `${a.cached ? `skipped, refused earlier this boot (${a.cached}; 'execlens doctor' tries again): ` : ''}${a.stage} failed: ${a.error ?? ''}${a.program ? ` (${a.program})` : ''}`}`);
        err(`plan: ${tracer.candidate.id} + ${tracer.lifecycle}, ${tracer.loops} loops (${tracer.candidate.why})`);
        for (const b of tracer.candidate.blind) err(`blind spot: ${b}`);
      }
      try {
        source = new EbpfSource(tracer, ringBytes, ncpu);
      } catch (e) {
        tracer.close();
        throw e;
      }
    }
  }
  let writer: Writer | undefined;
  try {
    writer = makeWriter(o.output);
    // loading is synchronous: a signal that came meanwhile is delivered now
    await new Promise<void>((res) => setImmediate(res));
    if (stop.signal) {
      process.stderr.write(`execlens: stopped by ${stop.signal} before tracing started\n`);
      return 128 + (os.constants.signals[stop.signal] ?? 2);
    }
    return await traceLoop(o, source, writer, cmdPath === null ? null : { path: cmdPath, argv, env, creds }, env, stop);
  } finally {
    await source.close();
    writer?.close();
  }
}

async function traceLoop(
  o: LogOptions,
  source: TraceSource,
  writer: Writer,
  cmd: CommandSpec | null,
  envList: Buffer[],
  stop: StopSignals,
): Promise<number> {
  const systemWide = cmd === null;
  const startNs = bootTimeNs();
  const fmt: FormatOptions = {
    fullEnv: o.fullEnv,
    showFds: o.showFds,
    showCmdline: o.showCmdline,
    startNs,
    bootToWallNs: BigInt(Date.now()) * 1000000n - startNs,
  };
  const pal = palette(!o.json && useColor(o.color, o.output ? false : process.stdout.isTTY === true, process.env));
  const asm = new Assembler();
  const tree = new ProcessTree();
  const counts = { execs: 0, failed: 0, processes: 0 };
  let out: string[] = [];

  const rawFd = o.recordRaw ? openSync(o.recordRaw, 'w') : null;
  const onRecord = (rec: Uint8Array) => {
    if (rawFd !== null) {
      const len = Buffer.alloc(4);
      len.writeUInt32LE(rec.byteLength);
      writeSync(rawFd, len);
      writeSync(rawFd, rec);
    }
    const item = asm.push(rec);
    if (!item) return;
    if (item.kind === 'fork') {
      tree.onFork(item.parentPid, item.childPid);
      counts.processes++;
    } else if (item.kind === 'exit') {
      tree.onExit(item.pid);
    } else {
      const ev = item.ev;
      const { diff } = tree.onExec(ev);
      counts.execs++;
      if (ev.ret !== 0) counts.failed++;
      const ctx = { ev, diff };
      if (writer.closed) {
        writer.dropped(1);
        return;
      }
      out.push(o.json ? JSON.stringify(toJsonRecord(ctx, fmt)) + '\n' : formatText(ctx, fmt, pal));
    }
  };
  const drain = (): boolean => {
    const n = source.drain(onRecord, 8 << 20);
    if (out.length) {
      writer.write(out.join(''), out.length);
      out = [];
    }
    return n > 0;
  };

  let childExit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let waitForTree = true;

  if (!systemWide) {
    const started = source.start(cmd);
    // the diff baseline: the environment the command was given, which is ours
    tree.addRoot(started.rootPid, envList, ownCwd());
    if (started.unreportedChild !== undefined) {
      tree.onFork(started.rootPid, started.unreportedChild);
      counts.processes++;
    }
    waitForTree = started.waitForTree;
    started.child.on(started.doneEvent, (code: number | null, signal: NodeJS.Signals | null) => {
      childExit = { code, signal };
      stop.wake?.();
    });
    started.child.on('error', (e) => {
      childExit = { code: EXIT.NOT_FOUND, signal: null };
      process.stderr.write(`execlens: ${o.command[0]}: ${e.message}\n`);
      stop.wake?.();
    });
  } else {
    tree.addRoot(process.pid, envList, ownCwd());
    if (!o.quiet) process.stderr.write('execlens: tracing every exec on the system; Ctrl-C to stop\n');
  }

  // Drain until the command and every process it started are gone (as strace -f),
  // or a signal asks us to stop. Records are polled: no wakeup per event.
  let lastLiveCheck = 0;
  for (;;) {
    const got = drain();
    if (stop.signal) break;
    if (childExit) {
      if (!waitForTree || tree.liveCount === 0) break;
      const now = Date.now();
      if (now - lastLiveCheck > 200) {
        lastLiveCheck = now;
        pruneDead(tree);
      }
    }
    if (!got) {
      await new Promise<void>((res) => {
        stop.wake = res;
        setTimeout(res, 10);
      });
      stop.wake = null;
    } else {
      await new Promise<void>((res) => setImmediate(res));
    }
  }
  // final drain: records committed before we stopped
  while (drain()) {
    /* empty */
  }
  if (rawFd !== null) closeSync(rawFd);
  // a write to a closed pipe reports its error on a later tick: count it before the summary
  await new Promise<void>((res) => setImmediate(res));
  const stopSignal = stop.signal;

  const st = asm.finish();
  const k = source.counters();
  const exit = childExit as { code: number | null; signal: NodeJS.Signals | null } | null;
  const summary: Summary = {
    execs: counts.execs,
    failed: counts.failed,
    processes: counts.processes,
    unprinted: writer.unprinted,
    lostRecords: st.seqGaps,
    ringDrops: k.ringDrops,
    incompleteExecs: st.incompleteExecs,
    orphanChunks: st.orphanExecs,
    malformed: st.malformed,
    truncated: k.truncated,
    readFaults: k.readFaults,
    programMisses: k.programMisses,
    untrackedChildren: k.untrackedChildren,
    stashFull: k.stashFull,
    durationS: Number(bootTimeNs() - startNs) / 1e9,
    plan: source.plan,
    exitCode: exit?.code ?? null,
    exitSignal: exit?.signal ?? null,
    tracerCpuS: (() => {
      const c = process.cpuUsage();
      return (c.user + c.system) / 1e6;
    })(),
    bpf: source.bpfStats(),
  };
  if (o.json) writer.write(JSON.stringify({ type: 'summary', schema: 1, ...summary, stopped_by: stopSignal }) + '\n');
  // JSON to stdout carries its own summary record; otherwise (and always when
  // something was lost) a line on stderr says how the run went
  if (!o.quiet && (!o.json || o.output !== null || lostTotal(summary) > 0 || writer.closed)) process.stderr.write(summaryLine(summary, stopSignal));

  if (stopSignal) return 128 + (os.constants.signals[stopSignal] ?? 2);
  if (!exit) return EXIT.OK;
  if (exit.signal) return 128 + (os.constants.signals[exit.signal] ?? 0);
  return exit.code ?? EXIT.SOFTWARE;
}

function pruneDead(tree: ProcessTree): void {
  for (const pid of tree.livePids()) {
    try {
      process.kill(pid, 0);
    } catch {
      tree.onExit(pid);
    }
  }
}

export function lostTotal(s: Summary): number {
  return s.lostRecords + ringDropped(s) + missedRuns(s);
}

function ringDropped(s: Pick<Summary, 'ringDrops'>): number {
  return s.ringDrops.exec + s.ringDrops.chunk + s.ringDrops.other;
}

/** program runs the kernel skipped: each one may be a lost exec, fork or exit */
export function missedRuns(s: { programMisses?: Record<string, number> }): number {
  return Object.values(s.programMisses ?? {}).reduce((a, b) => a + b, 0);
}

export function summaryLine(s: Summary, stopped: NodeJS.Signals | null): string {
  const lost = lostTotal(s);
  const parts = [
    `${s.execs} exec${s.execs === 1 ? '' : 's'} (${s.failed} failed)`,
    `${s.processes} processes`,
    `${s.durationS.toFixed(2)} s`,
    `plan ${s.plan}`,
    lost ? `LOST ${s.lostRecords} records (ring drops: exec ${s.ringDrops.exec}, chunk ${s.ringDrops.chunk}, other ${s.ringDrops.other})` : 'lost 0',
    ...(missedRuns(s) ? [`kernel skipped ${missedRuns(s)} program runs (${Object.entries(s.programMisses).map(([p, n]) => `${p} ${n}`).join(', ')})`] : []),
    ...(ringDropped(s) > 0 ? ['the ring buffer filled up: a larger --ring-size (MiB, default 32) holds more'] : []),
  ];
  if (s.incompleteExecs) parts.push(`${s.incompleteExecs} execs incomplete`);
  if (s.truncated.argv || s.truncated.env) parts.push(`truncated: argv ${s.truncated.argv}, env ${s.truncated.env}`);
  if (s.readFaults) parts.push(`${s.readFaults} read faults`);
  if (s.untrackedChildren) parts.push(`${s.untrackedChildren} children not followed (map full)`);
  if (s.malformed) parts.push(`${s.malformed} malformed records`);
  if (s.unprinted) parts.push(`output closed: ${s.unprinted} execs not printed`);
  if (stopped) parts.push(`stopped by ${stopped}`);
  return `execlens: ${parts.join(', ')}\n`;
}
