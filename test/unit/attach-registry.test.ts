import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import {
  ATTACH_KINDS,
  ATTACH_METHODS,
  forceFlags,
  isExeclensProgram,
  methodOfCandidate,
} from '../../src/attach/registry.js';
import { choosePlan, overridesFromEnv } from '../../src/plan/plan.js';
import { attachMethodLines } from '../../src/cli/doctor.js';
import { buildProgram } from '../../src/cli/main.js';
import type { KernelFeatures } from '../../src/kernel/features.js';
import { fixture } from '../helpers/paths.js';

const fixtures = readdirSync(fixture('features')).filter((f) => f.endsWith('.json'));
const features = (f: string) => JSON.parse(readFileSync(fixture(`features/${f}`), 'utf8')) as KernelFeatures;

test("every candidate of every recorded kernel comes from a registered method that names its id, and its programs carry that method's prefixes", () => {
  let seen = 0;
  for (const f of fixtures) {
    for (const c of [
      ...choosePlan(features(f)).candidates,
      ...choosePlan(features(f), { successfulOnly: true }).candidates,
    ]) {
      const m = methodOfCandidate(c.id);
      assert.ok(m, `${f}: candidate ${c.id} from no method`);
      assert.equal(m.kind, c.attach, `${f}: ${c.id}`);
      for (const h of c.hooks)
        assert.ok(
          m.programPrefixes.some((p) => h.program.startsWith(p)) && isExeclensProgram(h.program),
          `${f}: ${h.program}`,
        );
      seen++;
    }
  }
  assert.ok(seen > fixtures.length, `${seen} candidates`);
  assert.equal(isExeclensProgram('sd_devices'), false, 'systemd programs are not counted as execlens');
});

test("an --attach override keeps only that method's candidates; EXECLENS_ATTACH accepts exactly the registered kinds that hook the syscall", () => {
  const f = features('debian-7.2-amd64.json');
  for (const m of ATTACH_METHODS.filter((x) => x.hooksSyscalls)) {
    const p = choosePlan(f, { attach: m.kind });
    assert.ok(p.candidates.length > 0, m.kind);
    assert.ok(
      p.candidates.every((c) => c.attach === m.kind),
      m.kind,
    );
    assert.deepEqual(overridesFromEnv({ EXECLENS_ATTACH: m.kind }), { attach: m.kind });
  }
  assert.deepEqual(ATTACH_KINDS, ['fentry', 'kprobe', 'raw_syscalls', 'tracepoint']);
  // the method that hooks no syscall is --successful-only's, not an --attach value
  assert.deepEqual(
    ATTACH_METHODS.filter((m) => !m.hooksSyscalls).map((m) => m.kind),
    ['lifecycle-only'],
  );
  assert.throws(() => overridesFromEnv({ EXECLENS_ATTACH: 'lifecycle-only' }), /EXECLENS_ATTACH=lifecycle-only/);
  assert.throws(
    () => overridesFromEnv({ EXECLENS_ATTACH: 'uprobe' }),
    /EXECLENS_ATTACH=uprobe: expected fentry, kprobe, raw_syscalls or tracepoint/,
  );
});

test('the flags that force a candidate parse on the log command and select exactly that candidate first', () => {
  const f = features('debian-7.2-amd64.json');
  const all = [...choosePlan(f).candidates, ...choosePlan(f, { successfulOnly: true }).candidates].map((c) => c.id);
  assert.deepEqual(all, ['fentry.s', 'fentry', 'kprobe', 'raw_syscalls', 'tracepoint', 'lifecycle-only']);
  for (const id of all) {
    const flags = forceFlags(id);
    const program = buildProgram(() => {});
    const log = program.commands.find((c) => c.name() === 'log')!;
    log.parseOptions(flags);
    const o = log.opts<{ attach?: string; sleep?: boolean; successfulOnly?: boolean }>();
    const p = choosePlan(f, { attach: o.attach, noSleep: o.sleep === false, successfulOnly: o.successfulOnly });
    assert.equal(p.candidates[0]?.id, id, `${flags.join(' ')}`);
  }
  assert.throws(() => forceFlags('uprobe'), /no attach method makes candidate uprobe/);
});

test('doctor lists every registered method, each with its candidates or why it was ruled out', () => {
  const lines = attachMethodLines(choosePlan(features('host-6.18-firecracker-x86_64.json'))).join('\n');
  for (const m of ATTACH_METHODS)
    assert.match(lines, new RegExp(`^  ${m.kind} +${m.summary.replace(/[()[\]*+.?]/g, '\\$&')}`, 'm'));
  assert.match(lines, /ruled out kprobe: CONFIG_KPROBES is not set/);
  assert.match(lines, /ruled out fentry\.s: kernel 6\.18\.\d+ < 7\.1/);
  assert.match(lines, /candidate: raw_syscalls/);
  assert.match(lines, /ruled out lifecycle-only: only with --successful-only/);
  const so = attachMethodLines(
    choosePlan(features('host-6.18-firecracker-x86_64.json'), { successfulOnly: true }),
  ).join('\n');
  assert.match(so, /^ +candidate: lifecycle-only$/m);
  // one line per reason: both fentry candidates are ruled out for the same one
  assert.match(so, /ruled out fentry\.s, fentry: not with --successful-only: it hooks the syscall/);
  assert.doesNotMatch(so, /candidate: (fentry|kprobe|raw_syscalls|tracepoint)/);
});
