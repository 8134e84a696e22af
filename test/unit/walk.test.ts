import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { walkPlan, type Attempt } from '../../src/backend/ebpf/walk.js';
import { choosePlan, type Candidate, type HookSpec, type LifecycleKind, type LoopKind } from '../../src/plan/plan.js';
import type { KernelFeatures } from '../../src/kernel/features.js';
import { fixture } from '../helpers/paths.js';

const plan7 = choosePlan(JSON.parse(readFileSync(fixture('features/debian-7.2-amd64.json'), 'utf8')) as KernelFeatures);

type Outcome = Partial<Attempt> & { ok: boolean };
/** a trial load that answers from a script, one outcome per call, and records what it was asked */
function scripted(outcomes: Outcome[]) {
  const asked: { c: string; lc: LifecycleKind; loops: LoopKind; hooks: string[] }[] = [];
  const attempt = (c: Candidate, lc: LifecycleKind, hooks: HookSpec[], loops: LoopKind) => {
    asked.push({ c: c.id, lc, loops, hooks: hooks.map((h) => h.program) });
    const o = outcomes.shift();
    if (!o) throw new Error(`unscripted attempt ${c.id}+${lc}+${loops}`);
    const a: Attempt = { candidate: c.id, lifecycle: lc, loops, stage: o.ok ? 'ok' : 'load', ...o };
    return o.ok ? { tracer: `${c.id}+${lc}+${loops}`, attempt: a } : { attempt: a };
  };
  return { asked, attempt };
}

test('walk: a candidate refused before the verifier ends it; the next candidate loads', () => {
  assert.deepEqual(plan7.candidates.map((c) => c.id).slice(0, 2), ['fentry.s', 'fentry']);
  const s = scripted([{ ok: false, errno: 1, error: 'EPERM' }, { ok: false, errno: 1, error: 'EPERM' }, { ok: true }]);
  const r = walkPlan(plan7, new Map(), s.attempt);
  assert.equal(r.tracer, 'kprobe+tp_btf+bpf_loop');
  assert.deepEqual(
    s.asked.map((a) => a.c),
    ['fentry.s', 'fentry', 'kprobe'],
  );
  assert.deepEqual(
    r.attempts.map((a) => a.endedCandidate ?? false),
    [true, true, false],
  );
});

test('walk: a refused bpf_loop program retries the same candidate and lifecycle unrolled', () => {
  const s = scripted([{ ok: false, program: 'btf_sched_exec_loop', error: 'EINVAL' }, { ok: true }]);
  const r = walkPlan(plan7, new Map(), s.attempt);
  assert.deepEqual(
    s.asked.map((a) => `${a.c}+${a.lc}+${a.loops}`),
    ['fentry.s+tp_btf+bpf_loop', 'fentry.s+tp_btf+unrolled'],
  );
  assert.equal(r.tracer, 'fentry.s+tp_btf+unrolled');
});

test('walk: a refused optional (compat) hook retries without the optional hooks, recording what was dropped', () => {
  const s = scripted([{ ok: false, program: 'fentry_compat_execve', error: 'not sleepable' }, { ok: true }]);
  const r = walkPlan(plan7, new Map(), s.attempt);
  assert.ok(s.asked[0]!.hooks.includes('fentry_compat_execve'));
  assert.ok(!s.asked[1]!.hooks.some((h) => h.includes('compat')), 'second try has no compat hooks');
  assert.equal(s.asked[1]!.c, 'fentry.s');
  assert.deepEqual(
    r.attempts[0]!.droppedHooks?.map((d) => d.program),
    ['fentry_compat_execve', 'fexit_compat_execve', 'fentry_compat_execveat', 'fexit_compat_execveat'],
  );
});

test('walk: a refused lifecycle program moves to the next lifecycle variant of the same candidate', () => {
  const s = scripted([{ ok: false, program: 'btf_sched_fork', error: 'EINVAL' }, { ok: true }]);
  walkPlan(plan7, new Map(), s.attempt);
  assert.deepEqual(
    s.asked.map((a) => `${a.c}+${a.lc}`),
    ['fentry.s+tp_btf', 'fentry.s+raw_tp'],
  );
});

test('walk: a refusal remembered from this boot is skipped, except for the last candidate, which is always tried', () => {
  const at = '2026-12-02T00:00:00Z';
  const skip = new Map(
    plan7.candidates.map((c) => [
      c.id,
      { candidate: c.id, lifecycle: 'tp_btf' as const, stage: 'load' as const, ok: false, at },
    ]),
  );
  const s = scripted([{ ok: true }]);
  const r = walkPlan(plan7, skip, s.attempt);
  assert.deepEqual(
    s.asked.map((a) => a.c),
    ['tracepoint'],
  );
  assert.equal(r.attempts.filter((a) => a.cached === at).length, plan7.candidates.length - 1);
});

test('walk: every candidate refused gives no tracer and one attempt per candidate, each ending it', () => {
  const s = scripted(plan7.candidates.map(() => ({ ok: false, errno: 13, error: 'EACCES' })));
  const r = walkPlan(plan7, new Map(), s.attempt);
  assert.equal(r.tracer, undefined);
  assert.deepEqual(
    r.attempts.map((a) => a.candidate),
    plan7.candidates.map((c) => c.id),
  );
  assert.ok(r.attempts.every((a) => a.endedCandidate));
});
