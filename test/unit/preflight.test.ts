import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memlockLimits, memlockNeeded, memlockShortfall, missingCapabilities } from '../../src/backend/preflight.js';

// /proc/self/limits as Linux prints it (fs/proc/base.c, proc_pid_limits)
const limits = (soft: string, hard = soft) =>
  `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             63422                63422                processes \nMax locked memory         ${soft.padEnd(20)} ${hard.padEnd(20)} bytes     \n`;
// CapEff of uid 65534 with ambient CAP_BPF (39), CAP_PERFMON (38) and CAP_SYS_ADMIN (21); and with CAP_SYS_RESOURCE (24)
const THREE = ((1n << 39n) | (1n << 38n) | (1n << 21n)).toString(16);
const FOUR = ((1n << 39n) | (1n << 38n) | (1n << 21n) | (1n << 24n)).toString(16);
const RING = 32 << 20;
const v = (maj: number, min: number): [number, number, number] => [maj, min, 0];

test('memlockLimits reads the soft and hard limit of Max locked memory: bytes, unlimited, or unknown', () => {
  assert.deepEqual(memlockLimits(limits('65536', '65536')), { soft: 65536, hard: 65536 });
  assert.deepEqual(memlockLimits(limits('8388608', 'unlimited')), { soft: 8388608, hard: Infinity });
  assert.deepEqual(memlockLimits(limits('unlimited')), { soft: Infinity, hard: Infinity });
  assert.equal(memlockLimits('Max processes 1 1 processes\n'), null);
  assert.equal(memlockLimits(null), null);
});

test('before 5.11 without CAP_SYS_RESOURCE, a finite memlock limit below the maps is named as what is missing; root, CAP_SYS_RESOURCE, an unlimited hard limit, a big enough one, or memcg accounting need nothing', () => {
  const nobody = { euid: 65534, capEff: THREE, version: v(5, 10), possibleCpus: 2, bpfMemcg: false };
  assert.deepEqual(missingCapabilities(nobody), [], 'the three capabilities are there');
  const why = memlockShortfall(nobody, limits('65536'), RING);
  assert.match(
    why ?? '',
    /^an RLIMIT_MEMLOCK of about 42 MiB \(the 32 MiB ring and the other maps; it is 64 KiB, hard 64 KiB: Linux 5\.10 charges/,
  );
  assert.equal(memlockShortfall({ ...nobody, capEff: FOUR }, limits('65536'), RING), null, 'CAP_SYS_RESOURCE');
  assert.equal(memlockShortfall({ ...nobody, euid: 0, capEff: null }, limits('65536'), RING), null, 'root');
  assert.equal(memlockShortfall(nobody, limits('65536', 'unlimited'), RING), null, 'libbpf lifts the soft limit');
  assert.equal(memlockShortfall(nobody, limits(String(memlockNeeded(RING, 2))), RING), null, 'enough');
  assert.ok(memlockShortfall(nobody, limits(String(RING + (1 << 20))), RING), 'the ring alone is not enough');
  assert.equal(
    memlockShortfall({ ...nobody, bpfMemcg: true }, limits('65536'), RING),
    null,
    'a backport: the probe wins',
  );
  const noProbe = { ...nobody, bpfMemcg: null };
  assert.ok(memlockShortfall(noProbe, limits('65536'), RING), 'no probe: 5.10 by its version');
  assert.equal(memlockShortfall({ ...noProbe, version: v(5, 11) }, limits('65536'), RING), null, '5.11 by its version');
  assert.equal(memlockShortfall(nobody, null, RING), null, 'limit unknown: nothing claimed');
  assert.ok(memlockNeeded(RING, 64) > memlockNeeded(RING, 2), 'per-CPU scratch counts');
});
