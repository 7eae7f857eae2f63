// SPDX-License-Identifier: GPL-2.0
/*
 * HCL/IBM Domino (console log, notes.log):
 *   [0A1B:000C-0D0E] 29-11-2026 10:00:01   SMTP Server: Authentication
 *       failed for user bob ; connecting host 198.18.3.4
 *   SMTP Server [0A1B:000C-0D0E] Authentication failed for user bob;
 *       connecting host 198.18.3.4
 *   http: bob@example.com [198.18.3.4] authentication failure using
 *       internet password
 *   POP3 Server: Authentication failure for bob, connecting host
 *       198.18.3.4: Password not found in the Name and Address Book ...
 * The user name is the client's and comes first, so the address is taken
 * from the last "connecting host" / the bracket before Domino's own text.
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

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
	/* Domino's "connecting host ADDR" ends the line: the user came before. */
	if (mxg_addr_span(v, end, &ev->addr) || end != e)
		return 0;
	for (ue = h; ue > a && (ue[-1] == ' ' || ue[-1] == ';'); ue--)
		;
	mxg_user_copy(ev, a, ue);
	return 1;
}

/*
 * "USER, connecting host ADDR: REASON": the user (the client's) first,
 * Domino's reason last, so the address is after the last ", connecting
 * host ".
 */
static int failure_for(const char *a, const char *e, struct mxg_auth_event *ev)
{
	const char *h, *v, *end;

	h = MXG_RFIND(a, e, ", connecting host ");
	if (!h)
		return 0;
	v = h + 18;
	for (end = v; end < e && *end != ' ' && !(*end == ':' &&
	     (end + 1 == e || end[1] == ' ')); end++)
		;
	if (mxg_addr_span(v, end, &ev->addr) || (end != e && *end != ':'))
		return 0;
	mxg_user_copy(ev, a, h);
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

static bool dig(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Past Domino's own head: "[pid:tid-thread] " and "DD-MM-YYYY HH:MM:SS"
 * (also with '.' or '/', month first, " AM"/" PM"), then blanks. NULL when
 * the line does not start the way Domino starts its lines.
 */
static const char *skip_domino_head(const char *s, const char *e)
{
	const char *p = s, *q;

	if (p < e && *p == '[') {
		q = memchr(p, ']', (size_t)(e - p) < 48 ? (size_t)(e - p) : 48);
		if (!q || q + 1 >= e || q[1] != ' ')
			return NULL;
		p = q + 2;
	}
	/* "YYYY-MM-DD HH:MM:SS" (newer servers) or the locale's "DD-MM-YYYY". */
	if (e - p >= 19 && dig(p[0]) && dig(p[3]) && p[4] == '-' && p[7] == '-' &&
	    p[10] == ' ' && p[13] == ':' && p[16] == ':') {
		p += 19;
		while (p < e && *p == ' ')
			p++;
		return p;
	}
	if (e - p < 19 || !dig(p[0]) || !dig(p[1]) || !dig(p[3]) || !dig(p[4]) ||
	    (p[2] != '-' && p[2] != '.' && p[2] != '/') || p[5] != p[2] ||
	    !dig(p[6]) || !dig(p[9]) || p[10] != ' ' || p[13] != ':' ||
	    p[16] != ':')
		return NULL;
	p += 19;
	if (e - p >= 3 && p[0] == ' ' && (p[1] == 'A' || p[1] == 'P') && p[2] == 'M')
		p += 3;
	while (p < e && *p == ' ')
		p++;
	return p;
}

int mxg_match_domino(const char *s, const char *e, struct mxg_auth_event *ev)
{
	static const char tail[] = " authentication failure using internet password";
	const char *a, *h, *p;

	s = skip_domino_head(s, e);
	if (!s)
		return 0;
	/* "SMTP Server: " or "POP3 Server [thread] " starts Domino's message. */
	for (p = s; p < e && p - s < 8 && ((*p >= 'A' && *p <= 'Z') ||
					    (*p >= '0' && *p <= '9')); p++)
		;
	if (p > s && MXG_STARTS(p, e, " Server") &&
	    (p + 7 == e || p[7] == ':' || p[7] == ' ')) {
		p += 7;
		if (MXG_STARTS(p, e, " [")) {
			p = memchr(p, ']', (size_t)(e - p) < 40 ? (size_t)(e - p) : 40);
			if (!p)
				return 0;
			p++;
		} else if (MXG_STARTS(p, e, ":")) {
			p++;
		} else {
			return 0;
		}
		while (p < e && *p == ' ')
			p++;
		if (MXG_STARTS(p, e, "Authentication failure for "))
			return failure_for(p + 27, e, ev);
		if (MXG_STARTS(p, e, "Authentication succeeded for user ")) {
			/* A login (MXG_EV_LOGIN), in the failure's words. */
			if (!failed_for_user(p + 34, e, ev))
				return 0;
			ev->kind = MXG_EV_LOGIN;
			return 1;
		}
		if (!MXG_STARTS(p, e, "Authentication failed for user "))
			return 0;
		return failed_for_user(p + 31, e, ev);
	}
	/* "PROTO: USER [ADDR] authentication failure using internet password". */
	for (p = s; p < e && p - s < 12 && *p >= 'a' && *p <= 'z'; p++)
		;
	if (p == s || !MXG_STARTS(p, e, ": "))
		return 0;
	/* The user is the client's and comes first: the last tail is Domino's. */
	a = mxg_rfind(p, e, tail, sizeof(tail) - 1);
	if (!a)
		return 0;
	h = a + sizeof(tail) - 1;
	if (h != e && (!MXG_STARTS(h, e, ": ") || memchr(h, '[', (size_t)(e - h))))
		return 0;
	return internet_password(p, a, ev);
}
