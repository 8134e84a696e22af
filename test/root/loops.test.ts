/**
 * The programs that copy argv/env/fds exist twice (bpf/attach/*.bpf.h): with
 * unrolled loops (every kernel) and with bpf_loop callbacks (5.17+). Both run
 * the same step functions; here both trace the same real workload and must
 * report the same events, and those events must be right.
 */
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXECLENS } from '../helpers/paths.js';
import { byFile, execShape, requireRoot, trace, type JsonExec, type TraceResult } from '../helpers/trace.js';

/** bpf_loop is a kernel function from 5.17 on */
const haveBpfLoop = /^[0-9a-f]+ [Tt] bpf_loop$/m.test(readFileSync('/proc/kallsyms', 'utf8'));
/** with the JIT off (riscv64 Debian kernels boot so; 6.12 then interprets) the verifier refuses callbacks */
const jitOff = (() => {
  try {
    return readFileSync('/proc/sys/net/core/bpf_jit_enable', 'utf8').trim() === '0';
  } catch {
    return false;
  }
})();
const skipWhy = !haveBpfLoop
  ? 'kernel has no bpf_loop (< 5.17): only the unrolled programs load'
  : jitOff
    ? 'BPF JIT off: the interpreter runs no bpf_loop callbacks ("callbacks are not allowed in non-JITed programs"), only the unrolled programs load'
    : false;

/** what must not differ between two runs of the same workload (pids, pipe inodes and timestamps do) */
function shape(e: JsonExec): unknown {
  // fds above 31 are reported by the bpf_loop programs only (the unrolled ones mark them truncated)
  const s = execShape(e) as Record<string, unknown>;
  const fds = (s.fds as { fd: number }[] | undefined)?.filter((f) => f.fd < 32);
  return {
    ...s,
    fds,
    truncated: { ...e.truncated, fds: undefined },
    // a failed exec cut at the capture limit is measured again by bpf_loop programs only (unrolled: null)
    argv_bytes: e.result !== 0 && e.truncated.argv ? undefined : e.argv_bytes,
    flags: e.flags.filter((f) => f !== 'COMMIT_MISSED' && f !== 'FDS_TRUNC'),
  };
}

test(
  'bpf_loop and unrolled programs report the same execs: 90 KB argv in chunks, env, deep cwd, inherited and cloexec fds, a failed exec with more strings than the limit',
  { skip: skipWhy },
  (t) => {
    if (!requireRoot(t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'execlens-loops-'));
    try {
      const deep = join(dir, ...Array.from({ length: 20 }, (_, i) => `level${i}`));
      mkdirSync(deep, { recursive: true });
      const held = join(dir, 'held-open');
      writeFileSync(held, 'x');
      const big = Array.from({ length: 6000 }, (_, i) => `arg-${i}-${'x'.repeat(8)}`);
      // fd 7 inherited; fd 8 close-on-exec, set by python right before its exec (/usr/bin/python3: a `python3`
      // found first in PATH may be a shim script whose own execs differ from run to run, e.g. pyenv's)
      const script = [
        'cd "$1" && exec 7<"$2" && exec 100<"$2"',
        'shift 2',
        `/usr/bin/python3 -c 'import os, sys; f = os.open(sys.argv[1], os.O_RDONLY); os.dup2(f, 8, inheritable=False); os.execv("/bin/true", ["true", *sys.argv[2:4]])' "$HELD" a b`,
        'LOOPS_TEST=1 /bin/true "$@"',
        '/nonexistent/cmd "$@" 2>/dev/null',
        'exit 0',
      ].join('\n');
      const run = (loops: 'bpf_loop' | 'unrolled'): TraceResult =>
        trace(['/bin/bash', '-c', script, 'bash', deep, held, ...big], {
          extra: ['--loops', loops],
          env: { ...process.env, HELD: held },
        });
      const loop = run('bpf_loop');
      const unrolled = run('unrolled');
      for (const [name, r] of [
        ['bpf_loop', loop],
        ['unrolled', unrolled],
      ] as const) {
        assert.equal(r.code, 0, `${name}: ${r.stderr}`);
        assert.equal(r.summary?.lost_records, 0, `${name}: nothing lost`);
        // what was loaded: the summary names the plan, with +bpf_loop for the loop variant
        assert.equal(r.summary!.plan.endsWith('+bpf_loop'), name === 'bpf_loop', `${name}: plan ${r.summary!.plan}`);
        const [ok, failed] = [byFile(r, 'true').find((e) => e.argv.length > 100), byFile(r, 'cmd')[0]];
        assert.deepEqual(ok?.argv, ['/bin/true', ...big], `${name}: the whole argv (${ok?.argv.length} strings)`);
        assert.equal(ok?.truncated.argv, false);
        assert.equal(ok?.cwd, deep, `${name}: cwd 20 levels down`);
        assert.equal(ok?.env_diff?.added.LOOPS_TEST, '1', `${name}: env`);
        assert.equal(ok?.fds.find((f) => f.fd === 7)?.path, held, `${name}: fd 7 inherited`);
        // bpf_loop programs walk the whole fd table (up to 4096 fds); the unrolled ones stop at 31 and say so
        if (name === 'bpf_loop')
          assert.equal(ok?.fds.find((f) => f.fd === 100)?.path, held, 'bpf_loop: fd 100 inherited');
        else assert.equal(ok?.truncated.fds, true, 'unrolled: fd 100 is past fd 31: marked');
        const py = byFile(r, 'true').find((e) => e.argv.length === 3);
        assert.deepEqual(
          py?.fds.find((f) => f.fd === 8),
          { fd: 8, path: '', type: 'closed', flags: ['FD_CLOEXEC'], cloexec: true },
          `${name}: fd 8 closed by exec (cloexec)`,
        );
        // the failed exec is read from the caller's pointer array: the first 128 strings
        assert.equal(failed?.errno, 'ENOENT');
        assert.deepEqual(failed?.argv, ['/nonexistent/cmd', ...big].slice(0, 128), `${name}: failed exec argv`);
        assert.equal(failed?.truncated.argv, true, `${name}: more strings than the limit is marked`);
        // its real size: measured again past the capture limit where bpf_loop exists, unknown (null) where not;
        // on riscv64 the strings past the first 128 may sit on pages the caller never touched since its fork,
        // which the measuring exit program cannot fault in (docs/limits.md): measured, or unknown
        const passed = ['/nonexistent/cmd', ...big].reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
        if (name === 'bpf_loop' && (process.arch as string) === 'riscv64')
          assert.ok([passed, null].includes(failed?.argv_bytes ?? null), `${name}: failed exec argv_bytes`);
        else assert.equal(failed?.argv_bytes, name === 'bpf_loop' ? passed : null, `${name}: failed exec argv_bytes`);
      }
      assert.deepEqual(loop.execs.map(shape), unrolled.execs.map(shape));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'the bpf_loop programs verify in under 100,000 processed instructions each (a tenth of the 1M limit): no callback whose walk the verifier cannot end early',
  { skip: skipWhy },
  (t) => {
    if (!requireRoot(t)) return;
    const r = spawnSync(EXECLENS, ['doctor', '--json', '--loops', 'bpf_loop'], { encoding: 'utf8', timeout: 120000 });
    assert.equal(r.status, 0, r.stderr);
    const progs = (JSON.parse(r.stdout) as { programs: { name: string; verifiedInsns: number }[] }).programs;
    const loops = progs.filter((p) => p.name.endsWith('_loop'));
    assert.ok(loops.length >= 2, `the chosen plan has bpf_loop programs: ${progs.map((p) => p.name).join(' ')}`);
    // btf_sched_exec_loop took 966K on 6.18 while one callback walked the fd bitmap and emitted paths (fds.bpf.h)
    for (const p of loops) assert.ok(p.verifiedInsns < 100_000, `${p.name}: ${p.verifiedInsns} processed insns`);
  },
);

test(
  'bpf_loop: fds of any number are reported (3000-3009 whole), and past 4,096 open fds the rest is marked truncated.fds',
  { skip: skipWhy },
  (t) => {
    if (!requireRoot(t)) return;
    // open `count` inheritable copies of /dev/null from fd `first` on, then exec /bin/true
    const py = (first: number, count: number) =>
      [
        'import os, resource',
        'resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))',
        'n = os.open("/dev/null", os.O_RDONLY)',
        `for fd in range(${first}, ${first + count}): os.dup2(n, fd)`,
        'os.close(n)',
        'os.execv("/bin/true", ["true", "fds"])',
      ].join('\n');
    const high = trace(['/usr/bin/python3', '-c', py(3000, 10)], { extra: ['--loops', 'bpf_loop'] });
    assert.equal(high.code, 0, high.stderr);
    const [h] = byFile(high, 'true');
    assert.ok(h, high.stderr);
    const highFds = h.fds.filter((f) => f.fd >= 3000).map((f) => f.fd);
    assert.deepEqual(
      highFds,
      Array.from({ length: 10 }, (_, i) => 3000 + i),
    );
    assert.equal(h.truncated.fds, false);

    const many = trace(['/usr/bin/python3', '-c', py(10, 4200)], { extra: ['--loops', 'bpf_loop'] });
    assert.equal(many.code, 0, many.stderr);
    const [m] = byFile(many, 'true');
    assert.ok(m, many.stderr);
    assert.equal(m.fds.filter((f) => !f.cloexec).length, 4096, 'the first 4,096 open fds');
    assert.equal(m.truncated.fds, true);
    assert.equal(
      m.fds.filter((f) => f.fd >= 10 && f.path === '/dev/null').length,
      4096 - m.fds.filter((f) => f.fd < 10 && !f.cloexec).length,
    );
  },
);
