// SPDX-License-Identifier: GPL-2.0
/*
 * Webmail front ends, where password guessing is the same guessing:
 * Roundcube (its userlogins and errors logs, or syslog "roundcube"):
 *   [29-Nov-2026 10:00:01 +0000]: <sess> Failed login for bob from
 *       198.18.1.2 in session abc (error: 0)
 *   [...]: <sess> IMAP Error: Login failed for bob against localhost from
 *       198.18.1.2. AUTHENTICATE PLAIN: Authentication failed. in ...
 *   [...]: <sess> Successful login for bob (ID: 1) from 198.18.1.2 in
 *       session abc                                           (a login)
 * The user is the client's and comes first: the address is the one after
 * the last " from " that Roundcube's own words follow.
 * SOGo (its own log, or syslog "sogod"):
 *   sogod [1234]: SOGoRootPage Login from '198.18.1.2' for user 'bob'
 *       might not have worked - password policy: 65535 ...
 *   sogod [1234]: SOGoRootPage successful login from '198.18.1.2' for
 *       user 'bob' - expire = -1 grace = -1                   (a login)
 * SOGo writes the address before the user, in quotes; behind a proxy it
 * is a list (X-Forwarded-For), of which a client writes only the left:
 * the rightmost public address is the client (mxg_addr_list_client).
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

/* Past Roundcube's "[date]: <session> " head, when there is one. */
static const char *skip_rc_head(const char *s, const char *e)
{
	const char *p;

	if (s < e && *s == '[') {
		p = memchr(s, ']', (size_t)(e - s) < 48 ? (size_t)(e - s) : 48);
		if (!p || !MXG_STARTS(p, e, "]: "))
			return s;
		s = p + 3;
	}
	if (s < e && *s == '<') {
		p = memchr(s, '>', (size_t)(e - s) < 48 ? (size_t)(e - s) : 48);
		if (p && MXG_STARTS(p, e, "> "))
			s = p + 2;
	}
	return s;
}

/* The address after the last " from " before lit (Roundcube's words). */
static bool addr_from(const char *s, const char *e, const char *lit,
		      const char **from, struct mxg_addr *addr)
{
	const char *t = mxg_rfind(s, e, lit, strlen(lit)), *f, *end;

	if (!t)
		return false;
	f = MXG_RFIND(s, t, " from ");
	if (!f)
		return false;
	for (end = f + 6; end < t && *end != '(' && *end != ' '; end++)
		;
	/* "ADDR(X-Forwarded-For: ...)": the peer, not what the client claims. */
	if (mxg_addr_span(f + 6, end, addr))
		return false;
	*from = f;
	return true;
}

/*
 * " from ADDR" at f, where Roundcube's own text follows the address: the
 * line's end, ". " (the IMAP server's answer), or "(X-Forwarded-For".
 */
static bool from_addr(const char *f, const char *e, struct mxg_addr *addr)
{
	const char *a = f + 6, *end;

	for (end = a; end < e && end - a <= 60 && *end != '(' && *end != ' ' &&
	     !(*end == '.' && (end + 1 == e || end[1] == ' ')); end++)
		;
	if (end < e && *end != '(' && *end != '.')
		return false;
	return !mxg_addr_span(a, end, addr);
}

/*
 * "USER[ against HOST] from ADDR[(X-Forwarded-For: ...)][. REASON in FILE
 * on line N (METHOD URI)]": the user comes first and the URI last, both
 * the client's, so every " from ADDR" that Roundcube's text follows is a
 * candidate, and only a line with exactly one is counted.
 */
static int imap_error(const char *u, const char *e, struct mxg_auth_event *ev)
{
	const char *f, *ue = NULL, *a;
	struct mxg_addr addr;
	int found = 0;

	for (f = u; (f = MXG_FIND(f, e, " from ")); f++) {
		if (!from_addr(f, e, &addr))
			continue;
		if (found++)
			return 0;
		ev->addr = addr;
		ue = f;
	}
	if (!found)
		return 0;
	/* " against HOST" (one word) right before is Roundcube's too. */
	a = MXG_RFIND(u, ue, " against ");
	if (a && !memchr(a + 9, ' ', (size_t)(ue - a - 9)))
		ue = a;
	mxg_user_copy(ev, u, ue);
	return 1;
}

int mxg_match_roundcube(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *f, *a;

	s = skip_rc_head(s, e);
	if (MXG_STARTS_CI(s, e, "Failed login for ")) {
		if (addr_from(s + 16, e, " in session ", &f, &ev->addr)) {
			mxg_user_copy(ev, s + 17, f);
			return 1;
		}
		/* Older versions: "FAILED login for USER from ADDR" ends the line. */
		f = MXG_RFIND(s + 16, e, " from ");
		if (!f || mxg_addr_span(f + 6, e, &ev->addr))
			return 0;
		mxg_user_copy(ev, s + 17, f);
		return 1;
	}
	if (MXG_STARTS(s, e, "Successful login for ")) {
		if (!addr_from(s + 20, e, " in session ", &f, &ev->addr))
			return 0;
		a = MXG_RFIND(s + 21, f, " (ID: ");
		mxg_user_copy(ev, s + 21, a ? a : f);
		ev->kind = MXG_EV_LOGIN;
		return 1;
	}
	if (MXG_STARTS(s, e, "IMAP Error: Login failed for "))
		return imap_error(s + 29, e, ev);
	return 0;
}

/* "'ADDR[, ADDR]...'" at p: the last address; past the closing quote. */
static const char *quoted_addr(const char *p, const char *e,
			       struct mxg_addr *addr)
{
	const char *q, *c;

	if (p >= e || *p != '\'')
		return NULL;
	q = memchr(p + 1, '\'', (size_t)(e - p - 1) < 200 ? (size_t)(e - p - 1) : 200);
	if (!q)
		return NULL;
	(void)c;
	return mxg_addr_list_client(p + 1, q, addr) ? NULL : q + 1;
}

int mxg_match_sogo(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *p, *u, *ue;
	bool login;

	/* "sogod [PID]: " when the dispatcher left it (SOGo's own file). */
	if (MXG_STARTS(s, e, "sogod [")) {
		p = memchr(s, ']', (size_t)(e - s) < 20 ? (size_t)(e - s) : 20);
		if (!p || !MXG_STARTS(p, e, "]: "))
			return 0;
		s = p + 3;
	}
	if (MXG_STARTS(s, e, "SOGoRootPage Login from ")) {
		p = s + 24;
		login = false;
	} else if (MXG_STARTS(s, e, "SOGoRootPage successful login from ")) {
		p = s + 35;
		login = true;
	} else {
		return 0;
	}
	p = quoted_addr(p, e, &ev->addr);
	if (!p || !MXG_STARTS(p, e, " for user '"))
		return 0;
	u = p + 11;
	if (login) {
		ue = MXG_RFIND(u, e, "' - expire");
		if (!ue)
			return 0;
		ev->kind = MXG_EV_LOGIN;
	} else {
		/* The user is the client's: SOGo's words end the line. */
		ue = MXG_RFIND(u, e, "' might not have worked");
		if (!ue)
			return 0;
	}
	mxg_user_copy(ev, u, ue);
	return 1;
}
