/**
 * Shell completion scripts for bash, zsh and fish, generated from the command-line definition
 * (clispec.ts) that --help prints: `execlens completion bash|zsh|fish`. Static scripts: completing
 * never runs execlens (which may need root and load BPF).
 */
import { spellings, type ArgumentSpec, type CommandSpec, type OptionSpec } from './clispec.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** a word for any POSIX-ish shell, fish included: single quotes, ' written as '\'' (fish: \') */
const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const fq = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

const valued = (c: CommandSpec): OptionSpec[] => c.options.filter((o) => o.value !== null);

/** what a value without choices completes to, by its name in the definition (<file>, <user>, <MiB>) */
type ValueKind = 'FILE' | 'USER' | 'NONE';
const valueKind = (name: string): ValueKind =>
  /file|path|dir/i.test(name) ? 'FILE' : /user/i.test(name) ? 'USER' : 'NONE';

/** the words an argument completes to: its choices, or for `help` the command names */
function argWords(root: CommandSpec, c: CommandSpec, a: ArgumentSpec): readonly string[] | null {
  if (a.choices) return a.choices;
  if (c.name === 'help') return root.commands.map((s) => s.name).filter((n) => n !== 'help');
  return null;
}

function bashLevel(root: CommandSpec, c: CommandSpec, key: string): string {
  const opts = c.options.flatMap(spellings).join(' ');
  const val = valued(c).flatMap(spellings).join(' ');
  const values = valued(c).map(
    (o) =>
      `        ${spellings(o)
        .map((s) => sq(s))
        .join('|')}) words=${o.choices ? sq(o.choices.join(' ')) : valueKind(o.value!)} ;;`,
  );
  const args = c.arguments.map((a, i) => {
    const w = argWords(root, c, a);
    const what = w ? `words=${sq(w.join(' '))}` : a.variadic && c.passThrough ? 'words=COMMAND' : 'words=FILE';
    return `        ${a.variadic ? '*' : String(i)}) ${what} ;;`;
  });
  return [
    `    ${sq(key)})`,
    `      opts=${sq(opts)}; valued=${sq(` ${val} `)}; pass=${c.passThrough ? 1 : 0}`,
    `      case $opt in`,
    ...values,
    `      esac`,
    `      [[ -n $arg ]] && case $arg in`,
    ...args,
    `      esac ;;`,
  ].join('\n');
}

/** bash: `_execlens` fills COMPREPLY (the traced command after `--` completes as a command of its own) */
export function bashCompletion(root: CommandSpec): string {
  const subs = root.commands.map((c) => c.name).join(' ');
  const levels = [bashLevel(root, root, ''), ...root.commands.map((c) => bashLevel(root, c, c.name))].join('\n');
  return `# bash completion for ${root.name}, generated from its command-line definition (${root.name} completion bash)
# level CMD OPT ARG: sets opts (every spelling), valued (those taking a value), pass, and words: what OPT's
# value or argument number ARG completes to (a word list, FILE or COMMAND)
_${root.name}_level() {
  local opt=$2 arg=$3
  opts= valued= pass=0 words=FILE
  case $1 in
${levels}
  esac
}

_${root.name}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=
  local i w cmd= args=0 rest=-1 opts valued pass words
  ((COMP_CWORD > 0)) && prev=\${COMP_WORDS[COMP_CWORD-1]}
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    _${root.name}_level "$cmd" "" ""
    if [[ -n $cmd && $w == -- ]]; then rest=$((i + 1)); break; fi
    if [[ $valued == *" $w "* ]]; then ((i++)); continue; fi
    [[ $w == -* ]] && continue
    if [[ -z $cmd ]]; then cmd=$w; continue; fi
    ((args++))
    if ((pass)); then rest=$i; break; fi
  done
  COMPREPLY=()
  if ((rest >= 0)); then
    if ((COMP_CWORD == rest)); then COMPREPLY=($(compgen -c -- "$cur"))
    elif declare -F _command_offset >/dev/null; then _command_offset "$rest"
    else COMPREPLY=($(compgen -f -- "$cur")); fi
    return 0
  fi
  _${root.name}_level "$cmd" "" ""
  if [[ $valued == *" $prev "* ]]; then
    _${root.name}_level "$cmd" "$prev" ""
  elif [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur")); return 0
  elif [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W ${sq(subs)} -- "$cur")); return 0
  else
    _${root.name}_level "$cmd" "" "$args"
  fi
  case $words in
    FILE) COMPREPLY=($(compgen -f -- "$cur")) ;;
    USER) COMPREPLY=($(compgen -u -- "$cur")) ;;
    NONE) ;;
    COMMAND) COMPREPLY=($(compgen -c -- "$cur")) ;;
    *) COMPREPLY=($(compgen -W "$words" -- "$cur")) ;;
  esac
  return 0
}
complete -o default -F _${root.name} ${root.name}
`;
}

/** zsh's _arguments brackets and descriptions: [ ] : \\ and ' need escaping */
const zdesc = (s: string): string =>
  s
    .replace(/\\/g, '\\\\')
    .replace(/([[\]:])/g, '\\$1')
    .replace(/'/g, `'\\''`);

function zshOption(o: OptionSpec): string {
  const names = spellings(o);
  const excl = names.length > 1 ? `(${names.join(' ')})` : '';
  const kind = o.value === null ? null : valueKind(o.value);
  const how = o.choices ? `(${o.choices.join(' ')})` : kind === 'FILE' ? '_files' : kind === 'USER' ? '_users' : ' ';
  const action = o.value === null ? '' : `:${zdesc(o.value)}:${how}`;
  const spelled = names.length > 1 ? `{${names.join(',')}}` : names[0]!;
  // {-o,--output} must stay outside quotes (brace expansion); the rest is one quoted word
  return `    '${excl}'${spelled}'[${zdesc(o.description)}]${action}'`;
}

function zshCommand(root: CommandSpec, c: CommandSpec): string {
  const specs = c.options.map(zshOption);
  c.arguments.forEach((a, i) => {
    const w = argWords(root, c, a);
    if (a.variadic && c.passThrough) specs.push(`    '*::${zdesc(a.name)}:_${root.name}_traced'`);
    else specs.push(`    '${a.variadic ? '*' : String(i + 1)}:${zdesc(a.name)}:${w ? `(${w.join(' ')})` : '_files'}'`);
  });
  return `    ${c.name})\n      _arguments -s -S \\\n${specs.join(' \\\n')} ;;`;
}

/** zsh: a #compdef function, autoloadable from $fpath as _execlens, or sourced (then it registers itself) */
export function zshCompletion(root: CommandSpec): string {
  const n = root.name;
  const subs = root.commands.map((c) => `    ${sq(`${c.name}:${c.description.replace(/:/g, '\\:')}`)}`).join('\n');
  return `#compdef ${n}
# zsh completion for ${n}, generated from its command-line definition (${n} completion zsh)
# the traced command (after \`--\` or the first argument) completes as a command line of its own
_${n}_traced() {
  [[ $words[1] == -- ]] && { shift words; (( CURRENT-- )); }
  _normal
}
_${n}() {
  local curcontext=$curcontext state line ret=1
  typeset -A opt_args
  _arguments -C \\
${root.options.map(zshOption).join(' \\\n')} \\
    '1: :->command' \\
    '*:: :->args' && ret=0
  case $state in
  command)
    local -a commands
    commands=(
${subs}
    )
    _describe -t commands '${n} command' commands && ret=0 ;;
  args)
    curcontext=\${curcontext%:*:*}:${n}-$line[1]:
    case $line[1] in
${root.commands.map((c) => zshCommand(root, c)).join('\n')}
    esac && ret=0 ;;
  esac
  return ret
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _${n} "$@"; else compdef _${n} ${n}; fi
`;
}

function fishOption(n: string, cond: string, o: OptionSpec): string {
  const parts = [`complete -c ${n} -n ${fq(cond)}`];
  if (o.short) parts.push(`-s ${o.short.replace(/^-/, '')}`);
  if (o.long) parts.push(`-l ${o.long.replace(/^--/, '')}`);
  const kind = o.value === null ? null : valueKind(o.value);
  if (o.choices) parts.push(`-x -a ${fq(o.choices.join(' '))}`);
  else if (kind === 'FILE') parts.push('-r -F');
  else if (kind === 'USER') parts.push(`-x -a '(__fish_complete_users)'`);
  else if (kind === 'NONE') parts.push('-x');
  parts.push(`-d ${fq(o.description)}`);
  return parts.join(' ');
}

/** fish: `complete` lines, each conditioned on the subcommand seen so far */
export function fishCompletion(root: CommandSpec): string {
  const n = root.name;
  const L = [
    `# fish completion for ${n}, generated from its command-line definition (${n} completion fish)`,
    `complete -c ${n} -f`,
  ];
  for (const o of root.options) L.push(fishOption(n, '__fish_use_subcommand', o));
  for (const c of root.commands)
    L.push(`complete -c ${n} -n __fish_use_subcommand -a ${c.name} -d ${fq(c.description)}`);
  for (const c of root.commands) {
    // after `--` (or the first word of a pass-through command) the words belong to the traced command
    const inCmd = `__fish_seen_subcommand_from ${c.name}`;
    const cond = c.passThrough ? `${inCmd}; and not contains -- -- (commandline -opc)` : inCmd;
    for (const o of c.options) L.push(fishOption(n, cond, o));
    for (const a of c.arguments) {
      const w = argWords(root, c, a);
      if (w)
        L.push(
          `complete -c ${n} -n ${fq(`${inCmd}; and not __fish_seen_subcommand_from ${w.join(' ')}`)} -a ${fq(w.join(' '))}`,
        );
      else if (c.passThrough) {
        // the traced command completes as a command line of its own: skip `execlens CMD` and the option values
        const cmdWord = `${inCmd}; and begin; contains -- -- (commandline -opc); or not string match -q -- '-*' (commandline -ct); end`;
        const skip = ['--fcs-skip=2', ...valued(c).flatMap(spellings)].join(' ');
        L.push(`complete -c ${n} -n ${fq(cmdWord)} -a ${fq(`(__fish_complete_subcommand ${skip})`)}`);
      } else L.push(`complete -c ${n} -n ${fq(inCmd)} -F`);
    }
  }
  return L.join('\n') + '\n';
}

export function completionScript(shell: Shell, root: CommandSpec): string {
  return shell === 'bash' ? bashCompletion(root) : shell === 'zsh' ? zshCompletion(root) : fishCompletion(root);
}
