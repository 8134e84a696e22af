/**
 * The TUI's view model without a terminal: the exec store (parents, exit status, history caps), the list
 * (follow, scrolling, filter, search, tree with collapse, go to parent), the copy texts (run by a real bash),
 * the details view and the breakpoint matcher.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { diffEnv } from '../../src/events/envdiff.js';
import { ExecFlag } from '../../src/events/layout.js';
import type { ExecEvent } from '../../src/events/types.js';
import { execEvent } from '../helpers/events.js';
import { expandTemplate, matchBreakpoint, parseBreakpoint } from '../../src/tui/model/breakpoint.js';
import { cmdlineWithChanges, COPY_TARGETS } from '../../src/tui/model/copy.js';
import { reconstructCmdline } from '../../src/output/format.js';
import { detailLines } from '../../src/tui/model/details.js';
import { rowSegments, searchText } from '../../src/tui/model/rowtext.js';
import { ExecStore } from '../../src/tui/model/store.js';
import { ListView } from '../../src/tui/model/view.js';
import { actionFor, BINDINGS, helpLines, keyId } from '../../src/tui/keys.js';
import { untraced } from '../../src/tui/breakpoints.js';

const B = (s: string) => Buffer.from(s);
const fmt = { bootToWallNs: 1_764_000_000_000_000_000n, startNs: 1_000_000_000n };

/** the shared event (test/helpers/events.ts) as process pid<ppid> running file */
function exec(pid: number, ppid: number, file: string, args: string[] = [], over: Partial<ExecEvent> = {}): ExecEvent {
  const name = file.split('/').pop()!;
  return execEvent({
    execId: BigInt(pid),
    pid,
    tid: pid,
    ppid,
    comm: B(name),
    nsPid: pid,
    argvTotal: 0,
    envTotal: 0,
    filename: B(file),
    argv: [B(name), ...args.map(B)],
    env: [B('HOME=/root'), B('PATH=/usr/bin:/bin')],
    exe: null,
    fds: [],
    ...over,
  });
}

/** sh(10) -> make(11) -> cc(12), cc(13); sh's second image (10 execs /bin/true) */
function sample(): { store: ExecStore; view: ListView } {
  const store = new ExecStore({ maxRows: 100, maxBytes: 1 << 30 });
  const view = new ListView(store, () => 0);
  const add = (ev: ExecEvent) => view.added(store.add({ ev, diff: null }));
  add(exec(10, 1, '/bin/sh', ['-c', 'make']));
  store.fork(10, 11);
  add(exec(11, 10, '/usr/bin/make', ['-j2']));
  store.fork(11, 12);
  store.fork(11, 13);
  add(exec(12, 11, '/usr/bin/cc', ['-c', 'a.c']));
  add(exec(13, 11, '/usr/bin/cc', ['-c', 'B.c']));
  add(exec(10, 1, '/bin/true'));
  store.exit(12, 0);
  store.exit(13, 1 << 8);
  return { store, view };
}

test("store: an exec descends from its process's previous exec, else from its nearest forking ancestor's last one", () => {
  const { store } = sample();
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((id) => store.get(id)!.parent),
    [-1, 0, 1, 1, 0],
  );
  assert.deepEqual(store.get(1)!.children, [2, 3]);
  assert.equal(store.get(3)!.exitStatus, 256);
  assert.deepEqual(store.ancestors(3), [1, 0]);
});

test('store: history is capped by rows and by bytes; the oldest go first and are counted as dropped', () => {
  const byRows = new ExecStore({ maxRows: 3, maxBytes: 1 << 30 });
  for (let i = 0; i < 5; i++) byRows.add({ ev: exec(100 + i, 1, '/bin/true'), diff: null });
  assert.deepEqual([byRows.firstId, byRows.endId, byRows.size, byRows.dropped], [2, 5, 3, 2]);
  assert.equal(byRows.get(1), undefined);
  const one = new ExecStore({ maxRows: 100, maxBytes: 1 << 30 }).add({ ev: exec(1, 1, '/bin/true'), diff: null }).bytes;
  const byBytes = new ExecStore({ maxRows: 100, maxBytes: one * 2 + 1 });
  for (let i = 0; i < 5; i++) byBytes.add({ ev: exec(100 + i, 1, '/bin/true'), diff: null });
  assert.deepEqual([byBytes.size, byBytes.dropped], [2, 3]);
  assert.ok(byBytes.heldBytes <= one * 2 + 1);
});

test("store: the failed tries of a PATH search are siblings under the process's image, the one that works too", () => {
  const store = new ExecStore({ maxRows: 100, maxBytes: 1 << 30 });
  store.add({ ev: exec(10, 1, '/usr/bin/cc'), diff: null });
  store.fork(10, 11);
  store.add({ ev: exec(11, 10, '/root/bin/as', [], { ret: -2 }), diff: null });
  store.add({ ev: exec(11, 10, '/usr/local/bin/as', [], { ret: -2 }), diff: null });
  store.add({ ev: exec(11, 10, '/usr/bin/as'), diff: null });
  store.add({ ev: exec(11, 10, '/bin/true'), diff: null });
  assert.deepEqual(
    [1, 2, 3, 4].map((id) => store.get(id)!.parent),
    [0, 0, 0, 3],
  );
  store.exit(11, 0);
  assert.deepEqual(
    [1, 2, 3, 4].map((id) => store.get(id)!.exitStatus),
    [null, null, null, 0],
  );
});

test('list: follow keeps the newest exec selected; moving up leaves follow; End returns to it; the window holds the cursor', () => {
  const { store, view } = sample();
  assert.equal(
    view
      .window(2)
      .map((r) => r.row.id)
      .join(),
    '3,4',
  );
  assert.equal(view.cursor, 4);
  view.move(-3);
  assert.equal(view.follow, false);
  assert.deepEqual(
    view.window(2).map((r) => [r.row.id, r.selected]),
    [
      [1, true],
      [2, false],
    ],
  );
  view.added(store.add({ ev: exec(14, 11, '/usr/bin/ld'), diff: null }));
  assert.equal(view.cursor, 1, 'a new exec does not move the cursor out of follow mode');
  view.end();
  view.window(2);
  assert.equal(view.cursor, 5);
  view.home();
  assert.equal(view.window(2)[0]!.row.id, 0);
});

test('filter: text is case-insensitive unless asked, a regex works, a bad regex is one message, failed-only sees exit codes that come later', () => {
  const { store, view } = sample();
  assert.ok(view.setFilter({ text: 'b.c', regex: false, caseSensitive: false }));
  assert.deepEqual(
    view.window(10).map((r) => r.row.id),
    [3],
  );
  view.setFilter({ text: 'b.c', regex: false, caseSensitive: true });
  assert.equal(view.length, 0);
  view.setFilter({ text: '^\\d+ ok cc ', regex: true, caseSensitive: false });
  assert.deepEqual(
    view.window(10).map((r) => r.row.id),
    [2, 3],
  );
  assert.equal(view.setFilter({ text: '(', regex: true, caseSensitive: false }), false);
  assert.match(view.message, /^bad regex: /);
  view.setFilter(null, true);
  assert.deepEqual(
    view.window(10).map((r) => r.row.id),
    [3],
  );
  const r = store.add({ ev: exec(15, 11, '/usr/bin/cc', ['-c', 'c.c']), diff: null });
  view.added(r);
  assert.equal(view.length, 1, 'still running: not failed yet');
  store.onExitStatus = (row) => view.ended(row);
  store.exit(15, 2 << 8);
  assert.deepEqual(
    view.window(10).map((x) => x.row.id),
    [3, 5],
  );
  view.added(store.add({ ev: exec(16, 11, '/nope', [], { ret: -2 }), diff: null }));
  assert.deepEqual(
    view.window(10).map((x) => x.row.id),
    [3, 5, 6],
    'a failed exec (ENOENT) is a failure',
  );
});

test('search: next and previous from the cursor, wrapping around, marks hits, says when nothing matches', () => {
  const { view } = sample();
  view.setSearch({ text: 'cc', regex: false, caseSensitive: false });
  view.home();
  assert.ok(view.searchNext(1));
  assert.equal(view.cursor, 2);
  view.searchNext(1);
  assert.equal(view.cursor, 3);
  view.searchNext(1);
  assert.equal(view.cursor, 2);
  assert.equal(view.message, 'search wrapped');
  view.searchNext(-1);
  assert.equal(view.cursor, 3);
  assert.deepEqual(
    view.window(10).map((r) => r.hit),
    [false, false, true, true, false],
  );
  view.setSearch({ text: 'zzz', regex: false, caseSensitive: false });
  assert.equal(view.searchNext(1), false);
  assert.equal(view.message, 'not found: zzz');
});

test('tree: execs under their parent exec, depth-first; collapse hides the children; go to parent opens the path', () => {
  const { view } = sample();
  view.setMode('tree');
  const shape = () =>
    view
      .window(10)
      .map((r) => `${r.depth}:${r.row.id}${r.hasChildren ? (r.collapsed ? '+' : '-') : ''}`)
      .join(' ');
  assert.equal(shape(), '0:0- 1:1- 2:2 2:3 1:4');
  view.home();
  view.move(1);
  view.collapse(true);
  assert.equal(shape(), '0:0- 1:1+ 1:4');
  view.home();
  view.toggleCollapse();
  assert.equal(shape(), '0:0+');
  view.setMode('flat');
  view.home();
  view.move(3);
  view.setMode('tree');
  assert.ok(view.goParent());
  assert.equal(view.cursor, 1);
  assert.equal(shape(), '0:0- 1:1+ 1:4');
  assert.ok(view.goParent());
  assert.equal(view.cursor, 0);
  assert.equal(view.goParent(), false);
  assert.match(view.message, /no parent exec/);
});

test('tree with a filter: the matching execs and the path to them', () => {
  const { view } = sample();
  view.setMode('tree');
  view.setFilter({ text: 'a.c', regex: false, caseSensitive: false });
  assert.deepEqual(
    view.window(10).map((r) => `${r.depth}:${r.row.id}`),
    ['0:0', '1:1', '2:2'],
  );
});

test('row: time, pid<ppid>, result, how the process ended, filename, the other argv; search text has the same words', () => {
  const { store } = sample();
  const text = rowSegments(store.get(3)!, fmt)
    .map((s) => s.text)
    .join('');
  assert.match(text, /^\d\d:\d\d:\d\d\.500 13<11> ok exit 1 \/usr\/bin\/cc -c B\.c$/);
  assert.equal(rowSegments(store.get(3)!, fmt).find((s) => s.text === 'ok')!.style, 'green');
  assert.match(searchText(store.get(3)!), /^13 ok cc \/usr\/bin\/cc cc -c B\.c \/tmp exit 1$/);
});

test('copy c: the exact command line reproduces argv, cwd and exactly the environment, run by bash', () => {
  const ev = exec(20, 1, '/usr/bin/env', [], {
    argv: [B('env')],
    env: [B('A=x y'), B("Q='"), B('PATH=/usr/bin:/bin')],
    cwd: B('/'),
  });
  const c = COPY_TARGETS.find((t) => t.key === 'c')!.text({ ev, diff: null })!;
  const r = spawnSync('bash', ['-c', c], { cwd: '/tmp', encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['A=x y', "Q='", 'PATH=/usr/bin:/bin']);
  const pwd = exec(21, 1, '/bin/pwd', [], { argv: [B('/bin/pwd')], cwd: B('/usr') });
  assert.equal(
    spawnSync('bash', ['-c', COPY_TARGETS[0]!.text({ ev: pwd, diff: null })!], { encoding: 'utf8' }).stdout,
    '/usr\n',
  );
});

test('copy e: the command line with only the environment changes applies them to the environment it runs in', () => {
  const ev = exec(22, 1, '/usr/bin/env', [], { argv: [B('env')], env: [B('KEEP=1'), B('NEW=a b')], cwd: B('/') });
  const line = cmdlineWithChanges({ ev, diff: diffEnv([B('KEEP=1'), B('OLD=x')], ev.env!) })!;
  assert.equal(line, "cd / && env -u OLD 'NEW=a b' /usr/bin/env");
  const r = spawnSync('bash', ['-c', line], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', KEEP: '1', OLD: 'x', MINE: 'y' },
  });
  const vars = r.stdout.trim().split('\n');
  assert.ok(
    vars.includes('NEW=a b') &&
      vars.includes('MINE=y') &&
      vars.includes('KEEP=1') &&
      !vars.some((v) => v.startsWith('OLD=')),
    r.stdout,
  );
});

test('copy: every target of the menu, on one exec', () => {
  const ev = exec(20, 1, '/bin/echo', ['a b'], { env: [B('HOME=/root'), B('FOO=1')] });
  const x = { ev, diff: diffEnv([B('HOME=/root'), B('OLD=1')], ev.env!) };
  const t = Object.fromEntries(COPY_TARGETS.map((c) => [c.key, c.text(x)]));
  assert.equal(t.c, reconstructCmdline(ev), "--show-cmdline's line");
  assert.deepEqual(
    { ...t, c: undefined },
    {
      c: undefined,
      e: "cd /tmp && env -u OLD FOO=1 /bin/echo 'a b'",
      a: "echo 'a b'",
      f: '/bin/echo',
      v: 'HOME=/root\nFOO=1',
      d: '+FOO=1\n-OLD',
    },
  );
  assert.equal(
    spawnSync('bash', ['-c', t.c!], { encoding: 'utf8' }).stdout,
    'a b\n',
    'it runs /bin/echo with that argv',
  );
});

test('details: fields, the env diff, fds, and what was lost', () => {
  const ev = exec(30, 1, '/bin/echo', ['hi'], {
    flags: ExecFlag.ENV_TRUNC,
    missingChunks: 2,
    fds: [{ fd: 1, path: B('/dev/pts/3'), flags: 2, ino: 1n, dev: 1, mode: 0o20620, cloexec: false }],
  });
  const store = new ExecStore();
  const r = store.add({ ev, diff: diffEnv([B('HOME=/root')], ev.env!) });
  const text = detailLines(store, r, fmt)
    .map((l) => l.map((s) => s.text).join(''))
    .join('\n');
  assert.match(text, /^lost +env_trunc, 2 chunk record\(s\) lost$/m);
  assert.match(text, /^env diff +\+PATH=\/usr\/bin:\/bin$/m);
  assert.match(text, /^fds +1 \/dev\/pts\/3 chr O_RDWR$/m);
  assert.match(text, /^argv +\[0\] echo\n +\[1\] hi$/m);
  assert.match(text, /^env \(2\) +HOME=\/root$/m);
  assert.match(text, /^parent +none traced$/m);
});

test('details of an exec with no entry record (--successful-only): old comm ?, no syscall, no duration claimed', () => {
  const ev = execEvent({ flags: ExecFlag.NO_ENTRY, syscall: 2, oldComm: B(''), enterTsNs: 0n });
  const store = new ExecStore();
  const text = detailLines(store, store.add({ ev, diff: null }), fmt)
    .map((l) => l.map((s) => s.text).join(''))
    .join('\n');
  assert.match(text, /^comm +\? -> echo {2}syscall entry not seen$/m);
  assert.doesNotMatch(text, /exec took|unknown/);
  const seen = detailLines(store, store.add({ ev: execEvent(), diff: null }), fmt)
    .map((l) => l.map((s) => s.text).join(''))
    .join('\n');
  assert.match(seen, /^comm +sh -> echo {2}execve$/m);
  assert.match(seen, /exec took 1000 µs/);
});

test("breakpoints: tracexec's syntax, the stop kind must match, argv is matched joined by spaces, bad specs are one line", () => {
  const bps = ['sysenter:filename:/cc$', 'sysexit:argv:-c b\\.c', 'sysenter:exact-filename:/bin/sh'].map(
    parseBreakpoint,
  );
  const at = (stop: 'sysenter' | 'sysexit', f: string, argv: string[]) =>
    matchBreakpoint(bps, { stop, filename: B(f), argv: argv.map(B) })?.spec ?? null;
  assert.equal(at('sysenter', '/usr/bin/cc', ['cc']), 'sysenter:filename:/cc$');
  assert.equal(at('sysexit', '/usr/bin/cc', ['cc']), null);
  assert.equal(at('sysexit', '/usr/bin/cc', ['cc', '-c', 'b.c']), 'sysexit:argv:-c b\\.c');
  assert.equal(at('sysenter', '/bin/sh', ['sh']), 'sysenter:exact-filename:/bin/sh');
  assert.equal(at('sysenter', '/bin/shx', ['sh']), null);
  assert.throws(() => parseBreakpoint('enter:filename:x'), /expected sysenter\|sysexit:filename\|argv:REGEX/);
  assert.throws(() => parseBreakpoint('sysenter:file:x'), /unknown pattern kind file/);
  assert.throws(
    () => parseBreakpoint('sysenter:filename:('),
    /^Error: -b sysenter:filename:\(: Invalid regular expression/,
  );
  assert.equal(expandTemplate('gdb -p {{PID}} && echo {{PID}}', 42), 'gdb -p 42 && echo 42');
});

test('breakpoints: untraced() sees a process no tracer holds (ourselves), and one that is gone', async () => {
  assert.equal(await untraced(process.pid, 100), true);
  assert.equal(await untraced(2 ** 22 + 1, 100), true);
});

test('keys: no key means two things in one mode; readline names map to the table (C-x, names, characters)', () => {
  for (const [mode, list] of Object.entries(BINDINGS)) {
    const keys = list.flatMap((b) => b.keys);
    assert.equal(new Set(keys).size, keys.length, `a key bound twice in ${mode}`);
  }
  assert.equal(keyId('\x13', { name: 's', ctrl: true, meta: false, shift: false, sequence: '\x13' }), 'C-s');
  assert.equal(
    keyId(undefined, { name: 'pageup', ctrl: false, meta: false, shift: false, sequence: '\x1b[5~' }),
    'pageup',
  );
  assert.equal(keyId('G', { name: 'g', ctrl: false, meta: false, shift: true, sequence: 'G' }), 'G');
  assert.equal(keyId('/', { name: undefined, ctrl: false, meta: false, shift: false, sequence: '/' }), '/');
  assert.equal(actionFor('list', 'G'), 'end');
  assert.equal(actionFor('stops', 'D'), 'debug');
  assert.match(helpLines().join('\n'), /^ {2}C-s {10}type into the command's pane \/ back$/m);
});
