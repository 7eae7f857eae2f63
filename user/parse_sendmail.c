// SPDX-License-Identifier: GPL-2.0
/*
 * Sendmail:
 *   QID: AUTH failure (LOGIN): authentication failure (-13) SASL(-13):
 *       authentication failure: checkpass failed, user=bob,
 *       relay=host.example [198.18.1.2] (may be forged)
 *   QID: host.example [198.18.1.2]: possible SMTP attack: command=AUTH,
 *       count=5
 * relay= is the last field and sendmail's own; user= before it is the
 * client's text, and the host part is reverse DNS, so the address is the
 * last bracket of the last relay=.
 */
#include "parse.h"

/* The last "[ADDR]" in [p, end). */
static bool last_bracket(const char *p, const char *end, struct mxg_addr *addr)
{
	const char *rb = NULL, *q;

	for (q = p; q < end; q++)
		if (*q == ']')
			rb = q;
	return rb && mxg_addr_bracket_before(p, rb, addr);
}

static bool relay(const char *s, const char *e, struct mxg_addr *addr,
		  const char **at)
{
	const char *r = MXG_RFIND(s, e, "relay=");

	if (!r)
		return false;
	*at = r;
	return last_bracket(r + 6, e, addr);
}

int mxg_match_sendmail(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *a, *r, *u, *c;

	a = MXG_FIND(s, e, "AUTH failure (");
	if (a) {
		if (!relay(a, e, &ev->addr, &r))
			return 0;
		u = MXG_FIND(a, r, ", user=");
		if (u && r - 2 > u + 7)
			mxg_user_copy(ev, u + 7, r - 2);
		return 1;
	}
	a = MXG_FIND(s, e, "possible SMTP attack: command=AUTH");
	if (a) {
		c = MXG_FIND(a, e, "count=");
		if (c)
			ev->attempts = mxg_uint(c + 6, e, NULL);
		if (relay(a, e, &ev->addr, &r))
			return 1;
		/* "CLIENT: possible SMTP attack": CLIENT is "name [addr]". */
		if (a - 2 > s && a[-1] == ' ' && a[-2] == ':' && a[-3] == ']')
			return mxg_addr_bracket_before(s, a - 3, &ev->addr) != NULL;
		return 0;
	}
	return 0;
}

int mxg_probe_sendmail(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *a;

	ev->kind = MXG_EV_PROBE;
	a = MXG_FIND(s, e, "Relaying denied. IP name lookup failed [");
	if (a)
		return last_bracket(a + 39, e, &ev->addr);
	return 0;
}
