/**
 * `execlens tui` end to end in a real terminal (tmux): the command runs in the pane, the list fills, search,
 * details, copy (to the fallback file, and OSC 52 reaching tmux's clipboard), go to parent and quit work by
 * keys; afterwards the terminal is as it was (stty, main screen, cursor shown), the exit code is the
 * command's, and no BPF object this execlens held is left. On the ptrace backend: a breakpoint stops the
 * tracee, the user resumes it, and it finishes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXECLENS } from '../helpers/paths.js';
import { haveTmux, Tmux } from '../helpers/tmux.js';
import { requireRoot, waitFor, STARTUP_MS } from '../helpers/trace.js';

/** the BPF programs, maps and links a process holds, from its fds (ids are unique while they exist) */
function bpfIdsOf(pid: number): string[] {
  const ids: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    let info = '';
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    for (const kind of ['prog', 'map', 'link']) {
      const m = new RegExp(`^${kind}_id:\\s*(\\d+)$`, 'm').exec(info);
      if (m) ids.push(`${kind}:${m[1]}`);
    }
  }
  return ids;
}

function bpfIdsOnSystem(): Set<string> {
  const ids = new Set<string>();
  for (const kind of ['prog', 'map', 'link']) {
    const r = spawnSync('bpftool', ['-j', kind, 'show'], { encoding: 'utf8' });
    if (r.status === 0) for (const o of JSON.parse(r.stdout) as { id: number }[]) ids.add(`${kind}:${o.id}`);
  }
  return ids;
}

/** the execlens process: the child of the tmux pane's shell (bin/execlens is a node script) */
function execlensPid(t: Tmux): number {
  const shell = t.format('#{pane_pid}');
  const r = spawnSync('pgrep', ['-P', shell, '-f', 'execlens tui'], { encoding: 'utf8' });
  return Number(r.stdout.trim().split('\n')[0]);
}

function assertTerminalRestored(t: Tmux): void {
  assert.equal(t.file('stty-after'), t.file('stty-before'), 'stty settings as before');
  assert.equal(t.format('#{alternate_on}'), '0', 'back on the main screen');
  assert.equal(t.format('#{cursor_flag}'), '1', 'cursor shown');
}

test("tui on eBPF: search, details, copy to the fallback file and OSC 52, go to parent, quit; terminal restored, exit code the command's, no BPF object left", async (t) => {
  if (!requireRoot(t)) return;
  assert.ok(haveTmux(), 'tmux is needed (scripts/setup.sh installs it)');
  // the command waits on a fifo after its execs: the tui lets its BPF objects go when the command ends, so the
  // check of what it holds while tracing must come first (a slow guest once reached it after a `sleep 1` ended)
  const tm = new Tmux(
    `mkfifo "$D/go" && cd /tmp && ${EXECLENS} tui --copy-file "$D/copied.txt" -- sh -c '/bin/echo first; ls /nonexistent-execlens; read x < "$0"; exit 3' "$D/go"`,
  );
  try {
    await tm.waitScreen(/ok exit 2 \/usr\/bin\/ls/, STARTUP_MS);
    const pid = execlensPid(tm);
    const held = bpfIdsOf(pid);
    assert.ok(
      held.some((id) => id.startsWith('prog:')),
      `execlens (${pid}) holds BPF programs while tracing: ${held}`,
    );
    spawnSync('sh', ['-c', `echo > '${tm.dir}/go'`]);
    await tm.waitScreen(/\[exit 3\]/);
    // the sh -c line mentions the file too: search for what only the ls exec has
    tm.keys('/', 'bin/ls', 'Enter');
    tm.keys('Enter');
    const details = await tm.waitScreen(/^ filename +\/usr\/bin\/ls$/m);
    assert.match(details, /^ result +ok +process: exit 2$/m);
    assert.match(details, /^ argv +\[0\] ls\n +\[1\] \/nonexistent-execlens$/m);
    assert.match(details, /^ cwd +\/tmp$/m);
    tm.keys('c');
    await tm.waitScreen(/e +command line with the environment changes only/);
    tm.keys('c');
    await tm.waitScreen(/copied \d+ bytes/);
    const copied = tm.file('copied.txt');
    // --show-cmdline's exact line: cwd, the whole environment, argv[0] 'ls' for the file /usr/bin/ls
    assert.match(copied, /^cd \/tmp && env -i .* \/usr\/bin\/ls ls \/nonexistent-execlens\n$/);
    assert.equal(tm.tmux('show-buffer'), copied.trimEnd(), "OSC 52 set the terminal's clipboard (tmux buffer)");
    // the copied line reproduces the failure
    const again = spawnSync('bash', ['-c', copied], { encoding: 'utf8' });
    assert.equal(again.status, 2);
    assert.match(again.stderr, /nonexistent-execlens/);
    tm.keys('p');
    const parent = await tm.waitScreen(/^ filename +\/usr\/bin\/sh$/m);
    assert.match(parent, /^ argv +\[0\] sh\n +\[1\] -c$/m);
    tm.keys('Escape');
    await tm.waitScreen(/^\d\d:\d\d:\d\d\.\d{3} \d+<\d+> ok exit 2 \/usr\/bin\/ls \/nonexistent-execlens/m);
    tm.keys('q');
    assert.equal(await tm.exitCode(), 3, 'exit code of the command');
    assert.match(tm.screen(), /^execlens: 3 execs \(0 failed\), 3 processes, .*lost 0/m);
    assertTerminalRestored(tm);
    // the kernel frees tracing programs after an RCU grace period: give it a bounded time
    const left = () => held.filter((id) => bpfIdsOnSystem().has(id));
    await waitFor(() => left().length === 0, 30000).catch(() => undefined);
    assert.deepEqual(left(), [], 'no BPF object of this execlens left');
  } finally {
    tm.kill();
  }
});

test('tui --successful-only on eBPF: the list has the successful execs and no failed one, the status bar says successful only, the summary that failed ones were not traced (plan lifecycle-only)', async (t) => {
  if (!requireRoot(t)) return;
  assert.ok(haveTmux(), 'tmux is needed (scripts/setup.sh installs it)');
  const tm = new Tmux(
    `cd /tmp && ${EXECLENS} tui --successful-only -- sh -c '/bin/echo first; /nonexistent/tui-so 2>/dev/null; sleep 1; exit 0'`,
  );
  try {
    await tm.waitScreen(/\/usr\/bin\/sleep 1/, STARTUP_MS);
    // the status bar's counts follow within a quarter second
    const screen = await tm.waitScreen(/ 3 execs {2}successful only {2}lost 0/);
    // (sh's own row has the name in its argv: a row of the exec itself starts with it after the result)
    assert.doesNotMatch(screen, /ENOENT|^\S+ \d+<\d+> \S+ \/nonexistent\/tui-so/m, 'no failed exec listed');
    await tm.waitScreen(/\[exit 0\]/);
    tm.keys('q');
    assert.equal(await tm.exitCode(), 0);
    assert.match(tm.screen(), /^execlens: 3 execs \(failed ones not traced\), .*plan lifecycle-only\+/m);
    assertTerminalRestored(tm);
  } finally {
    tm.kill();
  }
});

test("tui on ptrace: a breakpoint stops the tracee at the exec, r resumes it, it finishes; exit code the command's", async () => {
  assert.ok(haveTmux(), 'tmux is needed (scripts/setup.sh installs it)');
  const tm = new Tmux(
    `${EXECLENS} tui --backend ptrace -b 'sysenter:filename:/echo$' -- sh -c '/bin/true; /bin/echo resumed; exit 4'`,
  );
  try {
    const s = await tm.waitScreen(/1 STOPPED \(b\)/, STARTUP_MS);
    assert.match(s, /stopped at sysenter \(-b sysenter:filename:\/echo\$\)/);
    assert.doesNotMatch(s, /^resumed$/m, 'the tracee has not run echo yet');
    assert.match(s, /\[running\]/);
    tm.keys('b');
    await tm.waitScreen(/^ \d+ +sysenter +\/bin\/echo +argv: \/bin\/echo resumed/m);
    tm.keys('r');
    await tm.waitScreen(/^resumed$/m);
    await tm.waitScreen(/\[exit 4\]/);
    // one key at a time: Esc and q in one read would be Meta-q
    tm.keys('Escape');
    await tm.waitScreen(/^\d\d:\d\d:\d\d\.\d{3} \d+<\d+> ok exit 4 \/usr\/bin\/sh/m);
    tm.keys('q');
    assert.equal(await tm.exitCode(), 4);
    assertTerminalRestored(tm);
  } finally {
    tm.kill();
  }
});

test('tui on ptrace: D detaches the tracee stopped and runs the --debugger template on it in the pane', async () => {
  assert.ok(haveTmux(), 'tmux is needed (scripts/setup.sh installs it)');
  // the template (a script: the status bar names it whole) stays in the pane until the test has read it
  const tm = new Tmux(
    `${EXECLENS} tui --backend ptrace -b 'sysexit:argv:^/bin/echo hi' --debugger "sh $D/dbg.sh {{PID}}" -- sh -c '/bin/echo hi; exit 6'`,
  );
  writeFileSync(
    join(tm.dir, 'dbg.sh'),
    'echo debugger on $1; grep State /proc/$1/status; kill -CONT $1\nwhile [ ! -e "$(dirname "$0")/dbg-done" ]; do sleep 0.1; done\n',
  );
  try {
    await tm.waitScreen(/1 STOPPED \(b\)/, STARTUP_MS);
    tm.keys('b');
    await tm.waitScreen(/sysexit +\/bin\/echo/);
    tm.keys('D');
    const s = await tm.waitScreen(/^State:\s+T \(stopped\)$/m);
    assert.match(s, /^debugger on \d+$/m);
    writeFileSync(join(tm.dir, 'dbg-done'), '');
    // the template ends: back to the command's pane, which has finished meanwhile
    await tm.waitScreen(/dbg\.sh \d+: exit 0/);
    tm.keys('q');
    assert.equal(await tm.exitCode(), 6);
    assertTerminalRestored(tm);
  } finally {
    tm.kill();
  }
});
