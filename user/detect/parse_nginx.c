// SPDX-License-Identifier: GPL-2.0
/*
 * nginx's mail proxy (ngx_mail), its error log or its syslog message, from
 * the start of the message (nginx logs failed logins at level info only):
 *   2026/11/29 10:00:01 [info] 400#400: *1 client login failed:
 *       "Authentication failed" while in http auth state, client:
 *       198.18.5.5, server: 0.0.0.0:143, login: "bob"
 *   2026/11/29 10:00:02 [info] 400#400: *2 client logged in, client:
 *       198.18.5.6, server: 0.0.0.0:143, login: "alice", upstream:
 *       10.0.0.2:143                                         (a login)
 * The quoted reason is the auth_http service's, "while in ... state" and
 * the fields after it nginx's own log handler's, and the login, last, the
 * client's. The client is the address right after the first
 * "\" while in ... state". Upstream failures (nginx's own login to the
 * backend) are not the client's and never count.
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

static bool dig(char c)
{
	return c >= '0' && c <= '9';
}

/* Past "YYYY/MM/DD HH:MM:SS [level] PID#TID: *CID " at s, or NULL. */
static const char *skip_head(const char *s, const char *e, bool *info)
{
	const char *p = s;

	if (e - p >= 20 && dig(p[0]) && p[4] == '/' && p[7] == '/' &&
	    p[10] == ' ' && p[13] == ':' && p[16] == ':' && p[19] == ' ')
		p += 20;
	if (p >= e || *p != '[')
		return NULL;
	*info = MXG_STARTS(p, e, "[info] ") || MXG_STARTS(p, e, "[notice] ") ||
		MXG_STARTS(p, e, "[warn] ") || MXG_STARTS(p, e, "[error] ");
	p = memchr(p, ']', (size_t)(e - p) < 12 ? (size_t)(e - p) : 12);
	if (!p || !MXG_STARTS(p, e, "] "))
		return NULL;
	p += 2;
	/* "PID#TID: " */
	while (p < e && dig(*p))
		p++;
	if (p >= e || *p != '#')
		return NULL;
	for (p++; p < e && dig(*p); p++)
		;
	if (!MXG_STARTS(p, e, ": "))
		return NULL;
	p += 2;
	/* "*CID " the connection number, when there is one. */
	if (p < e && *p == '*') {
		for (p++; p < e && dig(*p); p++)
			;
		if (p >= e || *p != ' ')
			return NULL;
		p++;
	}
	return p;
}

/* ", client: ADDR, server: " at c: the address. */
static bool client_at(const char *c, const char *e, struct mxg_addr *addr)
{
	const char *v, *end;

	if (!MXG_STARTS(c, e, ", client: "))
		return false;
	v = c + 10;
	for (end = v; end < e && *end != ',' && *end != ' '; end++)
		;
	return MXG_STARTS(end, e, ", server: ") && !mxg_addr_span(v, end, addr);
}

int mxg_match_nginx(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *p, *w, *st, *l;
	bool info;

	p = skip_head(s, e, &info);
	if (p && info && MXG_STARTS(p, e, "client logged in, client: ")) {
		/*
		 * A login (MXG_EV_LOGIN): "client logged in, client: ADDR,
		 * server: ..., login: \"USER\", upstream: ..."; the login is
		 * the client's, nginx's upstream= comes last.
		 */
		if (!client_at(p + 16, e, &ev->addr))
			return 0;
		l = MXG_FIND(p + 26, e, ", login: \"");
		w = MXG_RFIND(p + 26, e, "\", upstream: ");
		if (l && w && w > l + 10)
			mxg_user_copy(ev, l + 10, w);
		ev->kind = MXG_EV_LOGIN;
		return 1;
	}
	if (!p || !info || !MXG_STARTS(p, e, "client login failed: \""))
		return 0;
	/*
	 * The reason is the auth_http service's; the first "\" while in ...
	 * state" ends it, and nginx's fields follow. The login, last, is
	 * the client's: what it holds never names the client.
	 */
	w = MXG_FIND(p + 21, e, "\" while in ");
	if (!w)
		return 0;
	st = MXG_FIND(w + 11, e, " state");
	if (!st || st - w > 40 || !client_at(st + 6, e, &ev->addr))
		return 0;
	l = MXG_FIND(st + 6, e, ", login: \"");
	if (l && e[-1] == '"' && e - 1 > l + 10)
		mxg_user_copy(ev, l + 10, e - 1);
	return 1;
}
