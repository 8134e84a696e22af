/**
 * execveat by a directory fd, and by an O_PATH fd with AT_EMPTY_PATH, on both backends: the record keeps the
 * name as passed, the dirfd (at_fd) and the flags, and exe is the file that ran; the text line shows them as
 * strace does. perl's syscall() makes the raw execveat (glibc has no wrapper for a dirfd with a name).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXECLENS } from '../helpers/paths.js';
import { requireRoot, trace, type JsonExec } from '../helpers/trace.js';

const NR_EXECVEAT: Partial<Record<string, number>> = { x64: 322, arm64: 281, riscv64: 281 };
const nr = NR_EXECVEAT[process.arch];
const O_PATH = 0o10000000;
// fd of /usr/bin, then execveat(fd, "echo", ["echo", "by-dirfd"], [], 0); then an O_PATH fd of /usr/bin/true with AT_EMPTY_PATH
// $^F: perl marks fds above it close-on-exec; raised, the dirfd stays open across the exec and shows its path
const byDirfd = `$^F = 1000; sysopen(my $d, "/usr/bin", 0200000) or die "$!"; my $fd = fileno($d) // die; my ($n, @a) = ("echo", "echo", "by-dirfd"); my ($av, $ev) = (pack("p*", @a, undef), pack("p", undef)); syscall(${nr}, $fd, $n, $av, $ev, 0); die "execveat: $!"`;
const byEmptyPath = `sysopen(my $f, "/usr/bin/true", ${O_PATH}) or die "$!"; my ($n, @a) = ("", "true", "by-fd"); my ($av, $ev) = (pack("p*", @a, undef), pack("p", undef)); syscall(${nr}, fileno($f), $n, $av, $ev, 0x1000); die "execveat: $!"`;

const ext = (e: JsonExec) => e as JsonExec & { at_fd: number | null; at_flags: string[]; exe: string | null };

for (const backend of ['ebpf', 'ptrace'] as const) {
  test(
    `${backend}: execveat by dirfd and by an O_PATH fd (AT_EMPTY_PATH): name as passed, at_fd, at_flags, and exe (what ran)`,
    { skip: nr === undefined ? `no execveat number for ${process.arch}` : false },
    (t) => {
      if (!requireRoot(t)) return;
      const r = trace(['sh', '-c', `/usr/bin/perl -e '${byDirfd}'; /usr/bin/perl -e '${byEmptyPath}'`], {
        extra: ['--backend', backend],
      });
      assert.equal(r.code, 0, r.stderr);
      const dirfd = ext(r.execs.find((e) => e.argv[1] === 'by-dirfd')!);
      assert.ok(dirfd, JSON.stringify(r.execs.map((e) => e.argv)));
      assert.deepEqual([dirfd.syscall, dirfd.filename, dirfd.at_flags, dirfd.result], ['execveat', 'echo', [], 0]);
      assert.equal(typeof dirfd.at_fd, 'number');
      assert.equal(dirfd.exe, realpathSync('/usr/bin/echo'));
      assert.equal(
        dirfd.fds.find((f) => f.fd === dirfd.at_fd)?.path,
        '/usr/bin',
        'the dirfd is an inherited fd with its path',
      );
      const empty = ext(r.execs.find((e) => e.argv[1] === 'by-fd')!);
      assert.deepEqual(
        [empty.syscall, empty.filename, empty.at_flags, empty.exe],
        ['execveat', '', ['AT_EMPTY_PATH'], realpathSync('/usr/bin/true')],
      );
      const sh = ext(r.execs[0]!);
      assert.deepEqual([sh.syscall, sh.at_fd, sh.at_flags], ['execve', null, []]);
      // the text line, as strace would put it: execveat(FD<path>, FLAGS) exe: …
      const dir = mkdtempSync(join(tmpdir(), 'execlens-at-'));
      try {
        const out = join(dir, 'log.txt');
        spawnSync(EXECLENS, ['log', '--backend', backend, '-o', out, '--', '/usr/bin/perl', '-e', byDirfd]);
        assert.match(
          readFileSync(out, 'utf8'),
          / ok echo execveat\(\d+<\/usr\/bin>\) exe: \S*echo argv: echo by-dirfd /,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}

// glibc's fexecve of a close-on-exec memfd: execveat(fd, "", …, AT_EMPTY_PATH) of a file with no name on disk
const FEXECVE_MEMFD =
  'import os\nfd = os.memfd_create("prog", os.MFD_CLOEXEC)\nos.write(fd, open("/bin/true", "rb").read())\nos.execve(fd, ["true", "from-memfd"], {"A": "1"})';

test(
  'fexecve of a close-on-exec memfd: both backends report the same name (""), no read fault, and exe /memfd:NAME',
  { skip: nr === undefined ? `no execveat number for ${process.arch}` : false },
  (t) => {
    if (!requireRoot(t)) return;
    const seen = (['ebpf', 'ptrace'] as const).map((backend) => {
      const r = trace(['/usr/bin/python3', '-c', FEXECVE_MEMFD], { extra: ['--backend', backend] });
      assert.equal(r.code, 0, r.stderr);
      const e = ext(r.execs.find((x) => x.argv[1] === 'from-memfd')!);
      assert.ok(e, `${backend}: ${JSON.stringify(r.execs.map((x) => x.argv))}`);
      assert.equal(r.summary!.read_faults ?? 0, 0, `${backend}: nothing failed to read`);
      return {
        filename: e.filename,
        flags: e.flags,
        syscall: e.syscall,
        at_flags: e.at_flags,
        exe: e.exe,
        closed: e.fds.filter((f) => f.cloexec).map((f) => f.fd),
      };
    });
    assert.deepEqual(seen[0], seen[1], 'eBPF and ptrace agree');
    assert.deepEqual(
      [seen[0]!.filename, seen[0]!.flags, seen[0]!.syscall, seen[0]!.at_flags],
      ['', [], 'execveat', ['AT_EMPTY_PATH']],
    );
    assert.equal(seen[0]!.exe, '/memfd:prog');
  },
);
