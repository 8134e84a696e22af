// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * execlens-ptrace: the ptrace backend's tracer process, and the exec shim of
 * the eBPF backend.
 *
 *   execlens-ptrace [--no-seccomp] [--uid N --gid N] [--ctty]   (command spec on fd 4, records to fd 3)
 *   execlens-ptrace --exec [--uid N --gid N] [--ctty]           (command spec on fd 3)
 *   execlens-ptrace --attach PID[,PID...]                        (records to fd 3)
 *
 * The command comes as bytes, never as strings on this command line: Node
 * decodes its own argv and environment as UTF-8 (lossy) and child_process
 * takes only strings, so anything not UTF-8 would reach the command as U+FFFD.
 * execlens takes the bytes from /proc/self/cmdline and /proc/self/environ and
 * writes them to a pipe as a spec (read_spec below; src/backend/execspec.ts
 * writes it): path, argv and env, NUL-separated.
 *
 * Tracing: starts PATH stopped, seizes it (TRACEEXEC|TRACEFORK|TRACEVFORK|
 * TRACECLONE|TRACESECCOMP|EXITKILL) and follows its whole tree. A seccomp
 * filter, installed in the child before its first exec, makes only
 * execve/execveat stop the tracee (SECCOMP_RET_TRACE); with --no-seccomp
 * (execlens passes it for EXECLENS_PTRACE_NO_SECCOMP=1) every syscall stops and
 * the entries are filtered here; a kernel that refuses the filter is a setup
 * failure (125), not a silent switch to the slow path. It writes the same
 * records as the BPF program (bpf/include/execlens_event.h) to fd 3, each
 * preceded by its u32 length, so decoding, assembly and output are shared with
 * the eBPF backend. It ends as the command ended: the same exit code, or the
 * same signal raised on itself (die_like); 125 if the tracer could not start.
 *
 * --exec: drop to --uid/--gid and execve the command, nothing else; the eBPF
 * backend runs its command through this (one native binary per arch: the
 * kernel matrix cross-builds this file for its arm64/riscv64 guests). 127 if
 * the exec fails with ENOENT, 126 otherwise, as a shell does.
 *
 * --hold-enter / --hold-exit (execlens tui's breakpoints): every exec stop of that kind waits for
 * execlens's verdict on fd 5 (see hold() below); the other tracees run on meanwhile.
 *
 * --attach (execlens -p on this backend): seize processes that already run, every thread of each and the
 * descendants they have, breadth first, as strace -p does (attach_tree below). No seccomp filter: one can only
 * be installed by the process itself before it runs, so every syscall stops (--no-seccomp's path). A
 * zero-length record says the walk is done; the end is when every tracee has gone (exit 0), or a detach.
 *
 * --ctty (execlens tui, whose command runs on a pty given as fds 0-2): the command starts a session of its
 * own with that terminal as its controlling one, as a login shell would, so the pty's Ctrl-C, job control
 * and /dev/tty work; the tracer stays out of that session (a Ctrl-C typed there is the command's).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/types.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "execlens_event.h"

#define CHUNK_MAX (32 * 1024)
#define BLOCK_MAX (2u << 20) /* argv / env bytes per exec, as the BPF side */
#define STR_SIZE_MAX (256u << 20) /* a string longer than exec could ever accept is a runaway read */
#define EXIT_SETUP 125

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#define COMPAT_ARCH AUDIT_ARCH_I386
#define COMPAT_NR_EXECVE 11
#define COMPAT_NR_EXECVEAT 358
/* x32 (arch/x86/entry/syscalls/syscall_64.tbl): the native audit arch, numbers with __X32_SYSCALL_BIT */
#define X32_NR_EXECVE (0x40000000 + 520)
#define X32_NR_EXECVEAT (0x40000000 + 545)
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
/* AArch32 tasks (CONFIG_COMPAT): the ARM EABI syscall numbers */
#define COMPAT_ARCH AUDIT_ARCH_ARM
#define COMPAT_NR_EXECVE 11
#define COMPAT_NR_EXECVEAT 387
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_ARCH AUDIT_ARCH_RISCV64
#else
#error "unsupported architecture"
#endif
#ifndef X32_NR_EXECVE
/* no x32 here: the filter's x32 checks repeat the native ones (same verdict) */
#define X32_NR_EXECVE __NR_execve
#define X32_NR_EXECVEAT __NR_execveat
#define NO_X32 1
#endif

static FILE *out;
static uint64_t seq;
static uint64_t next_exec_id = 1;
static int use_seccomp = 1;
static int take_ctty;

/* ---- records ---- */

static void emit(const void *a, uint32_t alen, const void *b, uint32_t blen)
{
	uint32_t len = alen + blen;
	fwrite(&len, 4, 1, out);
	if (alen)
		fwrite(a, 1, alen, out);
	if (blen)
		fwrite(b, 1, blen, out);
}

static void hdr(struct rec_hdr *h, uint32_t kind)
{
	h->kind = kind;
	h->cpu = 0;
	h->seq = seq++;
}

/* CLOCK_MONOTONIC: the clock Node's process.hrtime reads, so execlens can place these stamps without FFI */
static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* one field as CHUNK records; returns how many were written */
static uint32_t emit_field(uint64_t exec_id, uint32_t field, const char *data, size_t len)
{
	uint32_t n = 0;
	for (size_t off = 0; off < len; off += CHUNK_MAX) {
		struct el_chunk c = {0};
		size_t part = len - off < CHUNK_MAX ? len - off : CHUNK_MAX;
		hdr(&c.hdr, EL_REC_CHUNK);
		c.exec_id = exec_id;
		c.field = field;
		c.len = (uint32_t)part;
		c.offset = (uint32_t)off;
		emit(&c, sizeof(c), data + off, (uint32_t)part);
		n++;
	}
	return n;
}

/* one empty chunk per index: the items of a failed exec's argv/env that could not be read */
struct faults;
static uint32_t emit_marks(uint64_t exec_id, uint32_t field, const struct faults *bad);

/* ---- growable byte buffer ---- */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_put(struct buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			perror("execlens-ptrace: realloc");
			exit(EXIT_SETUP);
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

/* ---- tracee memory ---- */

static ssize_t read_mem(pid_t pid, uint64_t addr, void *dst, size_t len)
{
	struct iovec l = {dst, len}, r = {(void *)(uintptr_t)addr, len};
	return process_vm_readv(pid, &l, 1, &r, 1, 0);
}

/* NUL-terminated string at addr, appended with its NUL; 0 ok, -1 fault, 1 truncated */
static int read_str(pid_t pid, uint64_t addr, struct buf *b, size_t max)
{
	char tmp[4096];
	size_t got = 0;
	while (got < max) {
		/* never cross a page boundary in one read: the next page may be unmapped */
		size_t room = 4096 - ((addr + got) & 4095);
		if (room > max - got)
			room = max - got;
		ssize_t n = read_mem(pid, addr + got, tmp, room);
		if (n <= 0)
			return -1;
		char *nul = memchr(tmp, 0, (size_t)n);
		if (nul) {
			buf_put(b, tmp, (size_t)(nul - tmp) + 1);
			return 0;
		}
		buf_put(b, tmp, (size_t)n);
		got += (size_t)n;
	}
	buf_put(b, "", 1);
	return 1;
}

/* length of the NUL-terminated string at addr, NUL included (what the kernel counts); -1 on a fault */
static ssize_t str_size(pid_t pid, uint64_t addr)
{
	char tmp[4096];
	size_t got = 0;
	for (;;) {
		size_t room = 4096 - ((addr + got) & 4095);
		ssize_t n = read_mem(pid, addr + got, tmp, room);
		if (n <= 0)
			return -1;
		char *nul = memchr(tmp, 0, (size_t)n);
		if (nul)
			return (ssize_t)(got + (size_t)(nul - tmp) + 1);
		got += (size_t)n;
		if (got > STR_SIZE_MAX)
			return -1;
	}
}

/* argv/envp array: strings NUL-separated into b, up to BLOCK_MAX; *total gets the size of all of them
 * (argv_bytes/env_bytes: the size before any capture limit, as the BPF side reports it); sets *flags bits */
/* index of an item read_str_array could not read, until emitted (an empty chunk: offset = the index) */
struct faults {
	uint32_t idx[64];
	uint32_t n;
};

static uint32_t emit_marks(uint64_t exec_id, uint32_t field, const struct faults *bad)
{
	for (uint32_t k = 0; k < bad->n; k++) {
		struct el_chunk c = {0};
		hdr(&c.hdr, EL_REC_CHUNK);
		c.exec_id = exec_id;
		c.field = field;
		c.offset = bad->idx[k];
		emit(&c, sizeof(c), NULL, 0);
	}
	return bad->n;
}

static void read_str_array(pid_t pid, uint64_t arr, int compat, struct buf *b, size_t *total, uint32_t *flags,
			   uint32_t trunc, uint32_t fault, struct faults *bad)
{
	size_t psz = compat ? 4 : 8;
	*total = 0;
	for (uint64_t i = 0; arr; i++) {
		uint64_t p = 0;
		if (read_mem(pid, arr + i * psz, &p, psz) != (ssize_t)psz) {
			*flags |= fault;
			break;
		}
		if (!p)
			break;
		ssize_t size = str_size(pid, p);
		if (size < 0) {
			*flags |= fault;
			buf_put(b, "", 1);
			if (bad->n < sizeof(bad->idx) / sizeof(bad->idx[0]))
				bad->idx[bad->n++] = (uint32_t)i;
			continue;
		}
		*total += (size_t)size;
		if (b->len >= BLOCK_MAX) {
			*flags |= trunc;
			continue;
		}
		int r = read_str(pid, p, b, BLOCK_MAX - b->len);
		if (r < 0) {
			/* an empty string in its place, marked, as the BPF side does; the next items still count */
			*flags |= fault;
			buf_put(b, "", 1);
			if (bad->n < sizeof(bad->idx) / sizeof(bad->idx[0]))
				bad->idx[bad->n++] = (uint32_t)i;
			continue;
		}
		if (r > 0)
			*flags |= trunc;
	}
	if (*total < b->len)
		*total = b->len;
}

/* ---- /proc ---- */

static ssize_t read_file(const char *path, char *dst, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, dst, cap - 1);
	close(fd);
	if (n >= 0)
		dst[n] = 0;
	return n;
}

static void proc_comm(pid_t pid, char comm[16])
{
	char path[64], tmp[64];
	memset(comm, 0, 16);
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_file(path, tmp, sizeof(tmp)) > 0) {
		size_t n = strcspn(tmp, "\n");
		memcpy(comm, tmp, n < 15 ? n : 15);
	}
}

/* where cgroup v2 is mounted: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid); "" without it */
static const char *cgroup2_mount(void)
{
	static char mnt[256];
	static int done;
	char line[1024], dev[256], dir[256], type[64];
	if (done)
		return mnt;
	done = 1;
	FILE *f = fopen("/proc/self/mounts", "re");
	if (!f)
		return mnt;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%255s %255s %63s", dev, dir, type) == 3 && !strcmp(type, "cgroup2")) {
			snprintf(mnt, sizeof(mnt), "%s", dir);
			break;
		}
	fclose(f);
	return mnt;
}

/* the cgroup v2 id of pid: the inode of its cgroup's directory, what bpf_get_current_cgroup_id() gives the BPF
 * side; 0 when there is no cgroup v2 (line or mount) or the directory is gone */
static uint64_t proc_cgroup_id(pid_t pid)
{
	char path[64], tmp[4096], dir[4400];
	struct stat st;
	if (!*cgroup2_mount())
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if (read_file(path, tmp, sizeof(tmp)) <= 0)
		return 0;
	for (char *line = strtok(tmp, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "0::", 3))
			continue;
		snprintf(dir, sizeof(dir), "%s%s", cgroup2_mount(), line + 3);
		return stat(dir, &st) == 0 ? (uint64_t)st.st_ino : 0;
	}
	return 0;
}

struct status {
	int tgid, ppid;
	unsigned uid, euid, gid, egid;
	unsigned ns_pid, ns_level;
};

static int proc_status(pid_t pid, struct status *s)
{
	char path[64], tmp[4096];
	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file(path, tmp, sizeof(tmp)) <= 0)
		return -1;
	for (char *line = strtok(tmp, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "Tgid:", 5))
			s->tgid = atoi(line + 5);
		else if (!strncmp(line, "PPid:", 5))
			s->ppid = atoi(line + 5);
		else if (!strncmp(line, "Uid:", 4))
			sscanf(line + 4, "%u %u", &s->uid, &s->euid);
		else if (!strncmp(line, "Gid:", 4))
			sscanf(line + 4, "%u %u", &s->gid, &s->egid);
		else if (!strncmp(line, "NSpid:", 6)) {
			/* pids from the outermost visible namespace inwards: the last is the process's own */
			char *p = line + 6, *end;
			unsigned level = 0;
			for (;;) {
				unsigned long v = strtoul(p, &end, 10);
				if (end == p)
					break;
				s->ns_pid = (unsigned)v;
				level++;
				p = end;
			}
			s->ns_level = level ? level - 1 : 0;
		}
	}
	return 0;
}

/* path -> leaf-first NUL-terminated components (the BPF path walk's format) */
static void path_components(const char *path, struct buf *b)
{
	size_t n = strlen(path);
	size_t end = n;
	while (end > 0) {
		while (end > 0 && path[end - 1] == '/')
			end--;
		size_t start = end;
		while (start > 0 && path[start - 1] != '/')
			start--;
		if (end > start) {
			buf_put(b, path + start, end - start);
			buf_put(b, "", 1);
		}
		end = start;
	}
}

/* the BPF side's walk limit (bpf CWD_DEPTH): a longer path is cut the same way on both backends */
#define CWD_DEPTH 32

/* the name of directory (dev, ino) inside the directory open as dirfd, or -1 */
static int name_in(int dirfd, dev_t dev, ino_t ino, char *name, size_t size)
{
	int fd = dup(dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	struct stat st;
	int found = -1;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (found < 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == dev && st.st_ino == ino) {
			snprintf(name, size, "%s", de->d_name);
			found = 0;
		}
	}
	closedir(d);
	return found;
}

/*
 * A cwd longer than PATH_MAX: readlink(/proc/PID/cwd) fails with ENAMETOOLONG. Walk up from the directory
 * itself ("..", and the entry of the same inode in it), leaf first as the BPF walk emits it, up to
 * CWD_DEPTH components; a walk that does not reach the root is marked CWD_TRUNC.
 */
static void walk_up(const char *cwd_link, struct buf *b, uint32_t *flags)
{
	int fd = open(cwd_link, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st, up;
	char name[NAME_MAX + 1];
	int depth;

	*flags |= EL_EXEC_CWD_TRUNC;
	for (depth = 0; fd >= 0 && depth < CWD_DEPTH; depth++) {
		int parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0 || fstat(fd, &st) || fstat(parent, &up))
			break;
		if (st.st_dev == up.st_dev && st.st_ino == up.st_ino) { /* the root: the whole path is here */
			*flags &= ~(uint32_t)EL_EXEC_CWD_TRUNC;
			close(parent);
			break;
		}
		if (name_in(parent, st.st_dev, st.st_ino, name, sizeof(name)) < 0) {
			close(parent);
			break;
		}
		buf_put(b, name, strlen(name));
		buf_put(b, "", 1);
		close(fd);
		fd = parent;
	}
	if (fd >= 0)
		close(fd);
}

static uint32_t emit_cwd(pid_t pid, uint64_t exec_id, uint32_t *flags)
{
	char path[64], target[PATH_MAX];
	struct buf b = {0};
	snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0 && errno == ENAMETOOLONG) {
		walk_up(path, &b, flags);
	} else if (n < 0) {
		return 0;
	} else {
		target[n] = 0;
		/* a removed cwd: the kernel's mark goes to a flag, as the BPF side reports it */
		if (n > 10 && !strcmp(target + n - 10, " (deleted)")) {
			target[n - 10] = 0;
			*flags |= EL_EXEC_CWD_DELETED;
		}
		path_components(target, &b);
	}
	if (!b.len)
		buf_put(&b, "", 1); /* "/" */
	uint32_t k = emit_field(exec_id, EL_F_CWD, b.p, b.len);
	free(b.p);
	return k;
}

/* EXE chunk: the file the new image runs (/proc/PID/exe), as the BPF side reads mm->exe_file */
static uint32_t emit_exe(pid_t pid, uint64_t exec_id)
{
	char path[64], target[PATH_MAX];
	struct buf b = {0};
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = 0;
	/* a deleted file (a memfd, or unlinked since): the kernel's mark, not part of the name */
	if (n > 10 && !strcmp(target + n - 10, " (deleted)"))
		target[n - 10] = 0;
	path_components(target, &b);
	if (!b.len)
		buf_put(&b, "", 1);
	uint32_t k = emit_field(exec_id, EL_F_EXE, b.p, b.len);
	free(b.p);
	return k;
}

/* one FDS chunk per open fd: struct el_fd + path components */
static uint32_t emit_fds(pid_t pid, uint64_t exec_id, uint32_t *nfds)
{
	char dpath[64];
	uint32_t k = 0;
	snprintf(dpath, sizeof(dpath), "/proc/%d/fd", pid);
	DIR *d = opendir(dpath);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		int fd = atoi(e->d_name);
		char p[96], info[512], target[PATH_MAX];
		struct stat st;
		struct el_fd f = {0};
		struct buf b = {0};
		f.fd = fd;
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", pid, fd);
		if (stat(p, &st) == 0) {
			f.ino = st.st_ino;
			f.dev = (uint32_t)st.st_dev;
			f.mode = (uint16_t)st.st_mode;
		}
		ssize_t n = readlink(p, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = 0;
		if (target[0] == '/')
			path_components(target, &b);
		else if (!strncmp(target, "anon_inode:", 11))
			path_components(target + 11, &b);
		/* pipe:[ino] and socket:[ino] are rebuilt from mode and inode */
		snprintf(p, sizeof(p), "/proc/%d/fdinfo/%d", pid, fd);
		if (read_file(p, info, sizeof(info)) > 0) {
			char *fl = strstr(info, "flags:");
			if (fl) {
				unsigned long v = strtoul(fl + 6, NULL, 8);
				f.cloexec = (v & O_CLOEXEC) ? 1 : 0;
				f.f_flags = (uint32_t)(v & ~(unsigned long)O_CLOEXEC);
			}
		}
		f.path_len = (uint16_t)b.len;
		struct buf rec = {0};
		buf_put(&rec, &f, sizeof(f));
		if (b.len)
			buf_put(&rec, b.p, b.len);
		k += emit_field(exec_id, EL_F_FDS, rec.p, rec.len);
		(*nfds)++;
		free(b.p);
		free(rec.p);
	}
	closedir(d);
	return k;
}

/* ---- per-thread exec in progress ---- */

struct pending {
	pid_t tid;
	int used;
	uint64_t exec_id, ts;
	uint32_t syscall, compat, flags, nchunks, argv_len, env_len, nfds;
	size_t argv_total, env_total; /* sizes before the capture limit */
	int32_t at_fd;
	uint32_t at_flags;
	char comm[16];
	/* read at entry: used as is for a failed exec; a successful one is re-read from the new image */
	struct buf filename, argv, env;
	struct faults argv_bad, env_bad; /* items of a failed exec that could not be read */
	size_t argv0_len;
	char interp[256]; /* #! line of a script: "interp\0arg\0" */
	size_t interp_len;
};

static struct pending *pend;
static size_t npend;

static struct pending *find_pending(pid_t tid)
{
	for (size_t i = 0; i < npend; i++)
		if (pend[i].used && pend[i].tid == tid)
			return &pend[i];
	return NULL;
}

static void drop_pending(struct pending *p)
{
	free(p->filename.p);
	free(p->argv.p);
	free(p->env.p);
	memset(p, 0, sizeof(*p));
}

static struct pending *new_pending(pid_t tid)
{
	struct pending *p = find_pending(tid);
	if (p) {
		drop_pending(p);
		return p;
	}
	for (size_t i = 0; i < npend; i++)
		if (!pend[i].used)
			return &pend[i];
	struct pending *np = realloc(pend, (npend + 16) * sizeof(*pend));
	if (!np) {
		perror("execlens-ptrace: realloc");
		exit(EXIT_SETUP);
	}
	pend = np;
	memset(pend + npend, 0, 16 * sizeof(*pend));
	npend += 16;
	return &pend[npend - 16];
}

/*
 * If the file being exec'd is a #! script, remember its interpreter line the
 * way the kernel splits it (interpreter, then at most one argument), so that
 * the rewritten argv of the new image can be undone as for the BPF backend.
 */
static void script_interp(pid_t tid, struct pending *p)
{
	char path[PATH_MAX + 64], head[256];
	const char *fn = p->filename.p;
	if (fn[0] == '/')
		snprintf(path, sizeof(path), "%s", fn);
	else if (p->syscall == EL_SYS_EXECVEAT && p->at_fd != -100)
		snprintf(path, sizeof(path), "/proc/%d/fd/%d%s%s", tid, p->at_fd, fn[0] ? "/" : "", fn);
	else
		snprintf(path, sizeof(path), "/proc/%d/cwd/%s", tid, fn);
	ssize_t n = read_file(path, head, sizeof(head));
	if (n < 3 || head[0] != '#' || head[1] != '!')
		return;
	char *q = head + 2, *end = head + n;
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	char *i0 = q;
	while (q < end && *q != ' ' && *q != '\t' && *q != '\n' && *q)
		q++;
	if (q == i0)
		return;
	size_t ilen = (size_t)(q - i0);
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	char *a0 = q;
	char *nl = q < end ? memchr(q, '\n', (size_t)(end - q)) : NULL;
	char *aend = nl ? nl : end;
	while (aend > a0 && (aend[-1] == ' ' || aend[-1] == '\t'))
		aend--;
	size_t alen = (size_t)(aend - a0);
	if (ilen + alen + 2 > sizeof(p->interp))
		return;
	memcpy(p->interp, i0, ilen);
	p->interp[ilen] = 0;
	p->interp_len = ilen + 1;
	if (alen) {
		memcpy(p->interp + p->interp_len, a0, alen);
		p->interp[p->interp_len + alen] = 0;
		p->interp_len += alen + 1;
	}
}

/* /proc file (cmdline, environ) into b, up to BLOCK_MAX; returns its whole size (read on past the cap) */
static size_t read_proc_block(pid_t pid, const char *name, struct buf *b, uint32_t *flags, uint32_t trunc)
{
	char path[64], tmp[65536];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n;
	size_t total = 0;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
		total += (size_t)n;
		if (b->len + (size_t)n > BLOCK_MAX) {
			if (b->len < BLOCK_MAX)
				buf_put(b, tmp, BLOCK_MAX - b->len);
			*flags |= trunc;
			continue;
		}
		buf_put(b, tmp, (size_t)n);
	}
	close(fd);
	return total;
}

/* A syscall entry (seccomp or syscall stop). Returns 1 when it is an exec we now follow. */
static int on_entry(pid_t tid, uint32_t arch, uint64_t nr, const uint64_t *args)
{
	int compat = 0, x32 = 0, sc = -1;
	if (arch == NATIVE_ARCH) {
		if (nr == __NR_execve)
			sc = EL_SYS_EXECVE;
		else if (nr == __NR_execveat)
			sc = EL_SYS_EXECVEAT;
#ifndef NO_X32
		/* x32: the native registers, 32-bit pointers */
		else if (nr == X32_NR_EXECVE || nr == X32_NR_EXECVEAT) {
			sc = nr == X32_NR_EXECVE ? EL_SYS_EXECVE : EL_SYS_EXECVEAT;
			compat = x32 = 1;
		}
#endif
	}
#ifdef COMPAT_ARCH
	else if (arch == COMPAT_ARCH) {
		compat = 1;
		if (nr == COMPAT_NR_EXECVE)
			sc = EL_SYS_EXECVE;
		else if (nr == COMPAT_NR_EXECVEAT)
			sc = EL_SYS_EXECVEAT;
	}
#endif
	if (sc < 0)
		return 0;
	/* ia32 registers are 32-bit; x32's are the native ones at full width (its arrays hold 32-bit pointers) */
	uint64_t mask = compat && !x32 ? 0xffffffffull : ~0ull;
	uint64_t fn = (sc == EL_SYS_EXECVE ? args[0] : args[1]) & mask;
	uint64_t argv = (sc == EL_SYS_EXECVE ? args[1] : args[2]) & mask;
	uint64_t envp = (sc == EL_SYS_EXECVE ? args[2] : args[3]) & mask;
	struct pending *p = new_pending(tid);
	memset(p, 0, sizeof(*p));
	p->used = 1;
	p->tid = tid;
	p->exec_id = next_exec_id++;
	p->ts = now_ns();
	p->syscall = (uint32_t)sc;
	p->compat = (uint32_t)compat;
	p->at_fd = sc == EL_SYS_EXECVEAT ? (int32_t)args[0] : -100;
	p->at_flags = sc == EL_SYS_EXECVEAT ? (uint32_t)args[4] : 0;
	if (compat)
		p->flags |= EL_EXEC_COMPAT;
	if (x32)
		p->flags |= EL_EXEC_X32;
	proc_comm(tid, p->comm);

	int r = read_str(tid, fn, &p->filename, PATH_MAX);
	if (r < 0)
		p->flags |= EL_EXEC_FILENAME_FAULT;
	else if (r > 0)
		p->flags |= EL_EXEC_FILENAME_TRUNC;
	p->nchunks += emit_field(p->exec_id, EL_F_FILENAME, p->filename.p, p->filename.len);
	read_str_array(tid, argv, compat, &p->argv, &p->argv_total, &p->flags, EL_EXEC_ARGV_TRUNC, EL_EXEC_ARGV_FAULT,
		       &p->argv_bad);
	if (!argv || (!p->argv.len && !(p->flags & EL_EXEC_ARGV_FAULT)))
		p->flags |= EL_EXEC_ARGC_ZERO; /* the new image's argv[0] "" (5.18+) is the kernel's own */
	p->argv0_len = p->argv.len ? strnlen(p->argv.p, p->argv.len) + 1 : 0;
	read_str_array(tid, envp, compat, &p->env, &p->env_total, &p->flags, EL_EXEC_ENV_TRUNC, EL_EXEC_ENV_FAULT,
		       &p->env_bad);
	if (p->filename.len)
		script_interp(tid, p);
	p->nchunks += emit_cwd(tid, p->exec_id, &p->flags);
	p->nchunks += emit_fds(tid, p->exec_id, &p->nfds);
	return 1;
}

/* The exec finished: ret 0 (pid is the new image's) or -errno. */
static void on_result(struct pending *p, pid_t pid, int64_t ret)
{
	struct el_exec e = {0};
	struct status s;
	if (ret == 0) {
		/* the new image's argv and env, as the BPF side reads them at sched_process_exec */
		struct buf a = {0}, v = {0};
		p->flags &= ~(uint32_t)(EL_EXEC_ARGV_TRUNC | EL_EXEC_ENV_TRUNC | EL_EXEC_ARGV_FAULT | EL_EXEC_ENV_FAULT);
		p->argv_total = read_proc_block(pid, "cmdline", &a, &p->flags, EL_EXEC_ARGV_TRUNC);
		p->env_total = read_proc_block(pid, "environ", &v, &p->flags, EL_EXEC_ENV_TRUNC);
		p->argv_len = (uint32_t)a.len;
		p->env_len = (uint32_t)v.len;
		p->nchunks += emit_field(p->exec_id, EL_F_ARGV, a.p, a.len);
		p->nchunks += emit_field(p->exec_id, EL_F_ENV, v.p, v.len);
		p->nchunks += emit_exe(pid, p->exec_id);
		if (p->interp_len) {
			p->nchunks += emit_field(p->exec_id, EL_F_ARGV0, p->argv.p, p->argv0_len);
			p->nchunks += emit_field(p->exec_id, EL_F_BPRM_FILE, p->filename.p, p->filename.len);
			p->nchunks += emit_field(p->exec_id, EL_F_INTERP, p->interp, strlen(p->interp) + 1);
		}
		free(a.p);
		free(v.p);
	} else {
		p->flags |= EL_EXEC_FAILED_PATH;
		p->argv_len = (uint32_t)p->argv.len;
		p->env_len = (uint32_t)p->env.len;
		p->nchunks += emit_field(p->exec_id, EL_F_ARGV, p->argv.p, p->argv.len);
		p->nchunks += emit_field(p->exec_id, EL_F_ENV, p->env.p, p->env.len);
		p->nchunks += emit_marks(p->exec_id, EL_F_ARGV_FAULT, &p->argv_bad);
		p->nchunks += emit_marks(p->exec_id, EL_F_ENV_FAULT, &p->env_bad);
	}
	hdr(&e.hdr, EL_REC_EXEC);
	proc_status(pid, &s);
	e.exec_id = p->exec_id;
	e.ts_ns = now_ns();
	e.enter_ts_ns = p->ts;
	e.pid = (uint32_t)(s.tgid ? s.tgid : pid);
	e.tid = (uint32_t)p->tid;
	e.ppid = (uint32_t)s.ppid;
	e.ret = (int32_t)ret;
	e.flags = p->flags;
	e.syscall = p->syscall;
	e.at_fd = p->at_fd;
	e.at_flags = p->at_flags;
	e.uid = s.uid;
	e.gid = s.gid;
	e.euid = s.euid;
	e.egid = s.egid;
	e.argv_len = p->argv_len;
	e.env_len = p->env_len;
	e.argv_total = p->argv_total > UINT32_MAX ? UINT32_MAX : (uint32_t)p->argv_total;
	e.env_total = p->env_total > UINT32_MAX ? UINT32_MAX : (uint32_t)p->env_total;
	e.nfds = p->nfds;
	e.nchunks = p->nchunks;
	memcpy(e.old_comm, p->comm, 16);
	if (ret == 0)
		proc_comm(pid, e.comm);
	else
		memcpy(e.comm, p->comm, 16);
	e.ns_pid = s.ns_pid ? s.ns_pid : e.pid;
	e.ns_level = s.ns_level;
	e.cgroup_id = proc_cgroup_id(pid);
	emit(&e, sizeof(e), NULL, 0);
	drop_pending(p);
}

static void emit_fork(pid_t parent, pid_t child)
{
	struct el_fork f = {0};
	hdr(&f.hdr, EL_REC_FORK);
	f.ts_ns = now_ns();
	f.parent_pid = (uint32_t)parent;
	f.child_pid = (uint32_t)child;
	emit(&f, sizeof(f), NULL, 0);
}

static void emit_exit(pid_t pid, int status)
{
	struct el_exit x = {0};
	hdr(&x.hdr, EL_REC_EXIT);
	x.ts_ns = now_ns();
	x.pid = (uint32_t)pid;
	x.exit_code = status;
	emit(&x, sizeof(x), NULL, 0);
}

/* ---- the child ---- */

static int install_filter(void)
{
	/* 0-6: native execve/execveat and x32's (the native audit arch); 7-10: compat ones; 11: trace; 12: allow */
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 7, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 6, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, X32_NR_EXECVE, 5, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, X32_NR_EXECVEAT, 4, 5),
#ifdef COMPAT_ARCH
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_ARCH, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_NR_EXECVE, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_NR_EXECVEAT, 0, 1),
#else
		BPF_STMT(BPF_JMP | BPF_JA, 4), /* other arch: allow */
		BPF_STMT(BPF_JMP | BPF_JA, 3),
		BPF_STMT(BPF_JMP | BPF_JA, 2),
		BPF_STMT(BPF_JMP | BPF_JA, 1),
#endif
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {(unsigned short)(sizeof(f) / sizeof(f[0])), f};
	/* unprivileged filters need no_new_privs (setuid programs then run unprivileged, as under strace) */
	if (geteuid() != 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* ---- the command: spec, credentials, exec ---- */

#define SPEC_MAGIC "execlens-spec-1"
#define SPEC_MAX (256u << 20) /* far above what exec accepts (ARG_MAX: a quarter of the stack limit) */

struct spec {
	char *data;
	const char *path;
	char **argv, **envp;
};

/* the next NUL-terminated item at *pos of data[0..len), or NULL */
static const char *spec_item(const char *data, size_t len, size_t *pos)
{
	if (*pos >= len)
		return NULL;
	const char *s = data + *pos;
	const char *nul = memchr(s, 0, len - *pos);
	if (!nul)
		return NULL;
	*pos = (size_t)(nul - data) + 1;
	return s;
}

/* a count item: decimal digits only */
static int spec_count(const char *data, size_t len, size_t *pos, size_t *n)
{
	const char *s = spec_item(data, len, pos);
	char *end;
	if (!s || !*s || strspn(s, "0123456789") != strlen(s))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || v > SPEC_MAX)
		return -1;
	*n = (size_t)v;
	return 0;
}

/* n items into a NULL-terminated array */
static char **spec_list(char *data, size_t len, size_t *pos, size_t n)
{
	char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *s = spec_item(data, len, pos);
		if (!s) {
			free(v);
			return NULL;
		}
		v[i] = (char *)s;
	}
	return v;
}

/*
 * Read the command until EOF from fd and close it:
 *   "execlens-spec-1" \0 path \0 argc \0 argv[0] \0 ... envc \0 env[0] \0 ...
 * counts in decimal; every item ends with its NUL, nothing follows the last.
 */
static int read_spec(int fd, struct spec *sp)
{
	struct buf b = {0};
	char tmp[65536];
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b.len + (size_t)n > SPEC_MAX) {
			free(b.p);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		buf_put(&b, tmp, (size_t)n);
	}
	close(fd);
	size_t pos = 0, argc, envc;
	const char *magic = spec_item(b.p, b.len, &pos);
	if (!magic || strcmp(magic, SPEC_MAGIC))
		goto bad;
	sp->path = spec_item(b.p, b.len, &pos);
	if (!sp->path || spec_count(b.p, b.len, &pos, &argc) || !(sp->argv = spec_list(b.p, b.len, &pos, argc)))
		goto bad;
	if (spec_count(b.p, b.len, &pos, &envc) || !(sp->envp = spec_list(b.p, b.len, &pos, envc)) || pos != b.len)
		goto bad;
	sp->data = b.p;
	return 0;
bad:
	free(sp->argv);
	free(b.p);
	return -1;
}

static void drop_creds(int uid, int gid)
{
	/* as Node's spawn does with uid/gid: no supplementary groups, then gid, then uid */
	if (gid >= 0 && (setgroups(0, NULL) || setgid((gid_t)gid))) {
		perror("execlens-ptrace: setgid");
		_exit(EXIT_SETUP);
	}
	if (uid >= 0 && setuid((uid_t)uid)) {
		perror("execlens-ptrace: setuid");
		_exit(EXIT_SETUP);
	}
}

/*
 * Every signal back to its default action, none blocked: what a child of Node
 * gets (libuv resets them), so both backends start the command alike. The
 * tracer ignores SIGINT/SIGQUIT and handles SIGTERM/SIGHUP; an ignored signal
 * would stay ignored across exec, and the command would not die of Ctrl-C.
 */
static void default_signals(void)
{
	struct sigaction sa = {0};
	sigset_t none;
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL); /* EINVAL for the few libc keeps to itself: fine */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * execve, and on ENOEXEC (a file without #!) the shell, as execvp(3) does
 * (glibc: /bin/sh PATH ARGS...), so as a shell, env(1) or Node's spawn would
 * run such a file.
 */
static void __attribute__((noreturn)) exec_spec(const struct spec *sp, const char *who)
{
	execve(sp->path, sp->argv, sp->envp);
	if (errno == ENOEXEC) {
		size_t argc = 0;
		while (sp->argv[argc])
			argc++;
		char **sh = calloc(argc + 3, sizeof(*sh));
		if (sh) {
			sh[0] = "/bin/sh";
			sh[1] = (char *)sp->path;
			for (size_t i = 1; i < argc; i++)
				sh[i + 1] = sp->argv[i];
			execve(sh[0], sh, sp->envp);
		}
	}
	int e = errno;
	fprintf(stderr, "%s: %s: %s\n", who, sp->path, strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* --ctty: a new session whose controlling terminal is fd 0 (before dropping privileges: TIOCSCTTY needs none) */
static void session_on_tty(void)
{
	if (!take_ctty)
		return;
	if (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0) {
		perror("execlens-ptrace: controlling terminal");
		_exit(EXIT_SETUP);
	}
}

static void child(const struct spec *sp, int uid, int gid)
{
	close(3);
	close(5); /* the hold socket, if any: execlens's, not the command's */
	session_on_tty();
	drop_creds(uid, gid);
	default_signals();
	if (use_seccomp && install_filter()) {
		perror("execlens-ptrace: seccomp");
		_exit(EXIT_SETUP);
	}
	raise(SIGSTOP);
	exec_spec(sp, "execlens-ptrace");
}

/* ---- breakpoints (--hold-enter, --hold-exit) ---- */

/*
 * An exec stop of a held kind is reported on fd 5 (a socket, both ways) and the tracee stays stopped until
 * the verdict comes back. Message: u32 length of the rest, u32 pid, u32 stage (0 syscall entry, 1 exit),
 * u32 filename length, the filename, argv as NUL-terminated items. Verdict lines: "c PID" (go on, traced),
 * "d PID" (detach: it runs on untraced), "s PID" (detach it stopped, for a debugger to attach). execlens
 * answers at once when no breakpoint matches. The tracer waits on a signalfd for SIGCHLD and on fd 5.
 */
#define HOLD_FD 5
static int hold_enter, hold_exit;
static int sigchld_fd = -1;
struct held {
	pid_t pid;
	int op; /* the ptrace request that resumes it as if it had not been held */
};
static struct held *helds;
static size_t nheld, capheld;

static int holding(void)
{
	return hold_enter || hold_exit;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* report the stop and keep the tracee stopped; 0: not a held kind (or execlens is gone): resume it as usual */
static int hold(pid_t pid, int stage, int op, const struct pending *p)
{
	if (!(stage ? hold_exit : hold_enter))
		return 0;
	if (nheld == capheld) {
		size_t cap = capheld ? capheld * 2 : 16;
		struct held *n = realloc(helds, cap * sizeof(*n));
		if (!n)
			return 0;
		helds = n;
		capheld = cap;
	}
	size_t len = 16 + p->filename.len + p->argv.len;
	char *m = malloc(len);
	if (!m)
		return 0;
	uint32_t h[4] = { (uint32_t)(len - 4), (uint32_t)pid, (uint32_t)stage, (uint32_t)p->filename.len };
	memcpy(m, h, sizeof(h));
	if (p->filename.len)
		memcpy(m + 16, p->filename.p, p->filename.len);
	if (p->argv.len)
		memcpy(m + 16 + p->filename.len, p->argv.p, p->argv.len);
	int r = write_all(HOLD_FD, m, len);
	free(m);
	if (r)
		return 0;
	helds[nheld++] = (struct held){ pid, op };
	return 1;
}

static void tracee_del(pid_t t);

static void verdict(char v, pid_t pid)
{
	for (size_t i = 0; i < nheld; i++) {
		if (helds[i].pid != pid)
			continue;
		int op = helds[i].op;
		helds[i] = helds[--nheld];
		if (v == 'c') {
			ptrace(op, pid, 0, 0);
			return;
		}
		/* a SIGSTOP left pending stops it as soon as it is ours no more */
		if (v == 's')
			syscall(SYS_tgkill, pid, pid, SIGSTOP);
		ptrace(PTRACE_DETACH, pid, 0, 0);
		tracee_del(pid);
		struct pending *pp = find_pending(pid);
		if (pp)
			drop_pending(pp);
		return;
	}
}

/* execlens went away: nobody will answer, every held tracee goes on */
static void release_all(void)
{
	while (nheld)
		verdict('c', helds[nheld - 1].pid);
	hold_enter = hold_exit = 0;
}

static void read_verdicts(void)
{
	static char line[4096];
	static size_t len;
	ssize_t n = read(HOLD_FD, line + len, sizeof(line) - 1 - len);
	if (n <= 0) {
		if (n < 0 && errno == EINTR)
			return;
		release_all();
		return;
	}
	len += (size_t)n;
	char *start = line, *nl;
	while ((nl = memchr(start, '\n', len - (size_t)(start - line)))) {
		*nl = 0;
		char v;
		int pid;
		if (sscanf(start, "%c %d", &v, &pid) == 2)
			verdict(v, pid);
		start = nl + 1;
	}
	len -= (size_t)(start - line);
	memmove(line, start, len);
	if (len == sizeof(line) - 1)
		len = 0; /* a line that long is no verdict */
}

/* nothing to reap: sleep until a tracee changes state (SIGCHLD) or a verdict comes (or SIGTERM: EINTR) */
static void wait_events(void)
{
	struct pollfd fds[2] = { { sigchld_fd, POLLIN, 0 }, { holding() ? HOLD_FD : -1, POLLIN, 0 } };
	if (poll(fds, 2, -1) < 0)
		return;
	if (fds[0].revents) {
		struct signalfd_siginfo si;
		while (read(sigchld_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			;
	}
	if (fds[1].revents)
		read_verdicts();
}

static int setup_holds(void)
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	/* blocked so that it stays pending for the signalfd; the command gets an empty mask (default_signals) */
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sigchld_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	return sigchld_fd < 0 ? -1 : 0;
}

/* ---- tracees, for detaching on SIGTERM ---- */

static pid_t *tracees;
static size_t ntracees, captracees;
static volatile sig_atomic_t detach_requested;

static void tracee_add(pid_t t)
{
	for (size_t i = 0; i < ntracees; i++)
		if (tracees[i] == t)
			return;
	if (ntracees == captracees) {
		size_t cap = captracees ? captracees * 2 : 64;
		pid_t *n = realloc(tracees, cap * sizeof(*n));
		if (!n)
			return;
		tracees = n;
		captracees = cap;
	}
	tracees[ntracees++] = t;
}

static void tracee_del(pid_t t)
{
	for (size_t i = 0; i < ntracees; i++)
		if (tracees[i] == t) {
			tracees[i] = tracees[--ntracees];
			return;
		}
}

static void on_detach_signal(int sig)
{
	(void)sig;
	detach_requested = 1;
}

/*
 * Let every tracee go on untraced: interrupt each, and detach it at its
 * next stop (passing on a signal it was about to receive). Their seccomp
 * filter stays (it cannot be removed); without a tracer, SECCOMP_RET_TRACE
 * makes exec fail with ENOSYS, as documented.
 */
static void detach_all(void)
{
	/* held ones are in a stop already: an interrupt would bring no new one */
	while (nheld) {
		pid_t h = helds[--nheld].pid;
		ptrace(PTRACE_DETACH, h, 0, 0);
		tracee_del(h);
	}
	for (size_t i = 0; i < ntracees; i++)
		ptrace(PTRACE_INTERRUPT, tracees[i], 0, 0);
	while (ntracees) {
		int status;
		pid_t pid = waitpid(-1, &status, __WALL);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			emit_exit(pid, status);
			tracee_del(pid);
			continue;
		}
		if (!WIFSTOPPED(status))
			continue;
		int sig = WSTOPSIG(status), event = status >> 16;
		int pass = (event == 0 && sig != (SIGTRAP | 0x80)) ? sig : 0;
		ptrace(PTRACE_DETACH, pid, 0, pass);
		tracee_del(pid);
	}
}

/* ---- --attach: processes that already run ---- */

/* q[n++] = v, growing q */
static int push_pid(pid_t **q, size_t *n, size_t *cap, pid_t v)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		pid_t *m = realloc(*q, c * sizeof(*m));
		if (!m)
			return -1;
		*q = m;
		*cap = c;
	}
	(*q)[(*n)++] = v;
	return 0;
}

/* the numbers in a /proc list file (children: space-separated, any length), appended to *q */
static void read_pids(const char *path, pid_t **q, size_t *n, size_t *cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct buf b = {0};
	char chunk[4096];
	for (ssize_t r; (r = read(fd, chunk, sizeof(chunk))) > 0;)
		buf_put(&b, chunk, (size_t)r);
	close(fd);
	buf_put(&b, "", 1);
	/* read whole to its end: no pid is cut in two */
	for (char *p = b.p, *end; *p; p = end) {
		long v = strtol(p, &end, 10);
		if (end == p) {
			end = p + 1;
			continue;
		}
		if (v > 0)
			push_pid(q, n, cap, (pid_t)v);
	}
	free(b.p);
}

static int is_zombie(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	ssize_t n = read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 1;
	buf[n] = 0;
	const char *paren = strrchr(buf, ')');
	return !paren || paren[1] != ' ' || paren[2] == 'Z' || paren[2] == 'X';
}

static int is_tracee(pid_t t)
{
	for (size_t i = 0; i < ntracees; i++)
		if (tracees[i] == t)
			return 1;
	return 0;
}

/*
 * Seize every thread of each process, then list its children, breadth first: a child forked after its parent
 * was seized is traced by the kernel (TRACEFORK), one forked before is listed here. A process's task directory
 * is read again until a pass finds no thread not seized yet (a thread that exits during a read can make the
 * listing skip another; one created meanwhile is traced by TRACECLONE or found by the next pass). Each thread
 * is interrupted, so that its first stop (PTRACE_EVENT_STOP) restarts it with syscall stops. We and execlens
 * (our parent) are left out with what we run: execlens stopped at every syscall while it waits for our records
 * would stop us too (strace does not attach to itself either). Returns -1 when a process given on the command
 * line cannot be seized; a descendant that is gone meanwhile is skipped.
 */
static int attach_tree(const pid_t *given, size_t ngiven, long opts)
{
	pid_t self = getpid(), tracer = getppid();
	pid_t *q = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < ngiven; i++)
		if (push_pid(&q, &n, &cap, given[i]))
			return -1;
	for (size_t i = 0; i < n; i++) {
		pid_t pid = q[i];
		int seen = pid == self || pid == tracer;
		for (size_t j = 0; j < i && !seen; j++)
			seen = q[j] == pid;
		if (seen)
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		pid_t *tids = NULL;
		size_t nt = 0, ct = 0;
		for (int more = 1; more;) {
			more = 0;
			DIR *d = opendir(path);
			if (!d) {
				if (i < ngiven && nt == 0) {
					fprintf(stderr, "execlens-ptrace: -p %d: no such process\n", pid);
					free(q);
					return -1;
				}
				break;
			}
			for (struct dirent *e; (e = readdir(d));) {
				if (e->d_name[0] < '1' || e->d_name[0] > '9')
					continue;
				pid_t tid = (pid_t)atoi(e->d_name);
				if (is_tracee(tid))
					continue;
				if (ptrace(PTRACE_SEIZE, tid, 0, opts)) {
					/* a zombie (exited, not reaped yet) is gone: nothing of it to trace */
					if (i < ngiven && tid == pid && !is_zombie(pid)) {
						fprintf(stderr, "execlens-ptrace: -p %d: PTRACE_SEIZE: %s%s\n", pid, strerror(errno),
							errno == EPERM ? " (traced already, or not allowed: kernel.yama.ptrace_scope)" : "");
						closedir(d);
						free(tids);
						free(q);
						return -1;
					}
					continue;
				}
				ptrace(PTRACE_INTERRUPT, tid, 0, 0);
				tracee_add(tid);
				push_pid(&tids, &nt, &ct, tid);
				more = 1;
			}
			closedir(d);
		}
		/* children of every thread (CONFIG_PROC_CHILDREN, 3.5+), listed once all its threads are seized */
		for (size_t t = 0; t < nt; t++) {
			snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, tids[t]);
			read_pids(path, &q, &n, &cap);
		}
		free(tids);
	}
	free(q);
	/* the walk is done: a record of length 0 (src/backend/ptrace/source.ts) */
	emit(NULL, 0, NULL, 0);
	fflush(out);
	return 0;
}

/* ---- the tracer loop ---- */

static void resume(pid_t pid, int sig)
{
	int op = (!use_seccomp || find_pending(pid)) ? PTRACE_SYSCALL : PTRACE_CONT;
	ptrace(op, pid, 0, sig);
}

static int is_process(pid_t pid)
{
	struct status s;
	return proc_status(pid, &s) == 0 && s.tgid == pid;
}

/*
 * End the way the command ended: killed by the same signal, so whoever waits for us (execlens) sees a
 * signal, not an exit code of 128+n that a command could also have chosen. No core file of ours.
 */
static void die_like(int sig)
{
	struct rlimit no_core = { 0, 0 };
	sigset_t all;

	fflush(NULL);
	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigaddset(&all, sig);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	raise(sig);
	_exit(128 + sig); /* a signal that does not kill (e.g. SIGCHLD cannot be a death) */
}

int main(int argc, char **argv)
{
	int uid = -1, gid = -1, exec_only = 0;
	const char *attach_list = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-seccomp"))
			use_seccomp = 0;
		else if (!strcmp(argv[i], "--exec"))
			exec_only = 1;
		else if (!strcmp(argv[i], "--ctty"))
			take_ctty = 1;
		else if (!strcmp(argv[i], "--hold-enter"))
			hold_enter = 1;
		else if (!strcmp(argv[i], "--hold-exit"))
			hold_exit = 1;
		else if (!strcmp(argv[i], "--attach") && i + 1 < argc)
			attach_list = argv[++i];
		else if (!strcmp(argv[i], "--uid") && i + 1 < argc)
			uid = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--gid") && i + 1 < argc)
			gid = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: execlens-ptrace [--no-seccomp] [--uid N --gid N] [--ctty] [--hold-enter] [--hold-exit]   (command spec on fd 4)\n"
					"       execlens-ptrace --exec [--uid N --gid N] [--ctty]            (command spec on fd 3)\n"
					"       execlens-ptrace --attach PID[,PID...]                        (records to fd 3)\n");
			return EXIT_SETUP;
		}
	}
	struct spec sp = {0};
	if (!attach_list && read_spec(exec_only ? 3 : 4, &sp)) {
		fprintf(stderr, "execlens-ptrace: no valid command spec on fd %d\n", exec_only ? 3 : 4);
		return EXIT_SETUP;
	}
	if (exec_only) {
		/* nothing else: this process becomes the command, which the eBPF backend follows */
		session_on_tty();
		drop_creds(uid, gid);
		default_signals();
		exec_spec(&sp, "execlens");
	}
	out = fdopen(3, "w");
	if (!out) {
		perror("execlens-ptrace: fd 3");
		return EXIT_SETUP;
	}
	setvbuf(out, NULL, _IOFBF, 1 << 16);
	/* a Ctrl-C reaches the tracees from the terminal; we stay to report it */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	/* SIGTERM/SIGHUP (execlens stopping): detach and let the tree run on */
	struct sigaction sa = {0};
	sa.sa_handler = on_detach_signal;
	sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: waitpid returns EINTR */
	sigaction(SIGHUP, &sa, NULL);

	if (holding() && setup_holds()) {
		perror("execlens-ptrace: signalfd");
		return EXIT_SETUP;
	}
	pid_t root = -1;
	if (attach_list) {
		pid_t *given = NULL;
		size_t ngiven = 0, cgiven = 0;
		for (char *p = (char *)attach_list, *end; *p; p = *end ? end + 1 : end) {
			long v = strtol(p, &end, 10);
			if (end == p || v <= 0 || (*end && *end != ',') || push_pid(&given, &ngiven, &cgiven, (pid_t)v)) {
				fprintf(stderr, "execlens-ptrace: --attach %s: not a list of pids\n", attach_list);
				return EXIT_SETUP;
			}
		}
		use_seccomp = 0;
		/* no EXITKILL: if we die, the kernel detaches them and they run on */
		long aopts = PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
			     PTRACE_O_TRACESYSGOOD;
		int bad = attach_tree(given, ngiven, aopts);
		free(given);
		if (bad) {
			detach_all();
			return EXIT_SETUP;
		}
		goto trace;
	}
	root = fork();
	if (root < 0) {
		perror("execlens-ptrace: fork");
		return EXIT_SETUP;
	}
	if (root == 0)
		child(&sp, uid, gid);
	int status;
	if (waitpid(root, &status, WSTOPPED) != root || !WIFSTOPPED(status)) {
		fprintf(stderr, "execlens-ptrace: the command did not start\n");
		return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_SETUP;
	}
	long opts = PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
		    PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | (use_seccomp ? PTRACE_O_TRACESECCOMP : 0);
	if (ptrace(PTRACE_SEIZE, root, 0, opts)) {
		fprintf(stderr, "execlens-ptrace: PTRACE_SEIZE: %s\n", strerror(errno));
		kill(root, SIGKILL);
		return EXIT_SETUP;
	}
	emit_fork(getpid(), root);
	tracee_add(root);
	kill(root, SIGCONT);

trace:;
	int root_status = -1;
	for (;;) {
		fflush(out);
		if (detach_requested) {
			detach_all();
			fflush(out);
			return 128 + SIGTERM;
		}
		pid_t pid = waitpid(-1, &status, __WALL | (sigchld_fd >= 0 ? WNOHANG : 0));
		if (pid == 0) {
			wait_events();
			continue;
		}
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break; /* ECHILD: every tracee is gone */
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			tracee_del(pid);
			struct pending *p = find_pending(pid);
			if (p)
				drop_pending(p);
			emit_exit(pid, status);
			if (pid == root)
				root_status = status;
			continue;
		}
		if (!WIFSTOPPED(status))
			continue;
		int sig = WSTOPSIG(status);
		int event = status >> 16;
		if (event == PTRACE_EVENT_STOP) {
			/* group-stop: stay stopped until SIGCONT; otherwise (a new tracee's first stop) go on */
			if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
				ptrace(PTRACE_LISTEN, pid, 0, 0);
			else
				resume(pid, 0);
			continue;
		}
		if (sig == SIGTRAP && event) {
			unsigned long msg = 0;
			ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg);
			if (event == PTRACE_EVENT_SECCOMP) {
				struct __ptrace_syscall_info si;
				if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(si), &si) > 0 && si.op == PTRACE_SYSCALL_INFO_SECCOMP &&
				    on_entry(pid, si.arch, si.seccomp.nr, (const uint64_t *)si.seccomp.args) &&
				    hold(pid, 0, PTRACE_SYSCALL, find_pending(pid)))
					continue;
			} else if (event == PTRACE_EVENT_EXEC) {
				/* msg: the thread that called exec (differs when a non-leader thread exec'd) */
				struct pending *p = find_pending((pid_t)msg);
				if (!p)
					p = find_pending(pid);
				if (p) {
					/* its syscall-exit stop is not needed: resume without syscall stops */
					int op = use_seccomp ? PTRACE_CONT : PTRACE_SYSCALL;
					int held = hold(pid, 1, op, p);
					on_result(p, pid, 0);
					if (!held)
						ptrace(op, pid, 0, 0);
					continue;
				}
			} else if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE) {
				pid_t c = (pid_t)msg;
				tracee_add(c);
				if (event != PTRACE_EVENT_CLONE || is_process(c)) {
					struct status s;
					proc_status(pid, &s);
					emit_fork(s.tgid ? s.tgid : pid, c);
				}
			}
			resume(pid, 0);
			continue;
		}
		if (sig == (SIGTRAP | 0x80)) {
			struct __ptrace_syscall_info si;
			if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(si), &si) > 0) {
				if (si.op == PTRACE_SYSCALL_INFO_ENTRY && !use_seccomp) {
					if (on_entry(pid, si.arch, si.entry.nr, (const uint64_t *)si.entry.args) && hold(pid, 0, PTRACE_SYSCALL, find_pending(pid)))
						continue;
				} else if (si.op == PTRACE_SYSCALL_INFO_EXIT) {
					struct pending *p = find_pending(pid);
					if (p) {
						int op = use_seccomp ? PTRACE_CONT : PTRACE_SYSCALL;
						int held = hold(pid, 1, op, p);
						on_result(p, pid, si.exit.is_error ? si.exit.rval : 0);
						if (!held)
							ptrace(op, pid, 0, 0);
						continue;
					}
				}
			}
			resume(pid, 0);
			continue;
		}
		/* signal-delivery-stop: pass the signal on */
		resume(pid, sig);
	}
	fflush(out);
	/* --attach: every tracee has gone */
	if (attach_list)
		return 0;
	if (root_status < 0)
		return EXIT_SETUP;
	if (WIFSIGNALED(root_status))
		die_like(WTERMSIG(root_status));
	return WEXITSTATUS(root_status);
}
