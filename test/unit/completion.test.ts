/**
 * The completion scripts, run by the shells themselves: bash's _execlens with COMP_WORDS set, fish's
 * `complete -C`, and zsh typed at through a pty (zpty) with a Tab. Every command, option and choice comes
 * from the commander definition, so the expectations are read off it too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram } from '../../src/cli/main.js';
import { describeCommand, spellings } from '../../src/cli/clispec.js';
import { completionScript, type Shell } from '../../src/cli/completion.js';
import { ATTACH_KINDS } from '../../src/attach/registry.js';
import { EXECLENS, ROOT } from '../helpers/paths.js';

const spec = describeCommand(buildProgram(() => undefined, ['node', 'execlens']));
const has = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'execlens-completion-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function scriptFile(shell: Shell): string {
  const f = join(dir, shell === 'zsh' ? '_execlens' : `execlens.${shell}`);
  writeFileSync(f, completionScript(shell, spec));
  return f;
}

/** what bash's _execlens puts in COMPREPLY for the words (the last one is the word being completed) */
function bash(...words: string[]): string[] {
  const r = spawnSync(
    'bash',
    [
      '-c',
      'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _execlens; printf "%s\\n" "${COMPREPLY[@]}"',
      '_',
      scriptFile('bash'),
      'execlens',
      ...words,
    ],
    { encoding: 'utf8', cwd: dir },
  );
  assert.equal(r.stderr, '');
  return r.stdout.split('\n').filter(Boolean);
}

/** fish's candidates for a command line */
function fish(line: string): string[] {
  const r = spawnSync('fish', ['-c', 'source $argv[1]; complete -C $argv[2]', scriptFile('fish'), line], {
    encoding: 'utf8',
    cwd: dir,
  });
  assert.equal(r.stderr, '');
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t')[0]!);
}

const commandNames = spec.commands.map((c) => c.name);
const log = spec.commands.find((c) => c.name === 'log')!;
const doctor = spec.commands.find((c) => c.name === 'doctor')!;

test('execlens completion bash|zsh|fish prints the script; another shell is a usage error (64) naming the choices', () => {
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    const r = spawnSync(EXECLENS, ['completion', shell], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, completionScript(shell, spec));
  }
  const bad = spawnSync(EXECLENS, ['completion', 'tcsh'], { encoding: 'utf8' });
  assert.equal(bad.status, 64);
  assert.match(bad.stderr, /value 'tcsh' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish/);
});

test('bash: `execlens lo` completes to log; commands, options, choices, files and the traced command', () => {
  assert.deepEqual(bash('lo'), ['log']);
  assert.deepEqual(bash(''), commandNames);
  assert.deepEqual(bash('log', '--att'), ['--attach']);
  assert.deepEqual(bash('log', '--attach', ''), [...ATTACH_KINDS]);
  assert.deepEqual(bash('log', '--color', 'al'), ['always']);
  assert.deepEqual(bash('completion', ''), ['bash', 'zsh', 'fish']);
  assert.deepEqual(
    bash('help', ''),
    commandNames.filter((n) => n !== 'help'),
  );
  assert.deepEqual(bash('doctor', '-'), doctor.options.flatMap(spellings));
  assert.deepEqual(bash('log', '--ring-size', ''), [], 'a number has no candidates');
  assert.ok(bash('log', '--', 'ech').includes('echo'), 'after -- the first word is a command');
  assert.ok(
    bash('log', '-q', '--color', 'never', 'ech').includes('echo'),
    'the first argument is a command (option values skipped)',
  );
  writeFileSync(join(dir, 'trace-out.jsonl'), '');
  assert.deepEqual(bash('log', '-o', 'trace-o'), ['trace-out.jsonl']);
  assert.deepEqual(bash('log', '--', 'true', '--att'), [], "options of the traced command are not execlens's");
});

test('bash: every option of every command is offered', () => {
  for (const c of spec.commands) assert.deepEqual(bash(c.name, '-'), c.options.flatMap(spellings), c.name);
  assert.deepEqual(bash('-'), spec.options.flatMap(spellings));
});

test(
  'fish: complete -C gives the commands, options, choices and the traced command',
  { skip: !has('fish') && 'fish not installed' },
  () => {
    assert.deepEqual(fish('execlens lo'), ['log']);
    assert.deepEqual(fish('execlens ').sort(), [...commandNames].sort());
    assert.deepEqual(fish('execlens log --att'), ['--attach']);
    assert.deepEqual(fish('execlens log --attach ').sort(), [...ATTACH_KINDS].sort());
    assert.deepEqual(fish('execlens completion ').sort(), ['bash', 'fish', 'zsh']);
    assert.ok(fish('execlens log -- ech').includes('echo'));
    assert.ok(fish('execlens log -o x.jsonl ech').includes('echo'));
    assert.deepEqual(fish('execlens doctor --verif'), ['--verifier-stats']);
    for (const o of log.options) if (o.long) assert.ok(fish(`execlens log ${o.long}`).includes(o.long), o.long);
  },
);

test(
  'zsh: a Tab at the prompt completes commands, options, choices and the traced command',
  { skip: !has('zsh') && 'zsh not installed' },
  () => {
    // the completion is for the command named execlens: one must be on PATH
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'execlens'), '#!/bin/sh\n');
    chmodSync(join(bin, 'execlens'), 0o755);
    const out = join(dir, 'zsh-buffers');
    const lines = [
      'execlens lo',
      'execlens log --atta',
      'execlens log --attach kp',
      'execlens completion fi',
      'execlens log -- printen',
      'execlens log -q printen',
      'execlens doctor --verif',
      'execlens log -o /tm',
    ];
    const r = spawnSync('zsh', ['-f', join(ROOT, 'test/helpers/zsh-complete.zsh'), scriptFile('zsh'), out, ...lines], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readFileSync(out, 'utf8').split('\n').slice(0, -1), [
      'execlens log ',
      'execlens log --attach ',
      'execlens log --attach kprobe ',
      'execlens completion fish ',
      'execlens log -- printenv ',
      'execlens log -q printenv ',
      'execlens doctor --verifier-stats ',
      'execlens log -o /tmp/',
    ]);
  },
);
