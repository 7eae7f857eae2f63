/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The family matchers (parse_*.c), called by the dispatcher (parse.c).
 * They depend on text.h, sessions.h and event.h only, never on the
 * dispatcher.
 *
 * Each matcher sees the message [s, e) of a line its server wrote: from
 * the start of the server's own text (after the syslog head, or after the
 * timestamp in a file of its own) to the end of the line. It fills
 * ev->addr, ev->user, ev->attempts and ev->kind (the dispatcher sets
 * service, label and time, and has zeroed user and set attempts to 1).
 * Returns 1 on a match. Dovecot's sees "process: text" ("imap-login: ...").
 */
#ifndef MXG_MATCHERS_H
#define MXG_MATCHERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "sessions.h"

/*
 * How a failure relates to other lines of the same attempt, where a
 * server logs one attempt more than once (sessions.h); the dispatcher
 * applies it with its tables, so that each attempt counts once.
 */
struct mxg_dedup {
	bool on;			/* the line is one of several reporters */
	enum mxg_reporter rep;
	int64_t window;			/* seconds the report looks back; 0:
					 * MXG_PAIR_WINDOW */
	const char *id;			/* Dovecot's session id in the line */
	size_t idlen;
};

int mxg_match_postfix(const char *s, const char *e, struct mxg_auth_event *ev,
		      struct mxg_dedup *d);
int mxg_match_exim(const char *s, const char *e, struct mxg_auth_event *ev,
		   struct mxg_dedup *d);
int mxg_match_dovecot(const char *s, const char *e, struct mxg_auth_event *ev,
		      struct mxg_dedup *d);
int mxg_match_sendmail(struct mxg_sessions *t, const char *s, const char *e,
		       int64_t now, struct mxg_auth_event *ev);
int mxg_match_courier(const char *s, const char *e, struct mxg_auth_event *ev);
/* 1 for a Cyrus line, 2 for a UW-IMAP line. */
int mxg_match_imapd(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_domino(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_exchange(struct mxg_sessions *t, const char *s, const char *e,
		       int64_t now, struct mxg_auth_event *ev);
int mxg_match_maddy(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_nginx(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_zimbra(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_vpopmail(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_stalwart(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_roundcube(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_sogo(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_opensmtpd(struct mxg_sessions *t, const char *s, const char *e,
			int64_t now, struct mxg_auth_event *ev);
int mxg_match_haraka(struct mxg_sessions *t, const char *s, const char *e,
		     int64_t now, struct mxg_auth_event *ev);

/* Hostile-behaviour matchers (MXG_PARSE_HOSTILE). */
int mxg_hostile_postfix(const char *s, const char *e, bool postscreen,
			struct mxg_auth_event *ev);
int mxg_hostile_sendmail(const char *s, const char *e, struct mxg_auth_event *ev);

/* Custom patterns (parse_custom.c). */
struct mxg_custom;
int mxg_custom_add(struct mxg_custom **list, const char *pattern,
		   const char *label, char *err, size_t errlen);
/* The patterns of program prog[0..n) against its message [s, e). */
int mxg_custom_match(struct mxg_custom *list, const char *prog, size_t n,
		     const char *s, const char *e, struct mxg_auth_event *ev);
/* The same for the program of the idx-th pattern (a bound file). */
int mxg_custom_match_index(struct mxg_custom *list, int idx, const char *s,
			   const char *e, struct mxg_auth_event *ev);
/* Index of the first pattern of program name[0..n), or -ENOENT. */
int mxg_custom_index(const struct mxg_custom *list, const char *name,
		     size_t n);
void mxg_custom_free(struct mxg_custom *list);

#endif
