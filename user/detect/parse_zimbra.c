// SPDX-License-Identifier: GPL-2.0
/*
 * Zimbra's mailboxd, its audit.log and mailbox.log (files Zimbra writes
 * itself: "zimbra:/opt/zimbra/log/audit.log"), after the timestamp:
 *   WARN  [ImapSSLServer-12] [ip=198.18.1.2;] security - cmd=Auth;
 *       account=bob@example.org; protocol=imap; error=authentication
 *       failed for [bob@example.org], invalid password;
 *   WARN  [qtp1-7:https://mail.example.org:7073/service/admin/soap/]
 *       [name=bob@example.org;oip=198.18.1.2;oport=51288;oproto=smtp;]
 *       security - cmd=Auth; account=...; protocol=soap; error=...
 *   INFO  [Pop3Server-13] [ip=10.0.0.5;oip=198.18.1.3;] security -
 *       cmd=Auth; account=bob@example.org; protocol=pop3;   (a login)
 *   INFO  [ImapServer-3] [ip=10.0.0.5;oip=198.18.1.4;] imap -
 *       authentication failed for [bob], invalid password
 * The second bracket is the request's context, "key=value;" pairs. The
 * client is oip= (the original address, behind Zimbra's proxy; of a
 * list, the rightmost public one, mxg_addr_list_client) or else ip=. name=, ua= and the account
 * are the client's text and may hold "; oip=...": a context with a key
 * twice is not counted, and oip= is taken only right after ip= when both
 * are there (which is how Zimbra writes them).
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

/* A context key "k=" at p (after '[' or ';'): its value's end (';'). */
static const char *seg_end(const char *p, const char *e)
{
	const char *q = memchr(p, ';', (size_t)(e - p));

	return q ? q : e;
}

static bool key_is(const char *p, const char *end, const char *k)
{
	size_t n = strlen(k);

	return end - p > (ptrdiff_t)n && !memcmp(p, k, n) && p[n] == '=';
}

/* The client of the context [s, e) (without its brackets). */
static bool context_client(const char *s, const char *e, struct mxg_addr *addr)
{
	const char *p, *end, *ip = NULL, *ipe = NULL, *oip = NULL, *oipe = NULL;
	bool oip_after_ip = false, prev_ip = false;

	for (p = s; p < e; p = end + 1) {
		end = seg_end(p, e);
		if (key_is(p, end, "ip")) {
			if (ip)
				return false;
			ip = p + 3;
			ipe = end;
			prev_ip = true;
			continue;
		}
		if (key_is(p, end, "oip")) {
			if (oip)
				return false;
			oip = p + 4;
			oipe = end;
			oip_after_ip = prev_ip;
		}
		prev_ip = false;
	}
	if (oip && (!ip || oip_after_ip) && !mxg_addr_list_client(oip, oipe, addr))
		return true;
	return ip && !mxg_addr_span(ip, ipe, addr);
}

static bool level_word(const char *s, const char *p)
{
	return (p - s == 4 && (!memcmp(s, "INFO", 4) || !memcmp(s, "WARN", 4))) ||
	       (p - s == 5 && (!memcmp(s, "ERROR", 5) || !memcmp(s, "DEBUG", 5)));
}

int mxg_match_zimbra(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *p, *c, *ce, *m, *a, *ae, *err;

	/* "2026-11-29 10:00:01,123 " when the dispatcher left it. */
	if (e - s > 24 && s[4] == '-' && s[10] == ' ' && s[19] == ',')
		s += 24;
	for (p = s; p < e && *p >= 'A' && *p <= 'Z'; p++)
		;
	if (!level_word(s, p))
		return 0;
	while (p < e && *p == ' ')
		p++;
	/* "[THREAD] [CONTEXT] category - message" */
	if (p >= e || *p != '[')
		return 0;
	c = MXG_FIND(p, e, "] [");
	if (!c || memchr(p, ' ', (size_t)(c - p)))
		return 0;
	c += 3;
	/* The context ends before Zimbra's category: "] security - ", ... */
	for (ce = c; (ce = memchr(ce, ']', (size_t)(e - ce))); ce++) {
		if (MXG_STARTS(ce, e, "] security - cmd=Auth; account=")) {
			m = ce + 31;
			break;
		}
		if (MXG_STARTS(ce, e, "] imap - authentication failed for [") ||
		    MXG_STARTS(ce, e, "] pop - authentication failed for [") ||
		    MXG_STARTS(ce, e, "] SoapEngine - handler exception: authentication failed for [")) {
			if (!context_client(c, ce, &ev->addr))
				return 0;
			a = memchr(ce + 2, '[', (size_t)(e - ce - 2)) + 1;
			ae = MXG_RFIND(a, e, "]");
			if (ae)
				mxg_user_copy(ev, a, ae);
			return 1;
		}
	}
	if (!ce || !context_client(c, ce, &ev->addr))
		return 0;
	/* "cmd=Auth; account=A; protocol=P;[ error=...;]" */
	a = m;
	/* The account is the client's: Zimbra's protocol= is the last one. */
	ae = MXG_RFIND(a, e, "; protocol=");
	if (!ae)
		return 0;
	mxg_user_copy(ev, a, ae);
	err = MXG_RFIND(ae, e, "; error=");
	if (!err) {
		/* No error: the account logged in. */
		ev->kind = MXG_EV_LOGIN;
		return 1;
	}
	return MXG_STARTS(err + 8, e, "authentication failed for ");
}
