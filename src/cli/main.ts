/** Command-line entry: argument parsing only; the work is in src/cli/log.ts (via src/pipeline) and src/cli/doctor.ts. */
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT, ExeclensError } from '../exitcodes.js';
import { versionText } from '../version.js';
import { DEFAULT_RING_MIB } from '../pipeline/summary.js';
import { overridesFromEnv, type AttachKind, type LifecycleKind, type LoopKind, type Overrides } from '../plan/plan.js';
import { ATTACH_KINDS } from '../attach/registry.js';
import { LIFECYCLE_KINDS } from '../attach/lifecycle.js';
import { LOOP_KINDS } from '../plan/choices.js';
import type { ColorMode } from '../output/color.js';
import { TIMESTAMP_MODES, type TimestampMode } from '../output/format.js';
import type { RunOptions } from './run.js';
import { COLLECT_FORMATS, defaultFile, type CollectFormat } from './formats.js';
import { describeCommand } from './clispec.js';
import { parsePids } from '../backend/attach-pids.js';
import { completionScript, SHELLS, type Shell } from './completion.js';

interface CommonOpts {
  attach?: AttachKind;
  successfulOnly?: boolean;
  sleep?: boolean;
  lifecycle?: LifecycleKind;
  loops?: LoopKind;
}

function overrides(opts: CommonOpts): Overrides {
  const o = overridesFromEnv(process.env);
  if (opts.attach) o.attach = opts.attach;
  if (opts.sleep === false) o.noSleep = true;
  if (opts.lifecycle) o.lifecycle = opts.lifecycle;
  if (opts.loops) o.loops = opts.loops;
  if (opts.successfulOnly === true) {
    // the one plan that hooks no syscall: forcing a method that does contradicts it (a flag or the environment)
    if (o.attach)
      throw new ExeclensError(
        `--successful-only hooks no syscall: it cannot be combined with ${opts.attach ? '--attach ' : 'EXECLENS_ATTACH='}${o.attach}`,
        EXIT.USAGE,
      );
    o.successfulOnly = true;
  }
  return o;
}

/**
 * --successful-only: on eBPF the plan with no syscall hook (attach/lifecycle-only.ts), so tracing does not
 * slow the machine's syscalls, and failed execs are not traced at all; on ptrace (which stops at every
 * execve/execveat anyway) failed execs are traced and counted but not written.
 */
function successfulOnlyOption(what: string): Option {
  return new Option(
    '--successful-only',
    `${what}; eBPF: hook no syscall (plan lifecycle-only: no failed exec, syscall, dirfd or old comm is traced; syscalls stay fast)`,
  );
}

function backendOf(flag: string | undefined): 'ebpf' | 'ptrace' | 'auto' {
  const v = flag ?? process.env.EXECLENS_BACKEND ?? 'ebpf';
  if (v === 'ebpf' || v === 'ptrace' || v === 'auto') return v;
  throw new ExeclensError(`EXECLENS_BACKEND=${v}: expected ebpf, ptrace or auto`, EXIT.USAGE);
}

function intArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('not an integer');
  return n;
}

function uidArg(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 0xffffffff) throw new InvalidArgumentError('not a uid (a number from 0 to 4294967295)');
  return n;
}

/** a regex flag: a bad one is a usage error naming it */
export function regexArg(v: string): RegExp {
  try {
    return new RegExp(v);
  } catch (e) {
    throw new InvalidArgumentError(
      `not a valid regular expression (${(e as Error).message.replace(/^Invalid regular expression: /, '')})`,
    );
  }
}

function planOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--attach <kind>', 'force the syscall attach method (env EXECLENS_ATTACH)').choices(ATTACH_KINDS),
    )
    .option('--no-sleep', 'forbid sleepable programs (env EXECLENS_NO_SLEEP=1)')
    .addOption(
      new Option('--lifecycle <kind>', 'force the sched_process_* program type (env EXECLENS_LIFECYCLE)').choices(
        LIFECYCLE_KINDS,
      ),
    )
    .addOption(
      new Option('--loops <kind>', 'force the loop variant of the copying programs (env EXECLENS_LOOPS)').choices(
        LOOP_KINDS,
      ),
    );
}

/** the flags of a traced run, shared by log and collect */
function runFlags(cmd: Command): Command {
  return planOptions(
    cmd
      .option('-u, --user <user>', 'run CMD as USER (default: the sudo caller, else as is)')
      .option('--ring-size <MiB>', 'BPF ring buffer size in MiB (power of two)', intArg, DEFAULT_RING_MIB)
      .addOption(
        new Option(
          '--backend <kind>',
          'ebpf, ptrace (no BPF, no root needed), or auto: eBPF where it can load, else ptrace (env EXECLENS_BACKEND)',
        ).choices(['ebpf', 'ptrace', 'auto']),
      )
      .addOption(successfulOnlyOption('write only execs that succeeded'))
      .addOption(new Option('--failed-only', 'write only execs that failed').conflicts('successfulOnly'))
      .option('--comm <regex>', 'write only execs whose comm (after the exec) matches', regexArg)
      .option('--filename <regex>', 'write only execs whose file name (as passed) matches', regexArg)
      .option('--argv <regex>', 'write only execs with an argument (argv[0] too) that matches', regexArg)
      .option(
        '--uid <n>',
        'write only execs whose real uid is N (eBPF: in the kernel, the others are not copied)',
        uidArg,
      )
      .option(
        '--cgroup <path>',
        'write only execs in this cgroup v2 or below it (/sys/fs/cgroup/X or /X as --collect-cgroup shows it)',
      )
      .option('--collect-cgroup', "add each exec's cgroup v2 path (and container id) to every format")
      .option(
        '-p, --pid <pid,...>',
        'trace running processes and what they start from then on (repeatable; ptrace: every syscall stops)',
        (v: string, prev: string[] = []) => [...prev, v],
      )
      .option('-q, --quiet', 'no summary line on stderr')
      .option('-v, --verbose', 'say which attach plan was chosen and why, on stderr')
      .addOption(new Option('--record-raw <file>', 'also save raw ring records (fixtures, benchmarks)').hideHelp()),
  );
}

function runArgs(cmd: string[], opts: CommonOpts & Record<string, unknown>): Omit<RunOptions, 'captureFds'> {
  return {
    command: cmd,
    output: (opts.output as string | undefined) ?? null,
    user: (opts.user as string | undefined) ?? null,
    overrides: overrides(opts),
    ringMiB: opts.ringSize as number,
    quiet: opts.quiet === true,
    verbose: opts.verbose === true,
    backend: backendOf(opts.backend as string | undefined),
    recordRaw: (opts.recordRaw as string | undefined) ?? null,
    pids: parsePids((opts.pid as string[] | undefined) ?? []),
    collectCgroup: opts.collectCgroup === true,
    filters: {
      result: opts.successfulOnly === true ? 'successful' : opts.failedOnly === true ? 'failed' : undefined,
      comm: opts.comm as RegExp | undefined,
      filename: opts.filename as RegExp | undefined,
      argv: opts.argv as RegExp | undefined,
      uid: opts.uid as number | undefined,
      cgroup: opts.cgroup as string | undefined,
    },
  };
}

/** `log --` with nothing after it is a mistake, not a request to trace the whole system (that is `log`) */
function noEmptyCommand(sub: string, cmd: string[], rawArgv: readonly string[]): void {
  if (cmd.length === 0 && rawArgv.slice(rawArgv.indexOf(sub) + 1).includes('--'))
    throw new ExeclensError(
      `nothing to run after '--': give the command (execlens ${sub} -- CMD ARGS...), or no '--' to trace the whole system`,
      EXIT.USAGE,
    );
}

/** execlens log: the events of a command tree (or the system) as text or JSON Lines */
function addLog(program: Command, setExit: (code: number) => void, rawArgv: readonly string[]): void {
  runFlags(
    program
      .command('log')
      .description('run CMD and print every exec in its process tree; without CMD trace the whole system until Ctrl-C')
      .argument('[cmd...]', 'command to run (put it after --)')
      .passThroughOptions()
      .option('--json', 'JSON Lines output (schema: docs/json-schema.md)')
      .option(
        '-o, --output <file>',
        "write events to FILE ('-': stdout); default: stderr with CMD (its output stays its own), stdout system-wide",
      )
      .option('--show-env', 'print the whole environment instead of the diff against the parent')
      .option('--no-fds', 'do not print inherited file descriptors')
      .option('--show-cmdline', 'print a shell command that reproduces each exec')
      .addOption(
        new Option('--color <when>', 'colour output (auto: only on a terminal, so never into -o FILE)')
          .choices(['auto', 'always', 'never'])
          .default('auto'),
      )
      .addOption(
        new Option(
          '--timestamp <mode>',
          "text: each line's time: wall HH:MM:SS.us (strace -tt), relative to the previous line (-r), unix seconds (-ttt), none",
        )
          .choices(TIMESTAMP_MODES)
          .default('wall'),
      ),
  ).action(async (cmd: string[], opts: CommonOpts & Record<string, unknown>) => {
    noEmptyCommand('log', cmd, rawArgv);
    // loaded on use: --help, --version and bad flags answer without koffi and the tracer (a TCG guest saves ~2 s)
    const { runLog } = await import('./log.js');
    const code = await runLog({
      ...runArgs(cmd, opts),
      json: opts.json === true,
      fullEnv: opts.showEnv === true,
      showFds: opts.fds !== false,
      showCmdline: opts.showCmdline === true,
      color: opts.color as ColorMode,
      timestamp: opts.timestamp as TimestampMode,
    });
    setExit(code);
  });
}

/** execlens collect: a run recorded into a file for another tool */
function addCollect(program: Command, setExit: (code: number) => void, rawArgv: readonly string[]): void {
  runFlags(
    program
      .command('collect')
      .description(
        "record CMD's process tree (without CMD: the whole system, eBPF only) into a file: one JSON document, JSON Lines with forks and exits, a Perfetto trace, or compile_commands.json",
      )
      .argument('[cmd...]', 'command to run (put it after --)')
      .passThroughOptions()
      .addOption(
        new Option('-F, --format <format>', 'what to write (docs/collect.md)')
          .choices(COLLECT_FORMATS)
          .makeOptionMandatory(),
      )
      .option(
        '-o, --output <file>',
        `write to FILE ('-': stdout); default: ${COLLECT_FORMATS.map((f) => `${defaultFile(f)} (${f})`).join(', ')}`,
      )
      .option(
        '--compiler <regex>',
        'compile-commands: the program names that are compilers (default: gcc, g++, cc, c++, clang, clang++, versioned or target-prefixed)',
        regexArg,
      ),
  ).action(async (cmd: string[], opts: CommonOpts & Record<string, unknown>) => {
    noEmptyCommand('collect', cmd, rawArgv);
    const { runCollect } = await import('./collect.js');
    setExit(
      await runCollect({
        ...runArgs(cmd, opts),
        format: opts.format as CollectFormat,
        compiler: opts.compiler as RegExp | undefined,
      }),
    );
  });
}

/** execlens tui: the command in a pane beside its live execs */
function addTui(program: Command, setExit: (code: number) => void, rawArgv: readonly string[]): void {
  planOptions(
    program
      .command('tui')
      .description(
        'run CMD in a terminal pane beside a live, searchable list of its execs; without CMD the whole system',
      )
      .argument('[cmd...]', 'command to run (put it after --)')
      .passThroughOptions()
      .option('--no-tty', 'run CMD without a terminal (stdin, stdout, stderr on /dev/null)')
      .option(
        '-b, --breakpoint <spec>',
        'stop at matching execs: sysenter|sysexit:filename|argv:REGEX (ptrace backend; repeatable)',
        (v: string, acc: string[]) => [...acc, v],
        [] as string[],
      )
      .option('--debugger <template>', 'what D runs on a stopped process, {{PID}} replaced', 'gdb -p {{PID}}')
      .option('--copy-file <file>', 'where copies go besides the clipboard (default ~/.cache/execlens/copied.txt)')
      .option('--history <n>', 'most execs kept (also at most 256 MiB of them)', intArg, 200000)
      .addOption(successfulOnlyOption('list only execs that succeeded'))
      .option('-u, --user <user>', 'run CMD as USER (default: the sudo caller, else as is)')
      .option('--ring-size <MiB>', 'BPF ring buffer size in MiB (power of two)', intArg, DEFAULT_RING_MIB)
      .addOption(
        new Option('--backend <kind>', 'ebpf, ptrace or auto (env EXECLENS_BACKEND)').choices([
          'ebpf',
          'ptrace',
          'auto',
        ]),
      )
      .option('-q, --quiet', 'no summary line on stderr at the end')
      .option('-v, --verbose', 'say which attach plan was chosen and why, on stderr (before the screen starts)'),
  ).action(async (cmd: string[], opts: CommonOpts & Record<string, unknown>) => {
    noEmptyCommand('tui', cmd, rawArgv);
    const { runTui } = await import('./tui.js');
    setExit(
      await runTui({
        command: cmd,
        user: (opts.user as string | undefined) ?? null,
        overrides: overrides(opts),
        ringMiB: opts.ringSize as number,
        verbose: opts.verbose === true,
        quiet: opts.quiet === true,
        backend: backendOf(opts.backend as string | undefined),
        noTty: opts.tty === false,
        breakpoints: opts.breakpoint as string[],
        debugger: opts.debugger as string,
        copyFile: (opts.copyFile as string | undefined) ?? null,
        history: opts.history as number,
        successfulOnly: opts.successfulOnly === true,
      }),
    );
  });
}

/** execlens doctor: the kernel's facts, the plan and every refusal */
function addDoctor(program: Command, setExit: (code: number) => void): void {
  planOptions(
    program
      .command('doctor')
      .description('show what this kernel offers, the load plan with reasons, and every refused attempt')
      .option('--json', 'machine-readable report (what the kernel matrix records)')
      .option('--successful-only', "the plan of log's --successful-only: no syscall hook, lifecycle programs only")
      .option(
        '--verifier-stats',
        'load the chosen programs once more with verifier statistics (processed insns, states, time)',
      ),
  ).action(async (opts: CommonOpts & { json?: boolean; verifierStats?: boolean }) => {
    const { doctorExitCode, doctorReport, formatDoctor } = await import('./doctor.js');
    const r = doctorReport(overrides(opts), { verifierStats: opts.verifierStats === true });
    process.stdout.write(opts.json ? JSON.stringify(r, null, 2) + '\n' : formatDoctor(r));
    setExit(doctorExitCode(r));
  });
}

/** execlens completion: the shell script generated from this definition */
function addCompletion(program: Command): void {
  program
    .command('completion')
    .description('print the shell completion script (bash: source <(execlens completion bash))')
    .addArgument(new Argument('<shell>', 'the shell that reads the script').choices(SHELLS))
    .action((shell: Shell) => {
      process.stdout.write(completionScript(shell, describeCommand(program)));
    });
}

/** `rawArgv`: the arguments as given (process.argv), to tell `log --` from `log` */
export function buildProgram(setExit: (code: number) => void, rawArgv: readonly string[] = process.argv): Command {
  const program = new Command('execlens')
    .description('Trace every execve/execveat of a command tree (or the whole system) with eBPF.')
    .version(versionText(), '-V, --version', "print the version, the BPF object's build and the JSON schema version")
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  addLog(program, setExit, rawArgv);
  addCollect(program, setExit, rawArgv);
  addTui(program, setExit, rawArgv);
  addDoctor(program, setExit);
  addCompletion(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  let code: number = EXIT.OK;
  const program = buildProgram((c) => (code = c), argv);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; usage errors were already printed by commander
      code = e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    } else if (e instanceof ExeclensError) {
      process.stderr.write(`execlens: ${e.message}\n`);
      code = e.exitCode;
    } else if (e instanceof Error && /^EXECLENS_/.test(e.message)) {
      process.stderr.write(`execlens: ${e.message}\n`);
      code = EXIT.USAGE;
    } else {
      process.stderr.write(`execlens: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      code = EXIT.SOFTWARE;
    }
  }
  process.exitCode = code;
}
