// SPDX-License-Identifier: GPL-2.0
/*
 * Exim:
 *   [syslog prefix] [DATE TIME [ZONE]] [pid] NAME authenticator failed for
 *       [H=]RDNS? (HELO)? [ADDR](:PORT)? (I=[IP]:PORT)? (U=IDENT)?:
 *       535 Incorrect authentication data (set_id=USER)
 *   SMTP protocol error in "AUTH ..." H=RDNS? (HELO)? [ADDR]
 *       AUTH command used when not advertised | MECH authentication
 *       mechanism not supported
 *   SMTP call from RDNS? (HELO)? [ADDR]:PORT dropped: too many syntax or
 *       protocol errors (last command was "AUTH ...")
 * HELO, set_id and the quoted command are the client's text and may hold
 * brackets; I= is our own interface. So the address is the first bracket
 * after a balanced HELO, or the one right before Exim's fixed closing text.
 */
#include <string.h>

#include "parse.h"

/* Past "(HELO)", nesting counted; NULL when it never closes. */
static const char *skip_parens(const char *p, const char *e)
{
	int depth = 0;

	for (; p < e; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p + 1;
	}
	return NULL;
}

/* "[H=]RDNS? (HELO)? [ADDR]" at p; returns the ']' or NULL. */
static const char *host_info(const char *p, const char *e,
			     struct mxg_addr *addr)
{
	const char *rb;

	if (MXG_STARTS(p, e, "H="))
		p += 2;
	if (p < e && *p != '(' && *p != '[') {
		while (p < e && *p != ' ')
			p++;
		while (p < e && *p == ' ')
			p++;
	}
	if (p < e && *p == '(') {
		p = skip_parens(p, e);
		if (!p)
			return NULL;
		while (p < e && *p == ' ')
			p++;
	}
	if (p >= e || *p != '[')
		return NULL;
	rb = memchr(p, ']', (size_t)(e - p) < 60 ? (size_t)(e - p) : 60);
	if (!rb || mxg_addr_span(p + 1, rb, addr))
		return NULL;
	return rb;
}

static int auth_failed(const char *a, const char *e, struct mxg_auth_event *ev)
{
	const char *rb, *c, *u, *end;

	rb = host_info(a, e, &ev->addr);
	if (!rb)
		return 0;
	/* The reply follows the first ": " after the address; 435 is ours. */
	c = MXG_FIND(rb, e, ": ");
	if (!c || c + 2 >= e || c[2] != '5')
		return 0;
	u = MXG_FIND(c, e, "(set_id=");
	if (u) {
		u += 8;
		for (end = e; end > u && end[-1] != ')'; end--)
			;
		if (end > u)
			mxg_user_copy(ev, u, end - 1);
	}
	return 1;
}

/*
 * The host part "[ADDR](:PORT)?( I=[IP]:PORT)?" that ends at end (Exim's
 * own fields, after the client's text): the address is its first bracket.
 */
static int host_end_before(const char *a, const char *end,
			   struct mxg_addr *addr)
{
	const char *i = MXG_RFIND(a, end, " I=[");
	const char *p;

	if (i && !memchr(i + 1, ' ', (size_t)(end - i - 1)))
		end = i;
	for (p = end; p > a && p[-1] >= '0' && p[-1] <= '9'; p--)
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

int mxg_match_exim(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *a;

	a = MXG_FIND(s, e, "authenticator failed for ");
	if (a)
		return auth_failed(a + 25, e, ev);
	a = MXG_FIND(s, e, "SMTP protocol error in \"AUTH");
	if (a)
		return protocol_error(a, e, ev);
	a = MXG_FIND(s, e, "SMTP call from ");
	if (a && MXG_FIND(a, e, " dropped: too many syntax or protocol errors") &&
	    MXG_FIND(a, e, "(last command was \"AUTH"))
		return host_info(a + 15, e, &ev->addr) != NULL;
	return 0;
}
