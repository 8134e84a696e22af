/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * argv and env, two ways: the new image's contiguous block (after a
 * successful exec, emit_block) or the caller's pointer array, string by
 * string (a failed exec, emit_str_array).
 */
#ifndef EXECLENS_ARGV_BPF_H
#define EXECLENS_ARGV_BPF_H

/*
 * Copy a contiguous user block (the new image's argv or env area) in chunks.
 * Sized by the block's real length: reading past env_end can cross the top of
 * the stack and fault. Returns bytes emitted; *total gets the block length.
 */
struct block_ctx {
	__u32 slot;
	__u32 field;
	__u32 fault_flag;
	__u32 _pad;
	__u64 start;
	__u64 len;
};

static __always_inline int block_step(struct scratch *s, __u32 i, struct block_ctx *c)
{
	__u32 off = MAP_LOAD(s->off);
	__u64 len = c->len;

	if (i >= cfg_block_chunks || off >= len)
		return 1;
	__u64 n = len - off;
	barrier_var(n);
	if (n > CHUNK)
		n = CHUNK;
	if (bpf_probe_read_user(s->data, n, (const void *)(c->start + off))) {
		stat_inc(EL_ST_READ_FAULT);
		s->e.flags |= c->fault_flag;
		return 1;
	}
	flush_chunk(s, c->field, off, n);
	s->off = off + n;
	return 0;
}
DEFINE_LOOP_CB(block_step, struct block_ctx)

static __always_inline __u32 emit_block(struct scratch *s, __u32 slot, bool loop, __u32 field,
					__u64 start, __u64 end, __u32 *total, __u32 trunc_flag,
					__u32 fault_flag)
{
	struct block_ctx c = {
		.slot = slot, .field = field, .fault_flag = fault_flag,
		.start = start, .len = end > start ? end - start : 0,
	};

	*total = c.len;
	s->off = 0;
	RUN_LOOP(BLOCK_MAX_CHUNKS, loop, block_step_cb, block_step, s, &c);
	if (s->off < c.len && !(s->e.flags & fault_flag))
		s->e.flags |= trunc_flag;
	return s->off;
}

/*
 * argv/env of a failed exec, string by string from the caller's pointer
 * array (the old image is still there). Up to STR_ARRAY_MAX strings of up
 * to CHUNK bytes each. Returns bytes emitted.
 */
struct strs_ctx {
	__u32 slot;
	__u32 field;
	__u32 trunc_flag;
	__u32 fault_flag;
	__u64 arr;
	__u32 compat;
	__u32 fault_field; /* EL_F_ARGV_FAULT / EL_F_ENV_FAULT: which items could not be read */
};

static __always_inline int strs_step(struct scratch *s, __u32 i, struct strs_ctx *c)
{
	__u64 p = 0;

	if (read_uptr(&p, c->arr, i, c->compat, false)) {
		s->e.flags |= c->fault_flag;
		stat_inc(EL_ST_READ_FAULT);
		s->trunc = 0;
		return 1;
	}
	if (!p) {
		s->trunc = 0;
		return 1;
	}
	__u32 off = MAP_LOAD(s->off);
	if (off > CHUNK - 1)
		return 1;
	long n = bpf_probe_read_user_str(&s->data[off & CHUNK_MASK], CHUNK, (const void *)p);
	/* an empty string: 6.1 returns 0 for it (its strncpy_from_user_nofault() counts the NUL only after a
	 * non-empty string; newer kernels return 1) */
	if (n == 0) {
		s->data[off & CHUNK_MASK] = 0;
		n = 1;
	}
	if (n < 0) {
		/* an empty string in its place, and a mark saying which item it is (not a real "") */
		s->e.flags |= c->fault_flag;
		stat_inc(EL_ST_READ_FAULT);
		s->data[off & CHUNK_MASK] = 0;
		n = 1;
		if (s->nbad < 4)
			s->bad[s->nbad & 3] = i;
		s->nbad++;
	} else if (n == CHUNK) {
		s->e.flags |= c->trunc_flag;
	}
	off += n;
	if (off >= CHUNK) {
		flush_chunk(s, c->field, MAP_LOAD(s->base), off);
		s->base = MAP_LOAD(s->base) + off;
		off = 0;
	}
	s->off = off;
	return 0;
}
DEFINE_LOOP_CB(strs_step, struct strs_ctx)

static __always_inline __u32 emit_str_array(struct scratch *s, __u32 slot, bool loop, __u32 field,
					    __u64 arr, bool compat, __u32 trunc_flag, __u32 fault_flag)
{
	struct strs_ctx c = {
		.slot = slot, .field = field, .trunc_flag = trunc_flag, .fault_flag = fault_flag,
		.arr = arr, .compat = compat, .fault_field = field == EL_F_ARGV ? EL_F_ARGV_FAULT : EL_F_ENV_FAULT,
	};

	s->off = 0;
	s->base = 0;
	s->trunc = 1;
	s->nbad = 0;
	if (!arr)
		return 0;
	RUN_LOOP(STR_ARRAY_MAX, loop, strs_step_cb, strs_step, s, &c);
	/* the unreadable items by index: the first four (more are in the fault flag only) */
	for (int k = 0; k < 4; k++)
		if (k < s->nbad)
			emit_mark(s, c.fault_field, s->bad[k]);
	if (s->off > 0)
		flush_chunk(s, field, s->base, s->off);
	if (s->trunc)
		s->e.flags |= trunc_flag;
	return s->base + s->off;
}

#endif
