// SPDX-License-Identifier: GPL-2.0
/*
 * Postfix smtpd (any service name: postfix/smtpd, postfix/submission/smtpd,
 * postfix-foo/smtpd):
 *   warning: NAME[ADDR](:PORT)?: SASL MECH authentication failed: REASON
 *            (, sasl_username=USER)?
 * NAME is "unknown" or a forward-confirmed reverse name, so the address is
 * the bracket right before ": SASL"; REASON and USER come from the client
 * and must not be looked at for the address.
 */
#include <ctype.h>

#include "parse.h"

/* Not the client's fault: the SASL backend was down or misconfigured. */
static bool server_side(const char *r, const char *e)
{
	return MXG_STARTS(r, e, "Connection lost to authentication server") ||
	       MXG_STARTS(r, e, "Invalid authentication mechanism");
}

/* The client "NAME[ADDR]" or "NAME[ADDR]:PORT" that ends at end. */
static bool client_before(const char *s, const char *end,
			  struct mxg_addr *addr)
{
	const char *p = end;

	while (p > s && isdigit((unsigned char)p[-1]))
		p--;
	if (p != end) {
		if (p - 1 <= s || p[-1] != ':')
			return false;
		p--;
	}
	if (p <= s || p[-1] != ']')
		return false;
	return mxg_addr_bracket_before(s, p - 1, addr) != NULL;
}

int mxg_match_postfix(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *a, *m, *r, *u;

	/* The first ": SASL " is Postfix's own: nothing the client sent precedes it. */
	a = MXG_FIND(s, e, ": SASL ");
	if (!a)
		return 0;
	m = a + 7;
	for (r = m; r < e && r - m < 32 &&
	     (isalnum((unsigned char)*r) || *r == '-' || *r == '_'); r++)
		;
	if (r == m || !MXG_STARTS_CI(r, e, " authentication failed"))
		return 0;
	r += 22;
	if (MXG_STARTS(r, e, ": "))
		r += 2;
	if (server_side(r, e))
		return 0;
	if (!client_before(s, a, &ev->addr))
		return 0;
	/* Postfix appends the name last; take the last one. */
	u = MXG_RFIND(r, e, ", sasl_username=");
	if (u)
		mxg_user_copy(ev, u + 16, e);
	return 1;
}

/* "from NAME[ADDR]" or "from [ADDR]:PORT": the token after "from ". */
static bool from_client(const char *p, const char *e, struct mxg_addr *addr)
{
	const char *end = p, *rb = NULL, *q;

	while (end < e && *end != ' ' && *end != ',')
		end++;
	for (q = p; q < end; q++)
		if (*q == ']')
			rb = q;
	return rb && mxg_addr_bracket_before(p, rb, addr);
}

int mxg_probe_postfix(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *p;

	ev->kind = MXG_EV_PROBE;
	p = MXG_FIND(s, e, "lost connection after ");
	if (p) {
		p = MXG_FIND(p, e, " from ");
		return p && from_client(p + 6, e, &ev->addr);
	}
	p = MXG_FIND(s, e, "non-SMTP command from ");
	if (p)
		return from_client(p + 22, e, &ev->addr);
	if (MXG_FIND(s, e, "postfix/postscreen[") || MXG_FIND(s, e, "postscreen:")) {
		if ((p = MXG_FIND(s, e, " PREGREET ")) ||
		    (p = MXG_FIND(s, e, " HANGUP after ")))
			return (p = MXG_FIND(p, e, " from ")) &&
			       from_client(p + 6, e, &ev->addr);
		if ((p = MXG_FIND(s, e, " DNSBL rank ")))
			return (p = MXG_FIND(p, e, " for ")) &&
			       from_client(p + 5, e, &ev->addr);
	}
	if (MXG_FIND(s, e, "postgrey") && MXG_FIND(s, e, "action=greylist")) {
		const char *v = MXG_FIND(s, e, ", client_address=");
		const char *end;

		if (!v)
			return 0;
		v += 17;
		for (end = v; end < e && *end != ','; end++)
			;
		return !mxg_addr_span(v, end, &ev->addr);
	}
	return 0;
}
