/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Paths from the VFS: a dentry walk up to the task's root, and the cwd. */
#ifndef EXECLENS_PATH_BPF_H
#define EXECLENS_PATH_BPF_H

/*
 * Walk a path from leaf to root, appending NUL-terminated components to
 * s->data at s->off. Crosses mount points; stops at the task's root.
 * s->trunc is set when the depth ran out.
 */
static __always_inline void walk_path(struct scratch *s, struct dentry *dentry,
				      struct vfsmount *vfsmnt, struct dentry *root_d,
				      struct vfsmount *root_m, int depth)
{
	struct mount *mnt = container_of(vfsmnt, struct mount, mnt);
	int i;

	s->trunc = 1;
	for (i = 0; i < CWD_DEPTH; i++) {
		if (i >= depth)
			break;
		if (dentry == root_d && vfsmnt == root_m) {
			s->trunc = 0;
			break;
		}
		struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
		if (dentry == mnt_root) {
			struct mount *parent = BPF_CORE_READ(mnt, mnt_parent);
			if (parent == mnt) {
				s->trunc = 0;
				break;
			}
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = parent;
			vfsmnt = &parent->mnt;
			continue;
		}
		struct dentry *up = BPF_CORE_READ(dentry, d_parent);
		if (up == dentry) {
			s->trunc = 0;
			break;
		}
		__u32 off = MAP_LOAD(s->off);
		if (off > CHUNK - NAME_BUF)
			break;
		long n = bpf_probe_read_kernel_str(&s->data[off & CHUNK_MASK], NAME_BUF,
						   BPF_CORE_READ(dentry, d_name.name));
		if (n > 0)
			s->off = off + n;
		dentry = up;
	}
}

/* EL_F_CWD chunk */
static __always_inline void emit_cwd(struct scratch *s, struct task_struct *t)
{
	struct fs_struct *fs = BPF_CORE_READ(t, fs);

	s->off = 0;
	walk_path(s, BPF_CORE_READ(fs, pwd.dentry), BPF_CORE_READ(fs, pwd.mnt),
		  BPF_CORE_READ(fs, root.dentry), BPF_CORE_READ(fs, root.mnt), CWD_DEPTH);
	if (s->trunc)
		s->e.flags |= EL_EXEC_CWD_TRUNC;
	flush_chunk(s, EL_F_CWD, 0, s->off);
}

#endif
