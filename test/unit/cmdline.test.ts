/**
 * --show-cmdline without root: bash runs the printed line, and the program it execs reports its own argv
 * (/proc/$$/cmdline), initial environment (/proc/$$/environ) and cwd, byte for byte. Each of the line's
 * three forms (env -i; env -i + perl exec; perl execve) must reproduce the exec exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecFlag } from '../../src/events/layout.js';
import type { ExecEvent } from '../../src/events/types.js';
import { reconstructCmdline } from '../../src/output/cmdline.js';

const B = (s: string) => Buffer.from(s);
const REPORT = 'cat /proc/$$/cmdline; printf "\\1"; cat /proc/$$/environ; printf "\\1"; pwd -P';
const ODD = Buffer.from([0xff, 0x20, 0x24, 0x27, 0x0a, 0x60]); // not UTF-8, space, $, ', newline, backquote

function exec(over: Partial<ExecEvent>): ExecEvent {
  return {
    execId: 1n,
    tsNs: 1n,
    enterTsNs: 1n,
    pid: 2,
    tid: 2,
    ppid: 1,
    ret: 0,
    flags: 0,
    syscall: 0,
    atFd: -100,
    atFlags: 0,
    uid: 0,
    gid: 0,
    euid: 0,
    egid: 0,
    comm: B('sh'),
    oldComm: B('x'),
    nsPid: 2,
    nsLevel: 0,
    cgroupId: 0n,
    argvTotal: 0,
    envTotal: 0,
    filename: B('/bin/sh'),
    argv: [],
    env: [],
    interpreter: null,
    cwd: B('/'),
    exe: null,
    fds: [],
    unreadable: { argv: [], env: [] },
    missingChunks: 0,
    ...over,
  };
}

const nulSplit = (b: Buffer) =>
  b.length
    ? b
        .subarray(0, b.at(-1) === 0 ? -1 : undefined)
        .toString('latin1')
        .split('\0')
        .map((s) => Buffer.from(s, 'latin1'))
    : [];

/** run the line in a shell whose own environment must not leak into the exec */
function replay(line: string): { argv: Buffer[]; env: Buffer[]; cwd: string } {
  const r = spawnSync('bash', ['-c', line], {
    cwd: '/',
    env: { PATH: '/usr/bin:/bin', LEAK: 'from the pasting shell' },
  });
  assert.equal(r.status, 0, `${line}\n${r.stderr.toString()}`);
  const [argv, env, cwd] = [0, 1, 2].map((i) => r.stdout.toString('latin1').split('\x01')[i]!);
  return { argv: nulSplit(Buffer.from(argv, 'latin1')), env: nulSplit(Buffer.from(env, 'latin1')), cwd: cwd.trim() };
}

function withDir(f: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'execlens-cmdline-'));
  try {
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('--show-cmdline, argv[0] = filename: env -i line gives the exec exactly its argv, environment and cwd', () => {
  withDir((dir) => {
    const ev = exec({
      argv: [B('/bin/sh'), B('-c'), B(REPORT), B('x'), ODD, B('')],
      env: [B('FOO=a b'), Buffer.concat([B('ODD='), ODD])],
      cwd: B(dir),
    });
    const line = reconstructCmdline(ev);
    assert.match(line, /^cd \S+ && env -i /);
    const got = replay(line);
    assert.deepEqual(got, { argv: ev.argv, env: ev.env, cwd: dir }, line);
  });
});

test('--show-cmdline, argv[0] differs from the filename: perl execs with that argv[0] and adds no variable (bash exec -a adds PWD, SHLVL, _)', () => {
  const ev = exec({ argv: [B('-sh'), B('-c'), B(REPORT)], env: [B('A=1')], cwd: B('/tmp') });
  const line = reconstructCmdline(ev);
  assert.match(line, /env -i A=1 \/usr\/bin\/perl -e/);
  assert.deepEqual(replay(line), { argv: ev.argv, env: ev.env, cwd: '/tmp' }, line);
});

test('--show-cmdline, what env(1) cannot say (entry without "=", duplicate name, empty environment entry, filename without "/"): execve through perl, exact', () => {
  withDir((dir) => {
    symlinkSync('/bin/sh', join(dir, 'mysh'));
    const env = [B('NOEQUALS'), B('D=1'), B('D=2'), B('')];
    const ev = exec({ filename: B('mysh'), argv: [B('mysh'), B('-c'), B(REPORT)], env, cwd: B(dir) });
    const line = reconstructCmdline(ev);
    assert.match(line, /\/usr\/bin\/perl -e '.*syscall/);
    assert.deepEqual(replay(line), { argv: ev.argv, env, cwd: dir }, line);
  });
});

test('--show-cmdline, execveat: the dirfd path joins a relative name, AT_EMPTY_PATH runs the fd itself; an fd without a path is said to be inexact', () => {
  const fd = (n: number, path: string) => ({
    fd: n,
    path: B(path),
    flags: 0,
    ino: 1n,
    dev: 1,
    mode: 0o100755,
    cloexec: false,
  });
  const rel = exec({
    syscall: 1,
    atFd: 3,
    filename: B('sh'),
    argv: [B('sh'), B('-c'), B(REPORT)],
    fds: [fd(3, '/bin')],
  });
  assert.deepEqual(replay(reconstructCmdline(rel)).argv, rel.argv);
  assert.match(reconstructCmdline(rel), /'?\/bin\/sh'? sh -c/);
  const empty = exec({
    syscall: 1,
    atFd: 5,
    atFlags: 0x1000,
    filename: B(''),
    argv: [B('sh'), B('-c'), B(REPORT)],
    fds: [fd(5, '/bin/sh')],
  });
  assert.deepEqual(replay(reconstructCmdline(empty)).argv, empty.argv);
  const memfd = exec({
    syscall: 1,
    atFd: 5,
    atFlags: 0x1000,
    filename: B(''),
    argv: [B('x')],
    fds: [fd(5, '/memfd:x (deleted)')],
  });
  assert.match(reconstructCmdline(memfd), /# not exact: execveat dirfd 5 has no path to reopen$/);
});

test('--show-cmdline says what it cannot reproduce: cut argv, uncaptured environment, cut cwd', () => {
  const line = reconstructCmdline(
    exec({ argv: [B('/bin/sh')], env: null, flags: ExecFlag.ARGV_TRUNC | ExecFlag.CWD_TRUNC }),
  );
  assert.match(line, /# not exact: environment not captured .*; argv cut; cwd cut$/);
  assert.doesNotMatch(line, /^cd /, 'no cd into a cut cwd');
});
