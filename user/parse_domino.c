// SPDX-License-Identifier: GPL-2.0
/*
 * HCL/IBM Domino (console log, notes.log):
 *   [0A1B:000C-0D0E] 29-11-2026 10:00:01   SMTP Server: Authentication
 *       failed for user bob ; connecting host 198.18.3.4
 *   SMTP Server [0A1B:000C-0D0E] Authentication failed for user bob;
 *       connecting host 198.18.3.4
 *   http: bob@example.com [198.18.3.4] authentication failure using
 *       internet password
 * The user name is the client's and comes first, so the address is taken
 * from the last "connecting host" / the bracket before Domino's own text.
 */
#include "parse.h"

static int failed_for_user(const char *a, const char *e,
			   struct mxg_auth_event *ev)
{
	const char *h, *v, *end, *ue;

	h = MXG_RFIND(a, e, "connecting host ");
	if (!h)
		return 0;
	v = h + 16;
	for (end = v; end < e && *end != ' ' && *end != ',' && *end != ';';
	     end++)
		;
	if (mxg_addr_span(v, end, &ev->addr))
		return 0;
	for (ue = h; ue > a && (ue[-1] == ' ' || ue[-1] == ';'); ue--)
		;
	mxg_user_copy(ev, a, ue);
	return 1;
}

static int internet_password(const char *s, const char *a,
			     struct mxg_auth_event *ev)
{
	const char *lb, *u;

	if (a - 1 <= s || a[-1] != ']')
		return 0;
	lb = mxg_addr_bracket_before(s, a - 1, &ev->addr);
	if (!lb)
		return 0;
	/* "http: USER [ADDR]": the user runs from the protocol's ": ". */
	for (u = lb; u > s && !(u[-1] == ' ' && u - 2 >= s && u[-2] == ':'); u--)
		;
	if (u > s && lb - 1 > u && !MXG_STARTS(u, lb, "IP Address "))
		mxg_user_copy(ev, u, lb - 1);
	return 1;
}

int mxg_match_domino(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *a;

	a = MXG_FIND(s, e, "Authentication failed for user ");
	if (a && MXG_FIND(s, a, "SMTP Server"))
		return failed_for_user(a + 31, e, ev);
	a = MXG_RFIND(s, e, " authentication failure using internet password");
	if (a)
		return internet_password(s, a, ev);
	return 0;
}
