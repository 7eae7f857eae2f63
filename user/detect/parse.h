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

#include "addr.h"

enum mxg_service {
	MXG_SVC_POSTFIX,
	MXG_SVC_EXIM,
	MXG_SVC_DOVECOT,
	MXG_SVC_SENDMAIL,
	MXG_SVC_COURIER,
	MXG_SVC_DOMINO,
	MXG_SVC_OPENSMTPD,
	MXG_SVC_HARAKA,
	MXG_SVC_EXCHANGE,
	MXG_SVC_MADDY,
	MXG_SVC_CYRUS,
	MXG_SVC_UWIMAP,
	MXG_SVC_CUSTOM,
	MXG_SVC_COUNT
};

/*
 * What a line tells. AUTH is a failed (or refused) authentication attempt:
 * password guessing, the thing mxguard bans for. PROBE is other hostile
 * behaviour some tools count (a client dropping the connection right after
 * AUTH, non-SMTP commands, postscreen pregreeting); it is only reported
 * when the parser was asked for it with MXG_PARSE_PROBES.
 */
enum mxg_event_kind {
	MXG_EV_AUTH,
	MXG_EV_PROBE,
};

#define MXG_USER_MAX 128

struct mxg_auth_event {
	enum mxg_service service;
	enum mxg_event_kind kind;
	struct mxg_addr addr;		/* the client, as the MTA itself wrote it */
	int64_t time;			/* unix seconds; 0 when the line has none */
	char user[MXG_USER_MAX];	/* "" when not logged; never a password */
	unsigned int attempts;		/* >= 1 */
	const char *label;		/* service name to show; custom patterns
					 * carry their own; lives as long as the
					 * parser */
};

/* Sources (mxg_parse_source): a syslog-style stream, a service, a pattern. */
#define MXG_SRC_SYSLOG		(-1)	/* each line judged by its program tag */
#define MXG_SRC_CUSTOM_BASE	1000	/* + index: a custom pattern's program */

/* Longest program name (syslog tag, journal identifier) we take. */
#define MXG_PROG_MAX		64

/* A line cut at its syslog head (mxg_split_line). */
struct mxg_line_head {
	const char *prog, *prog_end;	/* program name, without "[pid]" */
	const char *tok;		/* the whole tag token ("auth-worker(3):") */
	const char *msg;		/* the message, after "tag: " */
};

/* Parser flags (mxg_parser_set_flags). */
#define MXG_PARSE_PROBES	(1u << 0)	/* also report MXG_EV_PROBE events */

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

/*
 * Read a plain or gzip-compressed log file as source src (mxg_log_spec)
 * and call cb for every line that matches; a non-zero return from cb stops the scan and is returned.
 * lines_read, when not NULL, receives the number of lines read.
 * Returns 0, a negative errno when the file cannot be read, or cb's value.
 */
typedef int (*mxg_scan_cb)(const struct mxg_auth_event *ev, const char *line,
			   size_t len, const char *file, unsigned long lineno,
			   void *arg);
int mxg_scan_file(struct mxg_parser *p, int src, const char *path,
		  mxg_scan_cb cb, void *arg, unsigned long *lines_read);

/* ---- for the family matchers (user/detect/parse_*.c) and their tests ---------- */

/* Bounded table that ties a session id to the client address. */
struct mxg_sessions;

/*
 * Each matcher sees the message [s, e) of a line its server wrote: from
 * the start of the server's own text (after the syslog head, or after the
 * timestamp in a file of its own) to the end of the line. It fills
 * ev->addr, ev->user, ev->attempts and ev->kind (the dispatcher sets
 * service, label and time, and has zeroed user and set attempts to 1).
 * Returns 1 on a match. Dovecot's sees "process: text" ("imap-login: ...").
 */
int mxg_match_postfix(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_exim(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_dovecot(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_sendmail(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_courier(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_imapd(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_domino(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_exchange(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_maddy(const char *s, const char *e, struct mxg_auth_event *ev);
int mxg_match_opensmtpd(struct mxg_sessions *t, const char *s, const char *e,
			int64_t now, struct mxg_auth_event *ev);
int mxg_match_haraka(struct mxg_sessions *t, const char *s, const char *e,
		     int64_t now, struct mxg_auth_event *ev);

/* Probe matchers (MXG_PARSE_PROBES). */
int mxg_probe_postfix(const char *s, const char *e, bool postscreen,
		      struct mxg_auth_event *ev);
int mxg_probe_sendmail(const char *s, const char *e, struct mxg_auth_event *ev);

/* Session table (parse_opensmtpd.c). */
#define MXG_SESSION_SLOTS	4096	/* power of two */
#define MXG_SESSION_TTL		3600	/* seconds a session is remembered */
#define MXG_SESSION_ID_MAX	40

struct mxg_session {
	char id[MXG_SESSION_ID_MAX];	/* "" when free */
	struct mxg_addr addr;
	int64_t seen;
	bool auth_failed;		/* a failure was reported, the matching
					 * 535 reply line is the same event */
};

struct mxg_sessions {
	struct mxg_session slot[MXG_SESSION_SLOTS];
};

void mxg_sessions_put(struct mxg_sessions *t, const char *id, size_t idlen,
		      const struct mxg_addr *addr, int64_t now);
struct mxg_session *mxg_sessions_get(struct mxg_sessions *t, const char *id,
				     size_t idlen, int64_t now);
void mxg_sessions_del(struct mxg_sessions *t, const char *id, size_t idlen);

/* Text helpers shared by the matchers (parse.c). */
const char *mxg_find(const char *s, const char *e, const char *lit, size_t n);
const char *mxg_rfind(const char *s, const char *e, const char *lit, size_t n);
const char *mxg_find_ci(const char *s, const char *e, const char *lit,
			size_t n);
bool mxg_starts(const char *s, const char *e, const char *lit, size_t n);
bool mxg_starts_ci(const char *s, const char *e, const char *lit, size_t n);
int mxg_addr_span(const char *s, const char *e, struct mxg_addr *out);
int mxg_addr_port_span(const char *s, const char *e, struct mxg_addr *out);
const char *mxg_addr_bracket_before(const char *s, const char *rb,
				    struct mxg_addr *out);
void mxg_user_copy(struct mxg_auth_event *ev, const char *s, const char *e);
unsigned int mxg_uint(const char *s, const char *e, const char **endp);

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

/* Literal-length helpers: FIND(s, e, "text"). */
#define MXG_FIND(s, e, lit)	mxg_find((s), (e), (lit), sizeof(lit) - 1)
#define MXG_RFIND(s, e, lit)	mxg_rfind((s), (e), (lit), sizeof(lit) - 1)
#define MXG_FIND_CI(s, e, lit)	mxg_find_ci((s), (e), (lit), sizeof(lit) - 1)
#define MXG_STARTS(s, e, lit)	mxg_starts((s), (e), (lit), sizeof(lit) - 1)
#define MXG_STARTS_CI(s, e, lit) mxg_starts_ci((s), (e), (lit), sizeof(lit) - 1)

#endif
