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
import { probeKernel } from '../../src/kernel/features.js';

/**
 * Before 5.11 BPF maps are charged to RLIMIT_MEMLOCK, which only CAP_SYS_RESOURCE lets libbpf raise
 * (src/backend/preflight.ts, memlockShortfall): there the fourth capability is needed too.
 */
const [MAJ, MIN] = probeKernel().version;
const MEMLOCK_CHARGED = MAJ < 5 || (MAJ === 5 && MIN < 11);
const CAPS = `+bpf,+perfmon,+sys_admin${MEMLOCK_CHARGED ? ',+sys_resource' : ''}`;
/** execlens as uid 65534 with these ambient capabilities; `limit`: run under prlimit with that memlock limit */
const asNobodyWithCaps = (args: string[], caps = CAPS, limit?: string) =>
  spawnSync(
    limit ? 'prlimit' : 'setpriv',
    [
      ...(limit ? [`--memlock=${limit}`, 'setpriv'] : []),
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      '--clear-groups',
      `--inh-caps=${caps}`,
      `--ambient-caps=${caps}`,
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
  'doctor as uid 65534 with ambient CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN (and CAP_SYS_RESOURCE before 5.11): nothing missing, a plan loads, auto would use eBPF (as log does)',
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

test(
  'before 5.11, as uid 65534 with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN but a 64 KiB memlock limit: doctor names CAP_SYS_RESOURCE or RLIMIT_MEMLOCK and exits 77, log (ebpf, the default) the same, --backend auto falls back to ptrace',
  {
    skip: !existsSync('/usr/bin/setpriv')
      ? 'setpriv (util-linux) not installed'
      : !MEMLOCK_CHARGED
        ? `Linux ${MAJ}.${MIN} charges BPF maps to the memory cgroup (5.11+), not to RLIMIT_MEMLOCK`
        : false,
  },
  (t) => {
    if (!requireRoot(t)) return;
    const three = '+bpf,+perfmon,+sys_admin';
    // prlimit: the limit the kernel gives a process before 5.16 (MLOCK_LIMIT), whatever this shell has
    const run = (args: string[]) => asNobodyWithCaps(args, three, '65536:65536');
    const d = run(['doctor']);
    assert.equal(d.status, 77, d.stdout + d.stderr);
    assert.match(
      d.stdout,
      /MISSING CAP_SYS_RESOURCE \(with which libbpf raises the limit\) or an RLIMIT_MEMLOCK of about \d+ MiB \(the 32 MiB ring and the other maps; it is 64 KiB, hard 64 KiB/,
    );
    const l = run(['log', '--', '/bin/true']);
    assert.equal(l.status, 77, l.stderr);
    assert.match(
      l.stderr,
      /needs CAP_SYS_RESOURCE \(with which libbpf raises the limit\) or an RLIMIT_MEMLOCK of about/,
    );
    const auto = run(['log', '--backend', 'auto', '--json', '--', '/bin/true', 'fell-back']);
    assert.equal(auto.status, 0, auto.stderr);
    assert.match(auto.stderr, /falling back to ptrace/);
    assert.match(auto.stderr, /"argv":\["\/bin\/true","fell-back"\]/);
  },
);
