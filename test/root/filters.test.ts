/** The exec filters on real commands, both backends: what is written, the tree followed through what is not, the counts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { byFile, requireRoot, trace as traceAny } from '../helpers/trace.js';
import { readRawRecords } from '../../src/events/rawfile.js';
import { RecKind } from '../../src/events/layout.js';

/** sh -> (sh -> env B=2 -> true), a failed exec, echo as nobody */
const SCRIPT =
  'export A=1; /bin/sh -c "exec /usr/bin/env B=2 /bin/true inner"; /nonexistent/y 2>/dev/null; /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups /bin/echo nobody >/dev/null; exit 0';

for (const backend of ['ebpf', 'ptrace'] as const) {
  const name = (s: string) => (backend === 'ebpf' ? s : `ptrace: ${s}`);
  const trace = (extra: string[]) => {
    const r = traceAny(['sh', '-c', SCRIPT], { extra: ['--backend', backend, ...extra] });
    assert.equal(r.code, 0, r.stderr);
    return r;
  };

  test(
    name(
      '--filename: only matching execs written; the tree is followed through the filtered ones (the exec in a filtered process is still traced, its env diff is against the filtered exec), their count in the summary',
    ),
    (t) => {
      if (!requireRoot(t)) return;
      const all = trace([]);
      const r = trace(['--filename', '/true$']);
      assert.deepEqual(
        r.execs.map((e) => e.argv),
        [['/bin/true', 'inner']],
      );
      const [tru] = r.execs;
      const [innerSh] = byFile(all, 'sh').filter((e) => e.argv[2]?.startsWith('exec /usr/bin/env'));
      assert.ok(innerSh);
      assert.equal(tru!.pid, tru!.tid);
      assert.deepEqual(
        tru!.env_diff?.added,
        { B: '2' },
        "the diff is against env's environment, the filtered exec before it",
      );
      assert.equal(r.summary!.execs, all.summary!.execs, 'every exec traced');
      assert.deepEqual(r.summary!.filtered_out, { filename: all.summary!.execs - 1 });
    },
  );

  test(
    name('--failed-only, --successful-only, --comm, --argv, --uid: each keeps what it says, and says what it dropped'),
    (t) => {
      if (!requireRoot(t)) return;
      const failed = trace(['--failed-only']);
      assert.deepEqual(
        failed.execs.map((e) => e.errno),
        ['ENOENT'],
      );
      const okOnly = trace(['--successful-only']);
      assert.ok(okOnly.execs.length === 6 && okOnly.execs.every((e) => e.result === 0));
      if (backend === 'ptrace') {
        // ptrace stops at every exec anyway: the failed one is traced, counted, and left out
        assert.deepEqual(okOnly.summary!.filtered_out, { successful_only: 1 });
        assert.equal(okOnly.summary!.failed, 1);
      } else {
        // eBPF hooks no syscall then (plan lifecycle-only): the failed exec is not even traced
        assert.deepEqual(okOnly.summary!.filtered_out, {});
        assert.equal(okOnly.summary!.failed, null);
        assert.match(okOnly.summary!.plan, /^lifecycle-only\+/);
      }
      assert.deepEqual(
        trace(['--comm', '^env$']).execs.map((e) => e.filename),
        ['/usr/bin/env'],
      );
      assert.deepEqual(
        trace(['--argv', '^inner$']).execs.map((e) => e.filename),
        ['/usr/bin/env', '/bin/true'],
        'env B=2 /bin/true inner has it too',
      );
      const nobody = trace(['--uid', '65534']);
      assert.deepEqual(
        nobody.execs.map((e) => [e.filename, e.uid]),
        [['/bin/echo', 65534]],
      );
      // every exec counted, the failed one among them, whether the kernel (eBPF) or userspace dropped it
      assert.deepEqual(nobody.summary!.filtered_out, { uid: 6 });
      assert.equal(nobody.summary!.execs, 7);
      assert.equal(nobody.summary!.failed, 1);
      const both = trace(['--successful-only', '--comm', '^sh$']);
      assert.ok(
        both.execs.every((e) => e.comm === 'sh' && e.result === 0) && both.execs.length === 2,
        JSON.stringify(both.execs.map((e) => e.argv)),
      );
    },
  );
}

test('--uid on eBPF is decided in the kernel: the ring carries one exec record (the kept one) and no chunk of the others', (t) => {
  if (!requireRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'execlens-uid-'));
  try {
    const raw = join(dir, 'raw');
    const r = traceAny(['sh', '-c', SCRIPT], { extra: ['--uid', '65534', '--record-raw', raw] });
    assert.equal(r.code, 0, r.stderr);
    const kinds = readRawRecords(raw).map((b) => b.readUInt32LE(0));
    const execRecords = kinds.filter((k) => k === RecKind.EXEC).length;
    assert.equal(execRecords, 1, `exec records in the ring: ${execRecords}`);
    // the kept exec's chunks only: its filename, argv, env, cwd, exe, fds (a handful, not seven execs' worth)
    const chunks = kinds.filter((k) => k === RecKind.CHUNK).length;
    assert.ok(chunks > 0 && chunks <= 12, `chunk records: ${chunks}`);
    assert.deepEqual(r.summary!.filtered_out, { uid: 6 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
