/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Paths from the VFS: a dentry walk up to the task's root, and the cwd. */
#ifndef EXECLENS_PATH_BPF_H
#define EXECLENS_PATH_BPF_H

/*
 * Walk a path from leaf to root, appending NUL-terminated components to
 * s->data at s->off. Crosses mount points; stops at the task's root.
 * s->trunc is set when the depth ran out.
 */
static __always_inline void walk_path_named(struct scratch *s, struct dentry *dentry,
					    struct vfsmount *vfsmnt, struct dentry *root_d,
					    struct vfsmount *root_m, int depth, bool pseudo_name)
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
			/* a pseudo file's dentry is its own parent (d_alloc_pseudo: memfd, pipe, anon inode):
			 * its name ("memfd:prog") is the whole path, as d_path() shows it */
			if (!pseudo_name)
				break;
		}
		__u32 off = MAP_LOAD(s->off);
		if (off > CHUNK - NAME_BUF)
			break;
		long n = bpf_probe_read_kernel_str(&s->data[off & CHUNK_MASK], NAME_BUF,
						   BPF_CORE_READ(dentry, d_name.name));
		if (n > 0)
			s->off = off + n;
		if (up == dentry)
			break;
		dentry = up;
	}
}

static __always_inline void walk_path(struct scratch *s, struct dentry *dentry, struct vfsmount *vfsmnt,
				      struct dentry *root_d, struct vfsmount *root_m, int depth)
{
	walk_path_named(s, dentry, vfsmnt, root_d, root_m, depth, false);
}

/* EL_F_CWD chunk */
static __always_inline void emit_cwd(struct scratch *s, struct task_struct *t)
{
	struct fs_struct *fs = BPF_CORE_READ(t, fs);

	struct dentry *pwd = BPF_CORE_READ(fs, pwd.dentry);

	s->off = 0;
	walk_path(s, pwd, BPF_CORE_READ(fs, pwd.mnt), BPF_CORE_READ(fs, root.dentry), BPF_CORE_READ(fs, root.mnt),
		  CWD_DEPTH);
	if (s->trunc)
		s->e.flags |= EL_EXEC_CWD_TRUNC;
	/* removed since: d_unlinked(), an unhashed dentry that is not a root (IS_ROOT: its own parent; roots
	 * are never hashed), where d_path() would add " (deleted)" */
	if (!BPF_CORE_READ(pwd, d_hash.pprev) && BPF_CORE_READ(pwd, d_parent) != pwd)
		s->e.flags |= EL_EXEC_CWD_DELETED;
	flush_chunk(s, EL_F_CWD, 0, s->off);
}

/*
 * EL_F_EXE chunk: the file the new image runs (mm->exe_file, what /proc/PID/exe shows), resolved by the
 * kernel — for execveat by dirfd or AT_EMPTY_PATH the only full name of what ran.
 */
static __always_inline void emit_exe(struct scratch *s, struct task_struct *t)
{
	struct file *f = BPF_CORE_READ(t, mm, exe_file);
	struct fs_struct *fs = BPF_CORE_READ(t, fs);

	if (!f)
		return;
	s->off = 0;
	walk_path_named(s, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt),
			BPF_CORE_READ(fs, root.dentry), BPF_CORE_READ(fs, root.mnt), CWD_DEPTH, true);
	if (s->trunc)
		s->e.flags |= EL_EXEC_EXE_TRUNC;
	flush_chunk(s, EL_F_EXE, 0, s->off);
}

#endif
