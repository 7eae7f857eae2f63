// SPDX-License-Identifier: GPL-2.0
/*
 * Courier:
 *   courieresmtpd: error,relay=::ffff:198.18.1.2,port=4711,
 *       msg="535 Authentication failed.",cmd: AUTH LOGIN
 *   imapd: LOGIN FAILED, user=bob, ip=[::ffff:198.18.1.2]
 *   pop3d-ssl: LOGIN FAILED, method=PLAIN, ip=[...]
 *   imapd: LOGIN, user=bob, ip=[...], port=[4711], protocol=IMAP (a login)
 * relay= is the first field Courier writes, before anything the client
 * sent; in LOGIN FAILED lines the client's user= comes before ip=, so the
 * last ip= is the real one.
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

static int esmtpd(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *v = s + 12, *end, *m;

	/* relay= is the first field, before anything the client sent. */
	for (end = v; end < e && *end != ','; end++)
		;
	m = MXG_FIND(end, e, ",msg=\"");
	if (!m || !MXG_STARTS(m + 6, e, "535"))
		return 0;
	return !mxg_addr_span(v, end, &ev->addr);
}

static int login_failed(const char *a, const char *e, struct mxg_auth_event *ev)
{
	const char *ip, *rb, *u;

	/*
	 * ", ip=[ADDR]" is the last field but Courier's own ", port=[N]";
	 * the client's user= comes before it.
	 */
	ip = MXG_RFIND(a, e, ", ip=[");
	if (!ip)
		return 0;
	rb = memchr(ip + 6, ']', (size_t)(e - ip - 6));
	if (!rb || (rb + 1 != e && !MXG_STARTS(rb + 1, e, ", port=[")) ||
	    mxg_addr_span(ip + 6, rb, &ev->addr))
		return 0;
	u = MXG_FIND(a, ip, ", user=");
	if (u)
		mxg_user_copy(ev, u + 7, ip);
	return 1;
}

/*
 * A login (MXG_EV_LOGIN): "LOGIN, user=bob, ip=[ADDR], port=[N],
 * protocol=IMAP": ip=, port= and protocol= are Courier's and come last.
 */
static int login_ok(const char *a, const char *e, struct mxg_auth_event *ev)
{
	/* The same fields as a failure's. */
	if (!login_failed(a, e, ev))
		return 0;
	ev->kind = MXG_EV_LOGIN;
	return 1;
}

/* The message of courieresmtpd, imapd, pop3d (and -ssl), from its start. */
int mxg_match_courier(const char *s, const char *e, struct mxg_auth_event *ev)
{
	if (MXG_STARTS(s, e, "error,relay="))
		return esmtpd(s, e, ev);
	if (MXG_STARTS(s, e, "LOGIN FAILED, "))
		return login_failed(s, e, ev);
	if (MXG_STARTS(s, e, "LOGIN, "))
		return login_ok(s, e, ev);
	return 0;
}
