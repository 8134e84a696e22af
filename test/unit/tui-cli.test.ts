/** `execlens tui`'s usage errors: one line, exit 64, before anything is loaded or run (no terminal needed). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EXECLENS } from '../helpers/paths.js';

const run = (args: string[]) => spawnSync(EXECLENS, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('tui: usage errors are one line and exit 64: no terminal, -b without ptrace or without a command, a bad -b, nothing after --', () => {
  const cases: [string[], RegExp][] = [
    [['tui', '--', 'true'], /^execlens: tui needs a terminal \(stdin and stdout\); use `execlens log` otherwise\n$/],
    [
      ['tui', '-b', 'sysenter:filename:x', '--', 'true'],
      /^execlens: breakpoints \(-b\) stop processes with ptrace: add --backend ptrace\n$/,
    ],
    [
      ['tui', '--backend', 'ptrace', '-b', 'sysenter:filename:x'],
      /^execlens: breakpoints \(-b\) need a command to run \(after --\)\n$/,
    ],
    [
      ['tui', '--backend', 'ptrace', '-b', 'enter:x', '--', 'true'],
      /^execlens: -b enter:x: expected sysenter\|sysexit:filename\|argv:REGEX/,
    ],
    [
      ['tui', '--backend', 'ptrace', '-b', 'sysexit:argv:(', '--', 'true'],
      /^execlens: -b sysexit:argv:\(: Invalid regular expression/,
    ],
    [['tui', '--'], /^execlens: nothing to run after '--'/],
    [['tui', '--history', '0', '--', 'true'], /^execlens: --history 0: expected a positive number of execs\n$/],
  ];
  for (const [args, re] of cases) {
    const r = run(args);
    assert.equal(r.status, 64, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `one line: ${r.stderr}`);
  }
});
