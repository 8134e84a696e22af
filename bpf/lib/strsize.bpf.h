/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The real size of a failed exec's argv or env when its capture was cut
 * (argv_bytes/env_bytes are "the size in the process, before any capture
 * limit"): every string of the caller's array measured again, CHUNK bytes per
 * read, with no copy kept. Only on bpf_loop plans (5.17+): unrolled, up to
 * STRSIZE_STEPS reads would cost the verifier far more than the exit program
 * itself; there (and when a read faults or the steps run out) the size is
 * EL_SIZE_UNKNOWN, which the JSON record shows as null. Runs only for a
 * failed exec whose capture was cut (E2BIG and the like), never for the
 * common ENOENT of a PATH search. Its state is in scratch (map memory), not
 * in the loop's stack context: counters there would be exact constants to
 * the verifier, which then never finds two iterations equal (6.18 refused it
 * with E2BIG, a million instructions).
 */
#ifndef EXECLENS_STRSIZE_BPF_H
#define EXECLENS_STRSIZE_BPF_H

/* reads at most: 65,536 strings, or 2 GiB, more than an exec can be asked for with 8 GiB of stack */
#define STRSIZE_STEPS (1u << 16)

struct strsize_ctx {
	__u32 slot;
	__u32 compat;
	__u64 arr;
};

static __always_inline int strsize_step(struct scratch *s, __u32 i, struct strsize_ctx *c)
{
	__u64 p = MAP_LOAD(s->sz.p);
	long n;

	if (!p) {
		if (read_uptr(&p, c->arr, MAP_LOAD(s->sz.idx), c->compat, false)) {
			s->sz.end = 2;
			return 1;
		}
		if (!p) {
			s->sz.end = 1;
			return 1;
		}
		s->sz.p = p;
		s->sz.at = 0;
	}
	n = bpf_probe_read_user_str(s->data, CHUNK, (const void *)(p + MAP_LOAD(s->sz.at)));
	if (n < 0) {
		s->sz.end = 2;
		return 1;
	}
	if (n == CHUNK) {
		/* CHUNK - 1 bytes and no end yet: the next read starts where this one stopped */
		s->sz.at += CHUNK - 1;
		s->sz.total += CHUNK - 1;
		return 0;
	}
	/* with its NUL; 6.1 returns 0 for an empty string (see strs_step) */
	s->sz.total += n > 0 ? n : 1;
	s->sz.idx += 1;
	s->sz.p = 0;
	return 0;
}
DEFINE_LOOP_CB(strsize_step, struct strsize_ctx)

static __always_inline __u32 str_array_size(struct scratch *s, __u32 slot, bool loop, __u64 arr, bool compat)
{
	struct strsize_ctx c = { .slot = slot, .compat = compat, .arr = arr };

	if (!loop)
		return EL_SIZE_UNKNOWN;
	__builtin_memset(&s->sz, 0, sizeof(s->sz));
	bpf_loop(STRSIZE_STEPS, strsize_step_cb, &c, 0);
	if (s->sz.end != 1 || s->sz.total >= EL_SIZE_UNKNOWN)
		return EL_SIZE_UNKNOWN;
	return s->sz.total;
}

#endif
