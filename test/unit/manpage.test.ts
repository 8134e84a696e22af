/**
 * The man page, rendered by groff and man themselves: no warnings, and every command, option, choice,
 * variable and exit code of the definition on the page. And --version's text from a build record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram } from '../../src/cli/main.js';
import { describeCommand } from '../../src/cli/clispec.js';
import { manPage, roffText } from '../../src/cli/manpage.js';
import { EXIT } from '../../src/exitcodes.js';
import { VERSION, versionText } from '../../src/version.js';

const spec = describeCommand(buildProgram(() => undefined, ['node', 'execlens']));
const page = manPage(spec, { version: VERSION, date: '2026-12-03' });
const dir = mkdtempSync(join(tmpdir(), 'execlens-man-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'execlens.1');
writeFileSync(file, page);

/** the page as man shows it, plain text (no bold/underline overstrikes, no hyphenation) */
function rendered(): string {
  const r = spawnSync('man', ['-l', file], {
    encoding: 'utf8',
    env: { ...process.env, MANPAGER: 'cat', MANWIDTH: '200', MAN_KEEP_FORMATTING: '', GROFF_NO_SGR: '1' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  // eslint-disable-next-line no-control-regex -- backspace overstrikes are what man's bold is made of
  return r.stdout.replace(/.\x08/g, '');
}

test('groff -man renders the page with every warning on and prints none', () => {
  const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', file], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
});

test('man -l shows every command, option, choice and default of the definition', () => {
  const text = rendered();
  for (const h of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'COMMANDS', 'ENVIRONMENT', 'EXIT STATUS', 'SEE ALSO'])
    assert.match(text, new RegExp(`^${h}$`, 'm'), h);
  assert.match(text, /^NAME\n\s+execlens - Trace every execve/m);
  for (const c of spec.commands) {
    assert.match(text, new RegExp(`^\\s+execlens ${c.name}\\b`, 'm'), c.name);
    for (const o of c.options) {
      const names = [o.short, o.long].filter(Boolean).join(', ');
      const tag = `${names}${o.value ? ` ${o.value}` : ''}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      assert.match(text, new RegExp(`^\\s+${tag}(\\s|$)`, 'm'), `${c.name} ${o.flags}`);
      for (const ch of o.choices ?? []) assert.ok(text.includes(ch), `${o.flags}: ${ch}`);
      if (o.default !== null) assert.ok(text.includes(`default ${o.default}`), `${o.flags} default`);
    }
  }
  for (const c of spec.commands)
    for (const a of c.arguments)
      for (const ch of a.choices ?? [])
        assert.match(text, new RegExp(`one of .*\\b${ch}\\b`), `${c.name} ${a.name}: ${ch}`);
  for (const v of ['EXECLENS_BACKEND', 'EXECLENS_ATTACH', 'EXECLENS_BPF_OBJECT'])
    assert.match(text, new RegExp(`^\\s+${v}$`, 'm'));
});

test('man -l lists every exit code of src/exitcodes.ts, in order', () => {
  const text = rendered();
  const section = text.slice(text.indexOf('EXIT STATUS'), text.indexOf('EXAMPLES'));
  const codes = [...section.matchAll(/^\s{7}(\d+)\s/gm)].map((m) => Number(m[1]));
  assert.deepEqual(
    codes,
    Object.values(EXIT).sort((a, b) => a - b),
  );
});

test("roffText: a leading . or ' would be a request, a backslash an escape", () => {
  assert.equal(roffText(".TH x\n'br"), "\\&.TH x\n\\&'br");
  assert.equal(roffText('a\\b'), 'a\\eb');
});

test("versionText: the version, the clang and arch of the BPF object's build record (or that there is none, or no object), the JSON schema", () => {
  const t = versionText(
    { clang: 'Debian clang version 14.0.6', arch: 'arm64', btf: 'x.btf' },
    '/p/build/arch/arm64/execlens.bpf.o',
  );
  assert.equal(
    t,
    [
      `execlens ${VERSION}`,
      'BPF object: arm64, built by Debian clang version 14.0.6 (/p/build/arch/arm64/execlens.bpf.o)',
      'JSON schema: 2 (schema/exec-event.v2.json)',
    ].join('\n'),
  );
  assert.match(versionText(null, '/nowhere/execlens.bpf.o'), /^BPF object: missing: \/nowhere\/execlens.bpf.o$/m);
  assert.match(versionText(null, '/dev/null'), /^BPF object: \/dev\/null \(no build record beside it\)$/m);
});
