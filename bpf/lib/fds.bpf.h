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
	__u64 open;           /* open now (after exec) */
	__u64 entry_open;     /* open at syscall entry */
	__u64 entry_cloexec;  /* FD_CLOEXEC at syscall entry */
};

static __always_inline int fds_step(struct scratch *s, __u32 i, struct fds_ctx *c)
{
	struct el_fd *e = (struct el_fd *)s->data;
	__u64 bit = 1ULL << (i & 63);

	if (c->open & bit) {
		struct file *f = NULL;
		bpf_probe_read_kernel(&f, sizeof(f), &c->fdarr[i & 63]);
		if (!f)
			return 0;
		struct inode *ino = BPF_CORE_READ(f, f_inode);
		e->fd = i;
		e->f_flags = BPF_CORE_READ(f, f_flags);
		e->ino = BPF_CORE_READ(ino, i_ino);
		e->dev = BPF_CORE_READ(ino, i_sb, s_dev);
		e->mode = BPF_CORE_READ(ino, i_mode);
		e->cloexec = 0;
		e->_pad = 0;
		s->off = sizeof(*e);
		walk_path(s, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt),
			  c->root_d, c->root_m, FD_PATH_DEPTH);
		e->path_len = s->off - sizeof(*e);
		s->e.nfds += 1;
		flush_chunk(s, EL_F_FDS, i, s->off);
	} else if ((c->entry_open & bit) && (c->entry_cloexec & bit)) {
		__builtin_memset(e, 0, sizeof(*e));
		e->fd = i;
		e->cloexec = 1;
		s->e.nfds += 1;
		flush_chunk(s, EL_F_FDS, i, sizeof(*e));
	}
	return 0;
}
DEFINE_LOOP_CB(fds_step, struct fds_ctx)

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
	if (more || (open >> FD_SCAN))
		s->e.flags |= EL_EXEC_FDS_TRUNC;
	c.open = open;
	RUN_LOOP(FD_SCAN, loop, fds_step_cb, fds_step, s, &c);
}

#endif
