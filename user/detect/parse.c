// SPDX-License-Identifier: GPL-2.0
/*
 * The dispatcher. A line is judged only by the parser of the program that
 * wrote it: the syslog tag (or journal identifier) picks the server family,
 * and the family's matcher reads the message from its start, where that
 * server's own fixed text is. A file a server writes itself, without tags
 * (Exim's mainlog, Haraka's, Domino's, Exchange's protocol logs), is bound to
 * that server by the configuration, and only its matcher reads it. No
 * matcher ever searches the whole line for its marker: client text (HELO
 * names, envelope addresses, echoed commands, user names) cannot carry a
 * failure into another server's parser or into another field.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logtime.h"
#include "matchers.h"
#include "parse.h"
#include "text.h"

struct mxg_parser {
	unsigned int flags;
	struct mxg_custom *custom;
	struct mxg_sessions sessions;
	struct mxg_pairs pairs;
	/* The line being judged, for the time the session matchers need. */
	const char *line, *line_end;
	int64_t time;			/* its time, once read (have_time) */
	bool have_time;
};

static const char *const service_names[MXG_SVC_COUNT] = {
	[MXG_SVC_POSTFIX]	= "postfix",
	[MXG_SVC_EXIM]		= "exim",
	[MXG_SVC_DOVECOT]	= "dovecot",
	[MXG_SVC_SENDMAIL]	= "sendmail",
	[MXG_SVC_COURIER]	= "courier",
	[MXG_SVC_DOMINO]	= "domino",
	[MXG_SVC_OPENSMTPD]	= "opensmtpd",
	[MXG_SVC_HARAKA]	= "haraka",
	[MXG_SVC_EXCHANGE]	= "exchange",
	[MXG_SVC_MADDY]		= "maddy",
	[MXG_SVC_CYRUS]		= "cyrus",
	[MXG_SVC_UWIMAP]	= "uwimap",
	[MXG_SVC_NGINX]		= "nginx",
	[MXG_SVC_ZIMBRA]	= "zimbra",
	[MXG_SVC_VPOPMAIL]	= "vpopmail",
	[MXG_SVC_STALWART]	= "stalwart",
	[MXG_SVC_ROUNDCUBE]	= "roundcube",
	[MXG_SVC_SOGO]		= "sogo",
	[MXG_SVC_CUSTOM]	= "custom",
};

const char *mxg_service_name(enum mxg_service svc)
{
	if ((unsigned int)svc >= MXG_SVC_COUNT)
		return "?";
	return service_names[svc];
}

int mxg_service_from_name(const char *name)
{
	int i;

	for (i = 0; i < MXG_SVC_COUNT; i++)
		if (!strcmp(name, service_names[i]))
			return i;
	return -ENOENT;
}

struct mxg_parser *mxg_parser_new(void)
{
	struct mxg_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	/* Once here, so that per-line local time conversions need not. */
	tzset();
	return p;
}

void mxg_parser_free(struct mxg_parser *p)
{
	if (!p)
		return;
	mxg_custom_free(p->custom);
	free(p);
}

void mxg_parser_set_flags(struct mxg_parser *p, unsigned int flags)
{
	p->flags = flags;
}

int mxg_parser_add_pattern(struct mxg_parser *p, const char *pattern,
			   const char *service_name, char *err, size_t errlen)
{
	return mxg_custom_add(&p->custom, pattern,
			      service_name && *service_name ? service_name :
			      NULL, err, errlen);
}

/* ---- the line's head: timestamp, host, program ----------------------- */

static bool is_digit_c(char c)
{
	return c >= '0' && c <= '9';
}

static bool mxg_hexdig(char c)
{
	return is_digit_c(c) || (c >= 'a' && c <= 'f');
}

static bool all_digits(const char *s, const char *e)
{
	if (s >= e)
		return false;
	for (; s < e; s++)
		if (!is_digit_c(*s))
			return false;
	return true;
}

static const char *token_end(const char *s, const char *e)
{
	while (s < e && *s != ' ')
		s++;
	return s;
}

static const char *skip_spaces(const char *s, const char *e)
{
	while (s < e && *s == ' ')
		s++;
	return s;
}

/* "HH:MM:SS" with an optional fraction at s: its end, or NULL. */
static const char *clock_end(const char *s, const char *e)
{
	if (e - s < 8 || s[2] != ':' || s[5] != ':' || !all_digits(s, s + 2) ||
	    !all_digits(s + 3, s + 5) || !all_digits(s + 6, s + 8))
		return NULL;
	s += 8;
	if (s < e && (*s == '.' || *s == ','))
		for (s++; s < e && is_digit_c(*s); s++)
			;
	return s;
}

/* "YYYY-MM-DD" at s. */
static bool date_at(const char *s, const char *e)
{
	return e - s >= 10 && all_digits(s, s + 4) && s[4] == '-' &&
	       all_digits(s + 5, s + 7) && s[7] == '-' && all_digits(s + 8, s + 10);
}

static bool month_name(const char *s, const char *e)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int i;

	if (e - s < 4 || s[3] != ' ')
		return false;
	for (i = 0; i < 12; i++)
		if (!memcmp(s, months + 3 * i, 3))
			return true;
	return false;
}

/*
 * Past the timestamp that starts a line (and the blanks after it); s itself
 * when there is none. Which time it is, is logtime.c's business; here only
 * where it ends matters. Forms: RFC 3164 "Nov 29 10:00:01", RFC 3339 as one
 * token, Exim's "2026-11-29 10:00:01[.123][ +0100]", journalctl's
 * "Sun 2026-11-29 10:00:01 CET" and "1764410401.123456".
 */
static const char *skip_time(const char *s, const char *e)
{
	const char *p, *q;

	if (month_name(s, e)) {
		p = s + 4;
		if (p < e && *p == ' ')
			p++;
		while (p < e && is_digit_c(*p) && p - s < 7)
			p++;
		if (p >= e || *p != ' ' || !is_digit_c(p[-1]))
			return s;
		q = clock_end(p + 1, e);
		return q && (q == e || *q == ' ') ? skip_spaces(q, e) : s;
	}
	p = s;
	/* journalctl -o short-full: a weekday first. */
	if (e - s > 4 && s[3] == ' ' && !is_digit_c(s[0]) && date_at(s + 4, e))
		p = s + 4;
	if (date_at(p, e)) {
		if (p + 10 < e && p[10] == 'T') {
			/* RFC 3339: one token. */
			return skip_spaces(token_end(p, e), e);
		}
		if (p + 10 >= e || p[10] != ' ')
			return s;
		q = clock_end(p + 11, e);
		if (!q || (q < e && *q != ' '))
			return s;
		q = skip_spaces(q, e);
		/* A zone: "+0100" (Exim) or a name (journalctl). */
		if (q < e && (*q == '+' || *q == '-') && e - q >= 5 &&
		    all_digits(q + 1, q + 5))
			q = skip_spaces(token_end(q, e), e);
		else if (p != s && q < e && *q >= 'A' && *q <= 'Z')
			q = skip_spaces(token_end(q, e), e);
		return q;
	}
	/* daemontools' multilog: "@" and a TAI64N label. */
	if (e - s > 25 && s[0] == '@' && s[25] == ' ') {
		for (p = s + 1; p < s + 25 && mxg_hexdig(*p); p++)
			;
		if (p == s + 25)
			return skip_spaces(p, e);
	}
	/* journalctl -o short-unix. */
	q = token_end(s, e);
	for (p = s; p < q && is_digit_c(*p); p++)
		;
	if (p - s == 10 && (p == q || *p == '.') &&
	    (p == q || all_digits(p + 1, q)))
		return skip_spaces(q, e);
	return s;
}

/* A "<PRI>" at s: past it (and past an RFC 5424 version), else s. */
static const char *skip_pri(const char *s, const char *e, bool *rfc5424)
{
	const char *p;

	*rfc5424 = false;
	if (s >= e || *s != '<')
		return s;
	for (p = s + 1; p < e && p - s < 5 && is_digit_c(*p); p++)
		;
	if (p == s + 1 || p >= e || *p != '>')
		return s;
	p++;
	if (e - p >= 2 && p[0] == '1' && p[1] == ' ') {
		*rfc5424 = true;
		p += 2;
	}
	return p;
}

/* Characters of a program name as syslog(3) callers and journald use them. */
static bool prog_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit_c(c) || c == '_' || c == '-' || c == '.' || c == '/' ||
	       c == '@';
}

/*
 * A tag token "name", "name[pid]" or "name(n)" ending in ':' at [s, t):
 * sets the name's end. Dovecot's own log files write "auth-worker(12):".
 */
static bool tag_token(const char *s, const char *t, const char **name_end)
{
	const char *p = s;

	while (p < t && prog_char(*p))
		p++;
	if (p == s || p - s > MXG_PROG_MAX)
		return false;
	*name_end = p;
	if (p < t && *p == '(' && p + 1 < t && !is_digit_c(p[1])) {
		/*
		 * Dovecot 2.4's own log files: "auth(user,ip,mech)<sess>:",
		 * the identity in the name. The name is what counts.
		 */
		const char *rp = memrchr(p, ')', (size_t)(t - p));

		if (!rp)
			return false;
		for (p = rp + 1; p < t && *p == '<';) {
			const char *gt = memchr(p, '>', (size_t)(t - p));

			if (!gt)
				return false;
			p = gt + 1;
		}
		return p == t;
	}
	if (p < t && (*p == '[' || *p == '(')) {
		char close = *p == '[' ? ']' : ')';

		for (p++; p < t && is_digit_c(*p); p++)
			;
		if (p >= t || *p != close)
			return false;
		p++;
	}
	return p == t;
}

/*
 * GNUstep's NSLog head, as SOGo writes its own log: "NAME [PID]: " with
 * NAME the token [s, t1). Sets *after past the colon.
 */
static bool gnustep_tag(const char *s, const char *t1, const char *e,
			const char **after)
{
	const char *p, *q;

	for (p = s; p < t1 && prog_char(*p); p++)
		;
	if (p != t1 || p == s || e - t1 < 5 || t1[0] != ' ' || t1[1] != '[')
		return false;
	for (q = t1 + 2; q < e && is_digit_c(*q); q++)
		;
	if (q == t1 + 2 || !MXG_STARTS(q, e, "]:"))
		return false;
	*after = q + 2;
	return true;
}

int mxg_split_line(const char *s, const char *e, struct mxg_line_head *h)
{
	const char *p, *t1, *t2, *ne;
	bool rfc5424;
	int i;

	memset(h, 0, sizeof(*h));
	p = skip_pri(s, e, &rfc5424);
	if (rfc5424) {
		/* TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG */
		for (i = 0; i < 2; i++)
			p = skip_spaces(token_end(p, e), e);
		t1 = token_end(p, e);
		if (t1 == p || t1 - p > MXG_PROG_MAX)
			return 0;
		for (ne = p; ne < t1 && prog_char(*ne); ne++)
			;
		if (ne != t1)
			return 0;
		h->prog = p;
		h->prog_end = t1;
		h->tok = p;
		p = skip_spaces(t1, e);
		for (i = 0; i < 2; i++)
			p = skip_spaces(token_end(p, e), e);
		/* Structured data: "-" or "[...]..." with quoted values. */
		if (p < e && *p == '[') {
			bool quoted = false;

			for (; p < e; p++) {
				if (*p == '\\' && quoted) {
					p++;
				} else if (*p == '"') {
					quoted = !quoted;
				} else if (*p == ']' && !quoted &&
					   (p + 1 == e || p[1] == ' ')) {
					p++;
					break;
				}
			}
		} else {
			p = token_end(p, e);
		}
		p = skip_spaces(p, e);
		if (e - p >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
			p += 3;
		h->msg = p;
		return 1;
	}
	p = skip_time(p, e);
	/* "host tag: msg", or "tag: msg" where a program writes its own file. */
	t1 = token_end(p, e);
	if (t1 > p && t1[-1] == ':' && tag_token(p, t1 - 1, &ne)) {
		h->tok = p;
	} else if (gnustep_tag(p, t1, e, &t2)) {
		/* SOGo's own file: "sogod [PID]: msg". */
		h->prog = p;
		h->prog_end = t1;
		h->tok = p;
		h->msg = skip_spaces(t2, e);
		return 1;
	} else {
		p = skip_spaces(t1, e);
		t2 = token_end(p, e);
		if (t2 == p || t2[-1] != ':' || !tag_token(p, t2 - 1, &ne))
			return 0;
		t1 = t2;
		h->tok = p;
	}
	h->prog = p;
	h->prog_end = ne;
	h->msg = skip_spaces(t1, e);
	return 1;
}

/* ---- which program is which server ------------------------------------ */

static bool prog_is(const struct mxg_line_head *h, const char *name)
{
	size_t n = strlen(name);

	return (size_t)(h->prog_end - h->prog) == n && !memcmp(h->prog, name, n);
}

static bool prog_starts(const struct mxg_line_head *h, const char *name)
{
	size_t n = strlen(name);

	return (size_t)(h->prog_end - h->prog) >= n && !memcmp(h->prog, name, n);
}

/* The last "/component" of the program name, or the whole name. */
static bool prog_last_is(const struct mxg_line_head *h, const char *name)
{
	const char *c = h->prog_end;
	size_t n = strlen(name);

	while (c > h->prog && c[-1] != '/')
		c--;
	return (size_t)(h->prog_end - c) == n && !memcmp(c, name, n);
}

/* Dovecot's processes, as its own log files name them in the tag. */
static const char *const dovecot_procs[] = {
	"imap-login", "pop3-login", "submission-login", "managesieve-login",
	"auth", "auth-worker", "imap", "pop3", "submission", "lmtp",
	"managesieve", "dovecot", "dovecot-auth",
};

static bool dovecot_prog(const struct mxg_line_head *h)
{
	size_t i;

	for (i = 0; i < sizeof(dovecot_procs) / sizeof(dovecot_procs[0]); i++)
		if (prog_is(h, dovecot_procs[i]))
			return true;
	return false;
}

/* The services a program name can be (a bit per enum mxg_service). */
static unsigned int services_of(const struct mxg_line_head *h)
{
	unsigned int m = 0;

	/* Postfix: "postfix/smtpd", "postfix/submission/smtpd", "postfix-out/smtpd". */
	if (prog_starts(h, "postfix") && memchr(h->prog, '/', (size_t)(h->prog_end - h->prog)))
		m |= 1u << MXG_SVC_POSTFIX;
	if (prog_is(h, "postgrey"))
		m |= 1u << MXG_SVC_POSTFIX;
	if (dovecot_prog(h))
		m |= 1u << MXG_SVC_DOVECOT;
	if (prog_is(h, "exim") || prog_is(h, "exim4"))
		m |= 1u << MXG_SVC_EXIM;
	/* sendmail's daemon as its process title names it, too. */
	if (prog_is(h, "sm-mta") || prog_is(h, "sendmail") ||
	    prog_is(h, "sm-acceptingconnections"))
		m |= 1u << MXG_SVC_SENDMAIL;
	if (prog_is(h, "courieresmtpd") || prog_is(h, "imapd") ||
	    prog_is(h, "imapd-ssl") || prog_is(h, "pop3d") ||
	    prog_is(h, "pop3d-ssl") || prog_is(h, "courierpop3login") ||
	    prog_is(h, "courierimaplogin"))
		m |= 1u << MXG_SVC_COURIER;
	/*
	 * Cyrus: "imaps", "cyrus/imap", and "imapd"/"pop3d" where it is
	 * installed so (as Courier and UW-IMAP are); its "badlogin: " and
	 * "login: " are its own.
	 */
	if (prog_last_is(h, "imap") || prog_last_is(h, "imaps") ||
	    prog_last_is(h, "pop3") || prog_last_is(h, "pop3s") ||
	    prog_is(h, "imapd") || prog_is(h, "pop3d"))
		m |= 1u << MXG_SVC_CYRUS;
	if (prog_is(h, "imapd") || prog_is(h, "ipop3d") || prog_is(h, "ipop2d"))
		m |= 1u << MXG_SVC_UWIMAP;
	if (prog_is(h, "smtpd"))
		m |= 1u << MXG_SVC_OPENSMTPD;
	if (prog_is(h, "haraka") || prog_is(h, "Haraka"))
		m |= 1u << MXG_SVC_HARAKA;
	if (prog_is(h, "maddy"))
		m |= 1u << MXG_SVC_MADDY;
	if (prog_is(h, "domino"))
		m |= 1u << MXG_SVC_DOMINO;
	if (prog_is(h, "nginx"))
		m |= 1u << MXG_SVC_NGINX;
	if (prog_is(h, "zimbra") || prog_is(h, "mailboxd"))
		m |= 1u << MXG_SVC_ZIMBRA;
	if (prog_is(h, "vpopmail") || prog_is(h, "vchkpw"))
		m |= 1u << MXG_SVC_VPOPMAIL;
	if (prog_is(h, "stalwart") || prog_is(h, "stalwart-mail"))
		m |= 1u << MXG_SVC_STALWART;
	if (prog_is(h, "roundcube"))
		m |= 1u << MXG_SVC_ROUNDCUBE;
	if (prog_is(h, "sogod") || prog_is(h, "sogo"))
		m |= 1u << MXG_SVC_SOGO;
	return m;
}

/*
 * A container's tag (mailcow's "postfix-mailcow", "dovecot-mailcow",
 * "sogo-mailcow", also as Docker Compose names it,
 * "mailcowdockerized-postfix-mailcow-1"): the one family whose lines it
 * carries, or 0. Docker sets the tag, the server inside writes its own
 * syslog line as the message.
 */
static unsigned int container_family(const struct mxg_line_head *h)
{
	static const struct {
		const char *name;
		enum mxg_service svc;
	} fams[] = {
		{ "postfix", MXG_SVC_POSTFIX }, { "dovecot", MXG_SVC_DOVECOT },
		{ "sogo", MXG_SVC_SOGO }, { "nginx", MXG_SVC_NGINX },
	};
	const char *p = h->prog, *m = h->prog_end;
	size_t i, n;

	/* "...-mailcow" or "...-mailcow-N": read from the end, cheaply. */
	while (m > p && is_digit_c(m[-1]))
		m--;
	if (m < h->prog_end && m > p && m[-1] == '-')
		m--;
	else
		m = h->prog_end;
	if (m - p < 9 || memcmp(m - 8, "-mailcow", 8))
		return 0;
	m -= 8;
	if (h->prog_end - p > 18 && !memcmp(p, "mailcowdockerized-", 18))
		p += 18;
	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		n = strlen(fams[i].name);
		if ((size_t)(m - p) == n && !memcmp(p, fams[i].name, n))
			return 1u << fams[i].svc;
	}
	return 0;
}

/*
 * Dovecot's matcher reads "process: text": the syslog message of "dovecot"
 * ("imap-login: Disconnected ..."), or from the tag on in Dovecot's own log
 * files ("imap-login: Info: Disconnected ...").
 */
static const char *dovecot_start(const struct mxg_line_head *h)
{
	return prog_is(h, "dovecot") ? h->msg : h->tok;
}

/*
 * The time the line being judged carries (now without one): it ages the
 * session table, so a replay of old logs pairs lines of their own time.
 * Read only where needed, not for every line: local times cost.
 */
static int64_t line_time(struct mxg_parser *p, int64_t now)
{
	if (!p->have_time) {
		p->time = mxg_logtime_parse(p->line,
					    (size_t)(p->line_end - p->line), now);
		p->have_time = true;
	}
	return p->time;
}

static int64_t line_now(struct mxg_parser *p, int64_t now)
{
	int64_t t = line_time(p, now);

	return t ? t : now;
}

static int run_matcher(struct mxg_parser *p, enum mxg_service svc,
		       const char *s, const char *e, int64_t now,
		       struct mxg_auth_event *ev, struct mxg_dedup *d)
{
	memset(d, 0, sizeof(*d));
	switch (svc) {
	case MXG_SVC_POSTFIX:
		return mxg_match_postfix(s, e, ev, d);
	case MXG_SVC_EXIM:
		return mxg_match_exim(s, e, ev, d);
	case MXG_SVC_DOVECOT:
		return mxg_match_dovecot(s, e, ev, d);
	case MXG_SVC_SENDMAIL:
		return mxg_match_sendmail(&p->sessions, s, e, now, ev);
	case MXG_SVC_COURIER:
		return mxg_match_courier(s, e, ev);
	case MXG_SVC_DOMINO:
		return mxg_match_domino(s, e, ev);
	case MXG_SVC_OPENSMTPD:
		return mxg_match_opensmtpd(&p->sessions, s, e, line_now(p, now), ev);
	case MXG_SVC_HARAKA:
		return mxg_match_haraka(&p->sessions, s, e, line_now(p, now), ev);
	case MXG_SVC_EXCHANGE:
		return mxg_match_exchange(&p->sessions, s, e, now, ev);
	case MXG_SVC_MADDY:
		return mxg_match_maddy(s, e, ev);
	case MXG_SVC_CYRUS:
		return mxg_match_imapd(s, e, ev) == 1;
	case MXG_SVC_UWIMAP:
		return mxg_match_imapd(s, e, ev) == 2;
	case MXG_SVC_NGINX:
		return mxg_match_nginx(s, e, ev);
	case MXG_SVC_ZIMBRA:
		return mxg_match_zimbra(s, e, ev);
	case MXG_SVC_VPOPMAIL:
		return mxg_match_vpopmail(s, e, ev);
	case MXG_SVC_STALWART:
		return mxg_match_stalwart(s, e, ev);
	case MXG_SVC_ROUNDCUBE:
		return mxg_match_roundcube(s, e, ev);
	case MXG_SVC_SOGO:
		return mxg_match_sogo(s, e, ev);
	default:
		return 0;
	}
}

static int run_hostile(enum mxg_service svc, const char *s, const char *e,
		       bool postscreen, struct mxg_auth_event *ev)
{
	switch (svc) {
	case MXG_SVC_POSTFIX:
		return mxg_hostile_postfix(s, e, postscreen, ev);
	case MXG_SVC_SENDMAIL:
		return mxg_hostile_sendmail(s, e, ev);
	default:
		return 0;
	}
}

/*
 * A failure that other lines of the same attempt may also tell
 * (struct mxg_dedup): keep ev->attempts to what is new, and say whether
 * anything is.
 */
static bool first_report(struct mxg_parser *p, const struct mxg_dedup *d,
			 struct mxg_auth_event *ev, int64_t now)
{
	char key[MXG_SESSION_ID_MAX];
	struct mxg_session *x;
	unsigned int n = ev->attempts;
	int64_t t;
	size_t kn;

	if (!d->on || ev->kind != MXG_EV_AUTH)
		return true;
	t = line_now(p, now);
	if (d->id && d->idlen + 2 < sizeof(key)) {
		/* Dovecot's session ids, apart from other servers' ids. */
		key[0] = 'D';
		key[1] = ':';
		memcpy(key + 2, d->id, d->idlen);
		kn = d->idlen + 2;
		x = mxg_sessions_get(&p->sessions, key, kn, t);
		if (d->rep == MXG_REP_SESSION) {
			if (!x) {
				mxg_sessions_put(&p->sessions, key, kn,
						 &ev->addr, t);
				x = mxg_sessions_get(&p->sessions, key, kn, t);
			}
			if (x)
				x->counted += n;
		} else if (x) {
			/* The summary: what its passdb lines did not tell. */
			n = n > x->counted ? n - x->counted : 0;
			mxg_sessions_del(&p->sessions, key, kn);
		}
	}
	n = mxg_pairs_report(&p->pairs, &ev->addr, d->rep, n, d->window, t);
	if (!n)
		return false;
	ev->attempts = n;
	return true;
}

/* Reset what a matcher that did not match may have written. */
static void ev_reset(struct mxg_auth_event *ev)
{
	ev->user[0] = '\0';
	ev->attempts = 1;
	ev->kind = MXG_EV_AUTH;
}

static int judge(struct mxg_parser *p, int src, const char *line,
		 const char *e, int64_t now, struct mxg_auth_event *ev)
{
	struct mxg_line_head h;
	struct mxg_dedup d;
	const char *s;
	unsigned int svcs, cont;
	int i;

	if (src > MXG_SRC_SYSLOG) {
		/* A file one server writes itself: only its parser reads it. */
		s = line;
		if (src >= MXG_SRC_CUSTOM_BASE) {
			bool v;

			s = skip_time(skip_pri(s, e, &v), e);
			return mxg_custom_match_index(p->custom,
						      src - MXG_SRC_CUSTOM_BASE,
						      s, e, ev) ? MXG_SVC_CUSTOM : -1;
		}
		/* Domino's, Exchange's, nginx's and Zimbra's heads are their own. */
		if (src != MXG_SVC_DOMINO && src != MXG_SVC_EXCHANGE &&
		    src != MXG_SVC_NGINX && src != MXG_SVC_ZIMBRA)
			s = skip_time(s, e);
		/* A server that also writes "tag: " into its own file. */
		memset(&h, 0, sizeof(h));
		if (mxg_split_line(line, e, &h) && (services_of(&h) & (1u << src)))
			s = src == MXG_SVC_DOVECOT ? dovecot_start(&h) : h.msg;
		if (run_matcher(p, (enum mxg_service)src, s, e, now, ev, &d))
			return first_report(p, &d, ev, now) ? src : -1;
		ev_reset(ev);
		if ((p->flags & MXG_PARSE_HOSTILE) &&
		    run_hostile((enum mxg_service)src, s, e,
			      s == h.msg && prog_last_is(&h, "postscreen"), ev))
			return src;
		return -1;
	}
	if (!mxg_split_line(line, e, &h))
		return -1;
	svcs = services_of(&h);
	cont = container_family(&h);
	if (cont) {
		/* The server's own line inside the container's message. */
		struct mxg_line_head in;

		if (mxg_split_line(h.msg, e, &in) && (services_of(&in) & cont)) {
			h = in;
			svcs = services_of(&in) & cont;
		} else {
			svcs = cont;
			h.msg = skip_time(h.msg, e);
			h.tok = h.msg;
		}
	}
	for (i = 0; svcs && i < MXG_SVC_CUSTOM; i++) {
		if (!(svcs & (1u << i)))
			continue;
		s = i == MXG_SVC_DOVECOT ? dovecot_start(&h) : h.msg;
		if (run_matcher(p, (enum mxg_service)i, s, e, now, ev, &d))
			return first_report(p, &d, ev, now) ? i : -1;
		ev_reset(ev);
		if ((p->flags & MXG_PARSE_HOSTILE) &&
		    run_hostile((enum mxg_service)i, s, e,
			      prog_last_is(&h, "postscreen"), ev))
			return i;
		ev_reset(ev);
	}
	if (p->custom && mxg_custom_match(p->custom, h.prog,
					  (size_t)(h.prog_end - h.prog),
					  h.msg, e, ev))
		return MXG_SVC_CUSTOM;
	return -1;
}

int mxg_parse_source(struct mxg_parser *p, int src, const char *line,
		     size_t len, int64_t now, struct mxg_auth_event *ev)
{
	const char *s = line, *e = line + len;
	int svc;

	/* Callers may hand over the line with its end-of-line bytes. */
	while (e > s && (e[-1] == '\n' || e[-1] == '\r'))
		e--;
	ev_reset(ev);
	ev->label = NULL;
	p->line = s;
	p->have_time = false;
	p->line_end = e;
	svc = judge(p, src, s, e, now, ev);
	if (svc < 0)
		return 0;
	if (ev->kind == MXG_EV_HOSTILE && !(p->flags & MXG_PARSE_HOSTILE))
		return 0;
	if (ev->kind == MXG_EV_LOGIN && !(p->flags & MXG_PARSE_LOGIN))
		return 0;
	ev->service = (enum mxg_service)svc;
	if (svc != MXG_SVC_CUSTOM)
		ev->label = service_names[svc];
	if (ev->attempts < 1)
		ev->attempts = 1;
	/* Only a failure's time is needed: most lines are none. */
	ev->time = line_time(p, now);
	return 1;
}

int mxg_parse_line(struct mxg_parser *p, const char *line, size_t len,
		   int64_t now, struct mxg_auth_event *ev)
{
	return mxg_parse_source(p, MXG_SRC_SYSLOG, line, len, now, ev);
}

int mxg_parser_source(const struct mxg_parser *p, const char *name, size_t n)
{
	int i;

	if (n == 6 && !memcmp(name, "syslog", 6))
		return MXG_SRC_SYSLOG;
	for (i = 0; i < MXG_SVC_CUSTOM; i++)
		if (strlen(service_names[i]) == n &&
		    !memcmp(service_names[i], name, n))
			return i;
	i = mxg_custom_index(p->custom, name, n);
	return i < 0 ? -ENOENT : MXG_SRC_CUSTOM_BASE + i;
}

/* Where a server writes its own log by default: bound without being told. */
static const struct {
	const char *path;
	enum mxg_service svc;
} default_paths[] = {
	{ "/var/log/exim4/mainlog", MXG_SVC_EXIM },
	{ "/var/log/exim/mainlog", MXG_SVC_EXIM },
	{ "/var/log/exim/main.log", MXG_SVC_EXIM },
	{ "/var/log/exim_mainlog", MXG_SVC_EXIM },
	{ "/var/spool/exim/log/mainlog", MXG_SVC_EXIM },
	{ "/var/log/haraka.log", MXG_SVC_HARAKA },
	{ "/var/log/haraka/haraka.log", MXG_SVC_HARAKA },
	{ "/var/log/nginx/error.log", MXG_SVC_NGINX },
	{ "/opt/zimbra/log/audit.log", MXG_SVC_ZIMBRA },
	{ "/opt/zimbra/log/mailbox.log", MXG_SVC_ZIMBRA },
	{ "/var/log/roundcube/userlogins.log", MXG_SVC_ROUNDCUBE },
	{ "/var/log/roundcube/errors.log", MXG_SVC_ROUNDCUBE },
	{ "/var/log/sogo/sogo.log", MXG_SVC_SOGO },
};

int mxg_log_spec(const struct mxg_parser *p, const char *spec,
		 const char **path)
{
	const char *c = strchr(spec, ':');
	size_t i;
	int src;

	*path = spec;
	/* "SERVER:PATH"; a path that merely holds a ':' stays a path. */
	if (c && c > spec) {
		src = mxg_parser_source(p, spec, (size_t)(c - spec));
		if (src != -ENOENT) {
			*path = c + 1;
			return src;
		}
		for (i = 0; spec + i < c && prog_char(spec[i]) && spec[i] != '/' &&
		     spec[i] != '.'; i++)
			;
		if (spec + i == c && c[1] == '/')
			return -ENOENT;
	}
	for (i = 0; i < sizeof(default_paths) / sizeof(default_paths[0]); i++) {
		size_t n = strlen(default_paths[i].path), l = strlen(spec);

		/* Also its rotated copies: "mainlog.1", "mainlog.2.gz". */
		if (l >= n && !memcmp(spec, default_paths[i].path, n) &&
		    (spec[n] == '\0' || spec[n] == '.'))
			return default_paths[i].svc;
	}
	return MXG_SRC_SYSLOG;
}
