/**
 * argc 0: `execve(path, NULL, NULL)`. Since 5.18 (dcd46d897adb "exec: Force single empty string when argv is
 * empty") the kernel gives the new image argv[0] = "" itself, so the image's argv looks like a caller's `[""]`.
 * Both backends mark such an exec ARGC_ZERO (the entry saw no argv) and the text says whose "" it is; a real
 * `[""]` is not marked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EXECLENS } from '../helpers/paths.js';
import { byFile, requireRoot, trace } from '../helpers/trace.js';

const PY = '/usr/bin/python3';
// libc's execve with NULL argv and envp (Python's own os.execv refuses an empty argv)
const ARGC_ZERO = `import ctypes; ctypes.CDLL(None).execve(b"/bin/true", None, None)`;
// argv = [""], envp = NULL: the same image argv on 5.18+, but the caller's own ""
const EMPTY_ARGV0 = `import ctypes; a = (ctypes.c_char_p * 2)(b"", None); ctypes.CDLL(None).execve(b"/bin/true", a, None)`;

/**
 * Whether this kernel supplies argv[0] "": 5.18 does (dcd46d897adb), and so do older stable kernels that took it
 * (Debian's 5.10 has it): not a version check. /proc/PID/cmdline of a process started with argc 0 tells.
 */
const kernelSupplies = (() => {
  const r = spawnSync(PY, [
    '-c',
    `import ctypes, os, sys, time
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.dup2(r, 0)
    ctypes.CDLL(None).execve(b"/bin/cat", None, None)
    os._exit(127)
time.sleep(0.5)
sys.stdout.write(repr(open(f"/proc/{pid}/cmdline", "rb").read()))
os.kill(pid, 9)`,
  ]);
  // cat, given argv [""] by the kernel, waits on the pipe: its cmdline is that one empty string
  return r.stdout.toString() === "b'\\x00'";
})();

for (const backend of ['ebpf', 'ptrace'] as const) {
  test(`${backend}: execve(path, NULL, NULL) is marked ARGC_ZERO with the image's argv; a real [""] is not`, (t) => {
    if (!requireRoot(t)) return;
    const zero = trace([PY, '-c', ARGC_ZERO], { extra: ['--backend', backend] });
    assert.equal(zero.code, 0, zero.stderr);
    const [z] = byFile(zero, 'true');
    assert.ok(z, zero.execs.map((e) => e.filename).join(' '));
    assert.equal(z.result, 0);
    assert.ok(z.flags.includes('ARGC_ZERO'), z.flags.join(','));
    assert.deepEqual(z.argv, kernelSupplies ? [''] : []);
    // the python that made the call passed an argv: not marked
    const [py] = byFile(zero, 'python3');
    assert.ok(py && !py.flags.includes('ARGC_ZERO'), py?.flags.join(','));

    const one = trace([PY, '-c', EMPTY_ARGV0], { extra: ['--backend', backend] });
    assert.equal(one.code, 0, one.stderr);
    const [o] = byFile(one, 'true');
    assert.ok(o, one.execs.map((e) => e.filename).join(' '));
    assert.deepEqual(o.argv, ['']);
    assert.ok(!o.flags.includes('ARGC_ZERO'), o.flags.join(','));
  });

  test(`${backend}: the text line of an argc-0 exec says the kernel supplied argv[0], and warns of nothing`, (t) => {
    if (!requireRoot(t)) return;
    const r = spawnSync(EXECLENS, ['log', '--backend', backend, '-o', '-', '--', PY, '-c', ARGC_ZERO], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 120000,
    });
    assert.equal(r.status, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => / \/bin\/true /.test(l));
    assert.ok(line, r.stdout);
    assert.match(
      line,
      kernelSupplies ? / argv: '' \(argc 0: argv\[0\] supplied by the kernel\)/ : / argv: \(none: argc 0\)/,
    );
    assert.doesNotMatch(line, /!/, 'no warning flags');
  });
}
