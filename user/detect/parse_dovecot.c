// SPDX-License-Identifier: GPL-2.0
/*
 * Dovecot, as IMAP/POP3/submission server and as Postfix's SASL backend.
 * The matcher sees "PROCESS: text" (the message of syslog's "dovecot", or
 * Dovecot's own log file from its tag on), optionally with a level:
 *   imap-login: Disconnected (auth failed, 3 attempts in 12 secs):
 *       user=<bob>, method=PLAIN, rip=198.18.1.2, lip=..., session=<...>
 *   auth: passwd-file(bob,198.18.1.2[,<sess>]): unknown user
 *   auth-worker(123): pam(bob,1.2.3.4,<sess>): pam_authenticate() failed: ...
 *   auth: Info: sql(bob,1.2.3.4): Password mismatch (given password: secret)
 *   auth: pam_unix(dovecot:auth): authentication failure; ... ruser=x rhost=ADDR
 * The reason in parentheses is Dovecot's own and comes before any client
 * text; user=<...> (the client's) precedes rip=, so the address is the last
 * rip=. In passdb lines the user name (the client's) comes first inside the
 * driver's parentheses and a logged password last: the line is split where
 * the rest reads exactly as Dovecot writes it, and a line that splits two
 * ways is not counted. The message, which may carry a password, is never
 * copied.
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

/* "NAME: " or "NAME(N): " at s, NAME in [a-z0-9-]: past it, or NULL. */
static const char *proc_at(const char *s, const char *e, const char **name_end)
{
	const char *p = s;

	while (p < e && ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			 *p == '-'))
		p++;
	if (p == s || p - s > 32)
		return NULL;
	*name_end = p;
	if (p < e && *p == '(') {
		for (p++; p < e && *p >= '0' && *p <= '9'; p++)
			;
		if (p >= e || *p != ')')
			return NULL;
		p++;
	}
	return MXG_STARTS(p, e, ": ") ? p + 2 : NULL;
}

/* Past a log level that Dovecot's own log files write. */
static const char *skip_level(const char *p, const char *e)
{
	static const char *const levels[] = {
		"Info: ", "Error: ", "Warning: ", "Debug: ", "Fatal: ", "Panic: ",
	};
	size_t i, n;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		n = strlen(levels[i]);
		if (mxg_starts(p, e, levels[i], n))
			return p + n;
	}
	return p;
}

static bool ends_with(const char *s, const char *e, const char *lit)
{
	size_t n = strlen(lit);

	return e - s >= (ptrdiff_t)n && !memcmp(e - n, lit, n);
}

/*
 * The client of a login process's line from q on: the last " rip=" (the
 * client's user=<...> can only come before it), and the user name from
 * the first "user=<" to the last ">," before that rip=.
 */
static bool rip_and_user(const char *q, const char *e,
			 struct mxg_auth_event *ev)
{
	const char *r, *v, *end, *u, *ue;

	for (r = e; (r = mxg_rfind(q, r, "rip=", 4)); r--)
		if (r > q && r[-1] == ' ')
			break;
	if (!r)
		return false;
	v = r + 4;
	for (end = v; end < e && *end != ',' && *end != ' '; end++)
		;
	if (mxg_addr_span(v, end, &ev->addr))
		return false;
	u = MXG_FIND(q, r, "user=<");
	if (u) {
		u += 6;
		ue = MXG_RFIND(u, r, ">,");
		if (!ue)
			ue = MXG_RFIND(u, r, ">");
		if (ue)
			mxg_user_copy(ev, u, ue);
	}
	return true;
}

static int login_failed(const char *t, const char *e, struct mxg_auth_event *ev)
{
	const char *a, *q;
	unsigned int n;

	/*
	 * The reason is Dovecot's: no client element ("user=<") starts before
	 * the first "(auth failed, ", and that one closes the reason.
	 */
	a = MXG_FIND(t, e, "(auth failed, ");
	if (!a || memchr(t, '<', (size_t)(a - t)) || MXG_FIND(t, a, "): "))
		return 0;
	n = mxg_uint(a + 14, e, &q);
	if (q == a + 14 || !MXG_STARTS(q, e, " attempts"))
		return 0;
	q += 9;
	if (MXG_STARTS(q, e, " in ")) {
		mxg_uint(q + 4, e, &q);
		if (!MXG_STARTS(q, e, " secs"))
			return 0;
		q += 5;
	}
	if (q >= e || *q != ')')
		return 0;
	if (!rip_and_user(q, e, ev))
		return 0;
	ev->attempts = n ? n : 1;
	return 1;
}

/*
 * A login process's successful login (MXG_EV_LOGIN), after its level:
 *   Login: user=<bob>, method=PLAIN, rip=ADDR, lip=..., mpid=N, TLS,
 *       session=<...>
 */
static int login_ok(const char *t, const char *e, struct mxg_auth_event *ev)
{
	if (!MXG_STARTS(t, e, "Login: user=<") || !rip_and_user(t + 7, e, ev))
		return 0;
	ev->kind = MXG_EV_LOGIN;
	return 1;
}

/* What a passdb driver writes after "DRIVER(...): " when a login fails. */
static bool failure_message(const char *m, const char *e)
{
	static const char *const exact[] = {
		"unknown user", "Password mismatch", "invalid credentials",
		"Invalid password", "User not found",
	};
	size_t i, n;

	if (MXG_STARTS(m, e, "pam_authenticate() failed: "))
		return true;
	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		n = strlen(exact[i]);
		if (!mxg_starts(m, e, exact[i], n))
			continue;
		m += n;
		/* "(given password: ...)", "(SHA1 of given password: ...)". */
		return m == e || (MXG_STARTS(m, e, " (") && e[-1] == ')');
	}
	return false;
}

/*
 * INNER of "DRIVER(INNER): " ends with ",ADDR" and then Dovecot's optional
 * ",master" and ",<SESSION>": the address, and where the user name ends.
 */
static bool inner_tail(const char *in, const char *end, struct mxg_addr *addr,
		       const char **user_end)
{
	const char *c;

	if (end > in && end[-1] == '>') {
		c = MXG_RFIND(in, end, ",<");
		if (!c || memchr(c + 2, ',', (size_t)(end - c - 2)))
			return false;
		end = c;
	}
	if (ends_with(in, end, ",master"))
		end -= 7;
	for (c = end; c > in && c[-1] != ','; c--)
		;
	if (c <= in || mxg_addr_span(c, end, addr))
		return false;
	/*
	 * Dovecot cuts a logged user name at 64 bytes (and adds "..."); one
	 * that holds "): " is no account anybody has: not a split to trust.
	 */
	if (c - 1 - in > 64 + 3 || MXG_FIND(in, c - 1, "): "))
		return false;
	*user_end = c - 1;
	return true;
}

static int passdb_failed(const char *t, const char *e, struct mxg_auth_event *ev)
{
	const char *in, *k, *ue = NULL, *cand_ue = NULL;
	struct mxg_addr a;
	int found = 0;

	/* "DRIVER(": passwd-file, sql, ldap, pam, static, lua, checkpassword, ... */
	for (in = t; in < e && ((*in >= 'a' && *in <= 'z') ||
				(*in >= '0' && *in <= '9') || *in == '-' ||
				*in == '_'); in++)
		;
	if (in == t || in - t > 24 || in >= e || *in != '(')
		return 0;
	in++;
	/*
	 * Every "): " where the rest reads as Dovecot writes it is a split;
	 * the user name is cut at 64 bytes, so only the first few hundred
	 * bytes can hold one (and a long line costs no more than a short one).
	 */
	for (k = in; (k = MXG_FIND(k, e, "): ")) && k - in <= 256; k++) {
		if (!failure_message(k + 3, e) || !inner_tail(in, k, &a, &ue))
			continue;
		if (++found > 1)
			return 0;
		ev->addr = a;
		cand_ue = ue;
	}
	if (found != 1)
		return 0;
	mxg_user_copy(ev, in, cand_ue);
	return 1;
}

static int pam_unix(const char *t, const char *e, struct mxg_auth_event *ev)
{
	const char *h, *v, *end, *u;

	if (!MXG_STARTS(t, e, "pam_unix(dovecot:auth): authentication failure; "))
		return 0;
	/* ruser= (before) and user= (after) are the client's: one rhost= only. */
	h = MXG_FIND(t, e, " rhost=");
	if (!h || MXG_FIND(h + 1, e, " rhost="))
		return 0;
	v = h + 7;
	for (end = v; end < e && *end != ' '; end++)
		;
	if (mxg_addr_span(v, end, &ev->addr))
		return 0;
	u = MXG_FIND(end, e, " user=");
	if (u) {
		mxg_user_copy(ev, u + 6, e);
	} else if ((u = MXG_FIND(t, h, " ruser="))) {
		mxg_user_copy(ev, u + 7, h);
	}
	return 1;
}

int mxg_match_dovecot(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *t, *ne;

	/* PAM's line, logged under the auth process's own identifier. */
	if (MXG_STARTS(s, e, "pam_unix("))
		return pam_unix(s, e, ev);
	t = proc_at(s, e, &ne);
	if (!t)
		return 0;
	t = skip_level(t, e);
	if (ne - s > 6 && !memcmp(ne - 6, "-login", 6))
		return login_failed(t, e, ev) || login_ok(t, e, ev);
	if (!mxg_starts(s, ne, "auth", 4))
		return 0;
	if (MXG_STARTS(t, e, "pam_unix("))
		return pam_unix(t, e, ev);
	/* 2.3's worker connection prefix: "conn unix:auth-worker (pid=N,uid=N): auth-worker<N>: ". */
	if (MXG_STARTS(t, e, "conn unix:auth-worker (")) {
		const char *c = MXG_FIND(t, e, "): auth-worker<");

		if (!c || c - t > 64)
			return 0;
		c = memchr(c, '>', (size_t)(e - c));
		if (!c || !MXG_STARTS(c, e, ">: "))
			return 0;
		t = c + 3;
	}
	return passdb_failed(t, e, ev);
}
