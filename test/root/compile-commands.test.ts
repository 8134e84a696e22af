/**
 * collect on a real build: zlib, Debian's source package (apt-get source through the private apt setup),
 * its own ./configure, then `make -j2` three times — under strace (the oracle), under
 * `collect -F compile-commands`, under `collect -F perfetto` — and under Debian's bear when it is installed
 * (compared, not asserted: a diagnostic says how they differ).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXECLENS, ROOT } from '../helpers/paths.js';
import { decodePerfetto } from '../helpers/perfetto.js';
import { parseStraceExecs, type StraceExec } from '../helpers/strace.js';
import { HOST_ONLY, requireRoot } from '../helpers/trace.js';

interface Entry {
  directory: string;
  file: string;
  arguments: string[];
  output: string;
}

const sh = (cmd: string, cwd: string, timeout = 600_000) =>
  spawnSync('sh', ['-c', cmd], { cwd, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });

/** zlib's unpacked source, fetched once into build/test-sources (kept between runs); null: apt could not get it */
function zlibSource(t: TestContext): string | null {
  const r = spawnSync(join(ROOT, 'scripts/fetch-source-package.sh'), ['zlib', join(ROOT, 'build/test-sources')], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0) {
    t.skip(`apt-get source zlib failed: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
    return null;
  }
  return r.stdout.trim();
}

/** the compiler-driver runs that compile (gcc/cc with -c), as strace saw them: file -> the argv */
function straceCompiles(execs: StraceExec[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of execs) {
    if (e.ret !== 0 || !/\/(gcc|cc)(-\d+)?$/.test(e.path) || !e.argv.includes('-c')) continue;
    const file = e.argv.filter((a) => a.endsWith('.c')).at(-1)!;
    const output = e.argv[e.argv.indexOf('-o') + 1]!;
    const key = `${file} -> ${output}`;
    assert.ok(!out.has(key), `strace: ${key} compiled once`);
    out.set(key, e.argv);
  }
  return out;
}

test(
  "collect -F compile-commands on zlib's own build (make -j2): every .c compiled appears once, with the argv strace shows for that compile; -F perfetto of the same build decodes into its process tree",
  { timeout: 1_800_000, skip: HOST_ONLY },
  (t) => {
    if (!requireRoot(t)) return;
    const src = zlibSource(t);
    if (!src) return;
    const dir = mkdtempSync(join(tmpdir(), 'execlens-zlib-'));
    try {
      const b = join(dir, 'zlib');
      cpSync(src, b, { recursive: true });
      const conf = sh('./configure', b);
      assert.equal(conf.status, 0, conf.stdout + conf.stderr);

      const st = sh(`strace -f -qq -e trace=execve -s 9999 -o ${dir}/strace.out make -j2`, b);
      assert.equal(st.status, 0, st.stderr);
      const straceExecs = parseStraceExecs(readFileSync(join(dir, 'strace.out'), 'utf8'));
      const expected = straceCompiles(straceExecs);
      const cc1Runs = straceExecs.filter((e) => e.ret === 0 && e.path.endsWith('/cc1')).length;
      assert.ok(
        expected.size >= 30,
        `zlib compiles its ~17 sources twice (static and PIC): strace saw ${expected.size}`,
      );
      assert.equal(cc1Runs, expected.size, 'strace itself: one cc1 per compile');

      assert.equal(sh('make clean', b).status, 0);
      const cc = sh(`${EXECLENS} collect -F compile-commands -o ${dir}/compile_commands.json -- make -j2`, b);
      assert.equal(cc.status, 0, cc.stderr);
      const entries = JSON.parse(readFileSync(join(dir, 'compile_commands.json'), 'utf8')) as Entry[];
      const got = new Map<string, string[]>();
      for (const e of entries) {
        const key = `${e.file} -> ${e.output}`;
        assert.ok(!got.has(key), `${key} appears once`);
        got.set(key, e.arguments);
        assert.equal(e.directory, b);
      }
      assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort(), 'the same compiles as strace saw');
      for (const [k, argv] of expected) assert.deepEqual(got.get(k), argv, `${k}: the argv strace shows`);
      const srcs = new Set(entries.map((e) => e.file));
      for (const f of ['adler32.c', 'inflate.c', 'deflate.c', 'test/example.c']) assert.ok(srcs.has(f), f);
      assert.match(
        cc.stderr,
        new RegExp(`compile_commands\\.json: ${entries.length} entries from ${entries.length} compiler runs\\n`),
      );
      t.diagnostic(`zlib: ${entries.length} entries; strace saw ${straceExecs.length} execve calls`);

      assert.equal(sh('make clean', b).status, 0);
      const pf = sh(`${EXECLENS} collect -F perfetto -o ${dir}/build.pftrace -- make -j2`, b);
      assert.equal(pf.status, 0, pf.stderr);
      const tr = decodePerfetto(readFileSync(join(dir, 'build.pftrace')));
      const gccSlices = tr.slices.filter((s) => s.name === 'gcc' && !s.args.forked);
      assert.equal(
        gccSlices.filter((s) => (s.args.argv as string[]).includes('-c')).length,
        expected.size,
        'a gcc slice per compile',
      );
      for (const s of gccSlices) assert.equal(s.endArgs.exit_code, 0, 'gcc exits 0');
      for (const [uuid, d] of tr.tracks)
        if (d.parent !== null) assert.ok(tr.tracks.has(d.parent), `track ${uuid}'s parent is a track`);
      const cc1 = tr.slices.filter((s) => s.name === 'cc1');
      assert.equal(cc1.length, cc1Runs, 'every cc1 run');
      for (const s of cc1)
        assert.match(tr.tracks.get(tr.tracks.get(s.track)!.parent!)!.name, /^\d+ gcc$/, 'cc1 sits under its gcc');

      compareWithBear(t, b, dir, entries);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

/** Debian's bear on the same build: a diagnostic of what differs (bear writes absolute paths) */
function compareWithBear(t: TestContext, b: string, dir: string, ours: Entry[]): void {
  if (spawnSync('sh', ['-c', 'command -v bear']).status !== 0) return t.diagnostic('bear not installed: no comparison');
  assert.equal(sh('make clean', b).status, 0);
  const r = sh(`bear --output ${dir}/bear.json -- make -j2`, b);
  if (r.status !== 0) return t.diagnostic(`bear failed (${r.status}): ${r.stderr.slice(0, 300)}`);
  const bear = JSON.parse(readFileSync(join(dir, 'bear.json'), 'utf8')) as Entry[];
  const norm = (e: Entry) => `${resolve(e.directory, e.file)} -> ${resolve(e.directory, e.output)}`;
  const bearKeys = new Map(bear.map((e) => [norm(e), e]));
  const ourKeys = new Map(ours.map((e) => [norm(e), e]));
  const onlyBear = [...bearKeys.keys()].filter((k) => !ourKeys.has(k));
  const onlyOurs = [...ourKeys.keys()].filter((k) => !bearKeys.has(k));
  const argDiff = [...ourKeys].filter(
    ([k, e]) => bearKeys.has(k) && JSON.stringify(bearKeys.get(k)!.arguments) !== JSON.stringify(e.arguments),
  );
  t.diagnostic(
    `bear: ${bear.length} entries, execlens ${ours.length}; only bear: ${onlyBear.length} ${onlyBear.slice(0, 3).join(', ')}; only execlens: ${onlyOurs.length} ${onlyOurs.slice(0, 3).join(', ')}; arguments differ: ${argDiff.length}${argDiff.length ? ` e.g. ${JSON.stringify(bearKeys.get(argDiff[0]![0])!.arguments)} vs ${JSON.stringify(argDiff[0]![1].arguments)}` : ''}`,
  );
}

test(
  "collect -F compile-commands sees a compiler run with an emptied environment (env -i), a versioned one, and one a static program starts (busybox sh: no LD_PRELOAD for bear's library)",
  { timeout: 300_000 },
  (t) => {
    if (!requireRoot(t)) return;
    const gcc = spawnSync('sh', ['-c', 'ls /usr/bin/gcc-[0-9]* | head -n1'], { encoding: 'utf8' }).stdout.trim();
    const dir = mkdtempSync(join(tmpdir(), 'execlens-envi-'));
    try {
      for (const f of ['a', 'b', 'c']) sh(`echo 'int ${f}(void) { return 1; }' > ${f}.c`, dir);
      const script = `env -i ${gcc} -c a.c -o a.o && gcc -c b.c && busybox sh -c "gcc -c c.c"`;
      const r = sh(`${EXECLENS} collect -F compile-commands -o ${dir}/cc.json -- sh -c '${script}'`, dir);
      assert.equal(r.status, 0, r.stderr);
      const entries = JSON.parse(readFileSync(join(dir, 'cc.json'), 'utf8')) as Entry[];
      assert.deepEqual(
        entries.map((e) => [e.file, e.output, e.arguments[0]]),
        [
          ['a.c', 'a.o', gcc],
          ['b.c', 'b.o', 'gcc'],
          ['c.c', 'c.o', 'gcc'],
        ],
      );
      if (spawnSync('sh', ['-c', 'command -v bear']).status !== 0) return;
      const bear = sh(`bear --output ${dir}/bear.json -- sh -c '${script}'`, dir);
      const got =
        bear.status === 0
          ? (JSON.parse(readFileSync(join(dir, 'bear.json'), 'utf8')) as Entry[]).map((e) => e.file)
          : [];
      t.diagnostic(`bear (exit ${bear.status}) lists: ${JSON.stringify(got)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
