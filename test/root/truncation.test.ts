/**
 * Arguments over the capture limit (2 MiB per exec), on both backends: the event is marked, argv_bytes is the
 * size the caller passed (before any limit), and the summary counts the cut exec — a failed one too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byFile, requireRoot, trace } from '../helpers/trace.js';

const PY = '/usr/bin/python3';
// 40 arguments of 100,000 bytes (each under MAX_ARG_STRLEN, 128 KiB): 4,000,045 bytes with "true" and the NULs
const BIG_OK = `import os; os.execv("/bin/true", ["true"] + ["A" * 100000] * 40)`;
// one argument of 1,000,000 bytes is over MAX_ARG_STRLEN: E2BIG, after the tracer has read it at entry
const BIG_FAIL = `import os\ntry: os.execv("/bin/true", ["true", "A" * 1000000, "B"])\nexcept OSError as e: print(e.errno)`;

for (const backend of ['ebpf', 'ptrace'] as const) {
  test(`${backend}: a successful exec with 4 MB of arguments has argv_bytes 4,000,045, is marked cut and counted`, (t) => {
    if (!requireRoot(t)) return;
    // exec accepts a quarter of the stack limit as arguments: 64 MiB of stack allows 16 MiB
    const r = trace(['bash', '-c', `ulimit -s 65536 && exec ${PY} -c '${BIG_OK}'`], { extra: ['--backend', backend] });
    assert.equal(r.code, 0, r.stderr);
    const [e] = byFile(r, 'true');
    assert.ok(e, r.execs.map((x) => x.filename).join(' '));
    assert.equal(e.result, 0);
    assert.equal(e.argv_bytes, 4_000_045);
    assert.equal(e.truncated.argv, true);
    assert.equal(r.summary!.truncated.argv, 1, JSON.stringify(r.summary));
  });

  test(`${backend}: a failed exec (E2BIG) with a 1 MB argument has argv_bytes 1,000,008: cut and counted in the summary (eBPF), or whole (ptrace)`, (t) => {
    if (!requireRoot(t)) return;
    const r = trace([PY, '-c', BIG_FAIL], { extra: ['--backend', backend] });
    assert.equal(r.code, 0, r.stderr);
    const [e] = byFile(r, 'true');
    assert.ok(e, r.execs.map((x) => x.filename).join(' '));
    assert.equal(e.errno, 'E2BIG');
    if (backend === 'ebpf') {
      // the BPF failed-exec path copies 32 KiB per string; the size is measured again past that (bpf_loop
      // plans: the root suite's default plan on 5.17+; unrolled plans report null, tested in loops.test.ts)
      assert.equal(e.truncated.argv, true);
      assert.equal(e.argv_bytes, r.summary!.plan.endsWith('+bpf_loop') ? 1_000_008 : null, r.summary!.plan);
      assert.equal(r.summary!.truncated.argv, 1, JSON.stringify(r.summary));
    } else {
      assert.equal(e.truncated.argv, false);
      assert.equal(e.argv[1]!.length, 1_000_000);
      assert.equal(e.argv_bytes, 1_000_008);
      assert.equal(r.summary!.truncated.argv, 0);
    }
  });
}
