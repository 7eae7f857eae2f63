/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Evidence: the log lines that led to a ban, with passwords removed, kept in
 * memory (evidence_ring.h, fed by the policy) and saved as one text file
 * per banned range (here: these files read the policy).
 *
 * Evidence files
 * --------------
 * mxg_evidence_save(p, dir, ...) writes, for each active ban that has
 * evidence lines and whose evidence changed since the last save, DIR/NAME where NAME is the CIDR with '/'
 * replaced by '_' and ".txt" appended (mxg_evidence_filename):
 *     198.18.1.0/24   -> 198.18.1.0_24.txt
 *     2001:db8:1::/64 -> 2001:db8:1::_64.txt
 * It writes DIR/.NAME.tmp, fsyncs it and renames it over DIR/NAME, so a reader
 * sees the old file or the new one, never a partial one. Files are not
 * removed when a ban ends: they remain evidence for abuse reports. The
 * daemon is expected to use STATE_DIR/evidence/ (default
 * /var/lib/mxguard/evidence/), and `mxguard evidence CIDR` to read
 * STATE_DIR/evidence/<mxg_evidence_filename(CIDR)>.
 *
 * The format is plain text, a header of "key: value" lines, an empty line,
 * then one redacted log line per line, oldest first:
 *     # mxguard evidence v1
 *     cidr: 198.18.1.0/24
 *     reason: log                (log, rate, manual, import, unknown)
 *     ban_count: 2
 *     failures: 15
 *     banned: 2024-05-01T10:00:00Z   (UTC, from the caller's wall clock)
 *     expires: 2024-05-01T12:00:00Z  (or "never")
 *     lines: 3
 *
 *     May  1 10:00:00 mx postfix/smtpd[1]: warning: ...: SASL LOGIN ...
 *     ...
 * mxg_evidence_read() returns the header fields and calls back per line.
 */
#ifndef MXG_EVIDENCE_H
#define MXG_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "addr.h"

struct mxg_policy;

/* "198.18.1.0_24.txt". Returns 0 or -ENAMETOOLONG. */
int mxg_evidence_filename(const struct mxg_cidr *cidr, char *buf, size_t size);

/*
 * Write the evidence of the record of exactly cidr in the file format above.
 * now_ns and wall_now (time(NULL) at now_ns) turn policy times into UTC.
 * Returns 0, -ENOENT or -EIO.
 */
int mxg_evidence_write(const struct mxg_policy *p, const struct mxg_cidr *cidr,
		       FILE *f, uint64_t now_ns, time_t wall_now);

/*
 * Save every active ban whose evidence is not yet saved, one file each,
 * atomically (see above). dir must exist. Returns the number of files
 * written, or a negative errno from the first failure (the others are still
 * attempted).
 */
int mxg_evidence_save(struct mxg_policy *p, const char *dir, uint64_t now_ns,
		      time_t wall_now);

/*
 * The same files, made in memory for a writer elsewhere (the daemon's
 * saver thread), oldest change first and for at most budget_ns of work (0:
 * no limit), so the event loop can do it in small steps:
 * take(name, data, len, ctx) gets each unsaved ban's file name and content
 * (data malloc'd, take owns it); when it returns 0 the ban counts as saved,
 * a non-zero return stops and is returned. Returns the number taken or a
 * negative errno.
 */
typedef int (*mxg_evidence_take_fn)(const char *name, char *data, size_t len,
				    void *ctx);
int mxg_evidence_each_unsaved(struct mxg_policy *p, uint64_t now_ns,
			      time_t wall_now, uint64_t budget_ns,
			      mxg_evidence_take_fn take, void *ctx);

/* Header of an evidence file as mxg_evidence_read() parses it. */
struct mxg_evidence_header {
	struct mxg_cidr cidr;
	char reason[16];
	unsigned int ban_count;
	unsigned int failures;
	char banned[32];
	char expires[32];
	unsigned int lines;
};

/*
 * Read an evidence file: fill hdr, call fn for each log line (may be NULL).
 * Returns 0, -errno from opening, -EINVAL on a malformed file, or fn's
 * non-zero return.
 */
int mxg_evidence_read(const char *path, struct mxg_evidence_header *hdr,
		      int (*fn)(const char *line, void *ctx), void *ctx);


#endif
