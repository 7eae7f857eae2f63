// SPDX-License-Identifier: GPL-2.0
/*
 * Postfix smtpd (syslog names "postfix/smtpd", "postfix/submission/smtpd",
 * "postfix-out/smtpd"); the message from its start:
 *   warning: NAME[ADDR](:PORT)?: SASL MECH authentication failed: REASON
 *            (, sasl_username=USER)?
 *   QID: client=NAME[ADDR], sasl_method=MECH, sasl_username=USER (a login)
 * NAME is "unknown" or a verified host name (no blanks, no brackets), so
 * the client is the first token after "warning: ", and nothing the client
 * sent can precede it. REASON and USER may hold client text: the address is
 * never looked for there.
 */
#include <ctype.h>

#include "matchers.h"
#include "text.h"

/* Not the client's fault: the SASL backend was down or misconfigured. */
static bool server_side(const char *r, const char *e)
{
	return MXG_STARTS(r, e, "Connection lost to authentication server") ||
	       MXG_STARTS(r, e, "Invalid authentication mechanism");
}

/*
 * Postfix's client "NAME[ADDR]" or "NAME[ADDR]:PORT" starting at p; the
 * end of it, or NULL.
 */
static const char *client_at(const char *p, const char *e,
			     struct mxg_addr *addr)
{
	const char *lb, *rb;

	for (lb = p; lb < e && *lb != '[' && *lb != ' ' && *lb != ']' &&
	     lb - p <= 255; lb++)
		;
	if (lb >= e || *lb != '[')
		return NULL;
	for (rb = lb + 1; rb < e && *rb != ']' && rb - lb <= 60; rb++)
		;
	if (rb >= e || *rb != ']' || mxg_addr_span(lb + 1, rb, addr))
		return NULL;
	p = rb + 1;
	if (p < e && *p == ':' && p + 1 < e && isdigit((unsigned char)p[1]))
		for (p++; p < e && isdigit((unsigned char)*p); p++)
			;
	return p;
}

/*
 * A message accepted from an authenticated client (MXG_EV_LOGIN):
 *   QID: client=NAME[ADDR](:PORT)?, sasl_method=MECH, sasl_username=USER
 *       (, sasl_sender=S)?(, orig_queue_id=Q, orig_client=C)?
 * QID is a queue id or NOQUEUE; the client is the first token after
 * "client=", Postfix's own. The user name is the account that logged in;
 * sasl_sender (the client's MAIL FROM AUTH=) comes after it.
 */
static int login_ok(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *p, *m, *u, *ue;

	for (p = s; p < e && p - s <= 32 && isalnum((unsigned char)*p); p++)
		;
	if (p == s || !MXG_STARTS(p, e, ": client="))
		return 0;
	p = client_at(p + 9, e, &ev->addr);
	if (!p || !MXG_STARTS(p, e, ", sasl_method="))
		return 0;
	for (m = p + 14; m < e && *m != ',' && *m != ' '; m++)
		;
	if (m == p + 14 || !MXG_STARTS(m, e, ", sasl_username="))
		return 0;
	u = m + 16;
	ue = MXG_FIND(u, e, ", sasl_sender=");
	if (!ue)
		ue = MXG_FIND(u, e, ", orig_queue_id=");
	if (!ue)
		ue = e;
	if (ue == u)
		return 0;
	mxg_user_copy(ev, u, ue);
	ev->kind = MXG_EV_LOGIN;
	return 1;
}

int mxg_match_postfix(const char *s, const char *e, struct mxg_auth_event *ev,
		      struct mxg_dedup *d)
{
	const char *p, *m, *r, *u;

	if (!MXG_STARTS(s, e, "warning: "))
		return login_ok(s, e, ev);
	p = client_at(s + 9, e, &ev->addr);
	if (!p || !MXG_STARTS(p, e, ": SASL "))
		return 0;
	m = p + 7;
	for (r = m; r < e && r - m < 32 &&
	     (isalnum((unsigned char)*r) || *r == '-' || *r == '_'); r++)
		;
	if (r == m || !MXG_STARTS_CI(r, e, " authentication failed"))
		return 0;
	r += 22;
	if (MXG_STARTS(r, e, ": "))
		r += 2;
	if (server_side(r, e))
		return 0;
	/* Postfix appends the name last; take the last one. */
	u = MXG_RFIND(r, e, ", sasl_username=");
	if (u)
		mxg_user_copy(ev, u + 16, e);
	/* Dovecot's auth service may log the same attempt (sessions.h). */
	d->on = true;
	d->rep = MXG_REP_MTA;
	return 1;
}

/* "NAME[ADDR]" (or "[ADDR]:PORT") right at p. */
static bool client_is(const char *p, const char *e, struct mxg_addr *addr)
{
	const char *end = client_at(p, e, addr);

	return end && (end == e || *end == ' ' || *end == ':' || *end == ',');
}

/*
 * Hostile but not AUTH, for SSHGuard-style counting (MXG_PARSE_HOSTILE);
 * each form anchored at the start of Postfix's message:
 *   lost connection after CMD from NAME[ADDR]
 *   warning: non-SMTP command from NAME[ADDR]: <client text>
 *   postscreen: PREGREET N after T from [ADDR]:PORT: ...,
 *               HANGUP after T from [ADDR]:PORT in ...,
 *               DNSBL rank N for [ADDR]:PORT
 *   postgrey: action=greylist, reason=..., client_name=NAME,
 *             client_address=ADDR, sender=..., recipient=...
 */
int mxg_hostile_postfix(const char *s, const char *e, bool postscreen,
			struct mxg_auth_event *ev)
{
	const char *p, *v, *end;

	ev->kind = MXG_EV_HOSTILE;
	if (postscreen) {
		if (MXG_STARTS(s, e, "PREGREET ") || MXG_STARTS(s, e, "HANGUP after ")) {
			/* "after 0.04 from [ADDR]:PORT": words of Postfix's own. */
			p = MXG_FIND(s, e, " from ");
			return p && p - s < 40 && client_is(p + 6, e, &ev->addr);
		}
		if (MXG_STARTS(s, e, "DNSBL rank ")) {
			p = MXG_FIND(s, e, " for ");
			return p && p - s < 24 && client_is(p + 5, e, &ev->addr);
		}
		return 0;
	}
	if (MXG_STARTS(s, e, "lost connection after ")) {
		/* The command word is Postfix's: "AUTH", "UNKNOWN", "DATA (0 bytes)". */
		p = MXG_FIND(s + 22, e, " from ");
		return p && p - s < 60 && client_is(p + 6, e, &ev->addr);
	}
	if (MXG_STARTS(s, e, "warning: non-SMTP command from "))
		return client_is(s + 31, e, &ev->addr);
	if (MXG_STARTS(s, e, "action=greylist, ")) {
		/* sender= and recipient= (the client's) come after the address. */
		v = MXG_FIND(s, e, ", client_address=");
		if (!v)
			return 0;
		p = MXG_FIND(s, v, ", sender=");
		if (p)
			return 0;
		v += 17;
		for (end = v; end < e && *end != ','; end++)
			;
		return !mxg_addr_span(v, end, &ev->addr);
	}
	return 0;
}
