/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Log-line parsers: one line in, at most one AUTH failure out.
 *
 * Every built-in MTA family has a hand-written matcher (user/detect/parse_*.c) that
 * is a pure function of the line; the only state a parser keeps is the
 * compiled custom patterns and a small bounded session table that OpenSMTPD
 * and Haraka need, because they log the client address and the failure on
 * different lines. No allocation and no I/O per line.
 *
 * Who wrote a line decides who reads it. In a syslog-style source (mail.log,
 * the journal) the program tag picks the family ("postfix/submission/smtpd"
 * is Postfix, "dovecot" Dovecot, "exim4" Exim, ...), and only that family's
 * matcher sees the message, from its start. A file that one server writes
 * itself is bound to it (mxg_log_spec: "exim:/var/log/exim4/mainlog"), and
 * only that server's matcher reads it. Client-chosen text inside a line is
 * never searched for another server's marker.
 *
 * A parser is not thread-safe: give each thread its own.
 */
#ifndef MXG_PARSE_H
#define MXG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* Sources (mxg_parse_source): a syslog-style stream, a service, a pattern. */
#define MXG_SRC_SYSLOG		(-1)	/* each line judged by its program tag */
#define MXG_SRC_CUSTOM_BASE	1000	/* + index: a custom pattern's program */

/* A line cut at its syslog head (mxg_split_line). */
struct mxg_line_head {
	const char *prog, *prog_end;	/* program name, without "[pid]" */
	const char *tok;		/* the whole tag token ("auth-worker(3):") */
	const char *msg;		/* the message, after "tag: " */
};

/* Parser flags (mxg_parser_set_flags). */
#define MXG_PARSE_HOSTILE	(1u << 0)	/* also report MXG_EV_HOSTILE events */
#define MXG_PARSE_LOGIN		(1u << 1)	/* also report MXG_EV_LOGIN events */

struct mxg_parser;

/* "postfix", "exim", ...; "?" for an out-of-range value. */
const char *mxg_service_name(enum mxg_service svc);

/* Service by name (as mxg_service_name gives it), or -ENOENT. */
int mxg_service_from_name(const char *name);

/* NULL and errno set on failure. */
struct mxg_parser *mxg_parser_new(void);
void mxg_parser_free(struct mxg_parser *p);
void mxg_parser_set_flags(struct mxg_parser *p, unsigned int flags);

/*
 * Add a fail2ban-style custom pattern "PROGRAM: REGEX": PROGRAM is the
 * program that writes the lines (its syslog tag or journal identifier, or
 * the name a log source is bound to), REGEX a PCRE2 regex in which <HOST>
 * (or <ADDR>) stands for the client address and an optional (?<user>...)
 * group, or fail2ban's <F-USER>...</F-USER>, captures the user name. The
 * regex is matched against the message of that program's lines only, and
 * anchored at its start. It is compiled once (JIT when available).
 * service_name labels its events (the program name when NULL).
 * Returns 0, -EINVAL with a message in err for a bad pattern, -ENOMEM.
 */
int mxg_parser_add_pattern(struct mxg_parser *p, const char *pattern,
			   const char *service_name, char *err, size_t errlen);

/*
 * Parse one line of a source (without its newline; len bytes, need not be
 * NUL terminated). src is MXG_SRC_SYSLOG, a service (a file only that server
 * writes), or what mxg_parser_source returned. now is the current unix time:
 * it supplies the year of RFC 3164 timestamps and ages the session table.
 * Returns 1 and fills ev when the line is a failure, 0 when it is not.
 */
int mxg_parse_source(struct mxg_parser *p, int src, const char *line,
		     size_t len, int64_t now, struct mxg_auth_event *ev);

/* mxg_parse_source for a syslog-style line. */
int mxg_parse_line(struct mxg_parser *p, const char *line, size_t len,
		   int64_t now, struct mxg_auth_event *ev);

/*
 * The source a name stands for: "syslog", a service name ("exim"), or the
 * program of a custom pattern added before. -ENOENT when none.
 */
int mxg_parser_source(const struct mxg_parser *p, const char *name, size_t n);

/*
 * A log source as the config and the command line give it:
 * "[SOURCE:]PATH". Sets *path to the path part; returns the source (a
 * server's default log path binds it without being told, e.g. Exim's
 * mainlog), MXG_SRC_SYSLOG, or -ENOENT for an unknown "SOURCE:".
 */
int mxg_log_spec(const struct mxg_parser *p, const char *spec,
		 const char **path);

/*
 * Cut a syslog-style line ("<PRI>", a timestamp, a host, "prog[pid]: ") at
 * its head. Returns 1 with h filled when the line names its program, else 0.
 */
int mxg_split_line(const char *s, const char *e, struct mxg_line_head *h);

#endif
