/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a whole log file, plain or gzip-compressed, through the parser
 * (for `mxguard scan` and `mxguard replay`; the daemon follows files with
 * follow.h instead). Lines are split here, without per-line allocation; a
 * line longer than 1 MiB is parsed by its first MiB only.
 */
#ifndef MXG_READFILE_H
#define MXG_READFILE_H

#include "parse.h"

/*
 * Read a plain or gzip-compressed log file as source src (mxg_log_spec)
 * and call cb for every line that matches; a non-zero return from cb
 * stops the scan and is returned.
 * lines_read, when not NULL, receives the number of lines read.
 * Returns 0, a negative errno when the file cannot be read, or cb's value.
 */
typedef int (*mxg_scan_cb)(const struct mxg_auth_event *ev, const char *line,
			   size_t len, const char *file, unsigned long lineno,
			   void *arg);
int mxg_scan_file(struct mxg_parser *p, int src, const char *path,
		  mxg_scan_cb cb, void *arg, unsigned long *lines_read);

#endif
