// SPDX-License-Identifier: GPL-2.0
/*
 * The dispatcher: a one-pass pre-filter, then the family matchers that the
 * keywords found make possible, then the custom patterns.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logtime.h"
#include "parse.h"

struct mxg_parser {
	unsigned int flags;
	struct mxg_custom *custom;
	struct mxg_sessions sessions;
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
			      "custom", err, errlen);
}

/* ---- text helpers ------------------------------------------------------ */

const char *mxg_find(const char *s, const char *e, const char *lit, size_t n)
{
	if (s >= e)
		return NULL;
	return memmem(s, (size_t)(e - s), lit, n);
}

const char *mxg_rfind(const char *s, const char *e, const char *lit, size_t n)
{
	const char *last = NULL, *q;

	while ((q = mxg_find(s, e, lit, n))) {
		last = q;
		s = q + 1;
	}
	return last;
}

const char *mxg_find_ci(const char *s, const char *e, const char *lit,
			size_t n)
{
	char lo = (char)tolower((unsigned char)lit[0]);
	char up = (char)toupper((unsigned char)lit[0]);

	for (; e - s >= (ptrdiff_t)n; s++)
		if ((*s == lo || *s == up) && !strncasecmp(s, lit, n))
			return s;
	return NULL;
}

bool mxg_starts(const char *s, const char *e, const char *lit, size_t n)
{
	return e - s >= (ptrdiff_t)n && !memcmp(s, lit, n);
}

bool mxg_starts_ci(const char *s, const char *e, const char *lit, size_t n)
{
	return e - s >= (ptrdiff_t)n && !strncasecmp(s, lit, n);
}

int mxg_addr_span(const char *s, const char *e, struct mxg_addr *out)
{
	if (s >= e || e - s > 60 || memchr(s, ' ', (size_t)(e - s)))
		return -EINVAL;
	return mxg_addr_parse(s, (size_t)(e - s), out);
}

int mxg_addr_port_span(const char *s, const char *e, struct mxg_addr *out)
{
	const char *c;

	if (!mxg_addr_span(s, e, out))
		return 0;
	/* Drop ":port" (after "a.b.c.d" or "[v6]") and try again. */
	for (c = e; c > s && isdigit((unsigned char)c[-1]); c--)
		;
	if (c == e || c - 1 <= s || c[-1] != ':')
		return -EINVAL;
	if (c[-2] != ']' && !memchr(s, '.', (size_t)(c - 1 - s)))
		return -EINVAL;
	return mxg_addr_span(s, c - 1, out);
}

const char *mxg_addr_bracket_before(const char *s, const char *rb,
				    struct mxg_addr *out)
{
	const char *lb;

	for (lb = rb - 1; lb >= s && rb - lb <= 60; lb--) {
		if (*lb == '[')
			break;
		if (*lb == ']' || *lb == ' ')
			return NULL;
	}
	if (lb < s || *lb != '[')
		return NULL;
	if (mxg_addr_span(lb + 1, rb, out))
		return NULL;
	return lb;
}

void mxg_user_copy(struct mxg_auth_event *ev, const char *s, const char *e)
{
	size_t i, n = s < e ? (size_t)(e - s) : 0;

	if (n >= sizeof(ev->user))
		n = sizeof(ev->user) - 1;
	/* Control bytes would end up in terminals and JSON consumers. */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		ev->user[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	ev->user[n] = '\0';
}

unsigned int mxg_uint(const char *s, const char *e, const char **endp)
{
	unsigned int v = 0;

	while (s < e && isdigit((unsigned char)*s)) {
		if (v < 1000000)
			v = v * 10 + (unsigned int)(*s - '0');
		s++;
	}
	if (endp)
		*endp = s;
	return v;
}

/* ---- pre-filter -------------------------------------------------------- */

#define PF_AUTH		(1u << 0)	/* "auth", "AUTH", "Authentication" */
#define PF_CONN		(1u << 1)	/* "connected", "connect ip=" */
#define PF_LOGIN	(1u << 2)	/* "login", "LOGIN" (IMAP/POP daemons) */

/* What the trigger at s (one of "uth", "onn", "ogi", any case) tells. */
static unsigned int classify(const unsigned char *s, const unsigned char *e)
{
	switch (s[0] | 0x20) {
	case 'u':
		if ((s[1] | 0x20) != 't' || (s[2] | 0x20) != 'h')
			return 0;
		/* Postfix's "auth=0/1" in every disconnect line is not one. */
		if (s[0] == 'u' && e - s > 3 && s[3] == '=')
			return 0;
		return PF_AUTH;
	case 'o':
		if (s[1] == 'n' && s[2] == 'n') {
			/* Session starts (OpenSMTPD, Haraka), not Postfix's "connect from". */
			if ((e - s >= 8 && !memcmp(s, "onnected", 8)) ||
			    (e - s >= 10 && !memcmp(s, "onnect ip=", 10)))
				return PF_CONN;
			return 0;
		}
		if ((s[1] | 0x20) == 'g' && (s[2] | 0x20) == 'i')
			return PF_LOGIN;
		return 0;
	}
	return 0;
}

typedef unsigned char v16u8 __attribute__((vector_size(16)));

static v16u8 load16(const unsigned char *p)
{
	v16u8 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Find the trigger trigrams 16 positions at a time (SSE2/NEON through the
 * compiler's vector extensions), classify only where one occurs. Common
 * Postfix lines ("connect from", "auth=0/1") come out empty, and lines
 * that cannot match never reach the matchers.
 */
static unsigned int prefilter(const unsigned char *s, size_t len)
{
	const unsigned char *e = s + len;
	unsigned int seen = 0;
	size_t i = 0, k;

	for (; i + 18 <= len; i += 16) {
		v16u8 a = load16(s + i) | 0x20;
		v16u8 b = load16(s + i + 1) | 0x20;
		v16u8 c = load16(s + i + 2) | 0x20;
		v16u8 m = ((a == 'u') & (b == 't') & (c == 'h')) |
			  ((a == 'o') & (((b == 'n') & (c == 'n')) |
					 ((b == 'g') & (c == 'i'))));
		uint64_t lo, hi;

		memcpy(&lo, &m, 8);
		memcpy(&hi, (const char *)&m + 8, 8);
		if (!(lo | hi))
			continue;
		for (k = 0; k < 16; k++)
			if (m[k])
				seen |= classify(s + i + k, e);
	}
	for (; i + 3 <= len; i++)
		seen |= classify(s + i, e);
	return seen;
}

static int builtin(struct mxg_parser *p, const char *s, const char *e,
		   int64_t now, unsigned int seen, struct mxg_auth_event *ev)
{
	if (seen & PF_AUTH) {
		if (mxg_match_postfix(s, e, ev))
			return MXG_SVC_POSTFIX;
		if (mxg_match_dovecot(s, e, ev))
			return MXG_SVC_DOVECOT;
		if (mxg_match_exim(s, e, ev))
			return MXG_SVC_EXIM;
		if (mxg_match_sendmail(s, e, ev))
			return MXG_SVC_SENDMAIL;
		if (mxg_match_courier(s, e, ev))
			return MXG_SVC_COURIER;
		if (mxg_match_domino(s, e, ev))
			return MXG_SVC_DOMINO;
		if (mxg_match_exchange(s, e, ev))
			return MXG_SVC_EXCHANGE;
		if (mxg_match_maddy(s, e, ev))
			return MXG_SVC_MADDY;
	}
	if (seen & PF_LOGIN) {
		if (!(seen & PF_AUTH) && mxg_match_courier(s, e, ev))
			return MXG_SVC_COURIER;
		switch (mxg_match_imapd(s, e, ev)) {
		case 1:
			return MXG_SVC_CYRUS;
		case 2:
			return MXG_SVC_UWIMAP;
		}
	}
	if (seen & (PF_AUTH | PF_CONN)) {
		if (mxg_match_opensmtpd(&p->sessions, s, e, now, ev))
			return MXG_SVC_OPENSMTPD;
		if (mxg_match_haraka(&p->sessions, s, e, now, ev))
			return MXG_SVC_HARAKA;
	}
	if (p->flags & MXG_PARSE_PROBES) {
		if (mxg_probe_postfix(s, e, ev))
			return MXG_SVC_POSTFIX;
		if (mxg_probe_sendmail(s, e, ev))
			return MXG_SVC_SENDMAIL;
	}
	return -1;
}

int mxg_parse_line(struct mxg_parser *p, const char *line, size_t len,
		   int64_t now, struct mxg_auth_event *ev)
{
	const char *s = line, *e = line + len;
	unsigned int seen;
	int svc;

	/* Callers may hand over the line with its end-of-line bytes. */
	while (e > s && (e[-1] == '\n' || e[-1] == '\r'))
		e--;
	seen = prefilter((const unsigned char *)s, (size_t)(e - s));
	if (!seen && !p->custom && !(p->flags & MXG_PARSE_PROBES))
		return 0;

	ev->user[0] = '\0';
	ev->attempts = 1;
	ev->kind = MXG_EV_AUTH;
	svc = builtin(p, s, e, now, seen, ev);
	if (svc >= 0) {
		if (ev->kind == MXG_EV_PROBE && !(p->flags & MXG_PARSE_PROBES))
			return 0;
		ev->service = (enum mxg_service)svc;
		ev->label = service_names[svc];
	} else {
		ev->user[0] = '\0';
		ev->attempts = 1;
		ev->kind = MXG_EV_AUTH;
		if (!p->custom || !mxg_custom_match(p->custom, s, e, ev))
			return 0;
		ev->service = MXG_SVC_CUSTOM;
	}
	if (ev->attempts < 1)
		ev->attempts = 1;
	ev->time = mxg_logtime_parse(s, (size_t)(e - s), now);
	return 1;
}
