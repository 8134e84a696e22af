/**
 * The env blocks the kernel side sent whole, by their hash (bpf/lib/envhash.bpf.h): an exec record that
 * carries only the hash (ExecFlag.ENV_REF) gets its environment from here, so every output shows the whole
 * environment as if it had come with the exec.
 *
 * The kernel remembers at most ENV_SENT_MAX (1,024) hashes in an LRU map and sends a block whole again once it
 * forgot it. Userspace must not forget a block the kernel still believes sent, so it keeps every block, in
 * use order, up to a byte budget: 256 MiB, i.e. 1,024 blocks of up to 256 KiB, or 65,536 blocks of 4 KiB
 * (an ordinary env is 2-4 KiB). Only when more distinct large blocks than that are alive at once (e.g. 300
 * different 1 MiB envs) does it drop the least recently used one: counted (`evicted`), and a later reference
 * to it is counted as unresolved and its exec's env marked lost, never guessed.
 */

/** the byte budget (see above) */
export const ENV_CACHE_BYTES = 256 << 20;

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
  readonly stats: EnvCacheStats = { sent: 0, referenced: 0, evicted: 0 };

  constructor(private readonly budget = ENV_CACHE_BYTES) {}

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
    }
  }

  /**
   * The env sent earlier under `hash`, null if not (yet) here. `bytes` is the length the record gives: a block
   * of another length under the same hash is not the one referred to (a collision).
   */
  get(hash: bigint, bytes: number): Buffer[] | null {
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
