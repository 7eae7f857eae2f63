/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's disk writer: a thread that puts files on disk, so that the
 * event loop never waits for one. Under a flood of bans the daemon writes
 * an evidence file per ban and the bans state every few seconds; done in
 * the loop, each fsync held back the next log line's ban by milliseconds,
 * and a thousand of them a second by seconds.
 *
 * A file is queued as its whole content, or as a function that makes the
 * content in the writer's thread (the bans state, read from the maps).
 * The writer takes everything queued as one batch: each file to a
 * temporary name beside it, one syncfs for the batch, the renames, one
 * fsync per directory. A reader sees a file's old content or its new one,
 * never a part, and a crash loses no file whose write was reported done.
 * A file that cannot be written stays queued and is tried again a second
 * later, until it can be or newer content for the same path replaces it:
 * nothing queued is dropped while the daemon runs.
 */
#ifndef MXG_SAVER_H
#define MXG_SAVER_H

#include <stddef.h>
#include <sys/types.h>

/* Makes a file's content in the writer's thread: 0, or a negative errno. */
typedef int (*mxg_render_fn)(void *arg, char **data, size_t *len);

/* What a queued file is, for the status the daemon reports per kind. */
#define MXG_SAVER_KINDS 8

struct mxg_saver;

/* A writer holding at most max_bytes of queued content. NULL and errno. */
struct mxg_saver *mxg_saver_new(size_t max_bytes);

/*
 * Queue path's new content: data[0..len) (malloc'd; the saver owns it from
 * now on, also on error), or, with data NULL, what render(arg) makes when
 * it is written. Content queued before for the same path and not yet
 * written is replaced. 0, -ENOSPC when the queue is full (try again later),
 * -ENOMEM.
 */
int mxg_saver_put(struct mxg_saver *s, unsigned int kind, const char *path,
		  mode_t mode, char *data, size_t len, mxg_render_fn render,
		  void *arg);

/*
 * Run fn(arg) in the writer's thread, in turn with the files: slow work
 * that touches only what the caller will not touch until fn says it is
 * done (map lookups, say). 0 or -ENOMEM.
 */
int mxg_saver_call(struct mxg_saver *s, void (*fn)(void *arg), void *arg);

/*
 * How writing files of kind went last: 0 when it worked (or nothing was
 * written yet), else the errno of the last failure, with its path in path.
 */
int mxg_saver_status(struct mxg_saver *s, unsigned int kind, char *path,
		     size_t size);

/* Files queued and not yet written. */
unsigned int mxg_saver_pending(struct mxg_saver *s);

/*
 * Write what is queued and wait for it, at most timeout_ms. 0, or
 * -ETIMEDOUT with files still queued (a disk that stays full).
 */
int mxg_saver_flush(struct mxg_saver *s, int timeout_ms);

/* Stop the thread (after mxg_saver_flush, if the queue matters). */
void mxg_saver_free(struct mxg_saver *s);

#endif
