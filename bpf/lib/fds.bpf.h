/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* File descriptors: the open/close-on-exec bitmaps, and one EL_F_FDS chunk per fd. */
#ifndef EXECLENS_FDS_BPF_H
#define EXECLENS_FDS_BPF_H

static __always_inline void fd_bitmaps(struct task_struct *t, __u64 *open, __u64 *cloexec,
				       __u64 *more)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	unsigned long *o = BPF_CORE_READ(fdt, open_fds);
	unsigned long *c = BPF_CORE_READ(fdt, close_on_exec);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	*open = 0;
	*cloexec = 0;
	*more = 0;
	bpf_probe_read_kernel(open, sizeof(*open), o);
	bpf_probe_read_kernel(cloexec, sizeof(*cloexec), c);
	/* fds 64..255: only whether any is open (reported as FDS_TRUNC) */
	if (max >= 256) {
		__u64 w[3] = {};
		bpf_probe_read_kernel(w, sizeof(w), o + 1);
		*more = w[0] | w[1] | w[2];
	} else if (max >= 128) {
		bpf_probe_read_kernel(more, sizeof(*more), o + 1);
	}
}

/*
 * One EL_F_FDS chunk per fd: the fds open after exec (inherited), then those
 * open at entry with FD_CLOEXEC that exec closed (reported without a path).
 */
struct fds_ctx {
	__u32 slot;
	__u32 _pad;
	struct file **fdarr;
	struct dentry *root_d;
	struct vfsmount *root_m;
	__u64 open;           /* open now (after exec), fds 0..63 */
	__u64 entry_open;     /* open at syscall entry, fds 0..63 */
	__u64 entry_cloexec;  /* FD_CLOEXEC at syscall entry, fds 0..63 */
	/* bpf_loop plans: the open_fds bitmap, word by word (the position is in s->fdw) */
	unsigned long *open_words;
	__u32 nwords;
	__u32 _pad2;
};

/* one inherited fd, with its path: an EL_F_FDS chunk whose offset is the fd number */
static __always_inline void emit_open_fd(struct scratch *s, struct fds_ctx *c, __u32 fd, struct file *f)
{
	struct el_fd *e = (struct el_fd *)s->data;
	struct inode *ino = BPF_CORE_READ(f, f_inode);

	e->fd = fd;
	e->f_flags = BPF_CORE_READ(f, f_flags);
	e->ino = BPF_CORE_READ(ino, i_ino);
	e->dev = BPF_CORE_READ(ino, i_sb, s_dev);
	e->mode = BPF_CORE_READ(ino, i_mode);
	e->cloexec = 0;
	e->_pad = 0;
	s->off = sizeof(*e);
	walk_path(s, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt), c->root_d, c->root_m,
		  FD_PATH_DEPTH);
	e->path_len = s->off - sizeof(*e);
	s->e.nfds += 1;
	flush_chunk(s, EL_F_FDS, fd, s->off);
}

/* an fd open at entry with FD_CLOEXEC, which the exec closed: reported without a path */
static __always_inline void emit_closed_fd(struct scratch *s, __u32 fd)
{
	struct el_fd *e = (struct el_fd *)s->data;

	__builtin_memset(e, 0, sizeof(*e));
	e->fd = fd;
	e->cloexec = 1;
	s->e.nfds += 1;
	flush_chunk(s, EL_F_FDS, fd, sizeof(*e));
}

/* unrolled plans: fd i of 0..FD_SCAN-1, inherited or closed by the exec */
static __always_inline int fds_step(struct scratch *s, __u32 i, struct fds_ctx *c)
{
	__u64 bit = 1ULL << (i & 63);

	if (c->open & bit) {
		struct file *f = NULL;
		bpf_probe_read_kernel(&f, sizeof(f), &c->fdarr[i & 63]);
		if (f)
			emit_open_fd(s, c, i, f);
	} else if ((c->entry_open & bit) && (c->entry_cloexec & bit)) {
		emit_closed_fd(s, i);
	}
	return 0;
}
DEFINE_LOOP_CB(fds_step, struct fds_ctx)

/* index of the lowest set bit of w (w != 0): BPF has no count-trailing-zeros instruction */
static __always_inline __u32 low_bit(__u64 w)
{
	__u32 n = 0;

	if (!(w & 0xffffffffULL)) {
		n += 32;
		w >>= 32;
	}
	if (!(w & 0xffff)) {
		n += 16;
		w >>= 16;
	}
	if (!(w & 0xff)) {
		n += 8;
		w >>= 8;
	}
	if (!(w & 0xf)) {
		n += 4;
		w >>= 4;
	}
	if (!(w & 0x3)) {
		n += 2;
		w >>= 2;
	}
	if (!(w & 0x1))
		n += 1;
	return n;
}

/*
 * bpf_loop plans, in two loops. First the open fds' numbers, from the open_fds bitmap into the upper half of
 * scratch->data (emit_open_fd builds its chunk in the lower half): one step per bitmap word or per fd found,
 * no inner loop, the position in scratch (map memory) rather than in the loop's stack context. Then one
 * emit_open_fd per number found, indexed by the loop's own counter. Walking the bitmap and emitting in one
 * callback cost btf_sched_exec_loop 966K of the 1M processed instructions allowed on 6.18 (10K before fds of
 * any number): since 6.7 (ab5cfac139ab, callbacks verified as if called any number of times) the verifier
 * walks a callback until two iterations look the same, and the path walk inside made each walk long.
 */
/* FD_REPORT_MAX numbers: 16 KiB of the upper 32 KiB */
#define FD_LIST(s) ((__u32 *)&(s)->data[CHUNK])
_Static_assert(FD_REPORT_MAX * sizeof(__u32) <= CHUNK, "the fd list fits the upper half of scratch data");

static __always_inline int fds_find_step(struct scratch *s, __u32 i, struct fds_ctx *c)
{
	__u64 word = MAP_LOAD(s->fdw.word);
	__u32 n = MAP_LOAD(s->fdw.n);

	if (!word) {
		__u32 wi = MAP_LOAD(s->fdw.wi) + 1;

		s->fdw.wi = wi;
		if (wi >= c->nwords)
			return 1;
		bpf_probe_read_kernel(&word, sizeof(word), c->open_words + wi);
		s->fdw.word = word;
		return 0;
	}
	if (n >= FD_REPORT_MAX)
		return 1;
	FD_LIST(s)[n & (FD_REPORT_MAX - 1)] = MAP_LOAD(s->fdw.wi) * 64 + low_bit(word);
	s->fdw.word = word & (word - 1);
	s->fdw.n = n + 1;
	return 0;
}
DEFINE_LOOP_CB(fds_find_step, struct fds_ctx)

static __always_inline int fds_emit_step(struct scratch *s, __u32 i, struct fds_ctx *c)
{
	struct file *f = NULL;
	__u32 fd;

	if (i >= MAP_LOAD(s->fdw.n))
		return 1;
	fd = FD_LIST(s)[i & (FD_REPORT_MAX - 1)];
	bpf_probe_read_kernel(&f, sizeof(f), &c->fdarr[fd]);
	if (f)
		emit_open_fd(s, c, fd, f);
	return 0;
}
DEFINE_LOOP_CB(fds_emit_step, struct fds_ctx)

/* bpf_loop plans: the fds of 0..63 that the exec closed */
static __always_inline int fds_closed_step(struct scratch *s, __u32 i, struct fds_ctx *c)
{
	__u64 bit = 1ULL << (i & 63);

	if ((c->entry_open & bit) && (c->entry_cloexec & bit) && !(c->open & bit))
		emit_closed_fd(s, i);
	return 0;
}
DEFINE_LOOP_CB(fds_closed_step, struct fds_ctx)

/*
 * The inherited fds: unrolled plans report fds 0..31 (the verifier walks every iteration), bpf_loop plans
 * (5.17+) every open fd up to FD_REPORT_MAX of them, whatever their numbers (make's jobserver, socket
 * activation, `exec 100>file`). Either way a fd left out sets FDS_TRUNC. The fds the exec closed
 * (FD_CLOEXEC) are known for 0..63 only, from the stash.
 */
static __always_inline void emit_fds(struct scratch *s, __u32 slot, bool loop, struct task_struct *t,
				     __u64 entry_open, __u64 entry_cloexec)
{
	struct fs_struct *fs = BPF_CORE_READ(t, fs);
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	__u64 open = 0, cloexec = 0, more = 0;
	struct fds_ctx c = {
		.slot = slot,
		.fdarr = BPF_CORE_READ(fdt, fd),
		.root_d = BPF_CORE_READ(fs, root.dentry),
		.root_m = BPF_CORE_READ(fs, root.mnt),
		.entry_open = entry_open,
		.entry_cloexec = entry_cloexec,
	};

	fd_bitmaps(t, &open, &cloexec, &more);
	c.open = open;
	if (!loop) {
		if (more || (open >> FD_SCAN))
			s->e.flags |= EL_EXEC_FDS_TRUNC;
		RUN_LOOP(FD_SCAN, loop, fds_step_cb, fds_step, s, &c);
		return;
	}
	c.open_words = BPF_CORE_READ(fdt, open_fds);
	c.nwords = (BPF_CORE_READ(fdt, max_fds) + 63) / 64;
	s->fdw.word = open;
	s->fdw.wi = 0;
	s->fdw.n = 0;
	RUN_LOOP(FD_CLOEXEC_SCAN, loop, fds_closed_step_cb, fds_closed_step, s, &c);
	/* a step per fd found and one per bitmap word */
	RUN_LOOP(FD_REPORT_MAX + FD_WORDS_MAX, loop, fds_find_step_cb, fds_find_step, s, &c);
	RUN_LOOP(FD_REPORT_MAX, loop, fds_emit_step_cb, fds_emit_step, s, &c);
	/* stopped by the cap with bits left: the word still holds some, or a later word might */
	if (MAP_LOAD(s->fdw.word) || MAP_LOAD(s->fdw.wi) + 1 < c.nwords)
		s->e.flags |= EL_EXEC_FDS_TRUNC;
}

#endif
