/**
 * --collect-cgroup on both backends: an exec inside a cgroup v2 made by the test (named as docker names its
 * scopes) carries that cgroup's path and the container id in JSON, text and Perfetto's annotations (decoded back); without
 * the flag, no such field.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePerfetto } from '../helpers/perfetto.js';
import { EXECLENS } from '../helpers/paths.js';
import { byFile, requireRoot, trace } from '../helpers/trace.js';
import { cgroup2Mount } from '../../src/events/cgroup.js';

const mount = cgroup2Mount();
const ID = 'feed'.repeat(16);

function withCgroup(t: TestContext, fn: (procs: string, rel: string) => void): void {
  const rel = `/execlens-test-${process.pid}/docker-${ID}.scope`;
  const dir = join(mount!, rel);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    // a matrix guest may have cgroup2 mounted read-only
    t.skip(`cannot make a cgroup here: ${(e as Error).message}`);
    return;
  }
  try {
    fn(join(dir, 'cgroup.procs'), rel);
  } finally {
    // the shell moved in has exited: the cgroups are empty again
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(dir);
        rmdirSync(join(dir, '..'));
        break;
      } catch {
        spawnSync('sleep', ['0.1']);
      }
    }
  }
}

for (const backend of ['ebpf', 'ptrace'] as const) {
  test(
    `${backend}: --collect-cgroup gives an exec in a cgroup made by the test its path and container id (JSON, text, Perfetto annotations); without it no cgroup field`,
    { skip: mount ? false : 'no cgroup v2 mounted' },
    (t) => {
      if (!requireRoot(t)) return;
      withCgroup(t, (procs, rel) => {
        const script = `echo $$ > ${procs}; /bin/true in-cgroup`;
        const r = trace(['/bin/sh', '-c', script], { extra: ['--backend', backend, '--collect-cgroup'] });
        assert.equal(r.code, 0, r.stderr);
        const [inside] = byFile(r, 'true');
        const rec = inside as unknown as { cgroup: string | null; container_id: string | null };
        assert.equal(rec.cgroup, rel);
        assert.equal(rec.container_id, ID);
        // the shell itself exec'd before it moved: the test's own cgroup, as /proc says
        const own = readFileSync('/proc/self/cgroup', 'utf8').match(/^0::(.*)$/m)![1];
        const sh = byFile(r, 'sh')[0] as unknown as { cgroup: string | null };
        assert.equal(sh.cgroup, own);

        const text = spawnSync(
          EXECLENS,
          ['log', '--backend', backend, '--collect-cgroup', '-o', '-', '--', '/bin/sh', '-c', script],
          {
            encoding: 'utf8',
            env: { ...process.env, NO_COLOR: '1' },
          },
        );
        assert.equal(text.status, 0, text.stderr);
        const line = text.stdout.split('\n').find((l) => l.includes(' ok /bin/true argv: /bin/true in-cgroup'));
        assert.ok(line, text.stdout);
        assert.ok(line.includes(` cgroup: ${rel} container: ${ID.slice(0, 12)}`), line);

        // Perfetto: the slice of the image annotated with both
        const dir = mkdtempSync(join(tmpdir(), 'execlens-cg-pf-'));
        try {
          const file = join(dir, 'trace.pftrace');
          const c = spawnSync(
            EXECLENS,
            [
              'collect',
              '-F',
              'perfetto',
              '--backend',
              backend,
              '--collect-cgroup',
              '-o',
              file,
              '--',
              '/bin/sh',
              '-c',
              script,
            ],
            { encoding: 'utf8' },
          );
          assert.equal(c.status, 0, c.stderr);
          const slice = decodePerfetto(readFileSync(file)).slices.find((x) => x.name === 'true');
          assert.ok(slice, 'a slice of /bin/true');
          assert.deepEqual([slice.args.cgroup, slice.args.container_id], [rel, ID]);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }

        const plain = trace(['/bin/true'], { extra: ['--backend', backend] });
        assert.ok(!('cgroup' in (plain.execs[0] as object)), 'no cgroup field without the flag');
      });
    },
  );
}

for (const backend of ['ebpf', 'ptrace'] as const) {
  test(
    `${backend}: --cgroup writes only the execs in a cgroup made by the test (given as --collect-cgroup shows it, or as its directory), counts the others; a cgroup that does not exist is a usage error (64)`,
    { skip: mount ? false : 'no cgroup v2 mounted' },
    (t) => {
      if (!requireRoot(t)) return;
      withCgroup(t, (procs, rel) => {
        // sh and the first true run outside; the inner shell moves itself in, then its true and a failed exec
        const script = `/bin/true outside; /bin/sh -c 'echo $$ > ${procs}; /bin/true inside; /nonexistent/in-cgroup 2>/dev/null; exit 0'`;
        for (const given of [rel, join(mount!, rel)]) {
          const r = trace(['/bin/sh', '-c', script], { extra: ['--backend', backend, '--cgroup', given] });
          assert.equal(r.code, 0, r.stderr);
          assert.deepEqual(
            r.execs.map((e) => e.argv),
            [['/bin/true', 'inside'], ['/nonexistent/in-cgroup']],
            given,
          );
          // sh, true outside, the inner sh (it exec'd before it moved)
          assert.deepEqual(r.summary!.filtered_out, { cgroup: 3 });
          assert.equal(r.summary!.execs, 5);
          assert.equal(r.summary!.failed, 1);
        }
        // a parent of the cgroup holds it too
        const parent = trace(['/bin/sh', '-c', script], {
          extra: ['--backend', backend, '--cgroup', rel.split('/').slice(0, 2).join('/')],
        });
        assert.equal(parent.execs.length, 2);
      });
      const bad = spawnSync(EXECLENS, ['log', '--backend', backend, '--cgroup', '/execlens-no-such', '--', 'true'], {
        encoding: 'utf8',
      });
      assert.equal(bad.status, 64);
      assert.match(bad.stderr, /^execlens: --cgroup \/execlens-no-such: no such cgroup/);
    },
  );
}
