/**
 * The command line as data, read off commander's Command objects: the one definition behind --help, the
 * shell completions (completion.ts) and the man page (manpage.ts), so the three cannot drift apart.
 */
import type { Command, Option } from 'commander';

export interface OptionSpec {
  /** e.g. "-o, --output <file>" as --help shows it */
  flags: string;
  long: string | null;
  short: string | null;
  /** the value's name ("file"), or null for a flag without a value */
  value: string | null;
  choices: readonly string[] | null;
  /** the default of a value ("auto", "16"), as --help shows it */
  default: string | null;
  description: string;
}

export interface ArgumentSpec {
  name: string;
  required: boolean;
  variadic: boolean;
  choices: readonly string[] | null;
  description: string;
}

export interface CommandSpec {
  name: string;
  description: string;
  /** "[options] [cmd...]" as --help shows it */
  usage: string;
  options: OptionSpec[];
  arguments: ArgumentSpec[];
  commands: CommandSpec[];
  /** options after the first argument belong to it (commander's passThroughOptions: `log -- CMD -x`) */
  passThrough: boolean;
}

function optionSpec(o: Option): OptionSpec {
  const value = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] ?? null;
  return {
    flags: o.flags,
    long: o.long ?? null,
    short: o.short ?? null,
    value: o.required || o.optional ? value : null,
    choices: o.argChoices ?? null,
    default: value !== null && o.defaultValue !== undefined ? String(o.defaultValue) : null,
    description: o.description,
  };
}

export function describeCommand(cmd: Command): CommandSpec {
  const help = cmd.createHelp();
  return {
    name: cmd.name(),
    description: cmd.description(),
    usage: cmd.usage(),
    options: help.visibleOptions(cmd).map(optionSpec),
    arguments: cmd.registeredArguments.map((a) => ({
      name: a.name(),
      required: a.required,
      variadic: a.variadic,
      choices: a.argChoices ?? null,
      description: a.description,
    })),
    commands: help.visibleCommands(cmd).map(describeCommand),
    // commander keeps it private; the flag is how it decides (Command#_passThroughOptions)
    passThrough: (cmd as unknown as { _passThroughOptions?: boolean })._passThroughOptions === true,
  };
}

/** every option spelling ("--output", "-o") */
export const spellings = (o: OptionSpec): string[] => [o.short, o.long].filter((s): s is string => s !== null);
