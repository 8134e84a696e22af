/**
 * The npm package, as a user gets it: `npm pack` builds the tarball (prepack), which is installed with
 * `npm install -g --offline` into a fresh Debian root (debootstrap minbase + libbpf1 + Debian's nodejs:
 * no compiler, no clang, no bpftool; npm runs on the host's node binary, copied in), where execlens traces
 * with eBPF and ptrace, and doctor runs, on the host's Node and on Debian's Node 18. Then libbpf1 is purged: one line names the package, and --backend auto falls back to ptrace.
 * The root is an overlay on a cached base in a private mount namespace (unshare), so nothing of a run
 * stays mounted and every run starts fresh.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CACHE } from '../../matrix/prepare.js';
import { PACKED_ARCHES } from '../../src/paths.js';
import { EM, elfFacts } from '../helpers/elf.js';
import { ROOT } from '../helpers/paths.js';
import { HOST_ONLY, isRoot, requireRoot } from '../helpers/trace.js';

const MACHINE: Record<(typeof PACKED_ARCHES)[number], number> = {
  x64: EM.X86_64,
  arm64: EM.AARCH64,
  riscv64: EM.RISCV,
};
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let work = '';
let tarball = '';
let base = '';

/**
 * Run `script` with bash in the fresh root (chroot), as root, with a clean environment. The overlay's upper
 * layer is `work`/upper: what one call installs, the next sees.
 */
function inRoot(script: string, timeout = 180_000): SpawnSyncReturns<string> {
  const npmDir = join(dirname(dirname(process.execPath)), 'lib/node_modules/npm');
  const npmCache = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim();
  const driver = `set -e
    w=$1 base=$2 node=$3 npm=$4 cache=$5 tgz=$6; shift 6
    r=$w/root
    mount -t overlay overlay -o lowerdir=$base,upperdir=$w/upper,workdir=$w/ovl $r
    mount -t proc proc $r/proc
    mount --rbind /sys $r/sys
    mount --rbind /dev $r/dev
    mkdir -p $r/usr/local/bin $r/usr/local/lib/node_modules/npm $r/root/.npm $r/pkg
    cp $node $r/usr/local/bin/node
    mount --bind $npm $r/usr/local/lib/node_modules/npm
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js $r/usr/local/bin/npm
    mount --bind $cache $r/root/.npm
    cp $tgz $r/pkg/
    exec chroot $r /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb /bin/bash -c "$1"`;
  return spawnSync(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'bash',
      '-c',
      driver,
      '_',
      work,
      base,
      process.execPath,
      npmDir,
      npmCache,
      tarball,
      script,
    ],
    { encoding: 'utf8', timeout },
  );
}

const ok = (r: SpawnSyncReturns<string>, what: string): SpawnSyncReturns<string> => {
  assert.equal(r.error, undefined, `${what}: ${String(r.error)}`);
  assert.equal(r.status, 0, `${what}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
};

interface Lockfile {
  packages: Record<string, { version?: string; dev?: boolean; link?: boolean }>;
}

/** name@version of every package the lockfile installs that is not a dev dependency (nor the project itself) */
function runtimeDependencies(lock: Lockfile): string[] {
  return Object.entries(lock.packages)
    .filter(([path, p]) => path.startsWith('node_modules/') && !p.dev && !p.link && p.version)
    .map(([path, p]) => `${path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)}@${p.version}`);
}

before(() => {
  if (!isRoot() || HOST_ONLY) return;
  work = mkdtempSync(join(tmpdir(), 'execlens-package-'));
  for (const d of ['upper', 'ovl', 'root', 'pack']) mkdirSync(join(work, d));
  const p = spawnSync('npm', ['pack', '--pack-destination', join(work, 'pack')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 600_000,
  });
  assert.equal(p.status, 0, `npm pack: ${p.stderr}`);
  tarball = join(work, 'pack', p.stdout.trim().split('\n').pop()!);
  // --offline resolves the package's dependencies from npm's cache: put every runtime dependency of the
  // lockfile there (from the registry if missing), so the install does not depend on what earlier runs cached
  const deps = runtimeDependencies(JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lockfile);
  const c = spawnSync('npm', ['cache', 'add', ...deps], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(c.status, 0, `npm cache add: ${c.stderr}`);
  const b = spawnSync(join(ROOT, 'scripts/package-rootfs.sh'), [CACHE], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(b.status, 0, `package-rootfs: ${b.stderr}`);
  base = b.stdout.trim();
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test(
  'npm pack: the JavaScript, per arch a BPF object with its build record and a static ptrace helper, man page, completions, schema, docs',
  { skip: HOST_ONLY },
  (t) => {
    if (!requireRoot(t)) return;
    const list = spawnSync('tar', ['tzf', tarball], { encoding: 'utf8' }).stdout.split('\n');
    for (const f of [
      'bin/execlens',
      'dist/src/cli/main.js',
      'build/man/execlens.1',
      'build/completion/execlens.bash',
      'build/completion/_execlens',
      'build/completion/execlens.fish',
      'schema/exec-event.v2.json',
      'docs/json-schema.md',
      'README.md',
    ])
      assert.ok(list.includes(`package/${f}`), f);
    assert.deepEqual(
      list.filter((f) =>
        /^package\/(dist\/(test|matrix|bench|pack)|build\/(bpf|native|pack|matrix)|src|bpf|native)\//.test(f),
      ),
      [],
      "no tests, sources or the checkout's own build",
    );
    const x = join(work, 'x');
    mkdirSync(x);
    spawnSync('tar', ['xzf', tarball, '-C', x]);
    for (const a of PACKED_ARCHES) {
      const dir = join(x, 'package/build/arch', a);
      assert.deepEqual(readdirSync(dir).sort(), ['execlens-ptrace', 'execlens.bpf.json', 'execlens.bpf.o'], a);
      assert.equal(elfFacts(join(dir, 'execlens.bpf.o')).machine, EM.BPF, `${a}: BPF object`);
      assert.deepEqual(
        elfFacts(join(dir, 'execlens-ptrace')),
        { machine: MACHINE[a], interp: false },
        `${a}: the helper is for ${a} and statically linked`,
      );
      assert.ok(statSync(join(dir, 'execlens-ptrace')).mode & 0o111, `${a}: the helper is executable`);
    }
  },
);

test(
  'a fresh root with Node and libbpf1 and no build tools: npm install -g --offline from the tarball',
  { skip: HOST_ONLY },
  (t) => {
    if (!requireRoot(t)) return;
    const tools = inRoot('for t in cc gcc clang bpftool make; do command -v $t || true; done');
    assert.equal(ok(tools, 'probe').stdout, '', 'no compiler, clang or bpftool in the root');
    ok(inRoot('npm install -g --offline --no-audit --no-fund /pkg/*.tgz'), 'npm install');
    const v = ok(inRoot('execlens --version'), '--version');
    assert.match(
      v.stdout,
      new RegExp(
        `^execlens ${VERSION.replace(/\./g, '\\.')}\nBPF object: x86_64, built by .*clang version .* \\(/usr/local/lib/node_modules/execlens/build/arch/x64/execlens\\.bpf\\.o\\)\nJSON schema: 2 `,
      ),
    );
  },
);

test("installed: execlens log -- sh -c 'echo hi' traces with eBPF", { skip: HOST_ONLY }, (t) => {
  if (!requireRoot(t)) return;
  const r = ok(inRoot("execlens log -- sh -c 'echo hi'"), 'log');
  // the command's output on stdout, the events on stderr (as strace writes its trace)
  assert.equal(r.stdout, 'hi\n');
  assert.match(r.stderr, / ok \/usr\/bin\/sh argv: sh -c 'echo hi' /);
  assert.match(r.stderr, /^execlens: 1 exec \(0 failed\).* plan (?!ptrace)[^ ,]+, lost 0\b/m);
});

test('installed: execlens doctor finds a plan that loads', { skip: HOST_ONLY }, (t) => {
  if (!requireRoot(t)) return;
  const r = ok(inRoot('execlens doctor'), 'doctor');
  assert.match(r.stdout, /--backend auto would use ebpf/);
});

test('installed: execlens log --backend ptrace -- true runs the packed static helper', { skip: HOST_ONLY }, (t) => {
  if (!requireRoot(t)) return;
  const r = ok(inRoot('execlens log --backend ptrace -- true'), 'log --backend ptrace');
  assert.match(r.stderr, / ok \/usr\/bin\/true argv: true /);
  assert.match(r.stderr, /plan ptrace/);
});

test(
  "installed, on Debian's Node 18 (the oldest engines allows): log with eBPF and with ptrace",
  { skip: HOST_ONLY },
  (t) => {
    if (!requireRoot(t)) return;
    const v = ok(inRoot('/usr/bin/node --version'), 'Debian node');
    assert.match(v.stdout, /^v18\./);
    const bin = '/usr/bin/node /usr/local/lib/node_modules/execlens/bin/execlens';
    const e = ok(inRoot(`${bin} log -- sh -c 'echo hi'`), 'log on Node 18');
    assert.match(e.stderr, / ok \/usr\/bin\/sh argv: sh -c 'echo hi' /);
    assert.match(e.stderr, /plan (?!ptrace)[^ ,]+, lost 0\b/m);
    const p = ok(inRoot(`${bin} log --backend ptrace -- true`), 'ptrace on Node 18');
    assert.match(p.stderr, /plan ptrace/);
  },
);

test(
  'installed: the man page is where man looks, and bash completion completes `execlens lo` to log',
  { skip: HOST_ONLY },
  (t) => {
    if (!requireRoot(t)) return;
    const page = ok(inRoot('readlink -f /usr/local/share/man/man1/execlens.1'), 'man link').stdout.trim();
    assert.equal(page, '/usr/local/lib/node_modules/execlens/build/man/execlens.1');
    const man = spawnSync('man', ['-l', join(work, 'upper', page)], {
      encoding: 'utf8',
      env: { ...process.env, MANPAGER: 'cat', MANWIDTH: '100' },
    });
    assert.equal(man.stderr, '');
    assert.match(man.stdout.replace(/.\x08/g, ''), /^NAME\n\s+execlens - Trace every/m); // eslint-disable-line no-control-regex
    const c = ok(
      inRoot(
        'source <(execlens completion bash); COMP_WORDS=(execlens lo); COMP_CWORD=1; _execlens; echo "${COMPREPLY[@]}"',
      ),
      'completion',
    );
    assert.equal(c.stdout, 'log\n');
  },
);

test(
  'without libbpf1: one line names the package to install, and --backend auto falls back to ptrace',
  { skip: HOST_ONLY },
  (t) => {
    if (!requireRoot(t)) return;
    ok(inRoot('dpkg --purge libbpf1'), 'purge libbpf1');
    const e = inRoot('execlens log -- true');
    assert.equal(e.status, 78, e.stderr);
    assert.equal(e.stderr.trim().split('\n').length, 1, e.stderr);
    assert.match(e.stderr, /libbpf\.so\.1.*apt(-get)? install libbpf1/);
    const a = ok(inRoot("execlens log --backend auto -- sh -c 'echo hi'"), 'auto');
    assert.match(a.stdout, /^hi$/m);
    assert.match(a.stderr, /libbpf\.so\.1.*apt(-get)? install libbpf1.*falling back to ptrace/);
    assert.match(a.stderr, /plan ptrace/);
  },
);
