/**
 * The kernel-dependent branches of the BPF program — each attach wrapper, sleepable or not, bpf_loop or
 * unrolled, each compat path, each arch block, each recovery path — and which of them a run reached, read from
 * its lcov (the functions' entry counts, FNDA, and for a branch inside a function the count of a marked line,
 * DA). The kernel matrix puts them against its cells (matrix/run.ts --coverage): a branch no cell ran is named.
 */

export interface KernelBranch {
  id: string;
  /** what takes it, for the table */
  what: string;
  /** reached when a function whose name (BPF_PROG's inner ____name as the program's) matches is entered */
  fn?: RegExp;
  /** reached when the line of `file` holding `text` ran */
  line?: { file: string; text: string };
}

/** the program names of every copying program that has a bpf_loop twin (the unrolled one is the bare name) */
const UNROLLED =
  /^(fexit|kretprobe|tp_exit|raw_sys_exit|btf_sched_exec|raw_sched_exec|fexit_compat|kretprobe_compat|fexit_x32)(_\w+)?(?<!_loop)$/;

export const KERNEL_BRANCHES: readonly KernelBranch[] = [
  { id: 'fentry', what: 'fentry entry (5.5; x86_64 5.5, arm64 6.0)', fn: /^fentry_execve(at)?$/ },
  { id: 'fentry.s', what: 'sleepable fentry entry (5.10+ with BTF; may fault pages in)', fn: /^fentry_s_execve(at)?$/ },
  { id: 'fexit', what: 'fexit exit', fn: /^fexit_execve(at)?(_loop)?$/ },
  { id: 'kprobe', what: 'kprobe on the syscall wrapper (__x64_sys_execve, …; 4.17+)', fn: /^kprobe_execve(at)?$/ },
  { id: 'kprobe-direct', what: 'kprobe without syscall wrappers (before 4.17)', fn: /^kprobe_direct_execve(at)?$/ },
  { id: 'kretprobe', what: 'kretprobe exit', fn: /^kretprobe_execve(at)?(_loop)?$/ },
  { id: 'raw_syscalls', what: 'raw_syscalls sys_enter/sys_exit', fn: /^raw_sys_(enter|exit)(_loop)?$/ },
  { id: 'tracepoint', what: 'syscalls:sys_{enter,exit}_execve{,at}', fn: /^tp_(enter|exit)_execve(at)?(_loop)?$/ },
  { id: 'compat-entry', what: 'ia32/AArch32 exec entry (fentry or kprobe on the compat wrapper)', fn: /^(fentry|kprobe)_compat_execve(at)?$/ },
  { id: 'compat-exit', what: 'ia32/AArch32 exec exit (fexit or kretprobe)', fn: /^(fexit|kretprobe)_compat_execve(at)?(_loop)?$/ },
  { id: 'compat-args', what: 'compat argument reading (32-bit pointers)', fn: /^compat_execve(at)?$/ },
  { id: 'x32-entry', what: 'x32 exec entry (fentry or kprobe on the x32 wrapper)', fn: /^(fentry|kprobe)_x32_execve(at)?$/ },
  { id: 'x32-exit', what: 'x32 exec exit (fexit; the kretprobe exit is compat-exit\'s program)', fn: /^fexit_x32_execve(at)?(_loop)?$/ },
  { id: 'x32-args', what: 'x32 argument reading (native registers, 32-bit pointers; raw_syscalls by number too)', fn: /^x32_execve(at)?$/ },
  { id: 'tp_btf', what: 'sched_process_* as tp_btf (5.5)', fn: /^btf_sched_(exec|fork|exit)(_loop)?$/ },
  { id: 'raw_tp', what: 'sched_process_* as raw_tp', fn: /^raw_sched_(exec|fork|exit)(_loop)?$/ },
  { id: 'bpf_loop', what: 'bpf_loop twins of the copying programs (5.17)', fn: /_loop$/ },
  { id: 'unrolled', what: 'unrolled copying programs (before 5.17)', fn: UNROLLED },
  { id: 'sleepable-read', what: 'bpf_copy_from_user in a sleepable program', line: { file: 'bpf/lib/user.bpf.h', text: 'return bpf_copy_from_user(dst, size, src);' } },
  { id: 'fault-in', what: 'faulting a string page in before the read (sleepable entry)', line: { file: 'bpf/lib/user.bpf.h', text: 'bpf_copy_from_user(&b, 1, p);' } },
  { id: 'commit-missed', what: 'COMMIT_MISSED recovery (the kernel skipped sched_process_exec; preemptible BPF, 7.2)', fn: /^exec_commit_missed$/ },
  { id: 'ts-compat', what: 'compat task by thread_info status (x86 TS_COMPAT)', fn: /^ts_compat$/ },
  { id: 'env-dedupe', what: 'env sent once per distinct block (bpf_loop plans)', fn: /^emit_env_deduped$/ },
];

/** lcov's `execlens.bpf.c:____fentry_execve` -> `fentry_execve` */
function bareName(n: string): string {
  return n.replace(/^[^:]*:/, '').replace(/^_{4}/, '');
}

interface LcovFacts {
  /** function -> entry count (summed over the records that name it) */
  fns: Map<string, number>;
  /** file -> line -> count */
  lines: Map<string, Map<number, number>>;
}

export function lcovFacts(text: string): LcovFacts {
  const facts: LcovFacts = { fns: new Map(), lines: new Map() };
  let file = '';
  for (const raw of text.split('\n')) {
    const [key, val = ''] = raw.trim().split(/:(.*)/s);
    if (key === 'SF') file = val;
    else if (key === 'FNDA') {
      const [n, name = ''] = val.split(/,(.*)/s);
      const b = bareName(name);
      facts.fns.set(b, (facts.fns.get(b) ?? 0) + Number(n));
    } else if (key === 'DA') {
      const [l, n] = val.split(',');
      let m = facts.lines.get(file);
      if (!m) facts.lines.set(file, (m = new Map()));
      m.set(Number(l), (m.get(Number(l)) ?? 0) + Number(n));
    }
  }
  return facts;
}

/**
 * Per branch: how often it ran (0: never; null: the run cannot tell — no such function in its object, or the
 * marked line is gone from the source). readSource: a file's lines (for `line` branches).
 */
export function branchHits(lcov: string, readSource: (file: string) => string[] | undefined): Record<string, number | null> {
  const f = lcovFacts(lcov);
  const out: Record<string, number | null> = {};
  for (const b of KERNEL_BRANCHES) {
    if (b.fn) {
      const hits = [...f.fns].filter(([n]) => b.fn!.test(n));
      out[b.id] = hits.length ? hits.reduce((a, [, n]) => a + n, 0) : null;
    } else if (b.line) {
      const at = readSource(b.line.file)?.findIndex((l) => l.includes(b.line!.text));
      out[b.id] = at === undefined || at < 0 ? null : (f.lines.get(b.line.file)?.get(at + 1) ?? null);
    }
  }
  return out;
}

/** Markdown: a row per branch, a column per cell (✓ with the count, · not run, ? cannot tell), and who ran it */
export function branchTable(cells: { id: string; hits: Record<string, number | null> }[]): string {
  const head = `| branch | ${cells.map((c) => c.id).join(' | ')} |`;
  const sep = `|---|${cells.map(() => '---').join('|')}|`;
  const rows = KERNEL_BRANCHES.map((b) => {
    const marks = cells.map((c) => {
      const n = c.hits[b.id];
      return n === null || n === undefined ? '?' : n > 0 ? `✓ ${n}` : '·';
    });
    return `| \`${b.id}\` ${b.what} | ${marks.join(' | ')} |`;
  });
  const never = KERNEL_BRANCHES.filter((b) => !cells.some((c) => (c.hits[b.id] ?? 0) > 0)).map((b) => `\`${b.id}\``);
  return [
    head,
    sep,
    ...rows,
    '',
    `Reached by no cell: ${never.length ? never.join(', ') : 'none'}. (✓ n: entered n times; ·: not run; ?: not in that cell's object.)`,
    '',
  ].join('\n');
}
