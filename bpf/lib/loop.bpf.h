/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Loops are written once, as a step function (one iteration; returns 1 to
 * stop), and run two ways (RUN_LOOP): unrolled by a bounded for loop (bounded
 * loops: 5.3+), which the verifier walks iteration by iteration (~200K
 * processed instructions for a commit program, ~0.3 s of start-up), or by
 * bpf_loop() (5.17+), whose callback the verifier checks on its own (a few
 * thousand). Which one is a compile-time constant per wrapper (the `loop`
 * argument), so the unrolled programs hold no bpf_loop call, which a 5.10
 * verifier refuses even in dead code (scripts/check-bpf-object.py checks).
 */
#ifndef EXECLENS_LOOP_BPF_H
#define EXECLENS_LOOP_BPF_H

/* A real load from map memory: clang may not forward a stored value in a
 * register (the verifier would then track its range across iterations). */
#define MAP_LOAD(x) (*(volatile typeof(x) *)&(x))

/*
 * Run step(s, i, c) for i in [0, n) until it returns 1: unrolled, or with
 * bpf_loop, whose callback cb finds the scratch buffer again by c->slot.
 */
#define RUN_LOOP(n, loop, cb, step, s, c)                                   \
	do {                                                                \
		if (loop) {                                                 \
			bpf_loop((n), (cb), (c), 0);                        \
		} else {                                                    \
			/* a copy whose address never escapes: its fields   \
			 * stay in registers (a stack reload at the loop    \
			 * head made clang end the latch with a load that   \
			 * falls through into the header, a back-edge older \
			 * verifiers (6.1) refuse: check-bpf-object.py) */  \
			typeof(*(c)) c__ = *(c);                            \
			int i__;                                            \
			for (i__ = 0; i__ < (n); i__++)                     \
				if (step((s), i__, &c__))                   \
					break;                              \
		}                                                           \
	} while (0)

/* the bpf_loop callback of a step function: ctx is a struct whose first member is the slot */
#define DEFINE_LOOP_CB(step, ctx_type)                                      \
	static long step##_cb(__u32 i, void *ctx)                           \
	{                                                                   \
		ctx_type *c = ctx;                                          \
		struct scratch *s = get_scratch(c->slot);                   \
									    \
		return s ? step(s, i, c) : 1;                               \
	}

#endif
