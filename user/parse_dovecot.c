// SPDX-License-Identifier: GPL-2.0
/*
 * Dovecot, as IMAP/POP3/submission server and as Postfix's SASL backend:
 *   imap-login: Disconnected (auth failed, 3 attempts in 12 secs):
 *       user=<bob>, method=PLAIN, rip=198.18.1.2, lip=..., session=<...>
 *   auth: passwd-file(bob,198.18.1.2[,<sess>]): unknown user
 *   auth-worker(123): pam(bob,1.2.3.4,<sess>): pam_authenticate() failed: ...
 *   auth: sql(bob,1.2.3.4): Password mismatch (given password: secret)
 *   pam_unix(dovecot:auth): authentication failure; ... ruser=x rhost=ADDR
 * user=<...> precedes rip= and is the client's text, so rip= is the last
 * one. In passdb lines the address is the last field inside the driver's
 * parentheses, and the message (which may carry a logged password) is
 * never copied.
 */
#include <stdio.h>
#include <string.h>

#include "parse.h"

static int login_failed(const char *s, const char *e, const char *a,
			struct mxg_auth_event *ev)
{
	const char *r, *v, *end, *u, *ue;
	unsigned int n;

	n = mxg_uint(a + 14, e, NULL);
	/* A marker inside a user name would come after "user=<". */
	u = MXG_FIND(s, e, "user=<");
	if (u && u < a)
		return 0;
	for (r = e; (r = mxg_rfind(a, r, "rip=", 4)); r--) {
		if (r[-1] == ' ' || r[-1] == ',')
			break;
		if (r == a)
			return 0;
	}
	if (!r)
		return 0;
	v = r + 4;
	for (end = v; end < e && *end != ',' && *end != ' '; end++)
		;
	if (mxg_addr_span(v, end, &ev->addr))
		return 0;
	ev->attempts = n ? n : 1;
	if (u) {
		u += 6;
		ue = MXG_RFIND(u, r, ">,");
		if (!ue)
			ue = MXG_RFIND(u, r, ">");
		if (ue)
			mxg_user_copy(ev, u, ue);
	}
	return 1;
}

static const char *const passdb_fail[] = {
	"): unknown user",
	"): Password mismatch",
	"): pam_authenticate() failed",
	"): invalid credentials",
	"): Invalid password",
	"): User not found",
};

static int passdb_failed(const char *s, const char *e,
			 struct mxg_auth_event *ev)
{
	const char *m = NULL, *q, *close, *comma, *open;
	size_t i;

	/* The first message wins: a logged password can only follow it. */
	for (i = 0; i < sizeof(passdb_fail) / sizeof(passdb_fail[0]); i++) {
		q = mxg_find(s, e, passdb_fail[i], strlen(passdb_fail[i]));
		if (q && (!m || q < m))
			m = q;
	}
	if (!m || !MXG_FIND(s, m, "auth"))
		return 0;
	close = m;
	/* ",<session-id>" is Dovecot's and comes after the address. */
	if (close > s && close[-1] == '>') {
		q = MXG_RFIND(s, close, ",<");
		if (!q)
			return 0;
		close = q;
	}
	for (comma = close; comma > s && comma[-1] != ',' && comma[-1] != '(';
	     comma--)
		;
	if (comma <= s || comma[-1] != ',')
		return 0;
	if (mxg_addr_span(comma, close, &ev->addr))
		return 0;
	for (open = comma - 1; open > s && open[-1] != '('; open--)
		;
	if (open > s)
		mxg_user_copy(ev, open, comma - 1);
	return 1;
}

static int pam_unix(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *h, *v, *end, *u;

	h = MXG_RFIND(s, e, " rhost=");
	if (!h)
		return 0;
	v = h + 7;
	for (end = v; end < e && *end != ' '; end++)
		;
	if (mxg_addr_span(v, end, &ev->addr))
		return 0;
	/* user= after rhost is the account PAM resolved; ruser= is the client's. */
	u = MXG_FIND(end, e, " user=");
	if (u) {
		mxg_user_copy(ev, u + 6, e);
	} else if ((u = MXG_FIND(s, h, " ruser="))) {
		mxg_user_copy(ev, u + 7, h);
	}
	return 1;
}

int mxg_match_dovecot(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *a;

	a = MXG_FIND(s, e, "(auth failed, ");
	if (a)
		return login_failed(s, e, a, ev);
	a = MXG_FIND(s, e, "pam_unix(dovecot:auth): authentication failure;");
	if (a)
		return pam_unix(a, e, ev);
	if (MXG_FIND(s, e, "auth"))
		return passdb_failed(s, e, ev);
	return 0;
}

size_t mxg_redact_line(const char *line, size_t len, char *out, size_t size)
{
	const char *e = line + len, *g, *end;
	size_t n = 0;

	if (!size)
		return 0;
	g = MXG_FIND(line, e, "given password: ");
	if (g) {
		g += 16;
		/* The password may hold ')': only the line's last one closes it. */
		for (end = e; end > g && end[-1] != ')'; end--)
			;
		end = end > g ? end - 1 : e;
		n = (size_t)snprintf(out, size, "%.*s***%.*s", (int)(g - line),
				     line, (int)(e - end), end);
	} else {
		n = (size_t)snprintf(out, size, "%.*s", (int)len, line);
	}
	return n < size ? n : size - 1;
}
