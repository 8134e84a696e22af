/** Where the events go: stderr by default with a command (its own output stays its own), -o FILE, -o -. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXECLENS } from '../helpers/paths.js';
import { requireRoot, schemaErrors } from '../helpers/trace.js';

const run = (args: string[], opts: { shell?: string } = {}) =>
  opts.shell !== undefined
    ? spawnSync('bash', ['-c', opts.shell, EXECLENS, ...args], { encoding: 'utf8', timeout: 120_000 })
    : spawnSync(EXECLENS, args, { encoding: 'utf8', timeout: 120_000 });

const ESC = '\x1b[';

for (const backend of ['ebpf', 'ptrace'] as const) {
  const name = (s: string) => (backend === 'ebpf' ? s : `ptrace: ${s}`);
  const b = ['--backend', backend];

  test(
    name(
      "log --json -- CMD: stdout is exactly the command's output, every stderr line is a JSON record valid against the schema, the summary last",
    ),
    (t) => {
      if (!requireRoot(t)) return;
      const r = run(['log', ...b, '--json', '--', 'sh', '-c', 'echo hello; /bin/echo "a b"; /bin/true x']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'hello\na b\n');
      const lines = r.stderr.split('\n');
      assert.equal(lines.pop(), '', 'stderr ends with a newline');
      const recs = lines.map((l) => JSON.parse(l) as { type: string; argv?: string[] });
      for (const rec of recs) assert.equal(schemaErrors(rec), null, JSON.stringify(rec).slice(0, 300));
      assert.deepEqual(
        recs.filter((x) => x.type === 'exec').map((x) => x.argv),
        [
          ['sh', '-c', 'echo hello; /bin/echo "a b"; /bin/true x'],
          ['/bin/echo', 'a b'],
          ['/bin/true', 'x'],
        ],
      );
      assert.equal(recs.at(-1)!.type, 'summary');
    },
  );

  test(
    name(
      "log --json -- CMD 2>events.jsonl | jq: jq reads the command's output, and jq reads every line of events.jsonl",
    ),
    (t) => {
      if (!requireRoot(t)) return;
      const dir = mkdtempSync(join(tmpdir(), 'execlens-streams-'));
      try {
        const ev = join(dir, 'events.jsonl');
        const r = run([backend, ev], {
          shell: `"$0" log --backend "$1" --json -- sh -c 'echo "{\\"n\\": 1}"; /bin/true' 2>"$2" | jq -c .n`,
        });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, '1\n');
        const jq = spawnSync('jq', ['-c', '.type', ev], { encoding: 'utf8' });
        assert.equal(jq.status, 0, jq.stderr);
        assert.equal(jq.stdout, '"exec"\n"exec"\n"summary"\n');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test(
    name("log -o - -- CMD: text events on stdout, the command's stderr and the summary line (last) on stderr"),
    (t) => {
      if (!requireRoot(t)) return;
      const r = run(['log', ...b, '-o', '-', '--', 'sh', '-c', 'echo oops >&2; /bin/true y']);
      assert.equal(r.status, 0, r.stderr);
      const out = r.stdout.trim().split('\n');
      assert.equal(out.length, 2, r.stdout);
      assert.match(out[1]!, / ok \/bin\/true argv: \/bin\/true y /);
      assert.match(r.stderr, /^oops\nexeclens: 2 execs \(0 failed\), [^\n]*\n$/);
    },
  );

  test(
    name(
      "log -- CMD (text): events then the summary line on stderr, stdout the command's; -o FILE has no colour unless --color always",
    ),
    (t) => {
      if (!requireRoot(t)) return;
      const r = run(['log', ...b, '--', 'sh', '-c', 'echo out; /bin/true z']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'out\n');
      const err = r.stderr.trim().split('\n');
      assert.match(err[1]!, / ok \/bin\/true argv: \/bin\/true z /);
      assert.match(err.at(-1)!, /^execlens: 2 execs/);
      const dir = mkdtempSync(join(tmpdir(), 'execlens-streams-'));
      try {
        const f = join(dir, 'ev.txt');
        assert.equal(run(['log', ...b, '-q', '-o', f, '--', '/bin/true']).status, 0);
        assert.ok(!readFileSync(f, 'utf8').includes(ESC), 'no colour into a file by default');
        assert.equal(run(['log', ...b, '-q', '--color', 'always', '-o', f, '--', '/bin/true']).status, 0);
        assert.ok(readFileSync(f, 'utf8').includes(ESC), '--color always colours a file too');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test(
    name(
      'log --timestamp unix|relative|none: the first field is the epoch time of the exec, the time since the line before, or absent',
    ),
    (t) => {
      if (!requireRoot(t)) return;
      const field = (mode: string) =>
        run(['log', ...b, '-q', '--timestamp', mode, '--', 'sh', '-c', '/bin/true; sleep 0.2; /bin/true'])
          .stderr.trim()
          .split('\n')
          .map((l) => l.split(' ').filter(Boolean)[0]!);
      const unix = field('unix');
      assert.equal(unix.length, 4);
      for (const u of unix) assert.ok(/^\d+\.\d{6}$/.test(u) && Math.abs(Number(u) - Date.now() / 1000) < 120, u);
      const rel = field('relative').map(Number);
      assert.ok(
        rel.every((x) => x >= 0 && x < 60),
        rel.join(' '),
      );
      assert.ok(rel[3]! >= 0.19, `the exec after sleep 0.2 comes >= 0.2 s after the one before: ${rel.join(' ')}`);
      assert.ok(
        field('none').every((f) => /^\d+<\d+>$/.test(f)),
        'the line starts with pid<ppid>',
      );
    },
  );
}
