// SPDX-License-Identifier: GPL-2.0
/*
 * Courier:
 *   courieresmtpd: error,relay=::ffff:198.18.1.2,port=4711,
 *       msg="535 Authentication failed.",cmd: AUTH LOGIN
 *   imapd: LOGIN FAILED, user=bob, ip=[::ffff:198.18.1.2]
 *   pop3d-ssl: LOGIN FAILED, method=PLAIN, ip=[...]
 * relay= is the first field Courier writes, before anything the client
 * sent; in LOGIN FAILED lines the client's user= comes before ip=, so the
 * last ip= is the real one.
 *
 * Also Cyrus and UW-IMAP, whose lines look alike:
 *   imaps[1]: badlogin: host.example [198.18.1.2] PLAIN bob SASL(-13): ...
 *   Login failed user=bob auth=bob host=host.example [198.18.1.2]
 */
#include <string.h>

#include "parse.h"

static int esmtpd(const char *a, const char *e, struct mxg_auth_event *ev)
{
	const char *v = a + 12, *end, *m;

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

	ip = MXG_RFIND(a, e, ", ip=[");
	if (!ip)
		return 0;
	rb = memchr(ip + 6, ']', (size_t)(e - ip - 6));
	if (!rb || mxg_addr_span(ip + 6, rb, &ev->addr))
		return 0;
	u = MXG_FIND(a, ip, ", user=");
	if (u)
		mxg_user_copy(ev, u + 7, ip);
	return 1;
}

int mxg_match_courier(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *a;

	a = MXG_FIND(s, e, ": error,relay=");
	if (a && MXG_FIND(s, a, "courieresmtpd"))
		return esmtpd(a + 2, e, ev);
	a = MXG_FIND(s, e, "LOGIN FAILED, ");
	if (a)
		return login_failed(a, e, ev);
	return 0;
}

/* 1 for Cyrus, 2 for UW-IMAP, 0 for neither. */
int mxg_match_imapd(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *a, *lb, *rb = NULL, *q;

	a = MXG_FIND(s, e, "badlogin: ");
	if (a) {
		/* "badlogin: RDNS [ADDR] ...": the first bracket is the client. */
		lb = memchr(a, '[', (size_t)(e - a));
		if (!lb)
			return 0;
		rb = memchr(lb, ']', (size_t)(e - lb));
		if (!rb || mxg_addr_span(lb + 1, rb, &ev->addr))
			return 0;
		return 1;
	}
	a = MXG_FIND(s, e, "Login failed user=");
	if (a) {
		q = MXG_RFIND(a, e, " host=");
		if (!q)
			return 0;
		for (; q < e; q++)
			if (*q == ']')
				rb = q;
		if (!rb || !mxg_addr_bracket_before(a, rb, &ev->addr))
			return 0;
		return 2;
	}
	return 0;
}
