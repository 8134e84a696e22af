import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Assembler, type Assembled } from '../../src/events/assemble.js';
import { EnvCache, RETIRE_GRACE_NS } from '../../src/events/envcache.js';
import { CHUNK, EXEC, ExecFlag, Field, HDR, RecKind } from '../../src/events/layout.js';
import type { ExecEvent } from '../../src/events/types.js';

// Records as the BPF commit writes them with env dedupe (bpf/lib/envhash.bpf.h): an exec whose env came whole
// with its hash, and an exec that carries only the hash (ENV_REF).

let seq = 0;
function header(b: Buffer, kind: number): void {
  b.writeUInt32LE(kind, HDR.kind);
  b.writeUInt32LE(0, HDR.cpu);
  b.writeUInt32LE(seq++, HDR.seq);
}

function envChunk(execId: bigint, data: Buffer, offset = 0): Buffer {
  const b = Buffer.alloc(CHUNK.size + data.length);
  header(b, RecKind.CHUNK);
  b.writeBigUInt64LE(execId, CHUNK.exec_id);
  b.writeUInt32LE(Field.ENV, CHUNK.field);
  b.writeUInt32LE(data.length, CHUNK.len);
  b.writeUInt32LE(offset, CHUNK.offset);
  data.copy(b, CHUNK.size);
  return b;
}

function execRec(o: { execId: bigint; pid: number; envHash: bigint; envTotal: number; ref: boolean; nchunks: number }) {
  const b = Buffer.alloc(EXEC.size);
  header(b, RecKind.EXEC);
  b.writeBigUInt64LE(o.execId, EXEC.exec_id);
  b.writeUInt32LE(o.pid, EXEC.pid);
  b.writeUInt32LE(o.pid, EXEC.tid);
  b.writeUInt32LE(o.ref ? ExecFlag.ENV_REF : 0, EXEC.flags);
  b.writeUInt32LE(o.ref ? 0 : o.envTotal, EXEC.env_len);
  b.writeUInt32LE(o.envTotal, EXEC.env_total);
  b.writeUInt32LE(o.nchunks, EXEC.nchunks);
  b.writeBigUInt64LE(o.envHash, EXEC.env_hash);
  return b;
}

function forkRec(parent: number, child: number): Buffer {
  const b = Buffer.alloc(32);
  header(b, RecKind.FORK);
  b.writeUInt32LE(parent, 24);
  b.writeUInt32LE(child, 28);
  return b;
}

const ENV = Buffer.from('HOME=/root\0PATH=/usr/bin:/bin\0BIG=xxxxxxxx\0');
const H = 0x1234_5678_9abc_def0n;
/** exec `id` of pid with the whole env (two chunks) under H */
const whole = (id: bigint, pid: number, env = ENV, hash = H) => [
  envChunk(id, env.subarray(0, 11), 0),
  envChunk(id, env.subarray(11), 11),
  execRec({ execId: id, pid, envHash: hash, envTotal: env.length, ref: false, nchunks: 2 }),
];
const ref = (id: bigint, pid: number, total = ENV.length, hash = H) =>
  execRec({ execId: id, pid, envHash: hash, envTotal: total, ref: true, nchunks: 0 });

const envOf = (ev: ExecEvent) => ev.env?.map(String) ?? null;
const ENV_STRS = ['HOME=/root', 'PATH=/usr/bin:/bin', 'BIG=xxxxxxxx'];

function pushAll(asm: Assembler, recs: Buffer[]): Assembled[] {
  const out: Assembled[] = [];
  for (const r of recs) {
    const x = asm.push(r);
    if (x) out.push(x);
    out.push(...asm.takeReady());
  }
  return out;
}

const execsOf = (items: Assembled[]) => items.flatMap((i) => (i.kind === 'exec' ? [i.ev] : []));

test('env dedupe: an exec that carries only the hash gets the whole env sent earlier, no ENV_REF flag left, counted', () => {
  const asm = new Assembler();
  const evs = execsOf(pushAll(asm, [...whole(1n, 10), ref(2n, 11), ref(3n, 12)]));
  assert.deepEqual(evs.map(envOf), [ENV_STRS, ENV_STRS, ENV_STRS]);
  for (const ev of evs) {
    assert.equal(ev.flags & ExecFlag.ENV_REF, 0, 'ENV_REF never reaches an output');
    assert.equal(ev.envTotal, ENV.length);
    assert.equal(ev.envHash, 0n);
  }
  const st = asm.finish();
  assert.deepEqual(st.env, { sent: 1, referenced: 2, evicted: 0, unresolved: 0 });
  assert.equal(st.incompleteExecs, 0);
});

test('env dedupe: a reference that arrives before its block waits, with everything after it, and comes out in order once the block is there', () => {
  const asm = new Assembler();
  // exec 2 (pid 11) refers to H before exec 1, which sends H whole, has come; a fork and exec 3 follow it
  assert.equal(asm.push(ref(2n, 11)), null, 'held: its block has not come');
  assert.equal(asm.push(forkRec(11, 13)), null, 'what follows a held exec waits behind it');
  assert.deepEqual(asm.takeReady(), []);
  const after = pushAll(asm, [...whole(1n, 10), ...whole(3n, 13, Buffer.from('A=1\0'), 77n)]);
  assert.deepEqual(
    after.map((a) => (a.kind === 'exec' ? `exec ${a.ev.execId}` : a.kind)),
    ['exec 2', 'fork', 'exec 1', 'exec 3'],
  );
  assert.deepEqual(envOf(execsOf(after)[0]!), ENV_STRS);
  const st = asm.finish();
  assert.deepEqual(st.env, { sent: 2, referenced: 1, evicted: 0, unresolved: 0 });
});

test('env dedupe: a reference never resolved is given up at the end: env null, CHUNK_LOST, counted as unresolved and incomplete', () => {
  const asm = new Assembler();
  assert.equal(asm.push(ref(2n, 11)), null);
  assert.equal(asm.push(forkRec(11, 12)), null);
  const rest = asm.flushHeld();
  assert.deepEqual(
    rest.map((a) => a.kind),
    ['exec', 'fork'],
  );
  const ev = execsOf(rest)[0]!;
  assert.equal(ev.env, null);
  assert.ok(ev.flags & ExecFlag.CHUNK_LOST);
  assert.equal(ev.flags & ExecFlag.ENV_REF, 0);
  const st = asm.finish();
  assert.equal(st.env.unresolved, 1);
  assert.equal(st.incompleteExecs, 1);
});

test('env dedupe: a reference waits for at most envRefWaitRecords items, then is given up and the queue moves on', () => {
  const asm = new Assembler({ envRefWaitRecords: 3 });
  const out = pushAll(asm, [ref(2n, 11), forkRec(11, 12), forkRec(11, 13), forkRec(11, 14)]);
  assert.equal(out.length, 0, 'three items wait');
  const more = pushAll(asm, [forkRec(11, 15)]);
  assert.deepEqual(
    more.map((a) => a.kind),
    ['exec', 'fork', 'fork', 'fork', 'fork'],
  );
  assert.equal(execsOf(more)[0]!.env, null);
  assert.equal(asm.finish().env.unresolved, 1);
});

test('env dedupe: a block that lost a chunk is not remembered, and a reference with another length is not resolved by it', () => {
  const asm = new Assembler();
  // exec 1's second chunk lost: the kernel does not remember H then; a reference to H cannot be put back
  const [c1, , e1] = whole(1n, 10);
  const lossy = pushAll(asm, [c1!, e1!, ref(2n, 11)]);
  assert.equal(execsOf(lossy)[0]!.missingChunks, 1);
  assert.equal(asm.flushHeld().length, 1);
  // a whole block, then a reference to its hash that names another length (a collision): not resolved
  const asm2 = new Assembler();
  pushAll(asm2, [...whole(3n, 12), ref(4n, 13, ENV.length + 1)]);
  const held = asm2.flushHeld();
  assert.equal(execsOf(held)[0]!.env, null);
  assert.equal(asm2.finish().env.unresolved, 1);
});

test('records without env_hash (written before it existed, 152 bytes) decode with hash 0: the env as it came', () => {
  const asm = new Assembler();
  const [c1, c2, e1] = whole(1n, 10);
  const old = e1!.subarray(0, EXEC.env_hash);
  const evs = execsOf(pushAll(asm, [c1!, c2!, old]));
  assert.deepEqual(envOf(evs[0]!), ENV_STRS);
  assert.deepEqual(asm.finish().env, { sent: 0, referenced: 0, evicted: 0, unresolved: 0 });
});

test('EnvCache: keeps blocks up to its byte budget, drops the least recently used first and counts it', () => {
  const c = new EnvCache(100);
  c.put(1n, [Buffer.from('a')], 40);
  c.put(2n, [Buffer.from('b')], 40);
  assert.ok(c.get(1n, 40), 'a use makes 1 the most recent');
  c.put(3n, [Buffer.from('c')], 40);
  assert.equal(c.get(2n, 40), null, '2 was the least recently used');
  assert.ok(c.get(1n, 40));
  assert.ok(c.get(3n, 40));
  assert.equal(c.stats.evicted, 1);
  assert.equal(c.get(3n, 41), null, 'another length is another block');
  c.put(3n, [Buffer.from('c2')], 40);
  assert.equal(c.size, 2, 'a block sent again replaces its copy');
});

test('EnvCache: a dropped block is forgotten by the kernel first and still resolves references on their way for the grace period', () => {
  const now = 5_000_000_000n;
  const forgotten: bigint[] = [];
  const c = new EnvCache(100, { forget: (h) => forgotten.push(h), nowNs: () => now });
  c.put(1n, [Buffer.from('a')], 60);
  c.put(2n, [Buffer.from('b')], 60);
  assert.deepEqual(forgotten, [1n], 'the kernel is told to forget the dropped hash');
  assert.ok(c.get(1n, 60), 'a reference made just before the delete still resolves');
  c.expire(now + RETIRE_GRACE_NS - 1n);
  assert.ok(c.get(1n, 60), 'within the grace period');
  c.expire(now + RETIRE_GRACE_NS + 1n);
  assert.equal(c.get(1n, 60), null, 'let go after it');
  assert.equal(c.stats.evicted, 1);
});
