/** The kernel-dependent branches read from a run's lcov, and the branch × cell table of the matrix. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { branchHits, branchTable, KERNEL_BRANCHES, lcovFacts } from '../../src/coverage/branches.js';

/** what llvm-cov export -format=lcov writes for a raw_syscalls + tp_btf + bpf_loop run (names as it names them) */
const HOST = `SF:bpf/attach/fentry.bpf.h
FN:11,execlens.bpf.c:____fentry_execve
FN:17,execlens.bpf.c:____fentry_s_execve
FNDA:0,execlens.bpf.c:____fentry_execve
FNDA:0,execlens.bpf.c:____fentry_s_execve
end_of_record
SF:bpf/attach/raw_syscalls.bpf.h
FNDA:40,execlens.bpf.c:____raw_sys_enter
FNDA:38,execlens.bpf.c:____raw_sys_exit_loop
FNDA:0,execlens.bpf.c:____raw_sys_exit
end_of_record
SF:bpf/attach/lifecycle.bpf.h
FNDA:12,execlens.bpf.c:____btf_sched_exec_loop
FNDA:0,execlens.bpf.c:____btf_sched_exec
FNDA:30,execlens.bpf.c:____btf_sched_fork
end_of_record
SF:bpf/exec/exit.bpf.h
FNDA:0,execlens.bpf.c:exec_commit_missed
end_of_record
SF:bpf/lib/user.bpf.h
DA:17,9
DA:18,0
DA:39,0
end_of_record
`;

const SOURCE: Record<string, string[]> = {
  'bpf/lib/user.bpf.h': Object.assign(new Array<string>(40).fill(''), {
    17: '\t\treturn bpf_copy_from_user(dst, size, src);',
    38: '\tbpf_copy_from_user(&b, 1, p);',
  }),
};

test("lcovFacts: BPF_PROG's inner ____name counts as the program's, entry counts summed per function, line counts per file", () => {
  const f = lcovFacts(HOST);
  assert.equal(f.fns.get('raw_sys_enter'), 40);
  assert.equal(f.fns.get('fentry_execve'), 0);
  assert.equal(f.lines.get('bpf/lib/user.bpf.h')?.get(17), 9);
});

test('branchHits: a program run counts, a program in the object that never ran is 0, a branch with no function or line in the run is null; a marked line by its text', () => {
  const h = branchHits(HOST, (f) => SOURCE[f]);
  assert.equal(h['raw_syscalls'], 78);
  assert.equal(h['fentry'], 0);
  assert.equal(h['fentry.s'], 0);
  assert.equal(h['tp_btf'], 42);
  assert.equal(h['bpf_loop'], 50, 'the _loop twins');
  assert.equal(h['unrolled'], 0, 'raw_sys_exit and btf_sched_exec are in the object and never ran');
  assert.equal(h['commit-missed'], 0);
  assert.equal(h['kprobe'], null, 'no kprobe function in this lcov');
  assert.equal(h['sleepable-read'], 0, 'line 18 of user.bpf.h');
  assert.equal(h['fault-in'], 0);
  assert.equal(branchHits(HOST, () => undefined)['sleepable-read'], null, 'the source is not there');
  assert.equal(Object.keys(h).length, KERNEL_BRANCHES.length);
});

test('branchTable: a column per cell, ✓ with the count, · not run, ? unknown; the branches no cell reached are named', () => {
  const a = branchHits(HOST, (f) => SOURCE[f]);
  const b = { ...a, fentry: 5, 'fentry.s': 5, 'sleepable-read': 3 };
  const t = branchTable([
    { id: 'host/x86_64/clang14', hits: a },
    { id: 'bookworm/x86_64/clang14', hits: b },
  ]);
  assert.match(t, /^\| branch \| host\/x86_64\/clang14 \| bookworm\/x86_64\/clang14 \|$/m);
  assert.match(t, /^\| `fentry\.s` [^|]+\| · \| ✓ 5 \|$/m);
  assert.match(t, /^\| `kprobe` [^|]+\| \? \| \? \|$/m);
  const never = /^Reached by no cell: (.*)\. \(/m.exec(t)![1]!;
  assert.ok(never.includes('`kprobe`') && never.includes('`commit-missed`') && !never.includes('`fentry`'), never);
});
