/**
 * Trial-load the plan's candidates in order. Each attempt opens the object
 * afresh, enables only the chosen programs, writes the read-only config,
 * loads and attaches. A refusal is recorded (stage, errno, program, libbpf
 * and verifier log head) and the next candidate is tried.
 */
import { randomInt } from 'node:crypto';
import { bpfObjectFile } from '../../paths.js';
import { CONFIG } from '../../events/layout.js';
import type { Candidate, HookSpec, LifecycleKind, LoadPlan, LoopKind } from '../../plan/plan.js';
import { LIFECYCLE_PROGS, lifecycleTarget } from '../../attach/lifecycle.js';
import { methodByKind, methodHint } from '../../attach/registry.js';
import { LOOP_SUFFIX, walkPlan, type Attempt } from './walk.js';

export { LOOP_SUFFIX, logicalProgram, walkPlan, type Attempt } from './walk.js';
import { errno, libbpf, onLibbpfPrint, view, type Ptr } from './libbpf.js';
import { coverageDir, coverageObjectPath, dumpCounters } from './coverage.js';

export interface TracerConfig {
  filter: boolean;
  sleepable: boolean;
  blockChunks: number;
  captureEnv: boolean;
  captureFds: boolean;
  /** scratch buffers per CPU (LoadPlan.scratchSlots) */
  scratchSlots: number;
  /** --uid: copy only execs of this real uid (bpf/lib/select.bpf.h) */
  uidOnly?: number;
  /** --cgroup: only execs in this cgroup v2 (its id: the directory's inode; its depth, the root's 0) or below */
  cgroup?: { id: bigint; level: number };
}

/** A human reading of common refusals: the attach method's own, else what any method's refusal may mean. */
export function refusalHint(a: Pick<Attempt, 'candidate' | 'stage' | 'errno'>): string | undefined {
  const own = methodHint(a);
  if (own) return own;
  if (a.stage === 'load' && a.errno === 7)
    return 'verifier gave up (E2BIG): program too complex for this kernel; see the log tail';
  return undefined;
}

export interface ProgStats {
  name: string;
  kind: string;
  target: string;
  xlatedInsns: number;
  verifiedInsns: number;
  runTimeNs: number;
  runCnt: number;
  /** runs the kernel skipped because the program was already running on that CPU (5.12+; 0 before) */
  recursionMisses: number;
}

export function defaultObjectPath(): string {
  if (process.env.EXECLENS_BPF_OBJECT) return process.env.EXECLENS_BPF_OBJECT;
  if (coverageDir()) return coverageObjectPath();
  return bpfObjectFile();
}

export class LoadedTracer {
  private closed = false;
  constructor(
    private readonly obj: Ptr,
    private readonly links: { program: string; link: Ptr }[],
    readonly candidate: Candidate,
    readonly lifecycle: LifecycleKind,
    readonly hooks: HookSpec[],
    readonly config: TracerConfig,
    private readonly progs: Map<string, Ptr>,
    readonly loops: LoopKind,
    /** plan program name -> the program loaded for it (X or X_loop) */
    private readonly loaded: ReadonlyMap<string, string>,
    /** the object file, for the coverage dump (EXECLENS_COVERAGE) */
    readonly objectPath = '',
  ) {}

  /** the plan as a source label: candidate+lifecycle[+bpf_loop] */
  get planLabel(): string {
    return `${this.candidate.id}+${this.lifecycle}${this.loops === 'bpf_loop' ? '+bpf_loop' : ''}`;
  }

  /** the name of the program loaded for a plan program (X_loop under bpf_loop where the object has one) */
  loadedName(program: string): string {
    return this.loaded.get(program) ?? program;
  }

  mapFd(name: string): number {
    const m = libbpf().objectFindMap(this.obj, name);
    if (!m) throw new Error(`map ${name} not found`);
    return libbpf().mapFd(m);
  }

  /** Add a tgid to the followed set (filter mode). */
  follow(tgid: number): void {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(tgid);
    // start time 0: the first program that sees the process records its own (bpf/lib/follow.bpf.h)
    if (libbpf().mapUpdate(this.mapFd('traced'), key, Buffer.alloc(8), 0n) !== 0)
      throw new Error(`cannot follow pid ${tgid}: errno ${errno()}`);
  }

  /**
   * Make the kernel forget an env hash it sent whole (env dedupe): the next exec with that env sends it whole
   * again. Userspace calls this before it drops its copy (src/events/envcache.ts). A hash the kernel already
   * forgot (ENOENT) is no error.
   */
  forgetEnv(hash: bigint): void {
    const key = Buffer.alloc(8);
    key.writeBigUInt64LE(hash);
    libbpf().mapDelete(this.mapFd('env_sent'), key);
  }

  /** Sum of the per-CPU counters in the stats map. */
  readStats(nStats: number, ncpu: number): number[] {
    const fd = this.mapFd('stats');
    const out: number[] = [];
    const key = Buffer.alloc(4);
    const val = Buffer.alloc(8 * ncpu);
    for (let i = 0; i < nStats; i++) {
      key.writeUInt32LE(i);
      let sum = 0n;
      if (libbpf().mapLookup(fd, key, val) === 0) for (let c = 0; c < ncpu; c++) sum += val.readBigUInt64LE(8 * c);
      out.push(Number(sum));
    }
    return out;
  }

  progStats(): ProgStats[] {
    const out: ProgStats[] = [];
    const enabled = [
      ...this.hooks.map((h) => ({ name: h.program, kind: h.kind, target: h.target })),
      ...LIFECYCLE_PROGS[this.lifecycle].map((n) => ({ name: n, kind: this.lifecycle, target: lifecycleTarget(n) })),
    ];
    const seen = new Set<string>();
    for (const q of enabled) {
      const p = { ...q, name: this.loadedName(q.name) };
      if (seen.has(p.name)) continue;
      seen.add(p.name);
      const prog = this.progs.get(p.name);
      if (!prog) continue;
      const fd = libbpf().programFd(prog);
      if (fd < 0) continue;
      const info = progInfo(fd);
      out.push({ ...p, ...info });
    }
    return out;
  }

  /** Detach every link and free the object (programs and maps). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const lb = libbpf();
    for (const l of this.links) lb.linkDestroy(l.link);
    dumpCounters(this.obj, this.objectPath, this.planLabel);
    lb.objectClose(this.obj);
  }

  /**
   * close(), with the links detached concurrently: each detach of a syscall
   * tracepoint or tracing link waits for an RCU grace period in the kernel
   * (~25-80 ms each here), one after the other when done in line.
   */
  async closeConcurrently(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const lb = libbpf();
    await Promise.all(this.links.map((l) => lb.linkDestroyAsync(l.link).catch(() => lb.linkDestroy(l.link))));
    dumpCounters(this.obj, this.objectPath, this.planLabel);
    lb.objectClose(this.obj);
  }
}

export function progInfo(fd: number): {
  xlatedInsns: number;
  verifiedInsns: number;
  runTimeNs: number;
  runCnt: number;
  recursionMisses: number;
} {
  const info = Buffer.alloc(256);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(info.length);
  if (libbpf().progGetInfo(fd, info, len) !== 0)
    return { xlatedInsns: 0, verifiedInsns: 0, runTimeNs: 0, runCnt: 0, recursionMisses: 0 };
  const got = len.readUInt32LE();
  return {
    xlatedInsns: info.readUInt32LE(20) / 8,
    runTimeNs: got >= 200 ? Number(info.readBigUInt64LE(192)) : 0,
    runCnt: got >= 208 ? Number(info.readBigUInt64LE(200)) : 0,
    recursionMisses: got >= 216 ? Number(info.readBigUInt64LE(208)) : 0,
    verifiedInsns: got >= 220 ? info.readUInt32LE(216) : 0,
  };
}

/** EL_ANY_UID (bpf/include/execlens_event.h): no --uid */
const ANY_UID = 0xffffffff;

function encodeConfig(c: TracerConfig): Buffer {
  const b = Buffer.alloc(CONFIG.size);
  b.writeUInt32LE(c.filter ? 1 : 0, CONFIG.filter);
  b.writeUInt32LE(c.sleepable ? 1 : 0, CONFIG.sleepable);
  b.writeUInt32LE(c.blockChunks, CONFIG.block_chunks);
  b.writeUInt32LE(c.captureEnv ? 1 : 0, CONFIG.capture_env);
  b.writeUInt32LE(c.captureFds ? 1 : 0, CONFIG.capture_fds);
  b.writeUInt32LE(c.scratchSlots, CONFIG.scratch_slots);
  // env dedupe (bpf/lib/envhash.bpf.h) is on; EXECLENS_ENV_DEDUPE=0 sends every env whole (a comparison)
  b.writeUInt32LE(process.env.EXECLENS_ENV_DEDUPE === '0' ? 0 : 1, CONFIG.env_dedupe);
  b.writeUInt32LE(randomInt(0x100000000), CONFIG.env_seed);
  b.writeUInt32LE(c.uidOnly ?? ANY_UID, CONFIG.uid_only);
  b.writeUInt32LE(c.cgroup?.level ?? 0, CONFIG.cgroup_level);
  b.writeBigUInt64LE(c.cgroup?.id ?? 0n, CONFIG.cgroup_id);
  return b;
}

export interface LoadOptions {
  objectPath: string;
  plan: LoadPlan;
  config: Omit<TracerConfig, 'sleepable' | 'scratchSlots'>;
  ringBytes: number;
  possibleCpus: number;
}

const LOG_HEAD = 12;
const LOG_TAIL = 16;

/** libbpf messages plus the verifier log's head and tail (the tail says why). */
function logHead(lines: string[]): string[] {
  const flat = lines.flatMap((l) => l.split('\n')).filter((l) => l.trim() !== '');
  if (flat.length <= LOG_HEAD + LOG_TAIL) return flat;
  return [
    ...flat.slice(0, LOG_HEAD),
    `... (${flat.length - LOG_HEAD - LOG_TAIL} lines omitted)`,
    ...flat.slice(-LOG_TAIL),
  ];
}

function failingProgram(lines: string[]): string | undefined {
  for (const l of lines) {
    const m = /prog '(\w+)': (?:BPF program load failed|failed to load|.*failed)/.exec(l);
    if (m) return m[1];
  }
  return undefined;
}

interface Prepared {
  obj: Ptr;
  progs: Map<string, Ptr>;
  /** loaded program name -> the hooks it serves (a program may be attached at several targets) */
  wanted: Map<string, HookSpec[]>;
  /** plan program name -> loaded program name */
  loaded: Map<string, string>;
}

/**
 * Open the object, enable the wanted programs (under bpf_loop: X_loop where the
 * object has one), set fentry targets, map sizes and the read-only config.
 */
function prepare(
  o: LoadOptions,
  c: Candidate,
  hooks: HookSpec[],
  lifecycleProgs: readonly string[],
  loops: LoopKind,
): Prepared | { error: string; errno?: number; program?: string } {
  const lb = libbpf();
  const obj = lb.objectOpenFile(o.objectPath, null);
  if (!obj) {
    const e = errno();
    return { errno: e, error: `cannot open BPF object ${o.objectPath}: ${lb.strerror(e)}` };
  }
  const progs = new Map<string, Ptr>();
  for (let p = lb.objectNextProgram(obj, null); p; p = lb.objectNextProgram(obj, p)) progs.set(lb.programName(p), p);
  const loaded = new Map<string, string>();
  const resolve = (n: string): string => {
    const v = loops === 'bpf_loop' && progs.has(n + LOOP_SUFFIX) ? n + LOOP_SUFFIX : n;
    loaded.set(n, v);
    return v;
  };
  const wanted = new Map<string, HookSpec[]>();
  for (const h of hooks) {
    const n = resolve(h.program);
    wanted.set(n, [...(wanted.get(n) ?? []), h]);
  }
  for (const n of lifecycleProgs) wanted.set(resolve(n), []);
  for (const n of wanted.keys()) {
    if (!progs.has(n)) {
      lb.objectClose(obj);
      return { error: `program ${n} is not in ${o.objectPath} (object built for another arch?)`, program: n };
    }
  }
  for (const [name, p] of progs) {
    lb.programSetAutoload(p, wanted.has(name));
    const h = wanted.get(name)?.[0];
    if (h && (h.kind === 'fentry' || h.kind === 'fexit')) lb.programSetAttachTarget(p, 0, h.target);
  }
  const setMax = (name: string, n: number) => {
    const m = lb.objectFindMap(obj, name);
    if (m) lb.mapSetMaxEntries(m, n);
  };
  setMax('scratch', o.possibleCpus * o.plan.scratchSlots);
  setMax('events', o.ringBytes);
  const rodata = lb.objectFindMap(obj, '.rodata');
  if (rodata) {
    const sz = Buffer.alloc(8);
    const ptr = lb.mapInitialValue(rodata, sz);
    if (ptr && Number(sz.readBigUInt64LE()) >= CONFIG.size) {
      new Uint8Array(view(ptr, CONFIG.size)).set(
        encodeConfig({ ...o.config, sleepable: c.sleepable, scratchSlots: o.plan.scratchSlots }),
      );
    }
  }
  return { obj, progs, wanted, loaded };
}

/** What the verifier says about one program (log level 4, BPF_LOG_STATS). */
export interface VerifierStat {
  processedInsns: number;
  totalStates: number;
  peakStates: number;
  maxStatesPerInsn: number;
  verifyUs: number | null;
  stackDepth: string | null;
}

export function parseVerifierStats(log: string): VerifierStat | null {
  const m = /processed (\d+) insns \(limit \d+\) max_states_per_insn (\d+) total_states (\d+) peak_states (\d+)/.exec(
    log,
  );
  if (!m) return null;
  const t = /verification time (\d+) usec/.exec(log);
  const d = /stack depth ([\d+]+)/.exec(log);
  return {
    processedInsns: Number(m[1]),
    maxStatesPerInsn: Number(m[2]),
    totalStates: Number(m[3]),
    peakStates: Number(m[4]),
    verifyUs: t ? Number(t[1]) : null,
    stackDepth: d ? d[1]! : null,
  };
}

/**
 * Load the chosen programs once more with verifier statistics (log level 4)
 * and without attaching: processed instructions, states and verification time
 * per program, on every kernel (prog info has verified_insns only from 5.16).
 */
export function verifierStats(
  o: LoadOptions,
  c: Candidate,
  lc: LifecycleKind,
  hooks: HookSpec[],
  loops: LoopKind,
): Record<string, VerifierStat> {
  const lb = libbpf();
  const prep = prepare(o, c, hooks, LIFECYCLE_PROGS[lc], loops);
  if ('error' in prep) return {};
  const bufs = new Map<string, Buffer>();
  for (const name of prep.wanted.keys()) {
    const b = Buffer.alloc(16384);
    bufs.set(name, b);
    const p = prep.progs.get(name)!;
    lb.programSetLogBuf(p, b, b.length);
    lb.programSetLogLevel(p, 4);
  }
  const out: Record<string, VerifierStat> = {};
  if (lb.objectLoad(prep.obj) === 0) {
    for (const [name, b] of bufs) {
      const st = parseVerifierStats(b.toString('utf8', 0, Math.max(0, b.indexOf(0))));
      if (st) out[name] = st;
    }
  }
  lb.objectClose(prep.obj);
  return out;
}

interface TryResult {
  tracer?: LoadedTracer;
  attempt: Attempt;
}

function tryOnce(o: LoadOptions, c: Candidate, lc: LifecycleKind, hooks: HookSpec[], loops: LoopKind): TryResult {
  const lb = libbpf();
  const log: string[] = [];
  onLibbpfPrint((level, msg) => {
    if (level <= 1 || /BEGIN PROG LOAD LOG|END PROG LOAD LOG|^\d+: |processed \d+ insns|R\d/.test(msg))
      log.push(msg.trimEnd());
  });
  const attempt: Attempt = { candidate: c.id, lifecycle: lc, loops, stage: 'open', ok: false };
  const done = (r: TryResult): TryResult => {
    onLibbpfPrint(undefined);
    if (!r.attempt.ok) {
      r.attempt.log = logHead(log);
      const h = refusalHint(r.attempt);
      if (h) r.attempt.hint = h;
    }
    return r;
  };
  const prep = prepare(o, c, hooks, LIFECYCLE_PROGS[lc], loops);
  if ('error' in prep) {
    attempt.errno = prep.errno;
    attempt.error = prep.error;
    attempt.program = prep.program;
    return done({ attempt });
  }
  const { obj, progs, wanted, loaded } = prep;
  attempt.stage = 'load';
  const err = lb.objectLoad(obj);
  if (err !== 0) {
    attempt.errno = -err;
    attempt.error = lb.strerror(-err);
    attempt.program = failingProgram(log);
    lb.objectClose(obj);
    return done({ attempt });
  }
  attempt.stage = 'attach';
  const links: { program: string; link: Ptr }[] = [];
  const dropped: NonNullable<Attempt['droppedHooks']> = [];
  // a hook is attached the way its method says; lifecycle programs (no hook) by their section
  const method = methodByKind(c.attach);
  if (!method) throw new Error(`candidate ${c.id}: unknown attach method ${c.attach}`);
  const attachOne = (p: Ptr, h: HookSpec | null): Ptr | null => (h ? method.attach(lb, p, h) : lb.programAttach(p));
  for (const [name, hs] of wanted) {
    const p = progs.get(name)!;
    for (const h of hs.length ? hs : [null]) {
      const link = attachOne(p, h);
      if (link) {
        links.push({ program: name, link });
        continue;
      }
      const e = errno();
      if (h?.optional) {
        dropped.push({ program: name, target: h.target, reason: `attach failed: ${lb.strerror(e)} (errno ${e})` });
        continue;
      }
      for (const l of links) lb.linkDestroy(l.link);
      lb.objectClose(obj);
      attempt.errno = e;
      attempt.error = `attach ${h ? `${h.kind} ${h.target}` : name} failed: ${lb.strerror(e)}`;
      attempt.program = name;
      return done({ attempt });
    }
  }
  attempt.stage = 'ok';
  attempt.ok = true;
  if (dropped.length) attempt.droppedHooks = dropped;
  const kept = hooks.filter((h) => !dropped.some((d) => d.program === h.program && d.target === h.target));
  const tracer = new LoadedTracer(
    obj,
    links,
    c,
    lc,
    kept,
    { ...o.config, sleepable: c.sleepable, scratchSlots: o.plan.scratchSlots },
    progs,
    loops,
    loaded,
    o.objectPath,
  );
  return done({ tracer, attempt });
}

/** Trial-load the plan (walkPlan with real loads). */
export function loadPlan(
  o: LoadOptions,
  skip: ReadonlyMap<string, Attempt & { at: string }> = new Map(),
): { tracer?: LoadedTracer; attempts: Attempt[] } {
  return walkPlan(o.plan, skip, (c, lc, hooks, loops) => tryOnce(o, c, lc, hooks, loops));
}
