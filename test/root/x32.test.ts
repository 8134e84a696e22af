/**
 * x86_64's x32 ABI (64-bit registers, 32-bit pointers, syscall numbers with __X32_SYSCALL_BIT): a static x32
 * program's failed and successful execs, by execve and execveat, on every plan that sees x32 syscalls
 * (fentry/kprobe on the x32 wrappers, raw_syscalls by number). Needs a kernel that runs x32 programs:
 * Debian's generic amd64 kernel booted with syscall.x32=y (the kernel-matrix cell `bookworm-generic
 * --append syscall.x32=y`); elsewhere the test says why it skips, and doctor says the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EXECLENS, ROOT } from '../helpers/paths.js';
import { requireRoot, trace } from '../helpers/trace.js';
import { probeKernel } from '../../src/kernel/features.js';

const X32_BIN = join(ROOT, 'build/x32/x32-exec');

function x32Skip(): string | false {
  if (process.arch !== 'x64') return `${process.arch} has no x32 ABI`;
  const on = probeKernel().x32Enabled;
  if (on !== true)
    return on === false
      ? 'this kernel runs no x32 programs (CONFIG_X86_X32_ABI unset, or syscall.x32=N this boot); runs in the kernel-matrix cell bookworm-generic --append syscall.x32=y'
      : 'unknown whether this kernel runs x32 programs';
  if (!existsSync(X32_BIN))
    return `no ${X32_BIN} (scripts/build-native.sh builds it where gcc -mx32 works: apt libc6-dev-x32 libx32gcc-12-dev)`;
  return false;
}
const skip = x32Skip();
const KPROBES = probeKernel().kconfig.CONFIG_KPROBES === 'y';

test('doctor on a kernel that runs x32 programs names the x32 wrappers it hooks', { skip }, (t) => {
  if (!requireRoot(t)) return;
  const d = spawnSync(EXECLENS, ['doctor'], { encoding: 'utf8', timeout: 600000 });
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stdout, /^ {2}x32 {8}x32 programs run on this kernel: hooking __x(64|32)_compat_sys_execve\[at\]/m);
});

/** how each run traces: the default plan, each plan forced, and the ptrace backend (its seccomp filter) */
const MODES = [
  { name: 'default plan', extra: [] },
  { name: '--attach raw_syscalls', extra: ['--attach', 'raw_syscalls'] },
  { name: '--attach kprobe', extra: ['--attach', 'kprobe'] },
  { name: 'ptrace backend', extra: ['--backend', 'ptrace'] },
];

for (const mode of MODES) {
  for (const syscall of ['execve', 'execveat'] as const) {
    test(
      `an x32 program's failed ${syscall} is reported (ENOENT, argv, compat, X32) and its successful one has its entry record (${mode.name})`,
      { skip: skip || (mode.name.includes('kprobe') && !KPROBES ? 'CONFIG_KPROBES is not set here' : false) },
      (t) => {
        if (!requireRoot(t)) return;
        const args = [...(syscall === 'execveat' ? ['-at'] : []), '/bin/true', 'x32-arg', 'two words'];
        const r = trace([X32_BIN, ...args], { extra: mode.extra });
        assert.equal(r.code, 0, r.stderr);
        const seen = JSON.stringify(r.execs.map((e) => [e.filename, e.errno, e.syscall, e.flags]));
        const failed = r.execs.find((e) => e.filename === '/nonexistent/x32');
        assert.ok(failed, `the failed x32 exec, with plan ${r.summary!.plan}: saw ${seen}`);
        assert.equal(failed.errno, 'ENOENT');
        assert.equal(failed.syscall, 'execve', 'the failed exec is always execv()');
        assert.deepEqual(failed.argv, ['/bin/true', 'x32-arg', 'two words']);
        assert.equal(failed.compat, true);
        assert.ok(failed.flags.includes('X32'), seen);
        const ok = r.execs.find((e) => e.filename === '/bin/true' && e.result === 0);
        assert.ok(ok, `the successful x32 exec: ${seen}`);
        assert.ok(!ok.flags.includes('NO_ENTRY'), `its entry record was seen: ${seen}`);
        assert.ok(ok.flags.includes('X32'), seen);
        assert.equal(ok.syscall, syscall);
        assert.deepEqual(ok.argv, ['/bin/true', 'x32-arg', 'two words']);
        assert.equal(r.summary!.lost_records, 0);
      },
    );
  }
}
