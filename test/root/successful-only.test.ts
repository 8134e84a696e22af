/**
 * --successful-only on eBPF: the plan hooks no syscall (attach/lifecycle-only.ts). What it must still see
 * is every successful exec with what the default plan reports of it (from the new image at
 * sched_process_exec); what it must not do is attach anything to a syscall, which would put every task of
 * the machine on the slow syscall path. That is asserted on the mechanism (the links the tracer holds), not
 * timed. On ptrace the flag filters (the tracee stops at each execve anyway): failed execs traced, not written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../src/exitcodes.js';
import { EXECLENS } from '../helpers/paths.js';
import { byFile, execShape, requireRoot, STARTUP_MS, trace, waitFor, type JsonExec } from '../helpers/trace.js';

/** sh -> echo (env, cwd), a failed exec, sh -> env B=2 -> true: a tree with a fork, an exec chain and a failure */
function script(dir: string): string {
  return [
    `cd ${dir}`,
    'SO_TEST=1 /bin/echo "a b" c > /dev/null',
    '/nonexistent/so-test x y 2>/dev/null',
    '/bin/sh -c "exec /usr/bin/env B=2 /bin/true inner"',
    'exit 0',
  ].join('\n');
}

/** what both plans must agree on for a successful exec (fds: the open ones; only the entry sees close-on-exec) */
function shape(e: JsonExec): unknown {
  const s = execShape(e) as { fds: { cloexec: boolean }[] };
  return { ...s, fds: s.fds.filter((f) => !f.cloexec), comm: e.comm, uid: e.uid, euid: e.euid };
}

test('--successful-only: every successful exec with the filename, argv, env diff, cwd, fds and creds the default plan reports; no failed exec; summary says failed ones are not traced', (t) => {
  if (!requireRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'execlens-succonly-'));
  try {
    const cmd = ['/bin/sh', '-c', script(dir)];
    const def = trace(cmd);
    const so = trace(cmd, { extra: ['--successful-only'] });
    assert.equal(def.code, 0, def.stderr);
    assert.equal(so.code, 0, so.stderr);
    assert.ok(so.summary!.plan.startsWith('lifecycle-only+'), `plan ${so.summary!.plan}`);
    assert.ok(!def.summary!.plan.startsWith('lifecycle-only'), `default plan ${def.summary!.plan}`);
    // the default plan sees the failed exec: the workload has one to miss
    assert.equal(byFile(def, 'so-test')[0]?.errno, 'ENOENT');
    assert.deepEqual(byFile(so, 'so-test'), [], 'no failed exec');
    assert.ok(
      so.execs.every((e) => e.result === 0),
      'only successes',
    );
    assert.equal(so.summary!.failed, null, 'failed: not traced, not 0');
    assert.equal(def.summary!.failed, 1);
    assert.equal(so.summary!.lost_records, 0);
    assert.deepEqual(so.summary!.filtered_out, {}, 'nothing to filter: no failed exec reached userspace');
    const echo = byFile(so, 'echo')[0];
    assert.deepEqual(echo?.argv, ['/bin/echo', 'a b', 'c']);
    assert.equal(echo?.cwd, dir);
    assert.equal(echo?.env_diff?.added.SO_TEST, '1');
    assert.deepEqual(byFile(so, 'true')[0]?.env_diff?.added, { B: '2' }, 'env diff along the exec chain');
    // the same successful execs, field by field, in the same order
    assert.deepEqual(so.execs.map(shape), def.execs.filter((e) => e.result === 0).map(shape));
    // and the records say what they do not know: no syscall, no dirfd
    for (const e of so.execs) {
      assert.equal(e.syscall, 'unknown', `${e.filename}: no syscall claimed`);
      assert.ok(e.flags.includes('NO_ENTRY'), `${e.filename}: ${e.flags.join(',')}`);
    }
    // the default plan knows them (its entry ran)
    assert.ok(def.execs.every((e) => e.syscall === 'execve'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--successful-only text: the summary line says failed execs are not traced and names the plan; no per-exec marker', (t) => {
  if (!requireRoot(t)) return;
  const r = spawnSync(
    EXECLENS,
    ['log', '--successful-only', '--', '/bin/sh', '-c', '/bin/true; /nonexistent/z 2>/dev/null; :'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.trim().split('\n');
  const summary = lines.pop()!;
  assert.match(summary, /^execlens: 2 execs \(failed ones not traced\), .*plan lifecycle-only\+/);
  assert.equal(lines.length, 2, r.stderr);
  for (const l of lines) assert.doesNotMatch(l, /!\w|no_entry|unknown/, `no marker on a line the user asked for: ${l}`);
});

interface HeldBpf {
  progIds: number[];
  links: { type: string; tpName: string | null }[];
  perfEvents: number;
}

/** the BPF programs and links a process holds, from /proc/PID/fd and fdinfo (other tracers on the machine excluded) */
function heldBpf(pid: number): HeldBpf {
  const out: HeldBpf = { progIds: [], links: [], perfEvents: 0 };
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    let info: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed meanwhile
    }
    const field = (k: string) => new RegExp(`^${k}:\\s*(\\S+)`, 'm').exec(info)?.[1] ?? null;
    if (target === 'anon_inode:bpf-prog') out.progIds.push(Number(field('prog_id')));
    else if (target === 'anon_inode:bpf_link')
      out.links.push({ type: field('link_type') ?? '?', tpName: field('tp_name') });
    else if (target === 'anon_inode:[perf_event]') out.perfEvents++;
  }
  return out;
}

/** program names by id (bpftool; retried: an object freed while it walks makes it fail) */
function progNames(ids: number[]): string[] {
  for (let attempt = 1; ; attempt++) {
    const r = spawnSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' });
    if (r.status === 0) {
      const all = JSON.parse(r.stdout) as { id: number; name: string }[];
      return ids.map((id) => all.find((p) => p.id === id)?.name ?? `?${id}`);
    }
    if (attempt === 5) throw new Error(`bpftool prog show failed: ${r.stderr}`);
  }
}

const LIFECYCLE_TPS = ['sched_process_exec', 'sched_process_fork', 'sched_process_exit'];

/** run `log [extra] -- sh -c 'touch MARK; sleep'`, and what the tracer holds once the command runs */
async function holdings(extra: string[]): Promise<{ held: HeldBpf; names: string[]; plan: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'execlens-succonly-'));
  const mark = join(dir, 'tracing');
  const out = join(dir, 'ev.jsonl');
  const p = spawn(EXECLENS, ['log', '--json', '-o', out, ...extra, '--', 'sh', '-c', `touch ${mark}; sleep 30`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // its own group: the command, detached from at SIGINT and left running, is killed with it
    detached: true,
  });
  try {
    // the command runs only once the plan is loaded and attached
    await waitFor(() => existsSync(mark), STARTUP_MS, 'the traced command to start');
    const held = heldBpf(p.pid!);
    const names = progNames(held.progIds);
    const done = new Promise<void>((res) => p.on('exit', () => res()));
    p.kill('SIGINT');
    await done;
    const summary = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; plan?: string })
      .find((r) => r.type === 'summary');
    return { held, names, plan: summary?.plan ?? '?' };
  } finally {
    try {
      process.kill(-p.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

test('--successful-only attaches nothing to a syscall: its links are the three sched_process_* tracepoints, its programs the lifecycle ones, no perf event; the default plan holds a syscall hook', async (t) => {
  if (!requireRoot(t)) return;
  const so = await holdings(['--successful-only']);
  assert.ok(so.plan.startsWith('lifecycle-only+'), so.plan);
  assert.deepEqual(so.held.links.map((l) => l.tpName).sort(), [...LIFECYCLE_TPS].sort(), JSON.stringify(so.held.links));
  assert.ok(
    so.held.links.every((l) => l.type === 'raw_tracepoint'),
    JSON.stringify(so.held.links),
  );
  assert.equal(so.held.perfEvents, 0, 'no perf event (syscall tracepoints and kprobes attach through one)');
  assert.equal(so.names.length, 3, `only the lifecycle programs are loaded: ${so.names.join(', ')}`);
  assert.ok(
    so.names.every((n) => /^(btf|raw)_sched_(exec|fork|exit)/.test(n)),
    so.names.join(', '),
  );
  // the same check on the default plan finds its syscall hook: the check can fail
  const def = await holdings([]);
  const syscallHooked =
    def.held.perfEvents > 0 ||
    def.held.links.some((l) => l.type !== 'raw_tracepoint' || !LIFECYCLE_TPS.includes(l.tpName ?? '')) ||
    def.names.some((n) => !/^(btf|raw)_sched_/.test(n));
  assert.ok(syscallHooked, `default plan ${def.plan}: ${JSON.stringify(def.held)} ${def.names.join(', ')}`);
  t.diagnostic(
    `default plan ${def.plan} holds ${def.names.join(', ')}; --successful-only holds ${so.names.join(', ')}`,
  );
});

test('ptrace: --successful-only writes only successful execs; the failed one is traced, counted and said filtered', (t) => {
  if (!requireRoot(t)) return;
  const r = trace(['/bin/sh', '-c', '/bin/true; /nonexistent/w 2>/dev/null; :'], {
    extra: ['--backend', 'ptrace', '--successful-only'],
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary!.plan, 'ptrace+seccomp');
  assert.deepEqual(
    r.execs.map((e) => e.filename),
    ['/bin/sh', '/bin/true'],
  );
  assert.equal(r.summary!.failed, 1);
  assert.deepEqual(r.summary!.filtered_out, { successful_only: 1 });
});

test('--successful-only with a forced syscall attach method is a usage error (64), from the flag or the environment', () => {
  const flag = spawnSync(EXECLENS, ['log', '--successful-only', '--attach', 'tracepoint', '--', 'true'], {
    encoding: 'utf8',
  });
  assert.equal(flag.status, EXIT.USAGE, flag.stderr);
  assert.match(flag.stderr, /--successful-only hooks no syscall: it cannot be combined with --attach tracepoint/);
  const env = spawnSync(EXECLENS, ['log', '--successful-only', '--', 'true'], {
    encoding: 'utf8',
    env: { ...process.env, EXECLENS_ATTACH: 'raw_syscalls' },
  });
  assert.equal(env.status, EXIT.USAGE, env.stderr);
  assert.match(env.stderr, /cannot be combined with EXECLENS_ATTACH=raw_syscalls/);
});
