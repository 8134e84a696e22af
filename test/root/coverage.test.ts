import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths.js';
import { byFile, HOST_ONLY, requireRoot, trace } from '../helpers/trace.js';
import { accumulate, parseLayout, textProfile, type Counts } from '../../src/coverage/profile.js';
import { runTool } from '../../src/coverage/llvm.js';
import type { CovExport } from '../../src/coverage/report.js';

const COV = join(ROOT, 'build/bpf-cov');
const OBJECT = join(COV, 'execlens.bpf.o');

/** the newest mtime under bpf/, whatever its layout */
function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** build the coverage flavour when it is missing or older than the BPF sources (the production build is not touched) */
function ensureCoverageBuild(): void {
  if (existsSync(OBJECT) && statSync(OBJECT).mtimeMs >= newestSource(join(ROOT, 'bpf'))) return;
  const r = spawnSync(join(ROOT, 'scripts/build-bpf-coverage.sh'), { encoding: 'utf8', timeout: 600000 });
  assert.equal(r.status, 0, `build-bpf-coverage.sh failed:\n${r.stderr}`);
}

/** the commit at sched_process_exec, by its names before and after bpf/ was split into lib/, exec/, attach/ */
const COMMIT = ['exec_commit', 'trace_exec_common_commit'];
const isFn = (name: string, fn: string): boolean => name === fn || name.endsWith(`:${fn}`);

/** the entry counter of a function by its C name (static functions carry their file: execlens.bpf.c:name) */
function entry(c: Counts, fn: string): bigint {
  const hit = [...c].filter(([n]) => isFn(n, fn));
  assert.equal(hit.length, 1, `${fn}: ${hit.map(([n]) => n).join(', ') || 'not in the layout'}`);
  return hit[0]![1][0]!;
}

test(
  'coverage object: a traced exec counts on the commit path, down to the line that submits it; the kprobe wrapper counts 0',
  { skip: HOST_ONLY },
  (t) => {
    if (!requireRoot(t)) return;
    ensureCoverageBuild();
    const dir = mkdtempSync(join(tmpdir(), 'execlens-cov-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, EXECLENS_COVERAGE: join(dir, 'dumps') };
      delete env.EXECLENS_BPF_OBJECT;
      const r = trace(['/bin/sh', '-c', '/bin/true; exit 0'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(byFile(r, 'true')[0]?.result, 0, 'the exec of /bin/true succeeded');
      const files = readdirSync(join(dir, 'dumps'));
      assert.equal(files.length, 1, `one tracer run, one counter dump: ${files.join(', ')}`);
      const text = readFileSync(join(dir, 'dumps', files[0]!), 'utf8');
      assert.equal(JSON.parse(text).plan, r.summary!.plan);
      const layout = parseLayout(readFileSync(`${OBJECT}.cov.json`, 'utf8'));
      const acc = accumulate([{ file: files[0]!, text }], layout);
      assert.deepEqual(acc.skipped, []);
      const commit = COMMIT.find((fn) => [...acc.counts.keys()].some((n) => isFn(n, fn)));
      assert.ok(commit, `none of ${COMMIT.join(', ')} in the layout`);
      assert.ok(entry(acc.counts, commit) > 0n, `the commit at sched_process_exec (${commit}) ran`);
      // kprobe is not what this host's plan attaches with (CONFIG_KPROBES is off here): its wrapper never ran
      if (!r.summary!.plan.startsWith('kprobe')) {
        assert.equal(entry(acc.counts, 'kprobe_execve'), 0n);
        assert.equal(entry(acc.counts, '____kprobe_execve'), 0n);
      }
      // line level, through llvm-profdata and llvm-cov: the region holding the commit's `submit_exec(e)` ran
      writeFileSync(join(dir, 'p.proftext'), textProfile(layout, acc.counts));
      runTool('llvm-profdata', ['merge', '-o', join(dir, 'p.profdata'), join(dir, 'p.proftext')]);
      const exp = JSON.parse(
        runTool('llvm-cov', [
          'export',
          '-format=text',
          '-instr-profile',
          join(dir, 'p.profdata'),
          join(COV, 'execlens.bpf.covmap.o'),
        ]),
      ) as CovExport;
      const fn = exp.data[0]!.functions.find((f) => isFn(f.name, commit))!;
      const own = fn.regions.filter((g) => g[5] === 0 && g[7] === 0);
      const [first, last] = [Math.min(...own.map((g) => g[0]!)), Math.max(...own.map((g) => g[2]!))];
      const src = readFileSync(join(ROOT, fn.filenames[0]!), 'utf8').split('\n');
      const line = src.findIndex((l, i) => i + 1 >= first && i + 1 <= last && l.includes('submit_exec(e)')) + 1;
      assert.ok(line > 0, `no submit_exec(e) in ${fn.filenames[0]}:${first}-${last}`);
      const holding = own.filter((g) => g[0]! <= line && g[2]! >= line);
      assert.ok(
        holding.length && holding.every((g) => g[4]! > 0),
        `${fn.filenames[0]}:${line}: ${JSON.stringify(holding)}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
