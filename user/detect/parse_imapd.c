// SPDX-License-Identifier: GPL-2.0
/*
 * Cyrus and UW-IMAP, whose lines look alike:
 *   imaps[1]: badlogin: host.example [198.18.1.2] PLAIN bob SASL(-13): ...
 *   Login failed user=bob auth=bob host=host.example [198.18.1.2]
 *   AUTHENTICATE PLAIN failure host=host.example [198.18.1.2]
 * The client address is the one in brackets the server writes before the
 * client's own text (Cyrus) or after it, as the last field (UW-IMAP).
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

/* "RDNS? [ADDR]" at p (Cyrus's host part): past it, or NULL. */
static const char *cyrus_host(const char *p, const char *e,
			      struct mxg_addr *addr)
{
	const char *rb;

	/* The reverse name has no blanks; the client's user comes after. */
	if (p < e && *p != '[') {
		while (p < e && *p != ' ' && *p != '[')
			p++;
		if (p < e && *p == ' ')
			p++;
	}
	if (p >= e || *p != '[')
		return NULL;
	rb = memchr(p, ']', (size_t)(e - p) < 60 ? (size_t)(e - p) : 60);
	if (!rb || mxg_addr_span(p + 1, rb, addr))
		return NULL;
	return rb + 1;
}

/* UW-IMAP's last field "host=RDNS [ADDR]", ending the line, after q. */
static bool uw_host(const char *q, const char *e, struct mxg_addr *addr)
{
	const char *h = MXG_RFIND(q, e, " host=");

	while (e > q && e[-1] == ' ')
		e--;
	return h && e[-1] == ']' && mxg_addr_bracket_before(h, e - 1, addr);
}

/*
 * 1 for Cyrus, 2 for UW-IMAP, 0 for neither, from the start of the message:
 *   badlogin: RDNS? [ADDR] MECH USER SASL(-13): ...
 *   login: RDNS? [ADDR] USER MECH User logged in ...        (a login)
 *   Login failed user=USER auth=AUTH host=RDNS [ADDR]
 *   AUTHENTICATE MECH failure host=RDNS [ADDR]
 *   Login user=USER host=RDNS [ADDR]                        (a login)
 */
int mxg_match_imapd(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *p, *u, *ue;

	if (MXG_STARTS(s, e, "badlogin: "))
		return cyrus_host(s + 10, e, &ev->addr) ? 1 : 0;
	if (MXG_STARTS(s, e, "login: ")) {
		p = cyrus_host(s + 7, e, &ev->addr);
		if (!p || !MXG_STARTS(p, e, " ") || !MXG_FIND(p, e, " User logged in"))
			return 0;
		u = p + 1;
		ue = memchr(u, ' ', (size_t)(e - u));
		if (ue)
			mxg_user_copy(ev, u, ue);
		ev->kind = MXG_EV_LOGIN;
		return 1;
	}
	/* Each failed login is one of these, whatever UW-IMAP calls it. */
	if (MXG_STARTS(s, e, "Login excessive login failures user=") ||
	    MXG_STARTS(s, e, "Login disabled user=") ||
	    (MXG_STARTS(s, e, "Failed ") && MXG_FIND(s, e, " override of user=") &&
	     MXG_FIND(s, e, " override of user=") - s < 32)) {
		if (!uw_host(s, e, &ev->addr))
			return 0;
		u = MXG_FIND(s, e, "user=") + 5;
		ue = MXG_FIND(u, e, " auth=");
		if (!ue)
			ue = MXG_RFIND(u, e, " host=");
		while (ue > u && ue[-1] == ' ')
			ue--;
		mxg_user_copy(ev, u, ue);
		return 2;
	}
	if (MXG_STARTS(s, e, "Login failed user=")) {
		/* host= is UW-IMAP's last field; user= and auth= come before. */
		if (!uw_host(s, e, &ev->addr))
			return 0;
		u = s + 18;
		ue = MXG_FIND(u, e, " auth=");
		if (ue)
			mxg_user_copy(ev, u, ue);
		return 2;
	}
	if (MXG_STARTS(s, e, "AUTHENTICATE ")) {
		/* The mechanism is the client's word: host= is the last field. */
		p = MXG_RFIND(s, e, " failure host=");
		if (!p || !uw_host(p, e, &ev->addr))
			return 0;
		return 2;
	}
	if (MXG_STARTS(s, e, "Login user=")) {
		if (!uw_host(s, e, &ev->addr))
			return 0;
		u = s + 11;
		ue = MXG_RFIND(u, e, " host=");
		mxg_user_copy(ev, u, ue);
		ev->kind = MXG_EV_LOGIN;
		return 2;
	}
	return 0;
}
