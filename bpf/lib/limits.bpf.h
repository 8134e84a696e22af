/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Capture limits and map sizes (documented in docs/limits.md). The loader
 * resizes `events` and `scratch` at run time; the rest are compile-time.
 */
#ifndef EXECLENS_LIMITS_BPF_H
#define EXECLENS_LIMITS_BPF_H

#define CHUNK            32768u            /* data bytes per chunk record */
#define CHUNK_MASK       (CHUNK - 1)
#define BLOCK_MAX_CHUNKS 64                /* 64 x 32 KiB = 2 MiB per argv or env block */
#define STR_ARRAY_MAX    128               /* strings per array on the failed-exec path */
#define SMALL_STR        256u              /* first try for filename/argv0 */
#define PATH_STR         4096u             /* PATH_MAX */
#define NAME_BUF         256u              /* NAME_MAX + 1 */
#define CWD_DEPTH        32
#define FD_PATH_DEPTH    12
#define FD_SCAN          32                /* unrolled plans: fds 0..31 are reported; more set FDS_TRUNC */
#define FD_REPORT_MAX    4096              /* bpf_loop plans: this many inherited fds, of any number */
#define FD_WORDS_MAX     16384             /* open_fds words walked: 1M fds, the default fs.nr_open */
#define FD_CLOEXEC_SCAN  64                /* fds closed by the exec (FD_CLOEXEC): 0..63, as stashed */

#define RING_BYTES_DEFAULT (64 << 20)      /* events: the loader sets --ring-size */
#define TRACED_MAX       65536             /* tgids followed at once (filter mode) */
#define STASH_MAX        16384             /* execs between syscall entry and commit */
#define ENV_SENT_MAX     1024              /* env hashes remembered as sent (lib/maps.bpf.h env_sent) */

#endif
