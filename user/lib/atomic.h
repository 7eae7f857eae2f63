/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Files that must survive a crash or a power cut whole or not at all (the
 * bans state, evidence), and the directories that hold them.
 */
#ifndef MXG_ATOMIC_H
#define MXG_ATOMIC_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* Writes the content of the file; returns 0 or a negative errno. */
typedef int (*mxg_atomic_fill_fn)(FILE *f, void *arg);

/*
 * Replace path with what fill writes: a temporary file in the same
 * directory, fsync, rename over path, fsync of the directory (without it
 * the rename itself may be lost on a crash). path keeps its old content
 * on any failure. Returns 0 or a negative errno.
 */
int mxg_atomic_write(const char *path, mode_t mode, mxg_atomic_fill_fn fill,
		     void *arg);

/*
 * What fill writes, in memory: *data (malloc'd) and *len. For a writer that
 * puts it on disk elsewhere (the daemon's saver thread). 0 or -errno.
 */
int mxg_atomic_render(mxg_atomic_fill_fn fill, void *arg, char **data,
		      size_t *len);

/* fsync the directory that holds path. 0 or a negative errno. */
int mxg_fsync_dir_of(const char *path);

/*
 * Is dir safe to keep our pins or state in? It must be a directory owned
 * by our effective uid (or by root when root_ok: the operator commands
 * read what root's daemon made) and writable by nobody else: a directory
 * another user can write to lets them unlink or replace what is in it.
 * With strict, any group/other permission bit is refused too (0700 only).
 * what names it in err ("pin dir", "state dir"). 0, or a negative errno
 * with err saying what is wrong and how to fix it.
 */
int mxg_dir_check_private(const char *dir, const char *what, bool root_ok,
			  bool strict, char *err, size_t errlen);

#endif
