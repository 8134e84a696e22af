import { test as nodeTest, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { EXECLENS } from '../helpers/paths.js';
import { argvBytes, byFile, requireRoot, schemaErrors, trace as traceAny, type JsonExec } from '../helpers/trace.js';

const PY = '/usr/bin/python3';

/** bytes as one bash $'...' word: every byte as \xHH, so the script itself stays ASCII */
const ansiC = (b: Buffer): string => `$'${[...b].map((c) => `\\x${c.toString(16).padStart(2, '0')}`).join('')}'`;
const b64 = (b: Buffer): string => b.toString('base64');
const nulJoin = (items: Buffer[]): Buffer => Buffer.concat(items.flatMap((i) => [i, Buffer.from([0])]));
/** where two byte strings part, with a little context in hex (a whole 2 KB argv in a message helps nobody) */
function firstDiff(a: Buffer, b: Buffer): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const at = (x: Buffer) => x.subarray(Math.max(0, i - 8), i + 8).toString('hex');
  return `lengths ${a.length} vs ${b.length}, first difference at byte ${i}: ...${at(a)}... vs ...${at(b)}...`;
}

/*
 * One behavioural suite for both backends: the eBPF one (names as they are)
 * and the ptrace one (names prefixed "ptrace:").
 */
for (const backend of ['ebpf', 'ptrace'] as const) {
  const trace: typeof traceAny = (cmd, opts = {}) =>
    traceAny(cmd, { ...opts, extra: ['--backend', backend, ...(opts.extra ?? [])] });
  const test = (name: string, fn: (t: TestContext) => void | Promise<void>) =>
    nodeTest(backend === 'ebpf' ? name : `ptrace: ${name}`, fn);

  test('the README example: both execs with argv, cwd, env diff and ppid', (t) => {
    if (!requireRoot(t)) return;
    const r = trace(['sh', '-c', 'cd /tmp; env FOO=1 /bin/echo "a b"']);
    assert.equal(r.code, 0, r.stderr);
    const [sh] = byFile(r, 'sh');
    const [env] = byFile(r, 'env');
    const [echo] = byFile(r, 'echo');
    assert.ok(sh && env && echo, `saw ${r.execs.map((e) => e.filename).join(', ')}`);
    assert.deepEqual(env.argv, ['env', 'FOO=1', '/bin/echo', 'a b']);
    assert.deepEqual(echo.argv, ['/bin/echo', 'a b']);
    assert.equal(env.cwd, '/tmp');
    assert.equal(echo.cwd, '/tmp');
    assert.equal(env.ppid, sh.pid);
    assert.equal(echo.pid, env.pid);
    assert.equal(echo.env_diff!.added.FOO, '1');
    assert.equal(echo.result, 0);
    assert.equal(r.summary!.execs, 3);
    assert.equal(r.summary!.lost_records, 0);
  });

  test('argv with spaces, quotes, newlines and bytes that are not UTF-8 comes back byte for byte', (t) => {
    if (!requireRoot(t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'execlens-argv-'));
    const script = join(dir, 'run.sh');
    writeFileSync(
      script,
      Buffer.concat([
        Buffer.from(`exec /bin/true 'a b' "it's" 'say "hi"' 'line1\nline2' $'\\xff\\xfe' '' $'tab\\there'\n`),
      ]),
    );
    const r = trace(['bash', script]);
    assert.equal(r.code, 0, r.stderr);
    const [e] = byFile(r, 'true');
    assert.ok(e);
    assert.deepEqual(argvBytes(e), [
      Buffer.from('/bin/true'),
      Buffer.from('a b'),
      Buffer.from("it's"),
      Buffer.from('say "hi"'),
      Buffer.from('line1\nline2'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(''),
      Buffer.from('tab\there'),
    ]);
    assert.ok(e.argv_b64, 'non-UTF-8 argv carries base64');
  });

  test('every byte 1-255 in argv, in env names and values and in the cwd reaches the command as it does untraced (a Latin-1 file name opens), and the event reports those bytes', (t) => {
    if (!requireRoot(t)) return;
    const base = mkdtempSync(join(tmpdir(), 'execlens-bytes-'));
    try {
      // a Latin-1 cwd holding a Latin-1 file: 'd\xe9/caf\xe9'
      const cwd = Buffer.concat([Buffer.from(`${base}/d`), Buffer.from([0xe9])]);
      mkdirSync(cwd);
      const file = Buffer.from('caf\xe9', 'latin1');
      writeFileSync(Buffer.concat([cwd, Buffer.from('/'), file]), 'latin-1 named file\n');
      const all = Buffer.from(Array.from({ length: 255 }, (_, i) => i + 1));
      const singles = [...all].map((c) => Buffer.from([c]));
      const envAll = Buffer.concat([Buffer.from('EXECLENS_BYTES='), all]);
      const envKey = Buffer.from('K\xff\xfe=latin-1 name', 'latin1');
      // what the command reports: its argv, env, cwd and fds as the kernel has them, and the file its $1 names;
      // then it execs with a variable added whose value is every byte
      const script = [
        'cat /proc/$$/cmdline >out.cmdline',
        'cat /proc/$$/environ >out.environ',
        'pwd -P >out.cwd',
        'ls /proc/$$/fd >out.fds',
        'cat -- "$1" >out.file',
        'EXECLENS_BYTES2="$2" exec /bin/true',
      ].join('; ');
      const argv = [
        Buffer.from('/bin/sh'),
        Buffer.from('-c'),
        Buffer.from(script),
        Buffer.from('sh'),
        file,
        all,
        ...singles,
      ];
      const events = join(base, 'events.jsonl');
      // bash builds the exact bytes ($'\xHH') and runs the command once untraced, once traced
      const driver = join(base, 'driver.sh');
      writeFileSync(
        driver,
        [
          `cd ${ansiC(cwd)} || exit 99`,
          `if [ "$1" = traced ]; then set -- ${EXECLENS} log --json --show-env -o ${events} --backend ${backend} --; else set --; fi`,
          `exec env ${ansiC(envAll)} ${ansiC(envKey)} "$@" ${argv.map(ansiC).join(' ')}`,
        ].join('\n') + '\n',
      );
      const outputs = ['cmdline', 'environ', 'cwd', 'fds', 'file'];
      const run = (mode: string): Record<string, Buffer> => {
        const r = spawnSync('bash', [driver, mode], { encoding: 'utf8', timeout: 120_000 });
        assert.equal(r.status, 0, `${mode}: ${r.stderr}`);
        const got = Object.fromEntries(
          outputs.map((o) => [o, readFileSync(Buffer.concat([cwd, Buffer.from(`/out.${o}`)]))]),
        );
        for (const o of outputs) rmSync(Buffer.concat([cwd, Buffer.from(`/out.${o}`)]));
        return got;
      };
      const untraced = run('untraced');
      // the oracle itself: untraced, the command got exactly these bytes
      assert.ok(untraced.cmdline!.equals(nulJoin(argv)), 'untraced argv as built');
      const untracedEnv = untraced
        .environ!.subarray(0, -1)
        .toString('latin1')
        .split('\0')
        .map((e) => Buffer.from(e, 'latin1'));
      assert.ok(
        untracedEnv.some((e) => e.equals(envAll)) && untracedEnv.some((e) => e.equals(envKey)),
        'untraced env as built',
      );
      assert.ok(untraced.cwd!.equals(Buffer.concat([cwd, Buffer.from('\n')])));
      assert.equal(untraced.file!.toString(), 'latin-1 named file\n');

      const traced = run('traced');
      for (const o of outputs)
        assert.ok(traced[o]!.equals(untraced[o]!), `${o}: traced vs untraced: ${firstDiff(traced[o]!, untraced[o]!)}`);

      const records = readFileSync(events, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const rec of records) assert.equal(schemaErrors(rec), null, JSON.stringify(rec).slice(0, 300));
      const execs = records.filter((x) => x.type === 'exec') as unknown as JsonExec[];
      assert.equal(
        execs[0]?.filename,
        '/bin/sh',
        `the command's exec comes first: ${execs.map((e) => e.filename).join(', ')}`,
      );
      assert.ok(!execs.some((e) => e.filename?.includes('execlens')), "no exec of execlens's own");
      const sh = execs[0]!;
      const tru = execs.find((e) => e.filename === '/bin/true');
      assert.ok(tru);
      assert.deepEqual(argvBytes(sh).map(b64), argv.map(b64), 'argv_b64 holds the argv the command got');
      assert.ok(sh.argv_b64, 'non-UTF-8 argv is marked with argv_b64');
      assert.equal(sh.argv[5], all.toString('utf8'), 'argv: the lossy UTF-8 of the same bytes');
      assert.deepEqual(sh.env_b64, untracedEnv.map(b64), 'env_b64 holds the env the command got');
      assert.equal(sh.cwd_b64, b64(cwd));
      assert.deepEqual(
        sh.env_diff,
        { added: {}, removed: [], changed: {} },
        'the command got the env execlens got: no diff',
      );
      assert.equal(tru.env_diff?.added.EXECLENS_BYTES2, all.toString('utf8'));
      // a shell passes on no name that is not an identifier (dash drops K\xff\xfe): the diff says so, in bytes
      const keyName = envKey.subarray(0, envKey.indexOf('='));
      const dropped = tru.env_diff_b64?.removed ?? [];
      assert.ok(
        dropped.length === 0 || (dropped.length === 1 && dropped[0] === b64(keyName)),
        `removed ${JSON.stringify(dropped)}`,
      );
      assert.deepEqual(
        tru.env_diff?.removed,
        dropped.map((d) => Buffer.from(d, 'base64').toString('utf8')),
      );
      assert.deepEqual(tru.env_diff_b64, {
        added: [b64(Buffer.concat([Buffer.from('EXECLENS_BYTES2='), all]))],
        removed: dropped,
        changed: [],
      });
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  test('the command starts with every signal at its default action and none blocked, as a child of Node gets it (a Ctrl-C reaches it)', (t) => {
    if (!requireRoot(t)) return;
    const r = trace(['grep', '-E', '^Sig(Blk|Ign):', '/proc/self/status']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
  });

  test('a 10,000-argument exec is captured whole', (t) => {
    if (!requireRoot(t)) return;
    const r = trace(['bash', '-c', '/bin/true $(seq 1 10000)']);
    assert.equal(r.code, 0, r.stderr);
    const [e] = byFile(r, 'true');
    assert.ok(e);
    assert.equal(e.argv.length, 10001);
    assert.equal(e.argv[10000], '10000');
    assert.equal(e.truncated.argv, false);
  });

  test('env set and unset by a parent shell shows as a diff', (t) => {
    if (!requireRoot(t)) return;
    const r = trace(['sh', '-c', 'export NEWVAR=hello; unset GOAWAY; CHANGED=2; export CHANGED; exec /bin/true'], {
      env: { PATH: '/usr/bin:/bin', GOAWAY: 'x', CHANGED: '1' },
    });
    assert.equal(r.code, 0, r.stderr);
    const [e] = byFile(r, 'true');
    assert.ok(e?.env_diff);
    assert.equal(e.env_diff.added.NEWVAR, 'hello');
    assert.ok(e.env_diff.removed.includes('GOAWAY'));
    assert.equal(e.env_diff.changed.CHANGED, '2');
  });

  test('an exec with no environment at all (env -i, execve with envp NULL) has env [] and every variable of its parent in env_diff.removed', (t) => {
    if (!requireRoot(t)) return;
    const nullEnvp = `import ctypes; libc = ctypes.CDLL(None); libc.execve(b'/bin/true', (ctypes.c_char_p * 3)(b'true', b'nullenv', None), None)`;
    const r = trace(['sh', '-c', `env -i /bin/true envi; exec ${PY} -c "${nullEnvp}"`], {
      extra: ['--show-env'],
      env: { PATH: '/usr/bin:/bin', KEEP: 'x' },
    });
    assert.equal(r.code, 0, r.stderr);
    const execs = r.execs as (JsonExec & { env: string[] })[];
    for (const tag of ['envi', 'nullenv']) {
      const i = execs.findIndex((x) => x.argv[1] === tag);
      const e = execs[i];
      assert.ok(e, `${tag} seen: ${JSON.stringify(execs.map((x) => x.argv))}`);
      // the baseline: what the same process had at its previous exec (env, python3)
      const before = execs
        .slice(0, i)
        .reverse()
        .find((x) => x.pid === e.pid)!;
      const names = before.env.map((kv) => kv.slice(0, kv.indexOf('='))).sort();
      assert.ok(names.includes('KEEP'), `${tag}: baseline ${names.join(' ')}`);
      assert.deepEqual(e.env, [], `${tag}: env`);
      assert.deepEqual([...e.env_diff!.removed].sort(), names, `${tag}: every variable removed`);
      assert.deepEqual(e.env_diff!.added, {});
    }
  });

  test('a cwd deeper than the walk (40 levels, 6,000 bytes: longer than PATH_MAX) is cut at the root end, marked \u2026/ and truncated.cwd', (t) => {
    if (!requireRoot(t)) return;
    const top = mkdtempSync(join(tmpdir(), 'execlens-deep-'));
    try {
      const names = Array.from({ length: 40 }, (_, i) => `d${String(i + 1).padStart(3, '0')}_${'0'.repeat(150)}`);
      // mkdir/cd one level at a time: the whole path is too long for one system call
      const r = trace([
        'bash',
        '-c',
        `cd ${top} && for n in ${names.join(' ')}; do mkdir $n && cd $n || exit 9; done; /bin/true deep`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const e = r.execs.find((x) => x.argv[1] === 'deep');
      assert.ok(e);
      // the BPF walk's depth (32 components, leaf first); the ptrace helper walks up the same way
      assert.equal(e.cwd, `\u2026/${names.slice(-32).join('/')}`);
      assert.equal(e.truncated.cwd, true);
      assert.ok(e.flags.includes('CWD_TRUNC'));
    } finally {
      spawnSync('rm', ['-rf', top]);
    }
  });

  test('cwd follows cd', (t) => {
    if (!requireRoot(t)) return;
    const r = trace(['sh', '-c', 'cd /usr/share && /bin/true; cd / && /bin/true'], { cwd: '/tmp' });
    const cwds = byFile(r, 'true').map((e) => e.cwd);
    assert.deepEqual(cwds, ['/usr/share', '/']);
    assert.equal(byFile(r, 'sh')[0]!.cwd, '/tmp');
  });

  test('inherited fds with paths, cloexec ones marked', (t) => {
    if (!requireRoot(t)) return;
    const code = `import os
a = os.open('/etc/hostname', os.O_RDONLY); os.set_inheritable(a, True)
b = os.open('/etc/passwd', os.O_RDONLY)
os.dup2(a, 9)
os.execv('/bin/true', ['true', str(a), str(b)])`;
    const r = trace([PY, '-c', code]);
    assert.equal(r.code, 0, r.stderr);
    const [e] = byFile(r, 'true');
    assert.ok(e);
    const a = Number(e.argv[1]);
    const b = Number(e.argv[2]);
    const fa = e.fds.find((f) => f.fd === a);
    const fb = e.fds.find((f) => f.fd === b);
    const f9 = e.fds.find((f) => f.fd === 9);
    assert.equal(fa?.path, '/etc/hostname');
    assert.deepEqual(fa?.flags, ['O_RDONLY']);
    assert.equal(fa?.cloexec, false);
    assert.equal(f9?.path, '/etc/hostname');
    assert.equal(fb?.cloexec, true, 'python opens fds O_CLOEXEC by default');
  });

  test('failed execs report ENOENT and EACCES with the argv that was passed', (t) => {
    if (!requireRoot(t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'execlens-fail-'));
    const noexec = join(dir, 'notexec');
    writeFileSync(noexec, '#!/bin/sh\n');
    chmodSync(noexec, 0o644);
    const r = trace(['sh', '-c', `/nonexistent/cmd one two 2>/dev/null; ${noexec} x 2>/dev/null; true`]);
    assert.equal(r.code, 0, r.stderr);
    const [enoent] = byFile(r, 'cmd');
    const [eacces] = byFile(r, 'notexec');
    assert.equal(enoent?.errno, 'ENOENT');
    assert.deepEqual(enoent?.argv, ['/nonexistent/cmd', 'one', 'two']);
    assert.equal(eacces?.errno, 'EACCES');
    assert.equal(eacces?.result, -13);
    assert.equal(r.summary!.failed, 2);
  });

  test('execveat: with AT_EMPTY_PATH (fexecve), or with a directory fd where fexecve itself fails', (t) => {
    if (!requireRoot(t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'execlens-fexec-'));
    const bin = join(dir, 'true');
    copyFileSync('/bin/true', bin);
    chmodSync(bin, 0o755);
    const fexecve = `import os
fd = os.open('${bin}', os.O_RDONLY)
os.execve(fd, ['fexecd', 'arg'], {'K': 'v'})`;
    // execveat(dirfd, "true", ...) through the raw syscall (x86_64: 322, arm64/riscv64: 281)
    const byDirFd = `import ctypes, os, sys
nr = 322 if os.uname().machine == 'x86_64' else 281
libc = ctypes.CDLL(None, use_errno=True)
d = os.open('${dir}', os.O_RDONLY | os.O_DIRECTORY)
argv = (ctypes.c_char_p * 3)(b'fexecd', b'arg', None)
envp = (ctypes.c_char_p * 2)(b'K=v', None)
libc.syscall(nr, d, b'true', argv, envp, 0)
sys.exit(100 + ctypes.get_errno())`;
    // On Debian's 5.10 without /dev/fd (a bare devtmpfs) execveat by fd fails with ENOENT even untraced, in both
    // forms and for static binaries too: TOMOYO looks up bprm->filename, "/dev/fd/N/NAME" (also seen by
    // others on Debian 5.10: google/nsjail#180);
    // there the tracer must still report the failed execveat, with its errno and argv.
    const plain = spawnSync(PY, ['-c', fexecve], { encoding: 'utf8' });
    const code = plain.status === 0 ? fexecve : byDirFd;
    if (plain.status !== 0)
      t.diagnostic(
        `fexecve fails here without execlens (${plain.stderr.trim().split('\n').at(-1)}): testing execveat(dirfd, "true") instead`,
      );
    const plainDirFd = plain.status === 0 ? null : spawnSync(PY, ['-c', byDirFd], { encoding: 'utf8' });
    const failErrno = plainDirFd && plainDirFd.status !== 0 ? (plainDirFd.status ?? 0) - 100 : 0;
    if (failErrno > 0)
      t.diagnostic(
        `execveat(dirfd) also fails here without execlens (errno ${failErrno}): checking that the failed execveat is reported`,
      );
    const r = trace([PY, '-c', code]);
    assert.equal(r.code, failErrno > 0 ? 100 + failErrno : 0, r.stderr);
    const e = r.execs.find((x) => x.argv[0] === 'fexecd');
    assert.ok(e, `saw ${JSON.stringify(r.execs.map((x) => x.argv))}`);
    assert.equal(e.syscall, 'execveat');
    assert.deepEqual(e.argv, ['fexecd', 'arg']);
    assert.equal(e.result, failErrno > 0 ? -failErrno : 0);
    if (failErrno === 0) assert.equal(e.env_diff?.added.K, 'v', 'the new environment as passed');
  });

  test('a #! script: argv as passed, interpreter reported', (t) => {
    if (!requireRoot(t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'execlens-script-'));
    const s = join(dir, 'hello.sh');
    writeFileSync(s, '#!/bin/sh -e\nexit 0\n');
    chmodSync(s, 0o755);
    const r = trace(['sh', '-c', `${s} first "second arg"`]);
    assert.equal(r.code, 0, r.stderr);
    const [e] = byFile(r, 'hello.sh');
    assert.ok(e);
    assert.deepEqual(e.argv, [s, 'first', 'second arg']);
    assert.deepEqual(e.interpreter, ['/bin/sh', '-e']);
  });

  test('a 3-level process tree has correct parent links', (t) => {
    if (!requireRoot(t)) return;
    const r = trace(['sh', '-c', 'sh -c "sh -c \\"/bin/true; true\\"; true"; true']);
    assert.equal(r.code, 0, r.stderr);
    const shs = byFile(r, 'sh');
    assert.equal(shs.length, 3);
    const [t1] = byFile(r, 'true');
    assert.equal(shs[1]!.ppid, shs[0]!.pid);
    assert.equal(shs[2]!.ppid, shs[1]!.pid);
    assert.equal(t1!.ppid, shs[2]!.pid);
    assert.equal(shs[0]!.ppid, r.execs[0]!.ppid, 'root of the tree is the tracer child');
  });

  test("exit code is the command's; 128+n when a signal kills it, and the summary tells a signal from an exit code of 137", (t) => {
    if (!requireRoot(t)) return;
    const seven = trace(['sh', '-c', 'exit 7']);
    assert.equal(seven.code, 7);
    assert.deepEqual([seven.summary!.exit_code, seven.summary!.exit_signal], [7, null]);
    assert.equal(trace(['sh', '-c', 'kill -TERM $$']).code, 143);
    const killed = trace(['sh', '-c', 'kill -KILL $$']);
    assert.equal(killed.code, 137);
    assert.deepEqual([killed.summary!.exit_code, killed.summary!.exit_signal], [null, 'SIGKILL']);
    const chose = trace(['sh', '-c', 'exit 137']);
    assert.deepEqual([chose.code, chose.summary!.exit_code, chose.summary!.exit_signal], [137, 137, null]);
  });

  test('events on stdout (-o -) piped into a reader that quits (| head): no crash, the command runs to its end, its exit code, execs not written counted with the reason', (t) => {
    if (!requireRoot(t)) return;
    // head takes one byte and goes; the later execs (0.1 s apart) meet a closed pipe
    const script =
      '"$0" log --backend "$1" -o - -- sh -c \'for i in 1 2 3 4 5; do /bin/true $i; sleep 0.1; done; exit 3\' | head -c 1 >/dev/null; echo "exit=${PIPESTATUS[0]}" >&2';
    const r = spawnSync('bash', ['-c', script, EXECLENS, backend], { encoding: 'utf8', timeout: 120_000 });
    assert.match(r.stderr, /exit=3\n/, r.stderr);
    assert.doesNotMatch(r.stderr, /Error|\n\s+at /, 'no stack trace');
    const m = /execlens: 11 execs .*output failed \(EPIPE: the reader closed the pipe\): (\d+) execs not written/.exec(
      r.stderr,
    );
    assert.ok(m, r.stderr);
    assert.ok(Number(m[1]) >= 5 && Number(m[1]) <= 10, `unprinted ${m[1]}`);
  });

  test('a full disk (-o /dev/full) ends the output, not the run: the command runs to its end with its exit code, the summary says how many execs were not written and why', (t) => {
    if (!requireRoot(t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'execlens-full-'));
    try {
      const r = spawnSync(
        EXECLENS,
        ['log', '--backend', backend, '-o', '/dev/full', '--', 'sh', '-c', '/bin/true; sleep 0.3; touch ran; exit 5'],
        { cwd: dir, encoding: 'utf8', timeout: 120_000 },
      );
      assert.equal(r.status, 5, r.stderr);
      assert.ok(existsSync(join(dir, 'ran')), 'the command was not killed');
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, 'no stack trace');
      assert.match(
        r.stderr,
        /^execlens: 4 execs .*output failed \(ENOSPC: no space left on device\): 4 execs not written\n$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an -o that cannot be written (missing directory, a directory) is one line naming the file and why, exit 73, and the command never runs', (t) => {
    if (!requireRoot(t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'execlens-badout-'));
    try {
      for (const [out, why] of [
        [join(dir, 'no/such/x'), 'no such directory'],
        [dir, 'is a directory'],
      ] as const) {
        const r = spawnSync(EXECLENS, ['log', '--backend', backend, '-o', out, '--', 'touch', join(dir, 'ran')], {
          encoding: 'utf8',
          timeout: 60_000,
        });
        assert.equal(r.status, 73, r.stderr);
        assert.equal(r.stderr, `execlens: cannot write the output file ${out}: ${why}\n`);
        assert.ok(!existsSync(join(dir, 'ran')), 'nothing started');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('unknown command: exit 127 and one clear line, nothing traced', (t) => {
    if (!requireRoot(t)) return;
    const r = trace(['no-such-command-xyz']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /^execlens: no-such-command-xyz: command not found\n$/);
  });

  test('only the traced tree is reported, not other processes on the system', (t) => {
    if (!requireRoot(t)) return;
    const neighbour = spawn('sh', ['-c', 'while :; do /usr/bin/id >/dev/null; done'], { stdio: 'ignore' });
    try {
      const r = trace(['sh', '-c', 'for i in 1 2 3 4 5; do /bin/true; sleep 0.05; done']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(byFile(r, 'true').length, 5);
      assert.equal(byFile(r, 'id').length, 0, 'the neighbour loop must not be reported');
      assert.deepEqual([...new Set(r.execs.map((e) => e.filename))].sort(), [
        '/bin/true',
        '/usr/bin/sh',
        '/usr/bin/sleep',
      ]);
    } finally {
      neighbour.kill('SIGKILL');
    }
  });
}
