/**
 * Capabilities, not the uid: a user other than root with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN (ambient,
 * as systemd's AmbientCapabilities= or setpriv give them) can trace with eBPF, and doctor must say so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { execlensForNobody, NOBODY } from '../helpers/nobody.js';
import { requireRoot } from '../helpers/trace.js';

const CAPS = '+bpf,+perfmon,+sys_admin';
const asNobodyWithCaps = (args: string[]) =>
  spawnSync(
    'setpriv',
    [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      '--clear-groups',
      `--inh-caps=${CAPS}`,
      `--ambient-caps=${CAPS}`,
      execlensForNobody(),
      ...args,
    ],
    {
      encoding: 'utf8',
      cwd: '/',
      env: { PATH: '/usr/bin:/bin', HOME: '/' },
      timeout: 120000,
    },
  );

test(
  'doctor as uid 65534 with ambient CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN: nothing missing, a plan loads, auto would use eBPF (as log does)',
  { skip: existsSync('/usr/bin/setpriv') ? false : 'setpriv (util-linux) not installed' },
  (t) => {
    if (!requireRoot(t)) return;
    const d = asNobodyWithCaps(['doctor', '--json']);
    assert.equal(d.status, 0, d.stderr);
    const r = JSON.parse(d.stdout) as {
      missingCapabilities: string[];
      chosen: { candidate: string } | null;
      backend: { auto: string };
    };
    assert.deepEqual(r.missingCapabilities, []);
    assert.ok(r.chosen, 'a candidate loaded');
    assert.equal(r.backend.auto, 'ebpf');
    const l = asNobodyWithCaps(['log', '--json', '--', '/bin/true', 'caps']);
    assert.equal(l.status, 0, l.stderr);
    assert.match(
      l.stderr,
      /"argv":\["\/bin\/true","caps"\]/,
      'log traces with eBPF under the same capabilities (events on stderr)',
    );
  },
);
