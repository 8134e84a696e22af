import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { choosePlan, overridesFromEnv } from '../../src/plan/plan.js';
import { ia32Emulation, x32Enabled, type KernelFeatures } from '../../src/kernel/features.js';
import { SCRATCH_SLOTS } from '../../src/events/layout.js';
import { fixture } from '../helpers/paths.js';

function features(name: string): KernelFeatures {
  return JSON.parse(readFileSync(fixture(`features/${name}.json`), 'utf8')) as KernelFeatures;
}
const ids = (p: ReturnType<typeof choosePlan>) => p.candidates.map((c) => c.id);

test('this machine (6.18 Firecracker): kprobe ruled out by config, fentry tried first, then raw syscall tracepoints, then syscall tracepoints', () => {
  const p = choosePlan(features('host-6.18-firecracker-x86_64'));
  assert.equal(p.fatal, null);
  assert.deepEqual(ids(p), ['fentry', 'raw_syscalls', 'tracepoint']);
  // raw sys_enter/sys_exit see ia32 syscalls too: one program each, no blind spot
  const raw = p.candidates.find((c) => c.id === 'raw_syscalls')!;
  assert.deepEqual(
    raw.hooks.map((h) => [h.program, h.kind, h.target, h.abi]),
    [
      ['raw_sys_enter', 'raw_tp', 'sys_enter', 'native+ia32'],
      ['raw_sys_exit', 'raw_tp', 'sys_exit', 'native+ia32'],
    ],
  );
  assert.deepEqual(raw.blind, []);
  assert.match(p.rejected.find((r) => r.id === 'kprobe')!.reason, /CONFIG_KPROBES is not set/);
  assert.match(p.rejected.find((r) => r.id === 'fentry.s')!.reason, /< 7\.1/);
  const tp = p.candidates.find((c) => c.id === 'tracepoint')!;
  assert.ok(
    tp.blind.some((b) => /ia32/.test(b)),
    'tracepoint plan must say compat failures are invisible',
  );
  const fe = p.candidates[0]!;
  assert.ok(fe.hooks.some((h) => h.target === '__ia32_compat_sys_execve' && h.optional));
  assert.deepEqual(p.lifecycle, ['tp_btf', 'raw_tp']);
});

test('Debian 6.1 cloud: fentry, then kprobe on __x64_sys_execve, then tracepoint; not sleepable', () => {
  const p = choosePlan(features('debian-6.1-cloud-amd64'));
  assert.deepEqual(ids(p), ['fentry', 'kprobe', 'raw_syscalls', 'tracepoint']);
  const kp = p.candidates[1]!;
  assert.deepEqual(
    kp.hooks.filter((h) => h.abi === 'native' && h.role === 'enter').map((h) => [h.program, h.target]),
    [
      ['kprobe_execve', '__x64_sys_execve'],
      ['kprobe_execveat', '__x64_sys_execveat'],
    ],
  );
  assert.ok(kp.hooks.some((h) => h.program === 'kprobe_compat_execve' && h.target === '__ia32_compat_sys_execve'));
  assert.ok(p.candidates.every((c) => !c.sleepable));
});

test('arm64 6.1: no DIRECT_CALLS -> fentry ruled out (ENOTSUPP), kprobe on __arm64_sys_execve, AArch32 compat hooked', () => {
  const p = choosePlan(features('debian-6.1-arm64'));
  assert.deepEqual(ids(p), ['kprobe', 'raw_syscalls', 'tracepoint']);
  assert.match(p.rejected.find((r) => r.id === 'fentry')!.reason, /DIRECT_CALLS/);
  assert.equal(p.candidates[0]!.hooks[0]!.target, '__arm64_sys_execve');
  const compat = p.candidates[0]!.hooks.filter((h) => h.abi !== 'native');
  assert.deepEqual(
    compat.map((h) => [h.program, h.target, h.abi, h.optional]),
    [
      ['kprobe_compat_execve', '__arm64_compat_sys_execve', 'aarch32', true],
      ['kretprobe_compat_execve', '__arm64_compat_sys_execve', 'aarch32', true],
      ['kprobe_compat_execveat', '__arm64_compat_sys_execveat', 'aarch32', true],
      ['kretprobe_compat_execve', '__arm64_compat_sys_execveat', 'aarch32', true],
    ],
  );
  assert.deepEqual(p.candidates[0]!.blind, []);
  assert.equal(p.candidates[1]!.hooks[0]!.abi, 'native+aarch32');
  assert.deepEqual(p.candidates[1]!.blind, []);
  assert.match(p.candidates[2]!.blind.join(' '), /failed aarch32/, 'tracepoints skip compat syscalls on arm64 too');
});

test('riscv64 6.5: no syscall wrappers -> kprobe would use __se_sys_execve directly, but KPROBES_ON_FTRACE is absent -> tracepoint', () => {
  const p = choosePlan(features('riscv64-6.5'));
  assert.deepEqual(ids(p), ['raw_syscalls', 'tracepoint']);
  assert.equal(p.candidates[0]!.hooks[0]!.abi, 'native', 'riscv64: no compat ABI');
  assert.match(p.rejected.find((r) => r.id === 'kprobe')!.reason, /KPROBES_ON_FTRACE/);
  const forced = choosePlan(features('riscv64-6.5'), { attach: 'kprobe' });
  assert.deepEqual(ids(forced), ['kprobe']);
  assert.ok(forced.candidates[0]!.forced);
  assert.deepEqual(forced.candidates[0]!.hooks.map((h) => [h.program, h.target]).slice(0, 2), [
    ['kprobe_direct_execve', '__se_sys_execve'],
    ['kretprobe_execve', '__se_sys_execve'],
  ]);
});

test('kernel without IA32 emulation: no compat hooks and no compat blind spot', () => {
  const p = choosePlan(features('x86_64-6.1-no-ia32'));
  assert.ok(p.candidates.every((c) => c.hooks.every((h) => h.abi === 'native')));
  assert.ok(p.candidates.every((c) => c.blind.length === 0));
  assert.match(p.compatWhy, /IA32_EMULATION is not set/);
});

test('error injection -> sleepable fentry first; EXECLENS_NO_SLEEP forbids it', () => {
  const p = choosePlan(features('x86_64-6.12-error-injection'));
  assert.deepEqual(ids(p), ['fentry.s', 'fentry', 'kprobe', 'raw_syscalls', 'tracepoint']);
  assert.ok(p.candidates[0]!.sleepable);
  assert.ok(p.candidates[0]!.hooks.some((h) => h.program === 'fentry_s_execve'));
  assert.ok(
    p.candidates[0]!.hooks.some((h) => h.program === 'fexit_execve'),
    'exit stays non-sleepable fexit',
  );
  assert.ok(
    p.candidates[0]!.hooks.some((h) => h.program === 'fentry_compat_execve'),
    'compat entry is never sleepable',
  );
  const ns = choosePlan(features('x86_64-6.12-error-injection'), overridesFromEnv({ EXECLENS_NO_SLEEP: '1' }));
  assert.deepEqual(ids(ns), ['fentry', 'kprobe', 'raw_syscalls', 'tracepoint']);
});

test('7.2 allows sleepable fentry without error injection', () => {
  const p = choosePlan(features('debian-7.2-amd64'));
  assert.equal(p.candidates[0]!.id, 'fentry.s');
  assert.match(p.sleepableWhy, /7\.1/);
});

test('overrides force one attach kind, even one detection rules out', () => {
  const host = features('host-6.18-firecracker-x86_64');
  const kp = choosePlan(host, overridesFromEnv({ EXECLENS_ATTACH: 'kprobe' }));
  assert.deepEqual(ids(kp), ['kprobe']);
  assert.match(kp.candidates[0]!.forced!, /CONFIG_KPROBES/);
  assert.deepEqual(ids(choosePlan(host, { attach: 'tracepoint' })), ['tracepoint']);
  assert.deepEqual(ids(choosePlan(host, overridesFromEnv({ EXECLENS_ATTACH: 'raw_syscalls' }))), ['raw_syscalls']);
  assert.deepEqual(choosePlan(host, { lifecycle: 'raw_tp' }).lifecycle, ['raw_tp']);
  assert.throws(() => overridesFromEnv({ EXECLENS_ATTACH: 'uprobe' }), /EXECLENS_ATTACH=uprobe/);
});

test('no BTF is fatal with an actionable message', () => {
  const p = choosePlan(features('no-btf'));
  assert.match(p.fatal!, /no BTF.*ptrace/);
  assert.equal(p.candidates.length, 0);
});

test('kernels older than the ring buffer are fatal', () => {
  const f = { ...features('debian-6.1-cloud-amd64'), release: '5.4.0', version: [5, 4, 0] as [number, number, number] };
  assert.match(choosePlan(f).fatal!, /older than 5\.8/);
});

test('recorded by the kernel matrix on Debian 6.1 cloud amd64: fentry, kprobe, raw_syscalls, tracepoint; compat hooks', () => {
  const p = choosePlan(features('matrix-6.1_x86_64_clang14'));
  assert.deepEqual(ids(p), ['fentry', 'kprobe', 'raw_syscalls', 'tracepoint']);
  assert.ok(p.candidates[0]!.hooks.some((h) => h.abi === 'ia32' && h.program === 'fentry_compat_execve'));
  assert.ok(!p.candidates[0]!.sleepable);
});

/* every kernel-matrix cell's recorded features: the order the cell then walked (its chosen plan in the comment) */
for (const [cell, expected] of [
  ['matrix-5.10_x86_64_clang14', ['fentry', 'kprobe', 'raw_syscalls', 'tracepoint']], // fentry refused (EACCES in fentry_execveat) -> kprobe
  ['matrix-6.1-generic_x86_64_clang14', ['fentry', 'kprobe', 'raw_syscalls', 'tracepoint']], // fentry
  ['matrix-6.12_x86_64_clang14', ['fentry', 'kprobe', 'raw_syscalls', 'tracepoint']], // fentry
  ['matrix-7.2_x86_64_clang14', ['fentry.s', 'fentry', 'kprobe', 'raw_syscalls', 'tracepoint']], // fentry.s (>= 7.1)
  ['matrix-7.3_x86_64_clang14', ['fentry.s', 'fentry', 'kprobe', 'raw_syscalls', 'tracepoint']], // fentry.s
] as const) {
  test(`recorded by the kernel matrix (${cell}): candidates ${expected.join(' -> ')}, ia32 hooks on every candidate`, () => {
    const p = choosePlan(features(cell));
    assert.equal(p.fatal ?? null, null);
    assert.deepEqual(ids(p), expected);
    for (const c of p.candidates.filter((x) => x.id !== 'tracepoint'))
      assert.ok(
        c.hooks.some((h) => h.abi.includes('ia32')),
        `${c.id} has compat hooks`,
      );
    // compat entry hooks are never sleepable, even in the fentry.s candidate
    for (const c of p.candidates)
      assert.ok(!c.hooks.some((h) => h.abi === 'ia32' && h.program.startsWith('fentry_s_')));
  });
}

test('scratch buffers: one per CPU unless programs can be preempted (CONFIG_PREEMPTION or unknown config)', () => {
  const base = features('debian-7.2-amd64');
  const withCfg = (v: string | undefined): KernelFeatures => {
    const kconfig = { ...base.kconfig };
    if (v === undefined) delete kconfig.CONFIG_PREEMPTION;
    else kconfig.CONFIG_PREEMPTION = v;
    return { ...base, kconfig };
  };
  const pre = choosePlan(withCfg('y'));
  assert.equal(pre.scratchSlots, SCRATCH_SLOTS);
  // a slot for the commit and for every exit program one plan can run (the fentry plan with ia32 and x32)
  const exits = choosePlan(x32On())
    .candidates.find((c) => c.id === 'fentry')!
    .hooks.filter((h) => h.role === 'exit');
  assert.equal(SCRATCH_SLOTS, new Set(exits.map((h) => h.program)).size + 1);
  assert.match(pre.scratchWhy, /CONFIG_PREEMPTION=y.*per CPU and program/);
  const none = choosePlan(withCfg(undefined));
  assert.equal(none.scratchSlots, 1);
  assert.match(none.scratchWhy, /not set/);
  const unknown = choosePlan({ ...base, kconfigSource: null });
  assert.equal(unknown.scratchSlots, SCRATCH_SLOTS, 'without a kernel config, assume preemption');
});

test('loops: bpf_loop first where the kernel BTF has it (unrolled as fallback), unrolled only where it does not; version decides for feature sets without the field', () => {
  const host = features('host-6.18-firecracker-x86_64');
  const withLoop = choosePlan({ ...host, bpfLoop: true });
  assert.deepEqual(withLoop.loops, ['bpf_loop', 'unrolled']);
  assert.match(withLoop.loopsWhy, /bpf_loop in the kernel BTF/);
  // a BTF that lacks it wins over the version (e.g. a vendor kernel that backports BTF but not the helper)
  const noLoop = choosePlan({ ...host, bpfLoop: false });
  assert.deepEqual(noLoop.loops, ['unrolled']);
  assert.match(noLoop.loopsWhy, /not in the kernel BTF/);
  // recorded by the matrix: 5.10's BTF has no bpf_loop, 6.1's has (5.17+)
  assert.deepEqual(choosePlan(features('matrix-5.10_x86_64_clang14')).loops, ['unrolled']);
  assert.match(choosePlan(features('matrix-5.10_x86_64_clang14')).loopsWhy, /not in the kernel BTF/);
  assert.deepEqual(choosePlan(features('matrix-6.1_x86_64_clang14')).loops, ['bpf_loop', 'unrolled']);
  // a feature set without the field (recorded before it existed): the version decides
  const old510: KernelFeatures = { ...features('matrix-5.10_x86_64_clang14') };
  delete old510.bpfLoop;
  assert.match(choosePlan(old510).loopsWhy, /5\.10\.\d+ < 5\.17/);
  // the interpreter (JIT off, as riscv64 Debian kernels boot) refuses bpf_loop callbacks: no trial load of them
  const noJit = choosePlan({ ...host, bpfLoop: true, jit: 0 });
  assert.deepEqual(noJit.loops, ['unrolled']);
  assert.match(noJit.loopsWhy, /JIT off/);
  // overrides: one variant only, even one the kernel lacks (the trial load then says why)
  assert.deepEqual(choosePlan({ ...host, bpfLoop: true }, { loops: 'unrolled' }).loops, ['unrolled']);
  assert.deepEqual(
    choosePlan(features('matrix-5.10_x86_64_clang14'), overridesFromEnv({ EXECLENS_LOOPS: 'bpf_loop' })).loops,
    ['bpf_loop'],
  );
  assert.throws(
    () => overridesFromEnv({ EXECLENS_LOOPS: 'fast' }),
    /EXECLENS_LOOPS=fast: expected bpf_loop or unrolled/,
  );
});

/*
 * Fixtures saved by the kernel matrix carry what the cell's loader then did (`_attempts`, in order). The plan
 * computed now from the same features must lead to that walk: the same candidates in the same order up to the
 * one that loaded, with lifecycle and loop variants the plan offers. A planner change that reorders or drops a
 * candidate a real kernel needed fails here, without booting that kernel.
 */
interface RecordedAttempt {
  candidate: string;
  lifecycle: string;
  loops: string | null;
  ok: boolean;
}
const recorded = readdirSync(fixture('features'))
  .filter((f) => f.startsWith('matrix-') && f.endsWith('.json'))
  .map((f) => ({
    name: f.replace(/\.json$/, ''),
    data: JSON.parse(readFileSync(fixture(`features/${f}`), 'utf8')) as KernelFeatures & {
      _attempts?: RecordedAttempt[];
    },
  }))
  .filter((x) => x.data._attempts?.length);

test('kernel-matrix fixtures with recorded load attempts exist (the walk test below has data)', () => {
  assert.ok(
    recorded.length >= 1,
    'no test/fixtures/features/matrix-*.json has _attempts: refresh them with npm run matrix -- --report DIR --save-fixtures',
  );
});

for (const { name, data } of recorded) {
  const attempts = data._attempts!;
  const chosen = attempts[attempts.length - 1]!;
  test(`${name}: the plan from its recorded features walks as the cell did (${[...new Set(attempts.map((a) => a.candidate))].join(' -> ')}, loaded ${chosen.candidate}+${chosen.lifecycle}+${chosen.loops ?? 'unrolled'})`, () => {
    const p = choosePlan(data);
    assert.equal(p.fatal ?? null, null);
    assert.ok(chosen.ok, 'the cell loaded a plan');
    assert.ok(
      attempts.slice(0, -1).every((a) => !a.ok),
      'only the last attempt succeeded',
    );
    // a refused loop variant the plan now leaves out from the start (e.g. bpf_loop with the JIT off) is an
    // attempt saved, not a difference; the one that loaded must still be offered
    const kept = attempts.filter(
      (a) => a.ok || a.loops === null || p.loops.includes(a.loops as (typeof p.loops)[number]),
    );
    const walked = kept.map((a) => a.candidate).filter((c, i, all) => i === 0 || all[i - 1] !== c);
    assert.deepEqual(walked, ids(p).slice(0, walked.length), 'candidates tried in the plan order, none skipped');
    for (const a of kept) {
      assert.ok(
        p.lifecycle.includes(a.lifecycle as (typeof p.lifecycle)[number]),
        `lifecycle ${a.lifecycle} is in the plan (${p.lifecycle.join(', ')})`,
      );
      if (a.loops !== null)
        assert.ok(
          p.loops.includes(a.loops as (typeof p.loops)[number]),
          `loop variant ${a.loops} is in the plan (${p.loops.join(', ')})`,
        );
    }
  });
}

test('IA32 emulation off at boot (Linux >= 6.7, ia32_emulation=false): no compat hooks, no blind spot for them, the reason given', () => {
  const f = { ...features('debian-6.1-cloud-amd64'), ia32Emulation: false };
  const p = choosePlan(f);
  assert.equal(p.fatal, null);
  for (const c of p.candidates) {
    assert.ok(!c.hooks.some((h) => h.abi === 'ia32'), `${c.id}: no ia32 hooks`);
    assert.ok(!c.blind.some((b) => /compat/.test(b)), `${c.id}: nothing to be blind to`);
  }
  assert.match(p.compatWhy, /IA32 emulation is off this boot .*ENOEXEC/);
  assert.ok(
    choosePlan(features('debian-6.1-cloud-amd64')).candidates[0]!.hooks.some((h) => h.abi === 'ia32'),
    'on by default',
  );
});

test('ia32Emulation: built in or not, then ia32_emulation= on the command line over CONFIG_IA32_EMULATION_DEFAULT_DISABLED', () => {
  const on = { CONFIG_IA32_EMULATION: 'y' };
  const offByDefault = { ...on, CONFIG_IA32_EMULATION_DEFAULT_DISABLED: 'y' };
  assert.equal(ia32Emulation(on, 'root=/dev/vda console=ttyS0'), true);
  assert.equal(ia32Emulation(on, 'root=/dev/vda ia32_emulation=false quiet'), false);
  assert.equal(ia32Emulation(on, 'ia32_emulation=0'), false);
  assert.equal(ia32Emulation(offByDefault, 'quiet'), false);
  assert.equal(ia32Emulation(offByDefault, 'ia32_emulation=true'), true);
  assert.equal(ia32Emulation({ CONFIG_BPF_SYSCALL: 'y' }, ''), false, 'not built in');
  assert.equal(ia32Emulation({}, ''), null, 'no kconfig known');
});

test('--successful-only, on every recorded kernel: one candidate, lifecycle-only, with no hook at all; every syscall method ruled out for it; the lifecycle and loop choices as without the flag', () => {
  const files = readdirSync(fixture('features')).filter((f) => f.endsWith('.json'));
  let planned = 0;
  for (const file of files) {
    const f = features(file.replace(/\.json$/, ''));
    const def = choosePlan(f);
    const p = choosePlan(f, { successfulOnly: true });
    if (def.fatal && !def.candidates.length) {
      // no BTF or no ring buffer: the flag changes nothing about what cannot work at all
      assert.equal(p.fatal, def.fatal, file);
      continue;
    }
    planned++;
    assert.equal(p.fatal, null, file);
    assert.deepEqual(ids(p), ['lifecycle-only'], file);
    const c = p.candidates[0]!;
    assert.deepEqual(c.hooks, [], `${file}: no syscall hook`);
    assert.ok(!c.sleepable);
    assert.ok(
      c.blind.some((b) => /^failed execs/.test(b)),
      `${file}: says it cannot see failed execs`,
    );
    // every candidate the default plan has is ruled out, each saying why
    for (const id of ids(def))
      assert.match(
        p.rejected.find((r) => r.id === id)?.reason ?? '',
        /not with --successful-only: it hooks the syscall/,
      );
    assert.deepEqual(p.lifecycle, def.lifecycle, file);
    assert.deepEqual(p.loops, def.loops, file);
    assert.equal(p.scratchSlots, def.scratchSlots, file);
    // and without the flag the lifecycle-only candidate is never in the plan
    assert.ok(!ids(def).includes('lifecycle-only'), file);
    assert.match(def.rejected.find((r) => r.id === 'lifecycle-only')!.reason, /only with --successful-only/);
  }
  assert.ok(planned >= files.length - 1, `${planned} of ${files.length} recorded kernels planned`);
});

test('--successful-only with a forced attach method plans nothing and says why (the CLI refuses the pair before planning)', () => {
  const p = choosePlan(features('debian-7.2-amd64'), { successfulOnly: true, attach: 'fentry' });
  assert.deepEqual(ids(p), []);
  assert.match(p.fatal!, /--successful-only hooks no syscall: it cannot be combined with the attach method fentry/);
});

test('--successful-only keeps the lifecycle override: raw_tp forced, raw_tp tried', () => {
  const p = choosePlan(features('host-6.18-firecracker-x86_64'), { successfulOnly: true, lifecycle: 'raw_tp' });
  assert.deepEqual(ids(p), ['lifecycle-only']);
  assert.deepEqual(p.lifecycle, ['raw_tp']);
});

/** Debian's bookworm generic kernel (CONFIG_X86_X32_ABI=y) booted with syscall.x32=y: its x32 wrappers are __x64_compat_sys_* (seen in the matrix guest's kallsyms) */
function x32On(prefix = '__x64_compat_sys_'): KernelFeatures {
  const f = features('matrix-6.1-generic_x86_64_clang14');
  return {
    ...f,
    x32Enabled: true,
    symbols: { ...f.symbols, [`${prefix}execve`]: true, [`${prefix}execveat`]: true },
  };
}

test('x32 on this boot: fentry and kprobe hook the x32 wrappers (optional, never sleepable), raw_syscalls names x32, the tracepoint plan is blind to failed x32 execs', () => {
  const p = choosePlan(x32On());
  assert.equal(p.fatal, null);
  assert.match(p.x32Why, /hooking __x64_compat_sys_execve\[at\]/);
  const fe = p.candidates.find((c) => c.id === 'fentry')!;
  const x32 = fe.hooks.filter((h) => h.abi === 'x32');
  assert.deepEqual(
    x32.map((h) => [h.program, h.kind, h.target, h.optional]),
    [
      ['fentry_x32_execve', 'fentry', '__x64_compat_sys_execve', true],
      ['fexit_x32_execve', 'fexit', '__x64_compat_sys_execve', true],
      ['fentry_x32_execveat', 'fentry', '__x64_compat_sys_execveat', true],
      ['fexit_x32_execveat', 'fexit', '__x64_compat_sys_execveat', true],
    ],
  );
  assert.deepEqual(fe.blind, [], 'hooked: nothing blind');
  const kp = p.candidates.find((c) => c.id === 'kprobe')!;
  assert.deepEqual(
    kp.hooks.filter((h) => h.abi === 'x32').map((h) => [h.program, h.kind, h.target]),
    [
      ['kprobe_x32_execve', 'kprobe', '__x64_compat_sys_execve'],
      ['kretprobe_compat_execve', 'kretprobe', '__x64_compat_sys_execve'],
      ['kprobe_x32_execveat', 'kprobe', '__x64_compat_sys_execveat'],
      ['kretprobe_compat_execve', 'kretprobe', '__x64_compat_sys_execveat'],
    ],
  );
  const raw = p.candidates.find((c) => c.id === 'raw_syscalls')!;
  assert.deepEqual(new Set(raw.hooks.map((h) => h.abi)), new Set(['native+ia32+x32']));
  assert.match(raw.why, /native and ia32 and x32/);
  const tp = p.candidates.find((c) => c.id === 'tracepoint')!;
  assert.ok(
    tp.blind.some((b) => /^failed x32 execs/.test(b)),
    tp.blind.join('; '),
  );
});

test('5.10 with x32 built in under its old option name (CONFIG_X86_X32, before 5.18) hooks the x32 wrappers under their old name (__x32_compat_sys_*)', () => {
  const f = features('matrix-5.10_x86_64_clang14');
  const p = choosePlan({
    ...f,
    kconfig: { ...f.kconfig, CONFIG_X86_X32: 'y' },
    x32Enabled: true,
    symbols: { ...f.symbols, __x32_compat_sys_execve: true, __x32_compat_sys_execveat: true },
  });
  assert.match(p.x32Why, /run on this kernel: hooking __x32_compat_sys_execve\[at\]/);
  const kp = p.candidates.find((c) => c.id === 'kprobe')!;
  assert.deepEqual(
    kp.hooks.filter((h) => h.abi === 'x32').map((h) => h.target),
    ['__x32_compat_sys_execve', '__x32_compat_sys_execve', '__x32_compat_sys_execveat', '__x32_compat_sys_execveat'],
  );
});

test('x32 on with IA32 emulation off: raw_syscalls still names x32 (it takes x32 by number)', () => {
  const p = choosePlan({ ...x32On(), ia32Emulation: false });
  const raw = p.candidates.find((c) => c.id === 'raw_syscalls')!;
  assert.deepEqual(new Set(raw.hooks.map((h) => h.abi)), new Set(['native+x32']));
  assert.match(raw.why, /native and x32/);
});

test('x32 built in but off this boot (Debian default), or not built: no x32 hooks, nothing blind, and the reason says how to turn it on', () => {
  const off = choosePlan({ ...x32On(), x32Enabled: false });
  assert.match(off.x32Why, /off this boot.*syscall\.x32=y/);
  for (const c of off.candidates) {
    assert.ok(!c.hooks.some((h) => h.abi === 'x32'), c.id);
    assert.ok(!c.blind.some((b) => /x32/.test(b)), c.id);
  }
  assert.ok(!off.candidates.find((c) => c.id === 'raw_syscalls')!.hooks.some((h) => h.abi.includes('x32')));
  const cloud = choosePlan(features('debian-6.1-cloud-amd64'));
  assert.match(cloud.x32Why, /CONFIG_X86_X32_ABI is not set/);
  assert.equal(choosePlan(features('matrix-6.1_arm64_clang14')).x32Why, 'aarch64: no x32 ABI');
});

test("x32Enabled: Debian's syscall.x32 parameter file decides where it exists; without it x32 is on wherever it is built in (either option name); no kconfig and no file is unknown", () => {
  assert.equal(x32Enabled({ CONFIG_BPF: 'y' }, null), false, 'not built in');
  assert.equal(x32Enabled({}, null), null, 'nothing known');
  assert.equal(x32Enabled({ CONFIG_X86_X32_ABI: 'y' }, 'Y\n'), true);
  assert.equal(x32Enabled({ CONFIG_X86_X32_ABI: 'y' }, 'N\n'), false, "Debian's default");
  assert.equal(x32Enabled({ CONFIG_X86_X32_ABI: 'y' }, null), true, 'upstream: built in is on');
  assert.equal(x32Enabled({ CONFIG_X86_X32: 'y' }, null), true, 'the option before 5.18');
  assert.equal(x32Enabled({}, 'Y\n'), true, 'the file alone says it is built in');
});
