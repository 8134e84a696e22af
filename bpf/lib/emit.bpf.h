/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Ring records: the header stamp, exec ids, chunks (from scratch or straight
 * from a user string) and the exec record that commits them. Every record
 * that does not fit the ring is counted (stats) and marked in its exec.
 */
#ifndef EXECLENS_EMIT_BPF_H
#define EXECLENS_EMIT_BPF_H

static __always_inline void stamp(struct rec_hdr *h, __u32 kind)
{
	h->kind = kind;
	h->cpu = bpf_get_smp_processor_id();
	h->seq = next_counter(EL_CTR_SEQ);
}

/*
 * Exec id: tid (22 bits, pid_max <= 2^22) | cpu (12) | per-CPU counter (30).
 * The per-CPU counter is a plain read+write (a fetch-add needs BPF atomics,
 * which 5.10 lacks); on a preemptible kernel two tasks on one CPU can read the
 * same value. The thread id keeps their ids apart: a thread runs one exec at a
 * time, so it cannot race with itself.
 */
#define EXEC_ID_TID_BITS 22
#define EXEC_ID_CPU_BITS 12
#define EXEC_ID_CTR_BITS 30
static __always_inline __u64 new_exec_id(void)
{
	__u64 tid = (__u32)bpf_get_current_pid_tgid() & ((1u << EXEC_ID_TID_BITS) - 1);
	__u64 cpu = bpf_get_smp_processor_id() & ((1u << EXEC_ID_CPU_BITS) - 1);

	return (tid << (EXEC_ID_CPU_BITS + EXEC_ID_CTR_BITS)) | (cpu << EXEC_ID_CTR_BITS) |
	       (next_counter(EL_CTR_EXEC_ID) & ((1u << EXEC_ID_CTR_BITS) - 1));
}

/* Emit scratch->data[0..len) as one chunk of field at offset; counts it in s->e. */
static __always_inline void flush_chunk(struct scratch *s, __u32 field, __u32 offset, __u64 len)
{
	if (len > 2 * CHUNK)
		len = 2 * CHUNK;
	s->c.exec_id = s->e.exec_id;
	s->c.field = field;
	s->c.len = len;
	s->c.offset = offset;
	s->c._pad = 0;
	stamp(&s->c.hdr, EL_REC_CHUNK);
	s->e.nchunks += 1;
	if (bpf_ringbuf_output(&events, &s->c, sizeof(s->c) + len, BPF_RB_NO_WAKEUP)) {
		stat_inc(EL_ST_RB_DROP_CHUNK);
		s->e.flags |= EL_EXEC_CHUNK_LOST;
	}
}

/*
 * emit_ustr_SIZE's result when the ring had no room: below every -errno the
 * string-read helpers return, and not a length.
 */
#define EMIT_RING_FULL (-1000)

/*
 * A user string straight into a ring record (no scratch: safe in sleepable
 * programs). Tries a small record first and only reserves PATH_MAX for long
 * strings. Returns the helper's result, SIZE (too long: retry larger), or
 * EMIT_RING_FULL.
 */
#define DEFINE_EMIT_USTR(SIZE)                                                          \
static __always_inline long emit_ustr_##SIZE(__u64 exec_id, __u32 field, const void *p)\
{                                                                                       \
	struct { struct el_chunk c; char d[SIZE]; } *r;                                 \
	long n;                                                                         \
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);                                \
	if (!r) {                                                                       \
		stat_inc(EL_ST_RB_DROP_CHUNK);                                          \
		return EMIT_RING_FULL;                                                  \
	}                                                                               \
	n = bpf_probe_read_user_str(r->d, SIZE, p);                                     \
	if (n == SIZE && SIZE < PATH_STR) {                                             \
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);                               \
		return SIZE; /* too long for this size: caller retries larger */        \
	}                                                                               \
	r->c.exec_id = exec_id;                                                         \
	r->c.field = field;                                                             \
	r->c.offset = 0;                                                                \
	r->c._pad = 0;                                                                  \
	r->c.len = n > 0 ? n : 0;                                                       \
	stamp(&r->c.hdr, EL_REC_CHUNK);                                                 \
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);                                        \
	return n;                                                                       \
}
DEFINE_EMIT_USTR(256)  /* SMALL_STR */
DEFINE_EMIT_USTR(4096) /* PATH_STR */

/* returns flags: fault/trunc bits given; *nchunks counts records attempted */
static __always_inline __u32 emit_ustr(__u64 exec_id, __u32 field, const void *p,
				       __u32 fault_flag, __u32 trunc_flag, __u32 *nchunks)
{
	long n = emit_ustr_256(exec_id, field, p);
	if (n == SMALL_STR)
		n = emit_ustr_4096(exec_id, field, p);
	if (n == EMIT_RING_FULL)
		return EL_EXEC_CHUNK_LOST;
	*nchunks += 1;
	if (n < 0) {
		stat_inc(EL_ST_READ_FAULT);
		return fault_flag;
	}
	if (n == PATH_STR)
		return trunc_flag;
	return 0;
}

/* ring space for an exec record; a full ring is counted */
static __always_inline struct el_exec *reserve_exec(void)
{
	struct el_exec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r)
		stat_inc(EL_ST_RB_DROP_EXEC);
	return r;
}

static __always_inline void submit_reserved_exec(struct el_exec *r)
{
	stamp(&r->hdr, EL_REC_EXEC);
	stat_inc(EL_ST_EXECS);
	/* the commit record wakes the reader up (chunks never do) */
	bpf_ringbuf_submit(r, 0);
}

static __always_inline int submit_exec(struct el_exec *e)
{
	struct el_exec *r = reserve_exec();

	if (!r)
		return -1;
	__builtin_memcpy(r, e, sizeof(*r));
	submit_reserved_exec(r);
	return 0;
}

#endif
