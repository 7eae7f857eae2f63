// SPDX-License-Identifier: GPL-2.0
/*
 * Reading a whole log file, plain or gzip-compressed (zlib reads both),
 * through the parser: `mxguard scan` and `mxguard replay` (readfile.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "readfile.h"

#define SCAN_BUF	(1u << 20)	/* read size; longer lines are cut */

struct scan_state {
	struct mxg_parser *p;
	int src;
	const char *path;
	mxg_scan_cb cb;
	void *arg;
	int64_t now;
	unsigned long lineno;
};

static int one_line(struct scan_state *st, const char *s, const char *e)
{
	struct mxg_auth_event ev;

	st->lineno++;
	if (!mxg_parse_source(st->p, st->src, s, (size_t)(e - s), st->now, &ev))
		return 0;
	return st->cb(&ev, s, (size_t)(e - s), st->path, st->lineno, st->arg);
}

/* Split what gzread gives into lines ourselves: gzgets per line is slow. */
static int scan_lines(struct scan_state *st, gzFile gz, char *buf)
{
	bool skipping = false;	/* inside the cut-off rest of a long line */
	size_t have = 0;
	int n, rc, errnum;

	for (;;) {
		char *s = buf, *nl, *end;

		n = gzread(gz, buf + have, (unsigned int)(SCAN_BUF - have));
		if (n < 0) {
			gzerror(gz, &errnum);
			return errnum == Z_ERRNO && errno ? -errno : -EIO;
		}
		end = buf + have + n;
		while ((nl = memchr(s, '\n', (size_t)(end - s)))) {
			if (!skipping && (rc = one_line(st, s, nl)))
				return rc;
			skipping = false;
			s = nl + 1;
		}
		if (n == 0) {
			if (s < end && !skipping)
				return one_line(st, s, end);
			return 0;
		}
		have = (size_t)(end - s);
		if (have == SCAN_BUF) {
			/* A line longer than the buffer: parse its head only. */
			if (!skipping && (rc = one_line(st, buf, end)))
				return rc;
			skipping = true;
			have = 0;
			continue;
		}
		memmove(buf, s, have);
	}
}

int mxg_scan_file(struct mxg_parser *p, int src, const char *path,
		  mxg_scan_cb cb, void *arg, unsigned long *lines_read)
{
	struct scan_state st = {
		.p = p, .src = src, .path = path, .cb = cb, .arg = arg,
		.now = (int64_t)time(NULL),
	};
	gzFile gz;
	char *buf;
	int rc;

	if (lines_read)
		*lines_read = 0;
	errno = 0;
	gz = gzopen(path, "rb");
	if (!gz)
		return errno ? -errno : -ENOMEM;
	buf = malloc(SCAN_BUF);
	if (!buf) {
		gzclose(gz);
		return -ENOMEM;
	}
	gzbuffer(gz, 256 * 1024);
	rc = scan_lines(&st, gz, buf);
	if (lines_read)
		*lines_read = st.lineno;
	free(buf);
	gzclose(gz);
	return rc;
}
