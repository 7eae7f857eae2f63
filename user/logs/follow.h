/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Following log files: new complete lines of N files, across both kinds of
 * rotation, restarts (saved offsets) and files that appear later. Knows
 * nothing of what a line means.
 *
 * Event loop integration (epoll):
 *
 *	f = mxg_follow_new(0);
 *	mxg_follow_load(f, "/var/lib/mxguard/follow.state");	(optional, first)
 *	mxg_follow_add(f, "/var/log/mail.log");
 *	epoll_ctl(ep, EPOLL_CTL_ADD, mxg_follow_fd(f), EPOLLIN);
 *	a 1 s timer (timerfd, or the epoll_wait timeout) calls mxg_follow_poll();
 *	EPOLLIN on mxg_follow_fd() calls mxg_follow_process();
 *	on exit (and every so often) mxg_follow_save().
 *
 * Both process and poll read everything that is new in every file, so
 * calling either too often is only a few wasted syscalls, and a lost or
 * overflowed inotify event is caught by the next poll at the latest.
 *
 * Guarantees and limits:
 * - Lines are delivered whole, without the '\n', NUL-terminated in an
 *   internal buffer valid only during the callback.
 * - A line longer than MXG_FOLLOW_LINE_MAX bytes is delivered cut to its
 *   first MXG_FOLLOW_LINE_MAX bytes and counted; the rest of it is dropped,
 *   never delivered as a line of its own (it is attacker-controlled text
 *   that could look like a log line).
 * - rename-and-create rotation: the old file is read to its end and kept
 *   open while writers may still append to it (until it has been idle for
 *   MXG_FOLLOW_DRAIN_MS, checked by mxg_follow_poll), the new file is read
 *   from offset 0. No line is lost or read twice.
 * - copytruncate: a size below our offset, or other bytes at the start or
 *   just before our offset, means the file was truncated. What we had not
 *   read yet is read from logrotate's copy when it is found (a regular file
 *   FILE<suffix> in the same directory, still uncompressed, holding the
 *   bytes we read), then reading restarts at 0. Lines written after the
 *   copy was made and before the truncate are in neither file: that race
 *   is in copytruncate itself, no reader can see them. With compress, only
 *   delaycompress keeps the copy readable.
 * - A file missing at start is read from offset 0 when it appears (all of
 *   it was written after we started).
 */
#ifndef MXG_FOLLOW_H
#define MXG_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest line delivered; longer lines are cut to this many bytes. */
#define MXG_FOLLOW_LINE_MAX	(64 * 1024)
/* Size of the one read buffer shared by all files of a follower. */
#define MXG_FOLLOW_READ_SIZE	(256 * 1024)
/* A rotated-away file is closed after being idle this long. */
#define MXG_FOLLOW_DRAIN_MS	10000
/* Bytes at the start of a file remembered to recognise it (state file). */
#define MXG_FOLLOW_FP_LEN	64

/* Called once per complete line; line[len] == '\0'. */
typedef void (*mxg_line_fn)(const char *line, size_t len, const char *path,
			    void *arg);

/* Flags of mxg_follow_new(). */
enum {
	/* Files without saved state start at offset 0 instead of their end. */
	MXG_FOLLOW_FROM_START = 1 << 0,
};

struct mxg_follow_stats {
	uint64_t lines;		/* lines delivered */
	uint64_t bytes;		/* bytes consumed, newlines included */
	uint64_t rotations;	/* rename-and-create rotations seen */
	uint64_t truncations;	/* truncations (copytruncate) seen */
	uint64_t copies;	/* truncations whose unread rest was read from the copy */
	uint64_t long_lines;	/* lines cut to MXG_FOLLOW_LINE_MAX */
	uint64_t errors;	/* failed reads, opens or stats (see errno log) */
};

struct mxg_follow;

/* A follower with no files. NULL and errno on failure. */
struct mxg_follow *mxg_follow_new(unsigned int flags);
void mxg_follow_free(struct mxg_follow *f);

/*
 * Follow path (need not exist yet; its directory should). Where reading
 * starts: saved state for this path if mxg_follow_load() found some, else the
 * end of the file (offset 0 with MXG_FOLLOW_FROM_START). -EEXIST if already
 * followed, -ENOMEM, -ENAMETOOLONG.
 */
int mxg_follow_add(struct mxg_follow *f, const char *path);

/* The inotify fd to poll for POLLIN. */
int mxg_follow_fd(const struct mxg_follow *f);

/*
 * Read what is new in every file, calling cb per complete line.
 * Returns the number of lines delivered, or a negative errno if the inotify
 * fd failed. Errors on single files are counted and retried later.
 */
int mxg_follow_process(struct mxg_follow *f, mxg_line_fn cb, void *arg);

/*
 * The timer-driven fallback, about once a second: like process, plus
 * re-checks of what inotify may miss (NFS, a directory that appeared,
 * truncate-and-rewrite past our offset) and closing drained rotated files.
 */
int mxg_follow_poll(struct mxg_follow *f, mxg_line_fn cb, void *arg);

/*
 * Save each file's identity and the offset after its last delivered line to
 * state_path, atomically (mxg_atomic_write: tmp file, fsync, rename, fsync
 * of the directory). 0 or a negative errno; nothing is logged here, the
 * caller reports a failure once.
 */
int mxg_follow_save(const struct mxg_follow *f, const char *state_path);

/*
 * Load state saved by mxg_follow_save(); call before mxg_follow_add().
 * A missing state file is not an error (returns 0, nothing loaded).
 * -EBUSY if files were already added, -EINVAL on a malformed file.
 *
 * On add, a path with saved state resumes as follows:
 * - same device and inode, size >= offset, same first bytes and same bytes
 *   before the offset: at offset;
 * - same inode but smaller or with other bytes (truncated or replaced
 *   while we were stopped): from 0, after the rest of copytruncate's copy
 *   from the saved offset when the copy is found as described above (state
 *   saved by an mxguard before the bytes before the offset were kept: not
 *   looked for);
 * - another inode (rotated while we were stopped): the saved file is looked
 *   for in the same directory (names starting with the file's name, e.g.
 *   mail.log.1, mail.log-20240101) and its rest read from the saved offset;
 *   the current file is read from 0, since it was created after we stopped.
 *   Lines in files rotated more than once meanwhile, or compressed, are lost.
 */
int mxg_follow_load(struct mxg_follow *f, const char *state_path);

void mxg_follow_get_stats(const struct mxg_follow *f,
			  struct mxg_follow_stats *out);

#endif
