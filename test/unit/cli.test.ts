import { refusalLine } from '../../src/backend/ebpf/bringup.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summaryOf } from '../helpers/events.js';
import { spawnSync } from 'node:child_process';
import { EXECLENS, ROOT } from '../helpers/paths.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execlensForNobody, NOBODY } from '../helpers/nobody.js';
import { checkPidNamespace } from '../../src/backend/preflight.js';
import { ExeclensError } from '../../src/exitcodes.js';
import { lostTotal, summaryLine, summaryRecord, type Summary } from '../../src/pipeline/summary.js';
import { schemaErrors } from '../helpers/trace.js';

const run = (args: string[], opts: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}) =>
  spawnSync(EXECLENS, args, { encoding: 'utf8', ...opts });

test("help lists the commands, --version is package.json's with the BPF object's clang and the schema; bad flags exit 64 with one line", () => {
  const h = run(['--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /log \[options\] \[cmd\.\.\.\]/);
  assert.match(h.stdout, /doctor/);
  const lh = run(['log', '--help']);
  assert.match(lh.stdout, /--json/);
  const bad = run(['log', '--no-such-flag', '--', 'true']);
  assert.equal(bad.status, 64);
  assert.match(bad.stderr, /unknown option '--no-such-flag'/);
  const v = run(['--version']);
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  assert.equal(v.stdout.split('\n')[0], `execlens ${version}`, "--version is package.json's");
  assert.match(
    v.stdout,
    /^BPF object: \S+, built by .*clang version \d+/m,
    '--version names the clang that built the BPF object',
  );
  assert.match(v.stdout, /^JSON schema: 2 /m);
  const badAttach = run(['log', '--attach', 'uprobe', '--', 'true']);
  assert.equal(badAttach.status, 64);
  const badEnv = run(['log', '--', 'true'], { env: { ...process.env, EXECLENS_ATTACH: 'nope' } });
  assert.equal(badEnv.status, 64);
  assert.match(badEnv.stderr, /EXECLENS_ATTACH=nope: expected fentry, kprobe, raw_syscalls or tracepoint/);
});

test(
  'not root: a clear error naming the missing capabilities, exit 77; doctor sees a tracefs it cannot read as mounted',
  { skip: process.geteuid?.() === 0 ? false : 'needs root to drop to an unprivileged user' },
  () => {
    // a copy every user can reach: the checkout may live under /root
    const nobody = (args: string[]) =>
      spawnSync(execlensForNobody(), args, { encoding: 'utf8', uid: NOBODY, gid: NOBODY, cwd: '/' });
    const r = nobody(['log', '--', 'true']);
    assert.equal(r.status, 77, r.stderr);
    assert.match(
      r.stderr,
      /^execlens: the eBPF backend needs root or CAP_SYS_ADMIN \(CAP_BPF and CAP_PERFMON alone are not enough; missing CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN\): run with sudo, or use --backend ptrace\n$/,
    );
    const d = nobody(['doctor']);
    assert.equal(d.status, 77);
    assert.match(d.stdout, /MISSING CAP_BPF/);
    // a tracefs of mode 0700 is still mounted: doctor must not say it is not
    const tracefs = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[2] === 'tracefs')
      ?.split(' ')[1];
    if (tracefs) assert.match(d.stdout, new RegExp(`^tracefs +(tracefs at|tracefs mounted at) ${tracefs}`, 'm'));
  },
);

test('pid namespace check: the initial namespace passes, a nested one is refused with exit 78', () => {
  assert.doesNotThrow(() => checkPidNamespace('pid:[4026531836]'));
  assert.doesNotThrow(() => checkPidNamespace(null));
  assert.throws(
    () => checkPidNamespace('pid:[4026532512]'),
    (e: unknown) => e instanceof ExeclensError && e.exitCode === 78 && /--pid=host/.test(e.message),
  );
});

test('summary: program runs the kernel skipped count as lost and are named', () => {
  const base: Summary = summaryOf({ execs: 10, processes: 3 });
  assert.equal(lostTotal(base), 0);
  assert.match(summaryLine(base, null), /lost 0/);
  const missed = { ...base, programMisses: { btf_sched_exec: 17, btf_sched_fork: 3 } };
  assert.equal(lostTotal(missed), 20);
  assert.match(
    summaryLine(missed, null),
    /LOST 0 records .*kernel skipped 20 program runs \(btf_sched_exec 17, btf_sched_fork 3\)/,
  );
  assert.doesNotMatch(summaryLine(missed, null), /ring-size/);
  const dropped = { ...base, ringDrops: { exec: 161, chunk: 7286, other: 303 } };
  assert.equal(lostTotal(dropped), 7750);
  assert.match(
    summaryLine(dropped, null),
    /LOST 0 records \(ring drops: exec 161, chunk 7286, other 303\).*a larger --ring-size/,
  );
});

test('summary: a plan that cannot see failed execs says so (text) and has failed: null (JSON), not "0 failed"', () => {
  const seen = summaryOf({ execs: 3, failed: 1 });
  assert.match(summaryLine(seen, null), /^execlens: 3 execs \(1 failed\),/);
  assert.equal(summaryRecord(seen, null).failed, 1);
  const blind = summaryOf({ execs: 3, failed: 0, failedTraced: false, plan: 'lifecycle-only+tp_btf+bpf_loop' });
  assert.match(
    summaryLine(blind, null),
    /^execlens: 3 execs \(failed ones not traced\), .*plan lifecycle-only\+tp_btf/,
  );
  assert.equal(summaryRecord(blind, null).failed, null);
  assert.equal(schemaErrors(summaryRecord(blind, null)), null, 'the schema allows it');
});

test('log, collect and tui take --successful-only, described as hooking no syscall on eBPF; doctor takes it too; --failed-only with it is a usage error', () => {
  for (const sub of ['log', 'collect', 'tui', 'doctor']) {
    const h = run([sub, '--help']);
    assert.match(h.stdout.replace(/\s+/g, ' '), /--successful-only .*(hook no syscall|no syscall hook)/, sub);
  }
  const both = run(['log', '--successful-only', '--failed-only', '--', 'true']);
  assert.equal(both.status, 64);
  assert.match(both.stderr, /cannot be used with/);
});

test('refusal line: a kernel that needs the BPF JIT (riscv64 7.x with it off) gets the sysctl that fixes it', () => {
  const attempt = (log: string[]) => ({
    candidate: 'tracepoint',
    lifecycle: 'tp_btf' as const,
    stage: 'load' as const,
    ok: false,
    error: 'Invalid argument',
    log,
  });
  const up = (log: string[]) =>
    ({ plan: { fatal: null }, attempts: [attempt(log)] }) as unknown as Parameters<typeof refusalLine>[0];
  assert.match(refusalLine(up(['program requires BPF JIT compiler but it is not available'])), /bpf_jit_enable=1/);
  const other = refusalLine(up(['invalid bpf_context access']));
  assert.match(other, /BPF refused on every candidate \[tracepoint\/tp_btf: load failed: Invalid argument\]/);
  assert.doesNotMatch(other, /JIT/);
});

test("log -- with nothing after it is an error (64), not system-wide tracing; a directory as the command is 126 'is a directory'", () => {
  for (const args of [
    ['log', '--'],
    ['log', '--json', '-q', '--'],
  ]) {
    const r = run(args, { env: { ...process.env, EXECLENS_BACKEND: 'ptrace' } });
    assert.equal(r.status, 64, r.stderr);
    assert.equal(
      r.stderr,
      "execlens: nothing to run after '--': give the command (execlens log -- CMD ARGS...), or no '--' to trace the whole system\n",
    );
  }
  const dir = run(['log', '--backend', 'ptrace', '--', '/etc']);
  assert.equal(dir.status, 126);
  assert.equal(dir.stderr, 'execlens: /etc: is a directory\n');
  const missing = run(['log', '--backend', 'ptrace', '--', '/nonexistent/x']);
  assert.equal(missing.status, 127);
  assert.equal(missing.stderr, 'execlens: /nonexistent/x: no such file or directory\n');
});
