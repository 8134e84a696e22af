/**
 * The formatters on assembled events, without root: the text line's fields, the JSON record against the
 * project's JSON Schema (schema/exec-event.v2.json, ajv), (--show-cmdline: cmdline.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffEnv } from '../../src/events/envdiff.js';
import { ExecFlag } from '../../src/events/layout.js';
import { SIZE_UNKNOWN, type ExecEvent } from '../../src/events/types.js';
import { execEvent, fdInfo, FMT } from '../helpers/events.js';
import { palette } from '../../src/output/color.js';
import { formatText, toJsonRecord, type FormatOptions } from '../../src/output/format.js';
import { schemaErrors } from '../helpers/trace.js';

const B = (s: string) => Buffer.from(s);
const fmt: FormatOptions = FMT;
const plain = palette(false);

/** the shared event, with two fds the exec closed (the text shows them as a range) */
const exec = (over: Partial<ExecEvent> = {}): ExecEvent =>
  execEvent({
    fds: [fdInfo(0, '/dev/pts/0'), fdInfo(1, '/dev/pts/0'), fdInfo(3, '/etc/x', true), fdInfo(4, '/etc/y', true)],
    ...over,
  });

test('text: time, pid<ppid>, the comm before exec, result, filename, argv quoted to paste back, cwd, env diff, fds with the cloexec ones as ranges', () => {
  const ev = exec();
  const line = formatText({ ev, diff: diffEnv([B('HOME=/root'), B('OLD=x')], ev.env!) }, fmt, plain);
  assert.match(
    line,
    /^\d\d:\d\d:\d\d\.500000 42<7> sh ok \/bin\/echo argv: \/bin\/echo 'a b' cwd: \/tmp env: \+FOO=1 -OLD fds: 0:\/dev\/pts\/0 1:\/dev\/pts\/0 cloexec:3-4\n$/,
  );
});

test('text: a failed exec shows the errno name and the comm, a compat exec its ABI, truncation and a lost chunk as !flags, a pid namespace as [ns:N]', () => {
  const failed = formatText(
    {
      ev: exec({
        ret: -2,
        comm: B('sh'),
        flags: ExecFlag.COMPAT | ExecFlag.ARGV_TRUNC,
        missingChunks: 1,
        nsLevel: 1,
        nsPid: 1,
      }),
      diff: null,
    },
    fmt,
    plain,
  );
  assert.match(failed, /42<7>\[ns:1\] sh ENOENT \[(ia32|aarch32|compat)\] \/bin\/echo/);
  assert.match(failed, / !argv_trunc,chunk_lost\n$/);
  assert.doesNotMatch(failed, /!.*compat/, 'the ABI is shown once, not as a flag');
});

test("text: a thread that is not the leader shows pid/tid; the launcher's exec shows the command's comm; --show-env of an empty environment says (empty)", () => {
  assert.match(formatText({ ev: exec({ tid: 43 }), diff: null }, fmt, plain), / 42\/43<7> sh ok /);
  assert.match(formatText({ ev: exec(), diff: null, byLauncher: true }, fmt, plain), / 42<7> echo ok /);
  assert.match(
    formatText({ ev: exec({ env: [] }), diff: null }, { ...fmt, fullEnv: true }, plain),
    / env: \(empty\) fds: /,
  );
});

test("text: bytes that are not UTF-8 are quoted as $'\\xff' (so the line pastes back), colour only when asked", () => {
  const line = formatText({ ev: exec({ argv: [B('printf'), Buffer.from([0xff])] }), diff: null }, fmt, plain);
  assert.match(line, /argv: printf \$'\\xff'/);
  const coloured = formatText({ ev: exec(), diff: null }, fmt, palette(true));
  assert.ok(coloured.includes('\u001b[32mok\u001b[0m'), coloured);
  assert.ok(!formatText({ ev: exec(), diff: null }, fmt, plain).includes('\u001b'));
});

test('JSON: every record of these events validates against schema/exec-event.v2.json, non-UTF-8 items carry *_b64', () => {
  const cases = [
    exec(),
    exec({ ret: -13, fds: [] }),
    exec({ argv: [B('x'), Buffer.from([0xff, 0x41])], cwd: Buffer.from([0x2f, 0xe9]) }),
    exec({ env: null, filename: null }),
  ];
  for (const ev of cases) {
    const rec = toJsonRecord(
      { ev, diff: ev.env ? diffEnv([B('HOME=/root')], ev.env) : null },
      { ...fmt, showCmdline: true },
    );
    assert.equal(schemaErrors(rec), null, JSON.stringify(rec));
  }
  const odd = toJsonRecord({ ev: cases[2]!, diff: null }, fmt);
  assert.deepEqual(odd.argv_b64, ['eA==', '/0E=']);
  assert.equal(odd.cwd_b64, Buffer.from([0x2f, 0xe9]).toString('base64'));
  assert.equal(toJsonRecord({ ev: cases[1]!, diff: null }, fmt).errno, 'EACCES');
  assert.equal(toJsonRecord({ ev: exec(), diff: null }, fmt).t, 0.5, 'seconds since the trace started');
});

test('argc 0: the text says the kernel supplied argv[0] (5.18+) or that there is none, with no !warning; JSON keeps ARGC_ZERO in flags', () => {
  const kernels = exec({ flags: ExecFlag.ARGC_ZERO, argv: [B('')] });
  assert.match(
    formatText({ ev: kernels, diff: null }, fmt, plain),
    / argv: '' \(argc 0: argv\[0\] supplied by the kernel\) cwd:/,
  );
  assert.doesNotMatch(formatText({ ev: kernels, diff: null }, fmt, plain), /!/);
  const none = exec({ flags: ExecFlag.ARGC_ZERO, argv: [] });
  assert.match(formatText({ ev: none, diff: null }, fmt, plain), / argv: \(none: argc 0\) cwd:/);
  const rec = toJsonRecord({ ev: kernels, diff: null }, fmt);
  assert.deepEqual(rec.flags, ['ARGC_ZERO']);
  assert.deepEqual(rec.argv, ['']);
  // a caller's own [""] is not marked
  assert.match(formatText({ ev: exec({ argv: [B('')] }), diff: null }, fmt, plain), / argv: '' cwd:/);
});

test('JSON: a size the tracer could not measure (EL_SIZE_UNKNOWN) is argv_bytes/env_bytes null, valid against the schema', () => {
  const rec = toJsonRecord(
    {
      ev: exec({ ret: -7, flags: ExecFlag.ARGV_TRUNC | ExecFlag.FAILED_PATH, argvTotal: SIZE_UNKNOWN, envTotal: 12 }),
      diff: null,
    },
    fmt,
  );
  assert.equal(rec.argv_bytes, null);
  assert.equal(rec.env_bytes, 12);
  assert.equal(schemaErrors(rec), null);
});

test('text: an exec whose entry was not seen (no comm before it, e.g. --successful-only) shows the comm after it, not ?', () => {
  const ev = exec({ oldComm: B(''), comm: B('echo'), flags: ExecFlag.NO_ENTRY });
  assert.match(formatText({ ev, diff: null }, fmt, plain), /^\S+ 42<7> echo ok \/bin\/echo /);
});

test('text and JSON times: execs in the same second and millisecond, then in the next ones, each show their own time (the per-second caches of both never go stale)', () => {
  // bootToWallNs puts tsNs 0 at 2026-12-03T10:20:30.000Z
  const o: FormatOptions = { ...fmt, bootToWallNs: BigInt(Date.UTC(2026, 11, 3, 10, 20, 30)) * 1000000n };
  const at = (ns: bigint) => {
    const ev = exec({ tsNs: ns });
    const time = formatText({ ev, diff: null }, o, plain).split(' ')[0]!;
    const d = new Date(Date.UTC(2026, 11, 3, 10, 20, 30) + Number(ns / 1000000n));
    const local = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
    return { time, local, iso: toJsonRecord({ ev, diff: null }, o).time };
  };
  const steps: [bigint, string, string][] = [
    [1000n, '.000001', '2026-12-03T10:20:30.000Z'],
    [999999000n, '.999999', '2026-12-03T10:20:30.999Z'],
    [1000000000n, '.000000', '2026-12-03T10:20:31.000Z'],
    [1000500000n, '.000500', '2026-12-03T10:20:31.000Z'],
    [61002000000n, '.002000', '2026-12-03T10:21:31.002Z'],
    [500000n, '.000500', '2026-12-03T10:20:30.000Z'],
  ];
  for (const [ns, us, iso] of steps) {
    const t = at(ns);
    assert.equal(t.time, `${t.local}${us}`, `tsNs ${ns}`);
    assert.equal(t.iso, iso, `tsNs ${ns}`);
  }
  // in order and out of order, across years: what a Date says
  for (let i = 0; i < 200; i++) {
    const ms = Math.floor(Math.random() * 4e12);
    const rec = toJsonRecord(
      { ev: exec({ tsNs: BigInt(ms) * 1000000n + 123456n }), diff: null },
      { ...fmt, bootToWallNs: 0n },
    );
    assert.equal(rec.time, new Date(ms).toISOString());
  }
});
