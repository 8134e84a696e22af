/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Env dedupe: most execs pass their environment on unchanged, and an env of a few KB is most of an exec's
 * bytes (1 MiB each in the bench's heavy workload, which filled the default ring). The commit hashes the new
 * image's env block; a hash this tracer already sent whole (the env_sent map) goes into the exec record alone
 * (EL_EXEC_ENV_REF + env_hash), and userspace puts the block back (src/events/envcache.ts), so every output
 * stays as it was.
 *
 * Why the block is hashed in a pass of its own, before anything is sent: ring records cannot be taken back,
 * and a block of more than one chunk would otherwise be half sent before its hash is known (a reservation
 * cannot outlive a bpf_loop iteration, so reserve-then-discard is not possible for many chunks). The pass
 * reads the block chunk by chunk into scratch, the same reads emit_block does. A block of one chunk (every
 * ordinary env: <= 32 KiB) is then still in scratch and is sent from there: one read, as before. A longer one
 * is read a second time only when it is sent whole, i.e. the first time its hash is seen.
 *
 * Only the bpf_loop programs (5.17+) dedupe: the hash walks the block 256 bytes per callback, which an
 * unrolled loop cannot do within the verifier's limits (2 MiB = 8192 steps). The unrolled plans (5.10 up
 * to 5.16) send env whole as before, env_hash 0.
 *
 * Ordering: an exec's hash goes into env_sent only after its exec record was reserved and submitted with
 * every chunk written (no CHUNK_LOST, no fault, no cut). An exec on another CPU that then finds the hash
 * reserves its own record later, and the ring hands records out in reservation order, so the whole block
 * always reaches userspace before any reference to it. Userspace still tolerates the other order (a bounded
 * wait, then counted as unresolved). Two CPUs that both miss the hash both send it whole: harmless.
 *
 * The hash: four lanes of (h ^ w) * K; h ^= h >> 29 over 64-bit words (independent lanes keep the CPU's
 * multipliers busy: the cost per word is ~1.5 cycles, not a 6-cycle dependency chain), the lanes and the
 * length folded and finalised with murmur3's fmix64. Seeded per tracer (cfg.env_seed) so that a crafted
 * collision cannot be prepared in advance; it is not a keyed cryptographic hash, and userspace also checks
 * the length. A collision would show another env of the same length for that exec: 2^-64 by accident.
 */
#ifndef EXECLENS_ENVHASH_BPF_H
#define EXECLENS_ENVHASH_BPF_H

#define HASH_STEP  256u                   /* bytes hashed per bpf_loop callback */
#define HASH_WORDS (HASH_STEP / 8)
#define HASH_K     0x9E3779B97F4A7C15ull  /* 2^64 / golden ratio, odd */

struct hash_ctx {
	__u32 slot;
	__u32 _pad;
	__u64 start;
	__u64 len;
};

static __always_inline __u64 hash_mix(__u64 h, __u64 w)
{
	h = (h ^ w) * HASH_K;
	return h ^ (h >> 29);
}

static __always_inline int hash_step(struct scratch *s, __u32 i, struct hash_ctx *c)
{
	__u64 off = (__u64)i * HASH_STEP;
	__u64 len = c->len;

	if (off >= len)
		return 1;
	if ((off & CHUNK_MASK) == 0) {
		__u64 n = len - off;
		barrier_var(n);
		if (n > CHUNK)
			n = CHUNK;
		if (bpf_probe_read_user(s->data, n, (const void *)(c->start + off))) {
			s->hfault = 1;
			return 1;
		}
	}
	/* word-aligned in scratch (data is 8-aligned): strict-alignment arches (riscv64) verify the loads */
	const __u64 *w = (const __u64 *)&s->data[off & (CHUNK - HASH_STEP)];
	__u64 rem = len - off;
	__u64 l0 = MAP_LOAD(s->lane[0]), l1 = MAP_LOAD(s->lane[1]);
	__u64 l2 = MAP_LOAD(s->lane[2]), l3 = MAP_LOAD(s->lane[3]);

	if (rem >= HASH_STEP) {
#pragma unroll
		for (int j = 0; j < HASH_WORDS; j += 4) {
			l0 = hash_mix(l0, w[j]);
			l1 = hash_mix(l1, w[j + 1]);
			l2 = hash_mix(l2, w[j + 2]);
			l3 = hash_mix(l3, w[j + 3]);
		}
	} else {
		/* the block's last step: whole words, then the tail's bytes with the rest masked off (scratch past
		 * the block holds whatever an earlier exec left there) */
#pragma unroll
		for (int j = 0; j < HASH_WORDS; j++) {
			if ((__u64)j * 8 >= rem)
				break;
			__u64 x = w[j];
			__u64 left = rem - (__u64)j * 8;
			if (left < 8)
				x &= (1ull << (left * 8)) - 1;
			l0 = hash_mix(l0, x);
			/* rotate the lanes: one word each, in turn, as on the fast path */
			__u64 t = l0;
			l0 = l1;
			l1 = l2;
			l2 = l3;
			l3 = t;
		}
	}
	s->lane[0] = l0;
	s->lane[1] = l1;
	s->lane[2] = l2;
	s->lane[3] = l3;
	return 0;
}
DEFINE_LOOP_CB(hash_step, struct hash_ctx)

static __always_inline __u64 fmix64(__u64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static __always_inline __u64 rotl64(__u64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/*
 * The env of a commit, deduplicated. Returns true when it is done: only the hash went into the record
 * (EL_EXEC_ENV_REF), or a one-chunk block was sent from scratch. false: emit_block sends it as before
 * (env_hash stays set when the hash was computed, so userspace keeps the block). Only in bpf_loop programs.
 */
static __always_inline bool emit_env_deduped(struct scratch *s, __u32 slot, __u64 start, __u64 end)
{
	struct hash_ctx c = { .slot = slot, .start = start, .len = end > start ? end - start : 0 };
	__u64 seed = cfg_env_seed;
	__u64 h;

	s->env_new = 0;
	/* an empty env costs nothing to send; one past the capture limit is cut, as before, and not remembered */
	if (c.len == 0 || c.len > (__u64)cfg_block_chunks * CHUNK)
		return false;
	s->lane[0] = seed ^ 0x736f6d6570736575ull;
	s->lane[1] = seed ^ 0x646f72616e646f6dull;
	s->lane[2] = seed ^ 0x6c7967656e657261ull;
	s->lane[3] = seed ^ 0x7465646279746573ull;
	s->hfault = 0;
	bpf_loop((BLOCK_MAX_CHUNKS * CHUNK) / HASH_STEP, hash_step_cb, &c, 0);
	if (MAP_LOAD(s->hfault))
		return false; /* emit_block reads it again and marks the fault */
	h = fmix64(s->lane[0] ^ rotl64(s->lane[1], 17) ^ rotl64(s->lane[2], 31) ^ rotl64(s->lane[3], 47) ^
		   (c.len * HASH_K));
	if (!h)
		h = 1; /* 0 means "no hash" */
	s->e.env_hash = h;
	s->e.env_total = c.len;
	if (bpf_map_lookup_elem(&env_sent, &h)) {
		s->e.flags |= EL_EXEC_ENV_REF;
		s->e.env_len = 0;
		return true;
	}
	s->env_new = 1;
	if (c.len > CHUNK)
		return false;
	/* the block is still in scratch from the hash pass */
	flush_chunk(s, EL_F_ENV, 0, c.len);
	s->e.env_len = c.len;
	return true;
}

/* after the exec record went out: remember a block sent whole, if every record of the exec made it */
static __always_inline void env_sent_commit(struct scratch *s)
{
	__u32 one = 1;
	__u64 h = s->e.env_hash;

	if (!s->env_new || (s->e.flags & (EL_EXEC_CHUNK_LOST | EL_EXEC_ENV_FAULT | EL_EXEC_ENV_TRUNC)))
		return;
	bpf_map_update_elem(&env_sent, &h, &one, BPF_ANY);
}

#endif
