import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Assembler, splitInterpreter, type Assembled } from '../../src/events/assemble.js';
import { readRawRecords } from '../../src/events/rawfile.js';
import { CHUNK, EXEC, ExecFlag, Field, HDR } from '../../src/events/layout.js';
import type { ExecEvent } from '../../src/events/types.js';
import { fixture } from '../helpers/paths.js';

// Recorded on this project's dev machine (6.18, tracepoint plan) with
//   env -i PATH=/usr/bin:/bin HOME=/root BAR=gone execlens log --record-raw ... -- sh -c \
//     'cd /tmp; unset BAR; env FOO=1 /bin/echo "a b" "$(printf "\377x")" >/dev/null; /nonexistent 2>/dev/null; /tmp/fx/script.sh arg1; true'
// (run from /tmp/fx; script.sh is "#!/bin/sh").
function execs(): { evs: ExecEvent[]; items: Assembled[]; asm: Assembler } {
  const asm = new Assembler();
  const items: Assembled[] = [];
  for (const r of readRawRecords(fixture('records/x86_64-tracepoint.bin'))) {
    const x = asm.push(r);
    if (x) items.push(x);
  }
  return { evs: items.flatMap((i) => (i.kind === 'exec' ? [i.ev] : [])), items, asm };
}

const s = (b: Buffer | null) => (b ? b.toString('latin1') : null);

test('recorded run decodes into the five execs with argv, cwd, result', () => {
  const { evs, asm } = execs();
  assert.deepEqual(
    evs.map((e) => s(e.filename)),
    ['/usr/bin/sh', '/usr/bin/env', '/bin/echo', '/nonexistent', '/tmp/fx/script.sh'],
  );
  const [sh, env, echo, missing, script] = evs as [ExecEvent, ExecEvent, ExecEvent, ExecEvent, ExecEvent];
  assert.equal(s(sh.cwd), '/tmp/fx');
  assert.deepEqual(env.argv.map(s), ['env', 'FOO=1', '/bin/echo', 'a b', '\xffx']);
  assert.deepEqual(echo.argv.map(s), ['/bin/echo', 'a b', '\xffx']);
  assert.equal(s(echo.cwd), '/tmp');
  assert.equal(env.pid, echo.pid, 'env execs echo in the same process');
  assert.equal(env.ppid, sh.pid);
  assert.equal(missing.ret, -2);
  assert.ok(missing.flags & ExecFlag.FAILED_PATH);
  assert.deepEqual(missing.argv.map(s), ['/nonexistent']);
  assert.deepEqual(script.argv.map(s), ['/tmp/fx/script.sh', 'arg1']);
  assert.deepEqual(script.interpreter!.map(s), ['/bin/sh']);
  assert.ok(echo.env!.some((e) => s(e) === 'FOO=1'));
  assert.ok(!echo.env!.some((e) => s(e)!.startsWith('BAR=')));
  assert.ok(sh.env!.some((e) => s(e) === 'BAR=gone'));
  const st = asm.finish();
  assert.equal(st.seqGaps, 0);
  assert.equal(st.malformed, 0);
  assert.equal(st.incompleteExecs, 0);
});

test('fork and exit records link the tree', () => {
  const { items } = execs();
  const forks = items.filter((i) => i.kind === 'fork');
  const exits = items.filter((i) => i.kind === 'exit');
  assert.ok(forks.length >= 4);
  assert.ok(exits.length >= 4);
});

test('a dropped record shows up as a sequence gap and an incomplete exec', () => {
  const recs = readRawRecords(fixture('records/x86_64-tracepoint.bin'));
  const asm = new Assembler();
  // drop the first ARGV chunk of the second exec (kind 2 = chunk, field 3 = argv)
  let seenArgv = 0;
  let dropped = false;
  for (const r of recs) {
    if (!dropped && r.readUInt32LE(0) === 2 && r.readUInt32LE(24) === 3 && ++seenArgv === 2) {
      dropped = true;
      continue;
    }
    asm.push(r);
  }
  const st = asm.finish();
  assert.ok(dropped);
  assert.equal(st.seqGaps, 1);
  assert.equal(st.incompleteExecs, 1);
});

test("two execs' records interleaved (two CPUs writing at once) assemble into the same events", () => {
  const recs = readRawRecords(fixture('records/x86_64-tracepoint.bin'));
  // the records of each exec (its chunks, then its commit), in the order recorded
  const groups: Buffer[][] = [];
  let cur: Buffer[] = [];
  for (const r of recs) {
    const kind = r.readUInt32LE(HDR.kind);
    if (kind === 2 || kind === 1) cur.push(r);
    if (kind === 1) {
      groups.push(cur);
      cur = [];
    }
  }
  assert.equal(groups.length, 5);
  // exec 1's and exec 2's records one by one, alternating, then the rest as recorded
  const mixed: Buffer[] = [];
  const [a, b] = [groups[0]!, groups[1]!];
  for (let i = 0; i < Math.max(a.length, b.length); i++) mixed.push(...[a[i], b[i]].filter((x) => x !== undefined));
  for (const g of groups.slice(2)) mixed.push(...g);
  const key = (e: ExecEvent) =>
    JSON.stringify([s(e.filename), e.argv.map(s), e.env?.length, s(e.cwd), e.fds.map((f) => f.fd), e.missingChunks]);
  const asm = new Assembler();
  const got = mixed.flatMap((r) => {
    const x = asm.push(r);
    return x?.kind === 'exec' ? [key(x.ev)] : [];
  });
  assert.deepEqual(got.slice().sort(), execs().evs.map(key).sort());
  assert.equal(asm.finish().orphanExecs, 0);
  assert.equal(asm.stats.incompleteExecs, 0);
});

test('chunks whose commit never came are counted as orphans at the end', () => {
  const recs = readRawRecords(fixture('records/x86_64-tracepoint.bin'));
  const isExec = (r: Buffer) => r.readUInt32LE(HDR.kind) === 1;
  // drop the commit records of the last two execs: their chunks wait until the end
  const commits = recs.filter(isExec);
  const drop = new Set(commits.slice(-2));
  const asm = new Assembler();
  for (const r of recs) if (!drop.has(r)) asm.push(r);
  assert.equal(asm.finish().orphanExecs, 2);
});

test('fuzz: random and truncated records never throw and are counted as malformed', () => {
  const recs = readRawRecords(fixture('records/x86_64-tracepoint.bin'));
  const asm = new Assembler();
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  let pushed = 0;
  for (let i = 0; i < 20000; i++) {
    const base = recs[Math.floor(rnd() * recs.length)]!;
    let r: Buffer;
    const mode = i % 3;
    if (mode === 0)
      r = base.subarray(0, Math.floor(rnd() * base.length)); // truncated
    else if (mode === 1)
      r = Buffer.from(Array.from({ length: Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256)));
    else {
      r = Buffer.from(base);
      for (let k = 0; k < 4; k++) r[Math.floor(rnd() * r.length)] = Math.floor(rnd() * 256);
    }
    assert.doesNotThrow(() => asm.push(r));
    pushed++;
  }
  const st = asm.finish();
  assert.equal(st.records, pushed);
  assert.ok(st.malformed > 5000, `malformed counted: ${st.malformed}`);
});

test('#! argv reconstruction keeps argv[0] as passed and the interpreter apart', () => {
  const B = (...x: string[]) => x.map((y) => Buffer.from(y));
  const r = splitInterpreter(
    B('/usr/bin/python3', '-u', './s.py', 'a', 'b'),
    Buffer.from('./s.py'),
    Buffer.from('myname'),
  );
  assert.deepEqual(r.argv.map(String), ['myname', 'a', 'b']);
  assert.deepEqual(r.interpreter!.map(String), ['/usr/bin/python3', '-u']);
  const nested = splitInterpreter(B('/bin/sh', '/opt/wrap', '/opt/tool', 'x'), Buffer.from('/opt/tool'), null);
  assert.deepEqual(nested.argv.map(String), ['/opt/tool', 'x']);
  assert.deepEqual(nested.interpreter!.map(String), ['/bin/sh', '/opt/wrap']);
});

test('an exec whose commit the kernel skipped (COMMIT_MISSED) comes out with argv[0] and is marked, not lost', () => {
  const recs = readRawRecords(fixture('records/x86_64-tracepoint.bin'));
  // the first exec as the syscall-exit fallback reports it: only its entry chunks (filename, argv[0])
  const firstExec = recs.find((r) => r.readUInt32LE(HDR.kind) === 1)!;
  const id = firstExec.readBigUInt64LE(EXEC.exec_id);
  const entryFields = new Set<number>([Field.FILENAME, Field.ARGV0]);
  const asm = new Assembler();
  let ev: ExecEvent | undefined;
  for (const r of recs) {
    const kind = r.readUInt32LE(HDR.kind);
    if (kind === 2 && r.readBigUInt64LE(CHUNK.exec_id) === id && !entryFields.has(r.readUInt32LE(CHUNK.field)))
      continue;
    let rec = r;
    if (r === firstExec) {
      rec = Buffer.from(r);
      rec.writeUInt32LE(r.readUInt32LE(EXEC.flags) | ExecFlag.COMMIT_MISSED, EXEC.flags);
      rec.writeUInt32LE(2, EXEC.nchunks);
    }
    const x = asm.push(rec);
    if (x?.kind === 'exec' && x.ev.execId === id) ev = x.ev;
  }
  assert.ok(ev);
  assert.deepEqual(
    ev.argv.map((a) => a.toString()),
    ['sh'],
  );
  assert.equal(s(ev.filename), '/usr/bin/sh');
  assert.ok(ev.flags & ExecFlag.COMMIT_MISSED);
  assert.equal(ev.missingChunks, 0);
  assert.equal(asm.finish().incompleteExecs, 0);
});

test("a filename the entry could not read (empty chunk, FILENAME_FAULT) comes from the kernel's copy; an empty argv[0] is none", () => {
  const recs = readRawRecords(fixture('records/x86_64-tracepoint.bin'));
  // the echo exec, as a riscv64 guest delivered some: the entry's filename chunk empty and its fault flag set
  const asm0 = new Assembler();
  const echo = recs
    .map((r) => asm0.push(r))
    .find((x): x is Assembled & { kind: 'exec' } => x?.kind === 'exec' && s(x.ev.filename) === '/bin/echo')!.ev;
  const asm = new Assembler();
  let ev: ExecEvent | undefined;
  for (const r of recs) {
    let rec = r;
    const kind = r.readUInt32LE(HDR.kind);
    if (
      kind === 2 &&
      r.readBigUInt64LE(CHUNK.exec_id) === echo.execId &&
      r.readUInt32LE(CHUNK.field) === Field.FILENAME
    ) {
      rec = Buffer.from(r.subarray(0, CHUNK.size));
      rec.writeUInt32LE(0, CHUNK.len);
    }
    if (kind === 1 && r.readBigUInt64LE(EXEC.exec_id) === echo.execId) {
      rec = Buffer.from(r);
      rec.writeUInt32LE(r.readUInt32LE(EXEC.flags) | ExecFlag.FILENAME_FAULT, EXEC.flags);
    }
    const x = asm.push(rec);
    if (x?.kind === 'exec' && x.ev.execId === echo.execId) ev = x.ev;
  }
  assert.ok(ev);
  assert.equal(s(ev.filename), '/bin/echo', 'bprm->filename stands in');
  assert.ok(ev.flags & ExecFlag.FILENAME_FAULT, 'the fault stays marked');
  assert.deepEqual(ev.argv.map(String), echo.argv.map(String));
  // #! reconstruction without a readable argv[0] keeps the script path as argv[0], not an empty string
  const B = (...x: string[]) => x.map((y) => Buffer.from(y));
  assert.deepEqual(splitInterpreter(B('/bin/sh', '/opt/tool', 'x'), Buffer.from('/opt/tool'), null).argv.map(String), [
    '/opt/tool',
    'x',
  ]);
});
