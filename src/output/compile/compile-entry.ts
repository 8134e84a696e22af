/**
 * Which execs are compilations, and what compile_commands.json says of each: pure logic, no I/O.
 * A compiler is known by its name — gcc, g++, cc, c++, clang, clang++, with a version (gcc-12, clang-16)
 * and a target prefix (x86_64-linux-gnu-gcc-12) — or by a regex given with --compiler; it compiles when
 * it is given a source file and is not only preprocessing (-E) or listing dependencies (-M, -MM).
 * One entry per source file, with the whole argv (as bear and CMake write them).
 */
import { basename, extname, posix } from 'node:path';

/** gcc, g++, cc, c++, clang, clang++; optionally TARGET- before and -VERSION after */
export const DEFAULT_COMPILER_RE = /^(?:[\w.]+-)*(?:gcc|g\+\+|cc|c\+\+|clang|clang\+\+)(?:-\d+(?:\.\d+)*)?$/;

/** extensions of source files a C-family compiler driver compiles (gcc's -x table) */
const SOURCE_EXT = new Set([
  '.c',
  '.i',
  '.cc',
  '.cp',
  '.cxx',
  '.cpp',
  '.c++',
  '.C',
  '.CPP',
  '.ii',
  '.m',
  '.mi',
  '.mm',
  '.M',
  '.mii',
  '.s',
  '.S',
  '.sx',
  '.cu',
]);
/** what is not a source even after -x LANG: objects and libraries for the linker */
const LINKER_INPUT = /^(.*\.)?(o|a|so(\.\d+)*)$/;

/** options whose value is the next argument (`-o FILE`, `-I DIR`, ...): that argument is not a source */
const TAKES_VALUE = new Set([
  '-o',
  '-I',
  '-D',
  '-U',
  '-include',
  '-imacros',
  '-isystem',
  '-idirafter',
  '-iprefix',
  '-iwithprefix',
  '-iwithprefixbefore',
  '-iquote',
  '-isysroot',
  '-imultilib',
  '-imultiarch',
  '-MF',
  '-MT',
  '-MQ',
  '-x',
  '-Xlinker',
  '-Xassembler',
  '-Xpreprocessor',
  '-Xclang',
  '-L',
  '-l',
  '-T',
  '-u',
  '-z',
  '-aux-info',
  '--param',
  '-arch',
  '-target',
  '-gcc-toolchain',
  '--sysroot',
  '-A',
  '-dumpbase',
  '-dumpbase-ext',
  '-dumpdir',
]);

export interface CompileEntry {
  directory: string;
  file: string;
  arguments: string[];
  output: string;
}

/** is this program a compiler: its file name or argv[0] matches */
export function isCompiler(
  filename: string | null,
  argv0: string | undefined,
  re: RegExp = DEFAULT_COMPILER_RE,
): boolean {
  return [filename, argv0].some((p) => p !== null && p !== undefined && re.test(basename(p)));
}

interface Parsed {
  sources: string[];
  output: string | null;
  mode: 'link' | 'compile' | 'assemble' | 'preprocess' | 'deps';
}

function parseArgs(args: string[]): Parsed {
  const p: Parsed = { sources: [], output: null, mode: 'link' };
  let lang: string | null = null;
  let depsOnly = false;
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-c') p.mode = 'compile';
    else if (a === '-S' && p.mode !== 'compile') p.mode = 'assemble';
    else if (a === '-E') p.mode = 'preprocess';
    else if (a === '-M' || a === '-MM') depsOnly = true;
    else if (a === '-o') p.output = args[++i] ?? null;
    else if (a.startsWith('-o') && a.length > 2) p.output = a.slice(2);
    else if (a === '-x') lang = args[++i] ?? null;
    else if (a.startsWith('-x') && a.length > 2) lang = a.slice(2);
    else if (TAKES_VALUE.has(a)) i++;
    else if (a.startsWith('-') || a === '') continue;
    else if (lang !== null && lang !== 'none' ? !LINKER_INPUT.test(a) : SOURCE_EXT.has(extname(a))) p.sources.push(a);
  }
  if (depsOnly && p.mode !== 'compile') p.mode = 'deps';
  return p;
}

/** what `gcc -c dir/x.c` writes when not told: x.o in the cwd (x.s for -S) */
function defaultOutput(source: string, mode: Parsed['mode']): string {
  if (mode === 'link') return 'a.out';
  const b = posix.basename(source);
  const ext = posix.extname(b);
  return `${ext ? b.slice(0, -ext.length) : b}${mode === 'assemble' ? '.s' : '.o'}`;
}

/**
 * The entries of one compiler run (argv as it was exec'd, cwd its directory), or none when it compiles
 * nothing: no source file, only preprocessing or dependency listing, clang's internal -cc1 re-run.
 */
export function compileEntries(argv: string[], cwd: string): CompileEntry[] {
  if (argv.includes('-cc1') || argv.includes('-cc1as')) return [];
  const p = parseArgs(argv);
  if (p.mode === 'preprocess' || p.mode === 'deps' || p.sources.length === 0) return [];
  return p.sources.map((file) => {
    // -o names the one output: of a single source's compile, or of the link of them all
    const named = p.output !== null && (p.sources.length === 1 || p.mode === 'link');
    const out = named ? p.output! : defaultOutput(file, p.mode);
    return { directory: cwd, file, arguments: argv, output: out };
  });
}
