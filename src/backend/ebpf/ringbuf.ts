/**
 * BPF ring buffer consumer in JavaScript over the map's mmap'd pages.
 *
 * Layout (kernel/bpf/ringbuf.c): page 0 = consumer position (rw), page 1 =
 * producer position (ro), then the data area, which the kernel offers twice
 * back to back so a record that wraps is contiguous. We map it once: the
 * kernel maps every page of a ring mapping at mmap time, so the second copy
 * would cost the ring's size again in this process's RSS; the one record per
 * lap that wraps is copied together instead. Each record: u32 len |
 * BUSY(1<<31) | DISCARD(1<<30), u32 page offset, then data, padded to 8
 * bytes (a header never wraps: the size is a multiple of the page size).
 *
 * drain() walks every committed record and hands a view of it to the caller
 * in one JS loop: no FFI call per event. The view is only valid during the
 * callback; the consumer position is published after the batch.
 */
import { libbpf, MAP_FAILED, MAP_SHARED, PROT_READ, PROT_WRITE, view, type Ptr } from './libbpf.js';

const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const HDR = 8;

export class RingBufferReader {
  private readonly cons: BigUint64Array;
  private readonly prod: BigUint64Array;
  private readonly hdr32: Uint32Array;
  private readonly data: Uint8Array;
  private consPtr: Ptr;
  private prodPtr: Ptr;
  private readonly page: number;
  private closed = false;

  constructor(
    mapFd: number,
    readonly size: number,
    page = 4096,
  ) {
    const lb = libbpf();
    this.page = page;
    this.consPtr = lb.mmap(null, page, PROT_READ | PROT_WRITE, MAP_SHARED, mapFd, 0);
    if (this.consPtr === MAP_FAILED || this.consPtr === 0n) throw new Error('mmap of ring buffer consumer page failed');
    this.prodPtr = lb.mmap(null, page + size, PROT_READ, MAP_SHARED, mapFd, page);
    if (this.prodPtr === MAP_FAILED || this.prodPtr === 0n) {
      lb.munmap(this.consPtr, page);
      throw new Error('mmap of ring buffer data pages failed');
    }
    this.cons = new BigUint64Array(view(this.consPtr, 8));
    this.prod = new BigUint64Array(view(this.prodPtr, 8));
    const all = view(this.prodPtr, page + size);
    this.data = new Uint8Array(all, page, size);
    this.hdr32 = new Uint32Array(all, page, size / 4);
  }

  /**
   * Consume up to maxBytes of records; returns the number of records seen.
   * cb gets a view of the record's payload (valid only during the call).
   */
  drain(cb: (rec: Uint8Array) => void, maxBytes = Number.MAX_SAFE_INTEGER): number {
    if (this.closed) return 0;
    const start = Number(Atomics.load(this.cons, 0));
    const r = walkRecords(this.data, this.hdr32, start, Number(Atomics.load(this.prod, 0)), maxBytes, cb);
    if (r.cons !== start) Atomics.store(this.cons, 0, BigInt(r.cons));
    return r.records;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const lb = libbpf();
    lb.munmap(this.prodPtr, this.page + this.size);
    lb.munmap(this.consPtr, this.page);
    this.prodPtr = 0n;
    this.consPtr = 0n;
  }
}

/**
 * The records committed in [cons, prod) of a ring's data area (mapped once:
 * data.length is the ring size, a power of two), in order, up to maxBytes.
 * Stops at a record a producer is still writing. A record that wraps the end
 * is handed over as a copy of its two pieces.
 */
export function walkRecords(
  data: Uint8Array,
  hdr32: Uint32Array,
  cons: number,
  prod: number,
  maxBytes: number,
  cb: (rec: Uint8Array) => void,
): { cons: number; records: number; wrapped: number } {
  const size = data.length;
  const mask = size - 1;
  const start = cons;
  let records = 0;
  let wrapped = 0;
  while (cons < prod && cons - start < maxBytes) {
    const off = cons & mask;
    const word = Atomics.load(hdr32, off >>> 2);
    if (word & BUSY) break; // producer still writing it
    const len = word & 0x3fffffff; // clear BUSY and DISCARD
    if (!(word & DISCARD)) {
      const from = (off + HDR) & mask;
      if (from + len <= size) cb(data.subarray(from, from + len));
      else {
        cb(Buffer.concat([data.subarray(from), data.subarray(0, from + len - size)]));
        wrapped++;
      }
      records++;
    }
    cons += (len + HDR + 7) & ~7;
  }
  return { cons, records, wrapped };
}
