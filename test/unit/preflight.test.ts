import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memlockLimit, memlockShortfall, missingCapabilities } from '../../src/backend/preflight.js';

// /proc/self/limits as Linux prints it (fs/proc/base.c, proc_pid_limits)
const limits = (soft: string, hard = soft) =>
  `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             63422                63422                processes \nMax locked memory         ${soft.padEnd(20)} ${hard.padEnd(20)} bytes     \n`;
// CapEff of uid 65534 with ambient CAP_BPF (39), CAP_PERFMON (38) and CAP_SYS_ADMIN (21); and with CAP_SYS_RESOURCE (24)
const THREE = ((1n << 39n) | (1n << 38n) | (1n << 21n)).toString(16);
const FOUR = ((1n << 39n) | (1n << 38n) | (1n << 21n) | (1n << 24n)).toString(16);
const RING = 32 << 20;

test('memlockLimit reads the soft limit of Max locked memory: bytes, unlimited, or unknown', () => {
  assert.equal(memlockLimit(limits('65536', '65536')), 65536);
  assert.equal(memlockLimit(limits('8388608', 'unlimited')), 8388608);
  assert.equal(memlockLimit(limits('unlimited')), Infinity);
  assert.equal(memlockLimit('Max processes 1 1 processes\n'), null);
  assert.equal(memlockLimit(null), null);
});

test('before 5.11 without CAP_SYS_RESOURCE, a memlock limit below the ring is named as what is missing; root, CAP_SYS_RESOURCE, a big enough limit or 5.11+ need nothing', () => {
  const nobody = { euid: 65534, capEff: THREE, version: [5, 10, 0] as [number, number, number] };
  assert.deepEqual(missingCapabilities(nobody), [], 'the three capabilities are there');
  const why = memlockShortfall(nobody, limits('65536'), RING);
  assert.match(
    why ?? '',
    /^CAP_SYS_RESOURCE or an RLIMIT_MEMLOCK of at least the ring's 32 MiB \(it is 64 KiB: Linux 5\.10 < 5\.11/,
  );
  assert.equal(memlockShortfall({ ...nobody, capEff: FOUR }, limits('65536'), RING), null, 'CAP_SYS_RESOURCE');
  assert.equal(memlockShortfall({ euid: 0, capEff: null, version: [5, 10, 0] }, limits('65536'), RING), null, 'root');
  assert.equal(memlockShortfall(nobody, limits('unlimited'), RING), null, 'no limit');
  assert.equal(memlockShortfall(nobody, limits(String(64 << 20)), RING), null, 'a limit above the ring');
  assert.equal(memlockShortfall({ ...nobody, version: [5, 11, 0] }, limits('65536'), RING), null, 'memcg accounting');
  assert.equal(memlockShortfall({ ...nobody, version: [6, 1, 0] }, limits('65536'), RING), null);
  assert.equal(memlockShortfall(nobody, null, RING), null, 'limit unknown: nothing claimed');
});
