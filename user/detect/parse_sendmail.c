// SPDX-License-Identifier: GPL-2.0
/*
 * Sendmail (sm-mta, sendmail), from the start of its message "QID: ":
 *   QID: AUTH failure (LOGIN): authentication failure (-13) SASL(-13):
 *       authentication failure: checkpass failed, user=bob,
 *       relay=host.example [198.18.1.2] (may be forged)
 *   QID: host.example [198.18.1.2]: possible SMTP attack: command=AUTH,
 *       count=5
 * relay= is the last field and sendmail's own; user= before it is the
 * client's text, and the host part is reverse DNS, so the address is the
 * last bracket of the last relay=, which must end the line.
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

/* "QID: " at the start (a queue id, or NOQUEUE): past it, or NULL. */
static const char *past_qid(const char *s, const char *e)
{
	const char *p;

	for (p = s; p < e && p - s <= 32 &&
	     ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
	      (*p >= 'A' && *p <= 'Z')); p++)
		;
	return p > s && MXG_STARTS(p, e, ": ") ? p + 2 : NULL;
}

/* "[NAME ]\[ADDR\]( (may be forged))?" ending exactly at e. */
static bool client_ends(const char *p, const char *e, struct mxg_addr *addr)
{
	static const char forged[] = " (may be forged)";

	if (e - p >= (ptrdiff_t)sizeof(forged) - 1 &&
	    !memcmp(e - (sizeof(forged) - 1), forged, sizeof(forged) - 1))
		e -= sizeof(forged) - 1;
	if (e <= p || e[-1] != ']')
		return false;
	return mxg_addr_bracket_before(p, e - 1, addr) != NULL;
}

static bool relay(const char *s, const char *e, struct mxg_addr *addr,
		  const char **at)
{
	const char *r = MXG_RFIND(s, e, ", relay=");

	if (!r)
		return false;
	*at = r;
	return client_ends(r + 8, e, addr);
}

int mxg_match_sendmail(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *q, *r, *u, *c, *a;

	q = past_qid(s, e);
	if (!q)
		return 0;
	if (MXG_STARTS(q, e, "AUTH failure (")) {
		if (!relay(q, e, &ev->addr, &r))
			return 0;
		u = MXG_FIND(q, r, ", user=");
		if (u)
			mxg_user_copy(ev, u + 7, r);
		return 1;
	}
	/* "QID: possible SMTP attack: ..., relay=CLIENT" or "QID: CLIENT: possible ...". */
	if (MXG_STARTS(q, e, "possible SMTP attack: command=AUTH, count=")) {
		a = q;
		if (!relay(a, e, &ev->addr, &r))
			return 0;
	} else {
		a = MXG_FIND(q, e, ": possible SMTP attack: command=AUTH, count=");
		/* CLIENT is "name [addr]": reverse DNS, no ": " in it. */
		if (!a || MXG_FIND(q, a, ": ") || !client_ends(q, a, &ev->addr))
			return 0;
		a += 2;
	}
	c = a + 42;
	ev->attempts = mxg_uint(c, e, NULL);
	return 1;
}

/*
 * "... reject=550 5.7.1 <rcpt>... Relaying denied. IP name lookup failed
 * [ADDR]": the recipient before it is the client's, the end is sendmail's.
 */
int mxg_hostile_sendmail(const char *s, const char *e, struct mxg_auth_event *ev)
{
	static const char tail[] = "Relaying denied. IP name lookup failed [";
	const char *a;

	ev->kind = MXG_EV_HOSTILE;
	a = MXG_RFIND(s, e, tail);
	if (!a || e[-1] != ']')
		return 0;
	return !mxg_addr_span(a + sizeof(tail) - 1, e - 1, &ev->addr);
}
