// SPDX-License-Identifier: GPL-2.0
/*
 * Dovecot, as IMAP/POP3/submission server and as Postfix's SASL backend.
 * The matcher sees "PROCESS: text" (the message of syslog's "dovecot", or
 * Dovecot's own log file from its tag on), optionally with a level:
 *   imap-login: Disconnected (auth failed, 3 attempts in 12 secs):
 *       user=<bob>, method=PLAIN, rip=198.18.1.2, lip=..., session=<...>
 *   imap-login: Aborted login (tried to use disallowed plaintext auth):
 *       user=<>, rip=198.18.1.2, lip=..., session=<...>
 *   auth: passwd-file(bob,198.18.1.2[,<sess>]): unknown user
 *   auth-worker(123): pam(bob,1.2.3.4,<sess>): pam_authenticate() failed: ...
 *   auth: Info: sql(bob,1.2.3.4): Password mismatch (given password: secret)
 *   auth: pam_unix(dovecot:auth): authentication failure; ... ruser=x rhost=ADDR
 * and Dovecot 2.4's prefix, the identity in the process name:
 *   auth(bob,1.2.3.4,sasl:plain)<sess>: Info: sql: Password mismatch
 *   auth-worker(bob,1.2.3.4)<pid><sess>: request [12]: Info: sql: ...
 * The reason in parentheses is Dovecot's own and comes before any client
 * text; user=<...> (the client's) precedes rip=, so the address is the last
 * rip=. In passdb lines the user name (the client's) comes first inside the
 * driver's parentheses and a logged password last: the line is split where
 * the rest reads exactly as Dovecot writes it, and a line that splits two
 * ways is not counted. The message, which may carry a password, is never
 * copied.
 *
 * One attempt, one count (struct mxg_dedup): with auth_verbose, Dovecot
 * logs each failed attempt in the auth process (the passdb line) and the
 * login process sums the connection up at its end, "(auth failed, N
 * attempts)". A passdb line of a login process carries its session id and
 * counts at once; the summary of that session then counts only the
 * attempts its passdb lines did not (all N without auth_verbose). A passdb
 * line without a session id answered another program (Postfix, Exim),
 * which logs the same attempt itself: the two are paired by address. 2.4's
 * auth-worker line repeats the auth process's line and never counts.
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

/*
 * "NAME: ", "NAME(N): " or Dovecot 1.x's "NAME(default): " at s, NAME in
 * [a-z0-9-]: past it, or NULL.
 */
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
		for (p++; p < e && ((*p >= '0' && *p <= '9') ||
				    (*p >= 'a' && *p <= 'z') || *p == '-') &&
		     p - *name_end < 34; p++)
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

/* "session=<ID>" after p: the id, or NULL. */
static const char *session_of(const char *p, const char *e, size_t *n)
{
	const char *v = MXG_RFIND(p, e, "session=<"), *end;

	if (!v)
		return NULL;
	v += 9;
	end = memchr(v, '>', (size_t)(e - v));
	if (!end || end == v || end - v > 32)
		return NULL;
	*n = (size_t)(end - v);
	return v;
}

/*
 * The reason of a login process's failure, in Dovecot's parentheses:
 *   (auth failed, N attempts[ in S secs])
 *   (tried to use disabled|disallowed MECH auth)
 *   (proxy dest auth failed[, N attempts ...])
 * Its end (after ')') and the attempts; NULL when p is none of them.
 */
static const char *reason_at(const char *p, const char *e, unsigned int *n,
			     unsigned int *secs, bool *summary)
{
	const char *q;

	*n = 1;
	*secs = 0;
	*summary = false;
	if (MXG_STARTS(p, e, "(auth failed, ")) {
		*summary = true;
		q = p + 14;
	} else if (MXG_STARTS(p, e, "(proxy dest auth failed")) {
		q = p + 23;
		if (q < e && *q == ')')
			return q + 1;
		if (!MXG_STARTS(q, e, ", "))
			return NULL;
		q += 2;
	} else if (MXG_STARTS(p, e, "(tried to use disabled ") ||
		   MXG_STARTS(p, e, "(tried to use disallowed ")) {
		q = p + (p[15] == 'b' ? 23 : 25);
		/* The mechanism: a word of Dovecot's ("plaintext", "PLAIN"). */
		for (p = q; q < e && q - p < 32 &&
		     ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '-' || *q == '_'); q++)
			;
		if (q == p || !MXG_STARTS(q, e, " auth)"))
			return NULL;
		return q + 6;
	} else {
		return NULL;
	}
	p = q;
	*n = mxg_uint(p, e, &q);
	if (q == p || !MXG_STARTS(q, e, " attempts"))
		return NULL;
	q += 9;
	if (MXG_STARTS(q, e, " in ")) {
		*secs = mxg_uint(q + 4, e, &q);
		if (!MXG_STARTS(q, e, " secs"))
			return NULL;
		q += 5;
	}
	if (q >= e || *q != ')')
		return NULL;
	if (!*n)
		*n = 1;
	return q + 1;
}

static int login_failed(const char *t, const char *e, struct mxg_auth_event *ev,
			struct mxg_dedup *d)
{
	const char *a, *q = NULL;
	unsigned int n = 1, secs = 0;
	bool summary = false;

	/*
	 * The reason is Dovecot's: the first "(" that opens one of its
	 * reasons, with no client element ("user=<") and no closed
	 * parenthesis before it.
	 */
	for (a = t; (a = memchr(a, '(', (size_t)(e - a))) && a - t < 256; a++) {
		q = reason_at(a, e, &n, &secs, &summary);
		if (q)
			break;
	}
	if (!a || !q || memchr(t, '<', (size_t)(a - t)) || MXG_FIND(t, a, "): "))
		return 0;
	if (!rip_and_user(q, e, ev))
		return 0;
	ev->attempts = n;
	if (summary) {
		/* The connection's attempts, told again by its passdb lines. */
		d->on = true;
		d->rep = MXG_REP_SUMMARY;
		d->window = (int64_t)secs + 10;
		d->id = session_of(q, e, &d->idlen);
	}
	return 1;
}

/*
 * A login process's successful login (MXG_EV_LOGIN), after its level:
 *   Login: user=<bob>, method=PLAIN, rip=ADDR, lip=..., mpid=N, TLS,
 *       session=<...>
 */
static int login_ok(const char *t, const char *e, struct mxg_auth_event *ev)
{
	const char *m;

	if (MXG_STARTS(t, e, "proxy(")) {
		/*
		 * A proxy's login: "proxy(USER): started proxying to HOST:PORT
		 * [(T secs)]: user=<USER>, ..., rip=ADDR, ...". The user, the
		 * client's, comes first: the marker is the first one after it
		 * that Dovecot's fields follow.
		 */
		m = MXG_FIND(t, e, "): started proxying to ");
		if (!m || !rip_and_user(m, e, ev))
			return 0;
		if (!ev->user[0])
			mxg_user_copy(ev, t + 6, m);
		ev->kind = MXG_EV_LOGIN;
		return 1;
	}
	if (!MXG_STARTS(t, e, "Login: user=<") || !rip_and_user(t + 7, e, ev))
		return 0;
	ev->kind = MXG_EV_LOGIN;
	return 1;
}

/*
 * What a passdb driver writes after "DRIVER(...): " (2.4: "DRIVER: ")
 * when a login fails. " - trying the next passdb" is not the end of the
 * attempt: the next passdb decides, and logs again if it fails too.
 */
static bool failure_message(const char *m, const char *e)
{
	static const char *const exact[] = {
		"unknown user", "Password mismatch", "invalid credentials",
		"Invalid password", "User not found",
	};
	size_t i, n;

	if (MXG_STARTS(m, e, "pam_authenticate() failed: "))
		return !MXG_FIND(m, e, " - trying the next passdb");
	/*
	 * A user name Dovecot refuses to look up ("MECH(?,ADDR): ..."): the
	 * client gets the same answer as for a wrong password. The refused
	 * name (the client's) follows in "(username: ...)".
	 */
	if (MXG_STARTS(m, e, "Username character disallowed by auth_username_chars: "))
		return true;
	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		n = strlen(exact[i]);
		if (!mxg_starts(m, e, exact[i], n))
			continue;
		m += n;
		/* auth_verbose_passwords with no password: a blank after. */
		while (m < e && e[-1] == ' ')
			e--;
		/* "(given password: ...)", "(SHA1 of given password: ...)". */
		return m == e || (MXG_STARTS(m, e, " (") && e[-1] == ')');
	}
	return false;
}

/* What a split of a passdb line found. */
struct split {
	struct mxg_addr addr;
	const char *user_end;
	const char *sess;		/* the session id, or NULL */
	size_t sesslen;
};

/*
 * INNER of "DRIVER(INNER): " ends with ",ADDR" and then Dovecot's optional
 * ",master" and ",<SESSION>": the address, the session, and where the user
 * name ends.
 */
static bool inner_tail(const char *in, const char *end, struct split *sp)
{
	const char *c;

	sp->sess = NULL;
	if (end > in && end[-1] == '>') {
		c = MXG_RFIND(in, end, ",<");
		if (!c || memchr(c + 2, ',', (size_t)(end - c - 2)))
			return false;
		sp->sess = c + 2;
		sp->sesslen = (size_t)(end - 1 - sp->sess);
		end = c;
	}
	if (ends_with(in, end, ",master"))
		end -= 7;
	/* "ldap(user,ip,)": an empty last field. */
	if (end > in && end[-1] == ',' && !sp->sess)
		end--;
	for (c = end; c > in && c[-1] != ','; c--)
		;
	if (c <= in || mxg_addr_span(c, end, &sp->addr))
		return false;
	/*
	 * Dovecot cuts a logged user name at 64 bytes (and adds "..."); one
	 * that holds "): " is no account anybody has: not a split to trust.
	 */
	if (c - 1 - in > 64 + 3 || MXG_FIND(in, c - 1, "): "))
		return false;
	sp->user_end = c - 1;
	return true;
}

/* Where the attempt was asked for: by a login process, or by another program. */
static void passdb_dedup(const struct split *sp, struct mxg_dedup *d)
{
	d->on = true;
	if (sp->sess && sp->sesslen) {
		d->rep = MXG_REP_SESSION;
		d->id = sp->sess;
		d->idlen = sp->sesslen;
	} else {
		d->rep = MXG_REP_PASSDB;
	}
}

static bool driver_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

static int passdb_failed(const char *t, const char *e, struct mxg_auth_event *ev,
			 struct mxg_dedup *d)
{
	const char *in, *k;
	struct split sp, got;
	int found = 0;

	/* "DRIVER(": passwd-file, sql, ldap, pam, static, lua, checkpassword, ... */
	for (in = t; in < e && driver_char(*in); in++)
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
		if (!failure_message(k + 3, e) || !inner_tail(in, k, &sp))
			continue;
		if (++found > 1)
			return 0;
		got = sp;
	}
	if (found != 1)
		return 0;
	ev->addr = got.addr;
	/* "?": Dovecot has no user name it would log. */
	if (got.user_end - in != 1 || *in != '?')
		mxg_user_copy(ev, in, got.user_end);
	passdb_dedup(&got, d);
	return 1;
}

/*
 * Dovecot 2.4's auth process, from the process name on:
 *   auth(USER,ADDR[,MECH])[<SESSION>]: [Level: ]DRIVER: MESSAGE
 * USER is the client's and may hold anything; ADDR and MECH are
 * Dovecot's. As with the older form, every ")" where the rest reads as
 * Dovecot writes it is a split, and a line that splits two ways is not
 * counted.
 */
static bool mech_char(char c)
{
	return driver_char(c) || (c >= 'A' && c <= 'Z') || c == ':' || c == '.';
}

static bool v24_tail(const char *in, const char *close, const char *e,
		     struct split *sp)
{
	const char *c, *p, *m, *end = close;

	/* ",ADDR" or ",ADDR,MECH" ends the identity. */
	for (c = end; c > in && c[-1] != ','; c--)
		;
	if (c <= in)
		return false;
	if (mxg_addr_span(c, end, &sp->addr)) {
		for (m = c; m < end && mech_char(*m); m++)
			;
		if (m != end || m == c)
			return false;
		end = c - 1;
		for (c = end; c > in && c[-1] != ','; c--)
			;
		if (c <= in || mxg_addr_span(c, end, &sp->addr))
			return false;
	}
	if (c - 1 - in > 64 + 3)
		return false;
	sp->user_end = c - 1;
	/* "<PID><SESSION>" after the parenthesis (the last is the session). */
	p = close + 1;
	sp->sess = NULL;
	while (p < e && *p == '<') {
		for (m = p + 1; m < e && *m != '>' && *m != ' ' && m - p < 40; m++)
			;
		if (m >= e || *m != '>')
			return false;
		sp->sess = p + 1;
		sp->sesslen = (size_t)(m - p - 1);
		p = m + 1;
	}
	if (!MXG_STARTS(p, e, ": "))
		return false;
	p = skip_level(p + 2, e);
	for (m = p; m < e && driver_char(*m); m++)
		;
	if (m == p || m - p > 24 || !MXG_STARTS(m, e, ": "))
		return false;
	return failure_message(m + 2, e);
}

static int v24_failed(const char *in, const char *e, struct mxg_auth_event *ev,
		      struct mxg_dedup *d)
{
	const char *k;
	struct split sp, got;
	int found = 0;

	for (k = in; (k = memchr(k, ')', (size_t)(e - k))) && k - in <= 256; k++) {
		if (!v24_tail(in, k, e, &sp))
			continue;
		if (++found > 1)
			return 0;
		got = sp;
	}
	if (found != 1)
		return 0;
	ev->addr = got.addr;
	mxg_user_copy(ev, in, got.user_end);
	passdb_dedup(&got, d);
	return 1;
}

static int pam_unix(const char *t, const char *e, struct mxg_auth_event *ev,
		    struct mxg_dedup *d)
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
	d->on = true;
	d->rep = MXG_REP_PAM;
	return 1;
}

int mxg_match_dovecot(const char *s, const char *e, struct mxg_auth_event *ev,
		      struct mxg_dedup *d)
{
	const char *t, *ne;

	/* PAM's line, logged under the auth process's own identifier. */
	if (MXG_STARTS(s, e, "pam_unix("))
		return pam_unix(s, e, ev, d);
	t = proc_at(s, e, &ne);
	/* Some syslog set-ups repeat the program: "dovecot[1]: dovecot: auth: ...". */
	if (t && ne - s == 7 && !memcmp(s, "dovecot", 7)) {
		s = t;
		t = proc_at(s, e, &ne);
	}
	/* 2.4: the identity in the name; the worker repeats auth's line. */
	if (!t && MXG_STARTS(s, e, "auth(") && e - s > 5 &&
	    (s[5] < '0' || s[5] > '9'))
		return v24_failed(s + 5, e, ev, d);
	if (!t)
		return 0;
	t = skip_level(t, e);
	if (ne - s > 6 && !memcmp(ne - 6, "-login", 6))
		return login_failed(t, e, ev, d) || login_ok(t, e, ev);
	/* "auth", "auth-worker", and Dovecot 1.x's "dovecot-auth". */
	if (!mxg_starts(s, ne, "auth", 4) && !mxg_starts(s, ne, "dovecot-auth", 12))
		return 0;
	if (MXG_STARTS(t, e, "pam_unix("))
		return pam_unix(t, e, ev, d);
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
	return passdb_failed(t, e, ev, d);
}
