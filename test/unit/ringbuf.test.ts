import { test } from 'node:test';
import assert from 'node:assert/strict';
import { walkRecords } from '../../src/backend/ebpf/ringbuf.js';

/** A ring data area of `size` bytes with records written at absolute positions, as the kernel lays them out. */
function ring(
  size: number,
  recs: { pos: number; payload: Buffer; busy?: boolean; discard?: boolean }[],
): { data: Uint8Array; hdr32: Uint32Array } {
  const buf = new ArrayBuffer(size);
  const data = new Uint8Array(buf);
  const hdr32 = new Uint32Array(buf);
  for (const r of recs) {
    const off = r.pos % size;
    hdr32[off / 4] = (r.payload.length | (r.busy ? 0x80000000 : 0) | (r.discard ? 0x40000000 : 0)) >>> 0;
    for (let i = 0; i < r.payload.length; i++) data[(off + 8 + i) % size] = r.payload[i]!;
  }
  return { data, hdr32 };
}

const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (seed * 31 + i) & 0xff));

test('ring records: in order, discarded ones skipped, a record that wraps the end comes back whole (one copy)', () => {
  // positions past one lap of a 64-byte ring: the third record's payload runs over the end
  const a = bytes(5, 1); // at 64+0, takes 16
  const b = bytes(8, 2); // at 64+16, discarded, takes 16
  const c = bytes(20, 3); // at 64+32: header at 32..40, payload 40..60
  const d = bytes(24, 4); // at 64+64 = 128 -> offset 0 (the producer lapped around)
  const size = 64;
  const { data, hdr32 } = ring(size, [
    { pos: 64, payload: a },
    { pos: 80, payload: b, discard: true },
    { pos: 96, payload: c },
  ]);
  const got: Buffer[] = [];
  const r = walkRecords(data, hdr32, 64, 64 + 64, Number.MAX_SAFE_INTEGER, (x) => got.push(Buffer.from(x)));
  assert.deepEqual(got, [a, c]);
  assert.equal(r.records, 2);
  assert.equal(r.cons, 128);
  assert.equal(r.wrapped, 0);

  // a record whose payload crosses the end: header at 48, payload 56..64 then 0..16
  const w = ring(size, [{ pos: 112, payload: d }]);
  const got2: Buffer[] = [];
  const r2 = walkRecords(w.data, w.hdr32, 112, 112 + 32, Number.MAX_SAFE_INTEGER, (x) => got2.push(Buffer.from(x)));
  assert.deepEqual(got2, [d]);
  assert.equal(r2.wrapped, 1);
  assert.equal(r2.cons, 144);
});

test('ring records: a busy record stops the walk there; maxBytes bounds a batch', () => {
  const size = 64;
  const { data, hdr32 } = ring(size, [
    { pos: 0, payload: bytes(8, 1) },
    { pos: 16, payload: bytes(8, 2), busy: true },
    { pos: 32, payload: bytes(8, 3) },
  ]);
  const n: number[] = [];
  const r = walkRecords(data, hdr32, 0, 48, Number.MAX_SAFE_INTEGER, (x) => n.push(x[0]!));
  assert.equal(r.records, 1);
  assert.equal(r.cons, 16, 'consumer stops before the busy record');
  const r2 = walkRecords(data, hdr32, 0, 16, 1, () => {});
  assert.equal(r2.cons, 16);
  assert.equal(walkRecords(data, hdr32, 32, 48, 0, () => {}).records, 0, 'maxBytes 0: nothing');
});
