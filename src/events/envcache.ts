/**
 * The env blocks the kernel side sent whole, by their hash (bpf/lib/envhash.bpf.h): an exec record that
 * carries only the hash (ExecFlag.ENV_REF) gets its environment from here, so every output shows the whole
 * environment as if it had come with the exec.
 *
 * The kernel remembers at most ENV_SENT_MAX (1,024) hashes in an LRU map and sends a block whole again once it
 * forgot it. Userspace must not forget a block the kernel still believes sent, so it keeps every block, in
 * use order, up to a byte budget: 256 MiB, i.e. 1,024 blocks of up to 256 KiB, or 65,536 blocks of 4 KiB
 * (an ordinary env is 2-4 KiB). Only when more distinct large blocks than that are alive at once (e.g. 300
 * different 1 MiB envs) does it drop the least recently used one, counted (`evicted`). A reference that finds
 * no block is counted as unresolved and its exec's env marked lost, never guessed.
 *
 * So that a drop does not cost later execs their env, the tracer makes the kernel forget the hash (the eBPF
 * source: `forget`, a delete from the env_sent map) before the block is dropped: the block is
 * deleted from the kernel's map, so the next exec with it sends it whole again. An exec that looked the hash up
 * just before the delete still refers to it: the dropped block is kept, retired, until an exec record stamped
 * RETIRE_GRACE_NS after the delete has come (records reach userspace in reservation order, and a program run
 * does not last a second), then let go.
 */

/** the byte budget (see above) */
export const ENV_CACHE_BYTES = 256 << 20;

/** how long a dropped block stays for references already on their way (see above), on the records' clock */
export const RETIRE_GRACE_NS = 1_000_000_000n;

/** what makes the kernel forget a hash, and the records' clock now */
export interface EnvForget {
  forget(hash: bigint): void;
  nowNs(): bigint;
}

export interface EnvCacheStats {
  /** execs whose env came whole with a hash (the kernel remembers it from then on) */
  sent: number;
  /** execs whose env came as a hash only and was put back from the cache */
  referenced: number;
  /** blocks dropped for the byte budget */
  evicted: number;
}

interface Entry {
  env: Buffer[];
  bytes: number;
}

export class EnvCache {
  /** insertion order is use order: a hit moves its entry to the end */
  private readonly blocks = new Map<bigint, Entry>();
  private bytes = 0;
  /** blocks dropped and deleted from the kernel's map, kept until `untilNs` for references on their way */
  private readonly retired = new Map<bigint, Entry & { untilNs: bigint }>();
  readonly stats: EnvCacheStats = { sent: 0, referenced: 0, evicted: 0 };

  constructor(
    private readonly budget = ENV_CACHE_BYTES,
    private readonly kernel: EnvForget | null = null,
  ) {}

  /** an exec record stamped tsNs came: retired blocks whose grace ended before it are let go */
  expire(tsNs: bigint): void {
    if (this.retired.size === 0) return;
    for (const [h, e] of this.retired) if (e.untilNs < tsNs) this.retired.delete(h);
  }

  /** a block that came whole under `hash` (bytes: its length in the record) */
  put(hash: bigint, env: Buffer[], bytes: number): void {
    this.stats.sent++;
    const old = this.blocks.get(hash);
    if (old) {
      this.bytes -= old.bytes;
      this.blocks.delete(hash);
    }
    this.blocks.set(hash, { env, bytes });
    this.bytes += bytes;
    for (const [h, e] of this.blocks) {
      if (this.bytes <= this.budget || h === hash) break;
      this.blocks.delete(h);
      this.bytes -= e.bytes;
      this.stats.evicted++;
      if (this.kernel) {
        this.kernel.forget(h);
        this.retired.set(h, { ...e, untilNs: this.kernel.nowNs() + RETIRE_GRACE_NS });
      }
    }
  }

  /**
   * The env sent earlier under `hash`, null if not (yet) here. `bytes` is the length the record gives: a block
   * of another length under the same hash is not the one referred to (a collision).
   */
  get(hash: bigint, bytes: number): Buffer[] | null {
    const r = this.retired.get(hash);
    if (r && r.bytes === bytes) {
      this.stats.referenced++;
      return r.env;
    }
    const e = this.blocks.get(hash);
    if (!e || e.bytes !== bytes) return null;
    this.blocks.delete(hash);
    this.blocks.set(hash, e);
    this.stats.referenced++;
    return e.env;
  }

  get size(): number {
    return this.blocks.size;
  }
}
