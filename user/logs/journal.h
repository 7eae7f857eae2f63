/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Following the systemd journal (sd-journal): entries of the mail services
 * from trusted senders (see mxg_journal_opts), each turned into a
 * syslog-like line so the file parsers read them too:
 *
 *	2024-05-01T12:34:56.123456+02:00 mx1 postfix/smtpd[4242]: MESSAGE
 *
 * (the entry's realtime timestamp in local time, _HOSTNAME, SYSLOG_IDENTIFIER,
 * SYSLOG_PID or else _PID; "[PID]" is left out when there is none; newlines
 * and NULs in MESSAGE become spaces). Lines go to the same mxg_line_fn as
 * files do, with path "journal".
 *
 * Event loop: poll mxg_journal_fd() for POLLIN and call mxg_journal_process()
 * when it is readable and from the 1 s timer as well (journals on file
 * systems without inotify are only seen by the timer).
 */
#ifndef MXG_JOURNAL_H
#define MXG_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "follow.h"

/*
 * Identifiers followed when the options give none: the SYSLOG_IDENTIFIER
 * prefixes of Postfix, Dovecot, Exim, Sendmail, OpenSMTPD, Courier, Haraka.
 */
extern const char *const mxg_journal_default_identifiers[];

struct mxg_journal_opts {
	/* Where: one of these, or neither for the local system journal. */
	const char *directory;		/* a directory of .journal files */
	const char *const *files;	/* NULL-terminated journal files */
	/*
	 * What: entries whose SYSLOG_IDENTIFIER matches one of identifiers or
	 * whose _SYSTEMD_UNIT matches one of units (NULL-terminated lists).
	 * A pattern ending in '*' matches by prefix ("postfix*" takes
	 * postfix/smtpd, postfix/submission/smtpd, ...). When every pattern
	 * is exact the journal's own indexes do the matching; a prefix
	 * pattern means reading every entry's identifier. Both NULL: the
	 * default identifiers.
	 */
	const char *const *identifiers;
	const char *const *units;
	/*
	 * Whose entries count: NULL-terminated user names besides root (NULL:
	 * mxg_journal_trusted_users). Entries from other users, whatever
	 * identifier they claim, are filtered unless their _SYSTEMD_UNIT is a
	 * mail server's (mxg_journal_trusted_units, or one of units).
	 */
	const char *const *trusted_users;
	/* Start at the oldest entry instead of the end (tests, replay). */
	bool from_start;
};

extern const char *const mxg_journal_trusted_users[];
extern const char *const mxg_journal_trusted_units[];

struct mxg_journal_stats {
	uint64_t entries;	/* entries read */
	uint64_t lines;		/* entries matched and delivered */
	uint64_t filtered;	/* entries read but not matched (untrusted too) */
	uint64_t untrusted;	/* a mail identifier from an untrusted sender */
	uint64_t errors;	/* entries that could not be read */
};

struct mxg_journal;

/*
 * Open and position at the end (or start). NULL and errno on failure,
 * which the caller reports (the failed step is logged at debug level).
 */
struct mxg_journal *mxg_journal_open(const struct mxg_journal_opts *o);
void mxg_journal_free(struct mxg_journal *j);

/* The fd to poll for POLLIN (sd_journal_get_fd). */
int mxg_journal_fd(struct mxg_journal *j);

/* Deliver every new matching entry. Returns lines delivered or -errno. */
int mxg_journal_process(struct mxg_journal *j, mxg_line_fn cb, void *arg);

/*
 * Save the cursor of the last entry read to state_path (atomically, through
 * mxg_atomic_write; 0 or a negative errno, nothing logged here), and
 * resume after it: load seeks there, so the next process() delivers the
 * entries after it. A missing state file leaves the position alone and
 * returns 0; -EINVAL on a malformed one. Load after open, before process.
 */
int mxg_journal_save(struct mxg_journal *j, const char *state_path);
int mxg_journal_load(struct mxg_journal *j, const char *state_path);

void mxg_journal_get_stats(const struct mxg_journal *j,
			   struct mxg_journal_stats *out);

#endif
