/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reads of the calling process's memory. bpf_probe_read_user (5.5) never
 * faults a page in; bpf_copy_from_user (5.10) may, but only in a sleepable
 * program (fentry.s, entry programs only).
 *
 * may_sleep: only the syscall-entry programs of a sleepable plan (fentry.s)
 * may fault pages in; exit and lifecycle programs are never sleepable, so
 * they pass false and the copy_from_user branch is compiled out for them
 * (the verifier refuses a sleeping helper in a non-sleepable program).
 */
#ifndef EXECLENS_USER_BPF_H
#define EXECLENS_USER_BPF_H

static __always_inline long read_user(void *dst, __u32 size, const void *src, bool may_sleep)
{
	if (may_sleep && cfg_sleepable)
		return bpf_copy_from_user(dst, size, src);
	return bpf_probe_read_user(dst, size, src);
}

/*
 * Fault in the page of a user string before a string read (sleepable entry
 * programs only; compiled out elsewhere). BPF's string reads never fault pages
 * in, and a forked child's page-table entries start "old": where the CPU sets
 * the accessed bit by a page fault (riscv64 with Svade, arm64 without
 * FEAT_HAFDBS), a string on a page the child has not touched since its fork is
 * unreadable without this (seen in a riscv64 7.2 guest: 12 of 120 filenames).
 * A string that starts in the last SMALL_STR bytes of a page gets the next
 * page touched too.
 */
static __always_inline void fault_in_str(const void *p, bool may_sleep)
{
	char b;
	__u64 a = (__u64)p;

	if (!(may_sleep && cfg_sleepable) || !p)
		return;
	bpf_copy_from_user(&b, 1, p);
	if ((a & (ARCH_PAGE_SIZE - 1)) > ARCH_PAGE_SIZE - SMALL_STR)
		bpf_copy_from_user(&b, 1, (const void *)((a | (ARCH_PAGE_SIZE - 1)) + 1));
}

/* user pointer at index i of a native or compat (32-bit) pointer array */
static __always_inline long read_uptr(__u64 *out, __u64 arr, __u32 i, bool compat, bool may_sleep)
{
	if (compat) {
		__u32 p32 = 0;
		long err = read_user(&p32, sizeof(p32), (const void *)(arr + (__u64)i * 4), may_sleep);
		*out = p32;
		return err;
	}
	return read_user(out, sizeof(*out), (const void *)(arr + (__u64)i * 8), may_sleep);
}

/*
 * Fault in the pages of the strings of a native argv or envp (sleepable entry programs, on arches whose old
 * page-table entries fault: compiled out elsewhere). A failed exec's strings are read from the caller at
 * syscall exit by a program that cannot sleep; without this, on riscv64 the strings on pages the child had
 * not touched since its fork came out unreadable (ARGV_FAULT/ENV_FAULT, the 7.2 parity test). The first
 * STR_ARRAY_MAX strings, as many as the exit reads; a string longer than a page keeps only its first pages.
 */
static __always_inline void fault_in_strs(__u64 arr, bool may_sleep)
{
#ifdef ARCH_OLD_PTES_FAULT
	if (!(may_sleep && cfg_sleepable) || !arr)
		return;
	for (__u32 i = 0; i < STR_ARRAY_MAX; i++) {
		__u64 p = 0;

		if (read_uptr(&p, arr, i, false, true) || !p)
			break;
		fault_in_str((const void *)p, true);
	}
#endif
}

#endif
