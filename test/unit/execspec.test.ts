/**
 * The command as bytes: where execlens finds them (its own cmdline and
 * environ), how it hands them on (the spec), and the native helper's --exec
 * mode that execs them (run for real: it needs no root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import {
  commandBytes,
  commandFromCmdline,
  encodeSpec,
  envValue,
  nativeHelperPath,
  nulItems,
  ownEnvironment,
  type CommandBytes,
} from '../../src/backend/execspec.js';
import { resolveCommand } from '../../src/backend/preflight.js';
import { ExeclensError } from '../../src/exitcodes.js';

const B = (s: string) => Buffer.from(s);
const ALL = Buffer.from(Array.from({ length: 255 }, (_, i) => i + 1));
const nul = (items: Buffer[]) => Buffer.concat(items.flatMap((i) => [i, Buffer.from([0])]));

test('nulItems: NUL-terminated items, empty ones kept, a last item without its NUL too', () => {
  assert.deepEqual(nulItems(B('a\0\0b c\0')), [B('a'), B(''), B('b c')]);
  assert.deepEqual(nulItems(B('a\0b')), [B('a'), B('b')]);
  assert.deepEqual(nulItems(B('')), []);
});

test('commandFromCmdline: the command is the tail of the command line, after node, its own options and the script', () => {
  const cmd = [B('printf'), B('%s'), Buffer.from([0xff]), B(''), ALL];
  const cmdline = nul([B('node'), B('--no-warnings'), B('/x/bin/execlens'), B('log'), B('-q'), B('--'), ...cmd]);
  // the strings Node made of them: lossy UTF-8
  const strings = cmd.map((b) => b.toString('utf8'));
  assert.deepEqual(commandFromCmdline(cmdline, strings), cmd);
  assert.deepEqual(commandFromCmdline(cmdline, []), []);
});

test('commandFromCmdline: null when the tail does not decode to the strings given (they came from elsewhere) or is too short', () => {
  const cmdline = nul([B('node'), B('execlens'), B('log'), B('--'), B('ls'), Buffer.from([0xe9])]);
  assert.equal(commandFromCmdline(cmdline, ['ls', 'é']), null, 'é is not U+FFFD');
  assert.equal(commandFromCmdline(cmdline, ['ls', '\ufffd', 'extra']), null);
  assert.equal(commandFromCmdline(nul([B('ls')]), ['a', 'ls']), null);
});

test('commandBytes: strings that did not come from the command line are the bytes they encode to', () => {
  assert.deepEqual(commandBytes(['caf\u00e9', 'x'], nul([B('node'), B('other')])), [B('café'), B('x')]);
});

test('ownEnvironment: the entries of /proc/self/environ, in order, as bytes', () => {
  const env = ownEnvironment(nul([B('A=1'), Buffer.from([0x42, 0x3d, 0xff]), B('NOEQUALS'), B('A=2')]));
  assert.deepEqual(env, [B('A=1'), Buffer.from([0x42, 0x3d, 0xff]), B('NOEQUALS'), B('A=2')]);
  // the real one holds what process.env holds, for a plain variable
  const mine = ownEnvironment();
  if (process.env.PATH !== undefined) assert.deepEqual(envValue(mine, 'PATH'), B(process.env.PATH));
});

test('envValue: the first NAME= entry, as getenv finds it; a longer name or no "=" does not match', () => {
  const env = [B('PATHX=no'), B('PATH'), B('PATH=/a:/b'), B('PATH=/second')];
  assert.deepEqual(envValue(env, 'PATH'), B('/a:/b'));
  assert.equal(envValue(env, 'HOME'), null);
  assert.deepEqual(envValue([B('E=')], 'E'), B(''));
});

test('encodeSpec: magic, path, argc, argv, envc, env, each item NUL-terminated; a NUL inside an item is refused', () => {
  const spec = encodeSpec({ path: B('/bin/x'), argv: [B('x'), B('')], env: [B('A=1')] });
  assert.deepEqual(spec, B('execlens-spec-1\0/bin/x\x002\0x\0\x001\0A=1\0'));
  assert.deepEqual(encodeSpec({ path: B('/p'), argv: [], env: [] }), B('execlens-spec-1\0/p\x000\x000\0'));
  assert.throws(() => encodeSpec({ path: B('/p'), argv: [B('a\0b')], env: [] }), /NUL/);
});

/** run the native helper in --exec mode with a spec on fd 3 (or raw bytes there); collect its output */
function runExec(
  spec: CommandBytes | Buffer,
  opts: { args?: string[]; via?: string } = {},
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  const helper = nativeHelperPath();
  const args = ['--exec', ...(opts.args ?? [])];
  // via: a shell that starts the helper (to hand it signal dispositions Node would reset)
  const p = opts.via
    ? spawn('/bin/sh', ['-c', `${opts.via}; exec "$0" "$@"`, helper, ...args], {
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      })
    : spawn(helper, args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let stderr = '';
  p.stdout!.on('data', (d: Buffer) => out.push(d));
  p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const w = p.stdio[3] as Writable;
  w.on('error', () => undefined);
  w.end(Buffer.isBuffer(spec) ? spec : encodeSpec(spec));
  return new Promise((res) => p.on('close', (code) => res({ code, stdout: Buffer.concat(out), stderr })));
}

test('helper --exec: the command gets every byte 1-255 of argv and env exactly, and only the fds it was given (the spec pipe is closed)', async () => {
  const argv = [
    B('sh'),
    B('-c'),
    B('cat /proc/$$/cmdline; printf "\\001"; cat /proc/$$/environ; printf "\\001"; ls /proc/$$/fd'),
    B('sh'),
    ALL,
    ...[...ALL].map((c) => Buffer.from([c])),
    B(''),
  ];
  const env = [
    Buffer.concat([B('BYTES='), ALL]),
    Buffer.from([0x4b, 0xff, 0x3d, 0x76]),
    B('NOEQUALS'),
    B('A=1'),
    B('A=2'),
  ];
  const r = await runExec({ path: B('/bin/sh'), argv, env });
  assert.equal(r.code, 0, r.stderr);
  // \001 separates the three parts; it occurs in argv and env too, so cut by the known lengths
  const cmdline = nul(argv);
  const environ = nul(env);
  assert.deepEqual(r.stdout.subarray(0, cmdline.length), cmdline);
  assert.deepEqual(r.stdout.subarray(cmdline.length + 1, cmdline.length + 1 + environ.length), environ);
  const fds = r.stdout
    .subarray(cmdline.length + 1 + environ.length + 1)
    .toString()
    .trim()
    .split('\n');
  // the same shell started directly, with the same stdio and no spec pipe: whatever else this process passes on, the same
  const direct = spawnSync('/bin/sh', ['-c', 'ls /proc/$$/fd'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  assert.deepEqual(fds, direct.stdout.trim().split('\n'));
  assert.ok(!fds.includes('3'), 'the spec pipe is not passed on');
});

test('helper --exec: 127 for a path that does not exist, 126 for one that is not executable, each with one line naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'execlens-exec-'));
  try {
    const missing = await runExec({ path: B(join(dir, 'missing')), argv: [B('missing')], env: [] });
    assert.equal(missing.code, 127);
    assert.equal(missing.stderr, `execlens: ${join(dir, 'missing')}: No such file or directory\n`);
    const plain = join(dir, 'plain');
    writeFileSync(plain, 'x');
    chmodSync(plain, 0o644);
    const noexec = await runExec({ path: B(plain), argv: [B('plain')], env: [] });
    assert.equal(noexec.code, 126);
    assert.equal(noexec.stderr, `execlens: ${plain}: Permission denied\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('helper --exec: a file without #! runs with /bin/sh, as execvp does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'execlens-exec-'));
  try {
    const script = join(dir, 'nosb');
    writeFileSync(script, 'echo "ran with $# args: $1"; exit 3\n');
    chmodSync(script, 0o755);
    const r = await runExec({ path: B(script), argv: [B('nosb'), B('one')], env: [] });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout.toString(), 'ran with 1 args: one\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('helper --exec: the command starts with every signal at its default action and none blocked, whatever the helper inherited', async () => {
  const r = await runExec(
    { path: B('/bin/grep'), argv: [B('grep'), B('-E'), B('^Sig(Blk|Ign):'), B('/proc/self/status')], env: [] },
    { via: "trap '' INT QUIT HUP USR1" },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
});

test('helper --exec: a spec that is missing, cut short or followed by more is refused with 125, nothing run', async () => {
  const good = encodeSpec({ path: B('/bin/echo'), argv: [B('echo'), B('ran')], env: [] });
  for (const bad of [
    Buffer.alloc(0),
    good.subarray(0, good.length - 3),
    Buffer.concat([good, B('x\0')]),
    B('other-magic\0/bin/echo\x001\0echo\x000\0'),
    B('execlens-spec-1\0/bin/echo\0-1\0'),
  ]) {
    const r = await runExec(bad);
    assert.equal(r.code, 125, JSON.stringify(bad.toString('latin1')));
    assert.equal(r.stdout.length, 0);
    assert.match(r.stderr, /^execlens-ptrace: no valid command spec on fd 3\n$/);
  }
});

test('resolveCommand: a command and a PATH that are not UTF-8 find the file by its bytes; not found 127, not executable 126', () => {
  const base = mkdtempSync(join(tmpdir(), 'execlens-resolve-'));
  try {
    const dir = Buffer.concat([B(base), B('/d'), Buffer.from([0xe9])]);
    mkdirSync(dir);
    const name = Buffer.concat([B('caf'), Buffer.from([0xe9])]);
    const exe = Buffer.concat([dir, B('/'), name]);
    writeFileSync(exe, '#!/bin/sh\n');
    chmodSync(exe, 0o755);
    assert.deepEqual(resolveCommand(name, Buffer.concat([B('/nonexistent:'), dir])), exe);
    assert.deepEqual(resolveCommand(exe), exe, 'a path is taken as is');
    assert.throws(
      () => resolveCommand(name, B('/nonexistent')),
      (e: unknown) => e instanceof ExeclensError && e.exitCode === 127 && e.message === 'caf\ufffd: command not found',
    );
    chmodSync(exe, 0o644);
    assert.throws(
      () => resolveCommand(exe),
      (e: unknown) => e instanceof ExeclensError && e.exitCode === 126,
    );
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
