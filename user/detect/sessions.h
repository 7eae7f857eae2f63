/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A bounded table that ties a session id to the client address, for the
 * servers that log the address when a client connects and the failure
 * later (OpenSMTPD, Haraka). It never grows: a new session takes a free or
 * expired slot among the few its id hashes to, else the oldest of them.
 */
#ifndef MXG_SESSIONS_H
#define MXG_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define MXG_SESSION_SLOTS	4096	/* power of two */
#define MXG_SESSION_TTL		3600	/* seconds a session is remembered */
#define MXG_SESSION_ID_MAX	40

struct mxg_session {
	char id[MXG_SESSION_ID_MAX];	/* "" when free */
	struct mxg_addr addr;
	int64_t seen;
	bool auth_failed;		/* a failure was reported, the matching
					 * 535 reply line is the same event */
	unsigned int counted;		/* failures already reported for it
					 * (Dovecot passdb lines, Haraka) */
	unsigned int rep[4];		/* reports per kind of line (Haraka) */
	unsigned int seq;		/* last sequence number + 1 (Exchange) */
	char user[64];			/* the last AUTH user (Haraka), "" if none */
};

struct mxg_sessions {
	struct mxg_session slot[MXG_SESSION_SLOTS];
};

/*
 * One attempt, several reporters. Some set-ups log one failed AUTH in
 * more than one place without a shared id: Postfix (or Exim) asking
 * Dovecot's auth service logs its failure, Dovecot its passdb line
 * (auth_verbose), PAM its pam_unix line; an IMAP login is summed up by
 * the login process, told by Dovecot's passdb line, and by PAM's. Per
 * client address the table counts each reporter's reports until the
 * address has been quiet for a while, and estimates the attempts as
 *   max(PAM, max(MTA, PASSDB) + SESSION + SUMMARY)
 * (SMTP attempts are seen by the MTA and the sessionless passdb line,
 * login-process attempts by the session's passdb lines and, for the part
 * those did not report, by the summary, and PAM sees both): a report
 * counts the attempts by which it raises that estimate.
 */
#define MXG_PAIR_SLOTS		2048	/* power of two */
#define MXG_PAIR_WINDOW		10	/* seconds of quiet that end a run:
					 * Dovecot answers a failure after
					 * auth_failure_delay (2 s) */

enum mxg_reporter {
	MXG_REP_MTA,		/* the MTA's own SASL failure line */
	MXG_REP_PASSDB,		/* Dovecot's passdb line without a session */
	MXG_REP_SESSION,	/* Dovecot's passdb line of a login session */
	MXG_REP_SUMMARY,	/* a login process's summary, less its
				 * session's passdb lines */
	MXG_REP_PAM,		/* PAM's pam_unix line */
	MXG_REP_COUNT
};

struct mxg_pair {
	struct mxg_addr addr;
	int64_t seen;			/* 0 when free */
	unsigned int rep[MXG_REP_COUNT];
	unsigned int counted;
};

struct mxg_pairs {
	struct mxg_pair slot[MXG_PAIR_SLOTS];
};

/*
 * Record n attempts told by reporter rep at time now, where reports
 * older than window seconds (at least MXG_PAIR_WINDOW) since the
 * address's last one start a new run. Returns the attempts that are new.
 */
unsigned int mxg_pairs_report(struct mxg_pairs *t, const struct mxg_addr *addr,
			      enum mxg_reporter rep, unsigned int n,
			      int64_t window, int64_t now);

void mxg_sessions_put(struct mxg_sessions *t, const char *id, size_t idlen,
		      const struct mxg_addr *addr, int64_t now);
struct mxg_session *mxg_sessions_get(struct mxg_sessions *t, const char *id,
				     size_t idlen, int64_t now);
void mxg_sessions_del(struct mxg_sessions *t, const char *id, size_t idlen);

/*
 * n attempts told by a line of kind k (< 4) of session x, where each kind
 * of line tells every attempt of the session once: the attempts that are
 * new (those by which kind k is ahead of everything counted).
 */
unsigned int mxg_session_report(struct mxg_session *x, unsigned int k,
				unsigned int n);

#endif
