// SPDX-License-Identifier: GPL-2.0
/*
 * Exim, its mainlog or its syslog message (optionally after Exim's own
 * "DATE TIME[.ms][ +ZONE]" and "[PID]"), from the start of the message:
 *   NAME authenticator failed for [H=]RDNS? (HELO)? [ADDR](:PORT)?
 *       (I=[IP]:PORT)? (U=IDENT)?: 535 Incorrect authentication data
 *       (set_id=USER)
 *   SMTP protocol error in "AUTH ..." H=RDNS? (HELO)? [ADDR](:PORT)?
 *       AUTH command used when not advertised | MECH authentication
 *       mechanism not supported
 *   SMTP call from RDNS? (HELO)? [ADDR]:PORT dropped: too many syntax or
 *       protocol errors (last command was "AUTH ...")
 * HELO, IDENT, set_id and the quoted command are the client's text and may
 * hold anything, brackets and parentheses included. So the client is the
 * "[ADDR]" that Exim's own fixed text follows: before ": 5xx" or
 * " dropped:", where a line that has two such places is not counted (the
 * client wrote one of them); before the last "... not advertised" of a
 * protocol error, since only the quoted command, which comes first, is the
 * client's there.
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Past Exim's own timestamp and "[PID] " at the start of its message. */
static const char *skip_exim_head(const char *s, const char *e)
{
	const char *p = s;

	if (e - p >= 19 && digit(p[0]) && p[4] == '-' && p[7] == '-' &&
	    p[10] == ' ' && p[13] == ':' && p[16] == ':') {
		p += 19;
		if (p < e && *p == '.')
			for (p++; p < e && digit(*p); p++)
				;
		if (e - p >= 6 && p[0] == ' ' && (p[1] == '+' || p[1] == '-') &&
		    digit(p[2]) && digit(p[5]))
			p += 6;
		while (p < e && *p == ' ')
			p++;
	}
	if (p < e && *p == '[') {
		const char *q;

		for (q = p + 1; q < e && digit(*q); q++)
			;
		if (q > p + 1 && MXG_STARTS(q, e, "] "))
			p = q + 2;
	}
	return p;
}

/* ":PORT" at p: past it, else p. */
static const char *skip_port(const char *p, const char *e)
{
	const char *q;

	if (p >= e || *p != ':')
		return p;
	for (q = p + 1; q < e && digit(*q); q++)
		;
	return q > p + 1 ? q : p;
}

/*
 * "[ADDR](:PORT)?( I=[IP](:PORT)?)?( U=IDENT)?" with its '[' at lb: the
 * end of it, or NULL. The optional IDENT runs to the next blank or ':'.
 */
static const char *host_tail(const char *lb, const char *e, bool ident,
			     struct mxg_addr *addr)
{
	const char *rb, *p;

	rb = memchr(lb, ']', (size_t)(e - lb) < 60 ? (size_t)(e - lb) : 60);
	if (!rb || mxg_addr_span(lb + 1, rb, addr))
		return NULL;
	p = skip_port(rb + 1, e);
	if (MXG_STARTS(p, e, " I=[")) {
		rb = memchr(p + 4, ']', (size_t)(e - p - 4) < 60 ?
			    (size_t)(e - p - 4) : 60);
		if (!rb)
			return NULL;
		p = skip_port(rb + 1, e);
	}
	if (ident && MXG_STARTS(p, e, " U=")) {
		for (p += 3; p < e && *p != ' ' && *p != ':'; p++)
			;
	}
	return p;
}

/*
 * The one "[ADDR]..." in [s, e) that Exim's text lit follows; 0 when there
 * is none, or two that differ (the client wrote one of them).
 */
static int only_host_before(const char *s, const char *e, const char *lit,
			    bool reply5, struct mxg_addr *addr)
{
	size_t n = strlen(lit);
	struct mxg_addr a;
	const char *lb, *t;
	int found = 0;

	for (lb = s; (lb = memchr(lb, '[', (size_t)(e - lb))); lb++) {
		/* "I=[IP]:PORT" is our own interface, part of the tail. */
		if (lb - s >= 2 && lb[-1] == '=' && lb[-2] == 'I')
			continue;
		t = host_tail(lb, e, true, &a);
		if (!t || !mxg_starts(t, e, lit, n))
			continue;
		if (reply5 && (t + n >= e || t[n] != '5'))
			continue;
		if (found++ && !mxg_addr_equal(addr, &a))
			return 0;
		*addr = a;
	}
	return found > 0;
}

static int auth_failed(const char *a, const char *e, struct mxg_auth_event *ev)
{
	const char *u, *end, *c;

	if (!only_host_before(a, e, ": ", true, &ev->addr))
		return 0;
	/* set_id is appended last; a client's ")" inside it is its own. */
	c = MXG_FIND(a, e, ": 5");
	u = c ? MXG_FIND(c, e, " (set_id=") : NULL;
	if (u) {
		u += 9;
		for (end = e; end > u && end[-1] != ')'; end--)
			;
		if (end > u)
			mxg_user_copy(ev, u, end - 1);
	}
	return 1;
}

/*
 * The host part that ends right before Exim's closing text at end:
 * "[ADDR](:PORT)?( I=[IP]:PORT)?", its first bracket is the client.
 */
static int host_end_before(const char *a, const char *end,
			   struct mxg_addr *addr)
{
	const char *i = MXG_RFIND(a, end, " I=[");
	const char *p;

	if (i && !memchr(i + 1, ' ', (size_t)(end - i - 1)))
		end = i;
	for (p = end; p > a && digit(p[-1]); p--)
		;
	if (p != end && p - 1 > a && p[-1] == ':')
		end = p - 1;
	if (end <= a || end[-1] != ']')
		return 0;
	return mxg_addr_bracket_before(a, end - 1, addr) != NULL;
}

static int protocol_error(const char *a, const char *e,
			  struct mxg_auth_event *ev)
{
	const char *t, *p;

	/* Only the quoted command, first, is the client's: the last marker is Exim's. */
	t = MXG_RFIND(a, e, " AUTH command used when not advertised");
	if (!t) {
		/* "[ADDR] MECH authentication mechanism not supported". */
		t = MXG_RFIND(a, e, " authentication mechanism not supported");
		if (!t)
			return 0;
		for (p = t; p > a && p[-1] != ' '; p--)
			;
		if (p <= a)
			return 0;
		t = p - 1;
	}
	return host_end_before(a, t, &ev->addr);
}

/*
 * A message from an authenticated client (MXG_EV_LOGIN):
 *   MSGID <= SENDER H=RDNS? (HELO)? [ADDR]:PORT (I=[IP]:PORT)? (U=ID)?
 *       P=esmtpsa ... A=AUTHENTICATOR:USER ...
 * The sender, the HELO and later fields (id=, T=) are the client's: the
 * client is the one "[ADDR]..." that Exim's " P=" follows (a line with two
 * that differ is not counted), and A= is the first field after P= (quoted
 * values, which a client's certificate DN may be, are skipped).
 */
static int login_ok(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *p, *a, *u, *ue;

	/* "1tABCD-000123-4E <= " (also older 6-6-2 ids). */
	for (p = s; p < e && (digit(*p) || (*p >= 'a' && *p <= 'z') ||
			      (*p >= 'A' && *p <= 'Z') || *p == '-'); p++)
		;
	if (p - s < 16 || p - s > 23 || !MXG_STARTS(p, e, " <= "))
		return 0;
	if (!only_host_before(p + 4, e, " P=", false, &ev->addr))
		return 0;
	p = MXG_RFIND(p + 4, e, " P=");
	for (a = p + 1; a < e;) {
		if (MXG_STARTS(a, e, "A=")) {
			u = memchr(a, ':', (size_t)(e - a));
			if (!u)
				return 0;
			u++;
			for (ue = u; ue < e && *ue != ' '; ue++)
				;
			if (ue == u)
				return 0;
			mxg_user_copy(ev, u, ue);
			ev->kind = MXG_EV_LOGIN;
			return 1;
		}
		/* The next field: past a quoted value, then the blank. */
		while (a < e && *a != ' ' && *a != '"')
			a++;
		if (a < e && *a == '"') {
			for (a++; a < e && *a != '"'; a++)
				if (*a == '\\')
					a++;
			while (a < e && *a != ' ')
				a++;
		}
		while (a < e && *a == ' ')
			a++;
	}
	return 0;
}

int mxg_match_exim(const char *s, const char *e, struct mxg_auth_event *ev,
		   struct mxg_dedup *d)
{
	const char *p, *a;

	s = skip_exim_head(s, e);
	/* "NAME authenticator failed for ": NAME is the driver's, one word. */
	for (p = s; p < e && *p != ' ' && p - s < 64; p++)
		;
	if (p > s && MXG_STARTS(p, e, " authenticator failed for ")) {
		/* A dovecot authenticator's attempt is logged by Dovecot too. */
		d->on = true;
		d->rep = MXG_REP_MTA;
		return auth_failed(p + 26, e, ev);
	}
	if (MXG_STARTS(s, e, "SMTP protocol error in \"AUTH"))
		return protocol_error(s, e, ev);
	if (MXG_STARTS(s, e, "SMTP call from ")) {
		a = s + 15;
		return only_host_before(a, e, " dropped: too many syntax or "
					"protocol errors (last command was \"AUTH",
					false, &ev->addr);
	}
	return login_ok(s, e, ev);
}
