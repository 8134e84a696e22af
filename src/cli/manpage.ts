/**
 * The man page (roff, man(7) macros), generated from the command-line definition (clispec.ts) that
 * --help prints; `npm pack` writes it to build/man/execlens.1 (package.json "man").
 */
import { EXIT } from '../exitcodes.js';
import type { CommandSpec, OptionSpec } from './clispec.js';

/** the exit codes' meanings: a Record over EXIT, so a new code without a line here fails to compile */
const EXIT_MEANING: Record<keyof typeof EXIT, string> = {
  OK: 'success (log \\-\\- CMD: CMD itself exits with its own status, 128+N when signal N killed it)',
  USAGE: 'bad flags or arguments',
  BPF_REFUSED: 'the BPF programs could not be loaded or attached by any candidate plan',
  SOFTWARE: 'internal error',
  NO_PERMISSION: 'not root, or missing CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN',
  CANT_CREATE: 'the output file (\\-o) cannot be created or written',
  KERNEL_UNSUPPORTED: 'the kernel or the system lacks something required (BTF, ring buffer, libbpf.so.1)',
  NOT_EXECUTABLE: 'the command exists but is not executable',
  NOT_FOUND: 'the command was not found',
};

/** variables no option names (the options' own are read off their "(env X)") */
const OTHER_ENV: [string, string][] = [
  ['EXECLENS_BPF_OBJECT', 'load this BPF object instead of the one shipped with execlens'],
  ['EXECLENS_PTRACE_HELPER', 'run this ptrace helper instead of the one shipped with execlens'],
  ['EXECLENS_PTRACE_NO_SECCOMP', '1: the ptrace backend stops at every syscall instead of filtering with seccomp'],
  ['EXECLENS_NO_REFUSAL_CACHE', '1: retry plans the kernel refused earlier this boot'],
  ['EXECLENS_NO_FACTS_CACHE', '1: probe the kernel afresh instead of reading the facts remembered for this boot'],
];

/** text for roff: backslashes escaped, a line that starts with . or ' protected, hyphens as \- in flags */
export const roffText = (s: string): string => s.replace(/\\/g, '\\e').replace(/^([.'])/gm, '\\&$1');
const roffFlag = (s: string): string => roffText(s).replace(/-/g, '\\-');

function optionItem(o: OptionSpec): string[] {
  const names = [o.short, o.long]
    .filter((n): n is string => n !== null)
    .map((n) => `\\fB${roffFlag(n)}\\fR`)
    .join(', ');
  const value = o.value === null ? '' : ` \\fI${roffText(o.value)}\\fR`;
  const more = [
    o.choices ? `one of ${o.choices.map((c) => `\\fB${roffFlag(c)}\\fR`).join(', ')}` : '',
    o.default !== null ? `default \\fB${roffFlag(o.default)}\\fR` : '',
  ].filter(Boolean);
  return ['.TP', `${names}${value}`, `${roffText(o.description)}${more.length ? `; ${more.join('; ')}` : ''}.`];
}

function argUsage(c: CommandSpec): string {
  return c.arguments
    .map((a) => {
      const n = `\\fI${roffText(a.name)}\\fR${a.variadic ? '...' : ''}`;
      return a.required ? n : `[${n}]`;
    })
    .join(' ');
}

function commandSection(root: CommandSpec, c: CommandSpec): string[] {
  const L = [
    '.SS',
    `\\fB${root.name} ${c.name}\\fR${c.options.length ? ' [\\fIoptions\\fR]' : ''} ${argUsage(c)}`.trimEnd(),
  ];
  L.push(roffText(c.description) + (c.description.endsWith('.') ? '' : '.'));
  for (const a of c.arguments) {
    const choices = a.choices ? `; one of ${a.choices.map((ch) => `\\fB${roffFlag(ch)}\\fR`).join(', ')}` : '';
    if (a.description) L.push('.TP', `\\fI${roffText(a.name)}\\fR`, `${roffText(a.description)}${choices}.`);
  }
  for (const o of c.options) L.push(...optionItem(o));
  return L;
}

function envLines(root: CommandSpec): string[] {
  const seen = new Map<string, string>();
  const walk = (c: CommandSpec): void => {
    for (const o of c.options) {
      const v = /\(env (EXECLENS_[A-Z_]+)/.exec(o.description)?.[1];
      if (v && !seen.has(v)) seen.set(v, `the default of \\fB${roffFlag(o.long ?? o.short ?? '')}\\fR`);
    }
    c.commands.forEach(walk);
  };
  walk(root);
  for (const [k, v] of OTHER_ENV) seen.set(k, roffText(v));
  return [...seen].flatMap(([k, v]) => ['.TP', `\\fB${k}\\fR`, v]);
}

export interface ManOptions {
  version: string;
  /** YYYY-MM-DD, for the page's footer */
  date: string;
}

export function manPage(root: CommandSpec, o: ManOptions): string {
  const N = root.name;
  const L = [
    `.\\" generated from ${N}'s command-line definition (src/cli/manpage.ts); do not edit`,
    `.TH ${N.toUpperCase()} 1 ${o.date} "${N} ${o.version}" "User Commands"`,
    '.SH NAME',
    `${N} \\- ${roffText(root.description.replace(/\.$/, ''))}`,
    '.SH SYNOPSIS',
    ...root.commands
      .filter((c) => c.name !== 'help')
      .flatMap((c) => ['.br', `\\fB${N} ${c.name}\\fR [\\fIoptions\\fR] ${argUsage(c)}`.trimEnd()]),
    '.br',
    `\\fB${N}\\fR \\fB\\-\\-version\\fR | \\fB\\-\\-help\\fR`,
    '.SH DESCRIPTION',
    roffText(root.description),
    '.PP',
    `\\fB${N} log \\-\\- \\fIcmd\\fR runs \\fIcmd\\fR and prints every exec in its process tree: the file, argv, the working directory, the environment's changes against the parent, the inherited file descriptors and the result. The eBPF backend needs root (or CAP_BPF, CAP_PERFMON) and libbpf.so.1; \\fB\\-\\-backend ptrace\\fR needs neither.`,
    '.SH OPTIONS',
    ...root.options.flatMap(optionItem),
    '.SH COMMANDS',
    ...root.commands.flatMap((c) => commandSection(root, c)),
    '.SH ENVIRONMENT',
    ...envLines(root),
    '.SH EXIT STATUS',
    ...(Object.keys(EXIT) as (keyof typeof EXIT)[])
      .sort((a, b) => EXIT[a] - EXIT[b])
      .flatMap((k) => ['.TP', `\\fB${EXIT[k]}\\fR`, EXIT_MEANING[k]]),
    '.SH EXAMPLES',
    '.nf',
    `sudo ${N} log \\-\\- make \\-j4`,
    `${N} log \\-\\-backend ptrace \\-\\-json \\-o trace.jsonl \\-\\- npm test`,
    `sudo ${N} doctor`,
    '.fi',
    '.SH SEE ALSO',
    '\\fBstrace\\fR(1), \\fBbpftrace\\fR(8), \\fBbpf\\fR(2), \\fBptrace\\fR(2)',
  ];
  return L.join('\n') + '\n';
}
