// SPDX-License-Identifier: GPL-2.0
/*
 * Sendmail (sm-mta, sendmail), from the start of its message "QID: ":
 *   QID: AUTH failure (LOGIN): authentication failure (-13) SASL(-13):
 *       authentication failure: checkpass failed, user=bob,
 *       relay=host.example [198.18.1.2] (may be forged)
 *   QID: host.example [198.18.1.2]: possible SMTP attack: command=AUTH,
 *       count=5
 *   QID: AUTH=server, relay=host.example [198.18.1.2], authid=bob,
 *       mech=PLAIN, bits=0                                     (a login)
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

/*
 * A successful AUTH (MXG_EV_LOGIN), with or without a queue id:
 *   QID: AUTH=server, relay=host.example [198.18.2.9] (may be forged),
 *       authid=bob, mech=PLAIN, bits=0
 * authid (the account), mech and bits are sendmail's and come last.
 */
static int login_ok(const char *q, const char *e, struct mxg_auth_event *ev)
{
	const char *a, *m;

	if (!MXG_STARTS(q, e, "AUTH=server, relay="))
		return 0;
	a = MXG_RFIND(q, e, ", authid=");
	if (!a || !client_ends(q + 19, a, &ev->addr))
		return 0;
	m = MXG_FIND(a + 9, e, ", mech=");
	if (!m)
		m = e;
	mxg_user_copy(ev, a + 9, m);
	ev->kind = MXG_EV_LOGIN;
	return 1;
}

/* Kinds of lines that tell a session's failed AUTHs (sessions.h). */
enum { REP_AUTH_FAILURE, REP_ATTACK };

/*
 * With LogLevel 10 sendmail logs each failed AUTH, and a session that
 * goes on logs "possible SMTP attack: command=AUTH, count=N" as well:
 * both tell the same attempts, tied by the queue id.
 */
static unsigned int session_count(struct mxg_sessions *t, const char *qid,
				  size_t n, unsigned int kind,
				  unsigned int attempts,
				  const struct mxg_addr *addr, int64_t now)
{
	char key[MXG_SESSION_ID_MAX];
	struct mxg_session *x;

	if (n + 2 >= sizeof(key))
		return attempts;
	key[0] = 'S';
	key[1] = ':';
	memcpy(key + 2, qid, n);
	x = mxg_sessions_get(t, key, n + 2, now);
	if (!x) {
		mxg_sessions_put(t, key, n + 2, addr, now);
		x = mxg_sessions_get(t, key, n + 2, now);
		if (!x)
			return attempts;
	}
	return mxg_session_report(x, kind, attempts);
}

int mxg_match_sendmail(struct mxg_sessions *t, const char *s, const char *e,
		       int64_t now, struct mxg_auth_event *ev)
{
	const char *q, *r, *u, *c, *a;
	unsigned int n;

	if (MXG_STARTS(s, e, "AUTH=server, "))
		return login_ok(s, e, ev);
	q = past_qid(s, e);
	if (!q)
		return 0;
	if (MXG_STARTS(q, e, "AUTH=server, "))
		return login_ok(q, e, ev);
	if (MXG_STARTS(q, e, "AUTH failure (")) {
		if (!relay(q, e, &ev->addr, &r))
			return 0;
		u = MXG_FIND(q, r, ", user=");
		if (u)
			mxg_user_copy(ev, u + 7, r);
		return session_count(t, s, (size_t)(q - 2 - s), REP_AUTH_FAILURE,
				     1, &ev->addr, now) > 0;
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
	n = mxg_uint(c, e, NULL);
	n = session_count(t, s, (size_t)(q - 2 - s), REP_ATTACK, n ? n : 1,
			  &ev->addr, now);
	ev->attempts = n;
	return n > 0;
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
