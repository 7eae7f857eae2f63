// SPDX-License-Identifier: GPL-2.0
/*
 * Microsoft Exchange protocol logs (CSV files Exchange writes itself).
 *
 * SMTP receive (Exchange 2013-2019), and POP3/IMAP4 of Exchange 2010:
 *   date-time,connector-id,session-id,sequence-number,local-endpoint,
 *   remote-endpoint,event,data,context
 *   2026-11-29T10:00:01.123Z,MX\Default Frontend MX,08DD...,7,
 *       10.0.0.1:587,198.18.1.2:52314,>,535 5.7.3 Authentication
 *       unsuccessful,
 *   ...,*,,Inbound AUTH LOGIN failed because of LogonDenied
 * The event ">" is what the server sent, "<" what the client sent
 * (Microsoft's documentation of the protocol log fields): a 535 counts
 * only as Exchange's own reply, never as text a client sent. One failed
 * AUTH may give both the 535 and the "Inbound AUTH ... failed" line: per
 * session each kind of line is counted and the larger count is what
 * counts (sessions.h).
 *
 * POP3 and IMAP4 of Exchange 2013-2019:
 *   dateTime,sessionId,seqNumber,sIp,cIp,user,duration,rqsize,rpsize,
 *   command,parameters,context
 *   2026-11-29T10:00:01.050Z,00000000000000A0,2,10.0.0.1:993,
 *       198.18.1.2:58423,bob,614,31,30,authenticate,PLAIN,"R=""2 NO
 *       AUTHENTICATE failed."";Msg=""AuthFailed:LogonDenied,User: bob"";
 *       ErrMsg=AuthFailed:LogonDenied"
 * The client endpoint (cIp) comes before the user (the client's text).
 * Fields are split honouring CSV quotes.
 */
#include <string.h>
#include <strings.h>

#include "matchers.h"
#include "text.h"

#define CSV_FIELDS 12

/* Split the first CSV_FIELDS fields; quotes kept in the spans. */
static int csv_split(const char *s, const char *e, const char *f[][2])
{
	int n = 0;
	bool quoted = false;
	const char *p, *start = s;

	for (p = s; p <= e && n < CSV_FIELDS; p++) {
		if (p < e && *p == '"') {
			quoted = !quoted;
		} else if (p == e || (*p == ',' && !quoted)) {
			f[n][0] = start;
			f[n][1] = p;
			n++;
			start = p + 1;
		}
	}
	return n;
}

/* A field's text without its CSV quotes. */
static const char *unquote(const char *f[2], const char **end)
{
	const char *s = f[0], *e = f[1];

	if (e - s >= 2 && *s == '"' && e[-1] == '"') {
		s++;
		e--;
	}
	*end = e;
	return s;
}

static bool is_endpoint(const char *f[2], struct mxg_addr *a)
{
	return !mxg_addr_port_span(f[0], f[1], a);
}

enum { REP_535, REP_INBOUND_AUTH };

/*
 * One report of a session: 1 when it is a new attempt. A line repeated
 * with the same sequence number (Exchange writes some twice) is the same
 * event.
 */
static int session_counts(struct mxg_sessions *t, const char *id[2],
			  const char *seqf[2], unsigned int kind,
			  const struct mxg_addr *addr, int64_t now)
{
	char key[MXG_SESSION_ID_MAX];
	size_t n = (size_t)(id[1] - id[0]);
	struct mxg_session *x;
	const char *q;
	unsigned int seq = mxg_uint(seqf[0], seqf[1], &q) + 1;

	if (n == 0 || n + 2 >= sizeof(key))
		return 1;
	key[0] = 'X';
	key[1] = ':';
	memcpy(key + 2, id[0], n);
	x = mxg_sessions_get(t, key, n + 2, now);
	if (!x) {
		mxg_sessions_put(t, key, n + 2, addr, now);
		x = mxg_sessions_get(t, key, n + 2, now);
		if (!x)
			return 1;
	}
	if (q == seqf[1] && q > seqf[0]) {
		if (x->seq == seq)
			return 0;
		x->seq = seq;
	}
	return mxg_session_report(x, kind, 1) > 0;
}

/* POP3/IMAP4 of 2013-2019: a login command that failed, or succeeded. */
static int popimap(const char *f[][2], struct mxg_auth_event *ev)
{
	static const char *const cmds[] = { "authenticate", "login", "pass", "auth" };
	const char *c, *ce, *x, *xe;
	size_t i;
	bool cmd = false;

	c = unquote(f[9], &ce);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if ((size_t)(ce - c) == strlen(cmds[i]) &&
		    !strncasecmp(c, cmds[i], (size_t)(ce - c)))
			cmd = true;
	if (!cmd)
		return 0;
	x = f[11][0];
	xe = f[11][1];
	if (MXG_FIND(x, xe, "ErrMsg=AuthFailed:")) {
		/* The user (the client's) is the field after cIp. */
		c = unquote(f[5], &ce);
		mxg_user_copy(ev, c, ce);
		return 1;
	}
	if (MXG_STARTS_CI(x, xe, "R=ok") || MXG_STARTS_CI(x, xe, "\"R=ok")) {
		c = unquote(f[5], &ce);
		if (ce == c)
			return 0;
		mxg_user_copy(ev, c, ce);
		ev->kind = MXG_EV_LOGIN;
		return 1;
	}
	return 0;
}

int mxg_match_exchange(struct mxg_sessions *t, const char *s, const char *e,
		       int64_t now, struct mxg_auth_event *ev)
{
	const char *f[CSV_FIELDS][2];
	const char *d, *de;
	int n;

	if (s >= e || *s < '0' || *s > '9')
		return 0;
	n = csv_split(s, e, f);
	/* 2013+ POP3/IMAP4: sIp and cIp are the 4th and 5th fields. */
	if (n >= 12 && is_endpoint(f[3], &ev->addr) &&
	    is_endpoint(f[4], &ev->addr))
		return popimap(f, ev);
	if (n < 8 || !is_endpoint(f[5], &ev->addr))
		return 0;
	if (f[6][1] - f[6][0] != 1)
		return 0;
	d = unquote(f[7], &de);
	if (f[6][0][0] == '>') {
		/* Exchange's own reply to the client. */
		if (!MXG_STARTS(d, de, "535 "))
			return 0;
		return session_counts(t, f[2], f[3], REP_535, &ev->addr, now);
	}
	if (f[6][0][0] != '*')
		return 0;
	/* "Inbound AUTH LOGIN failed because of LogonDenied", data or context. */
	if (!(MXG_STARTS(d, de, "Inbound AUTH ") &&
	      MXG_FIND(d, de, " failed because of "))) {
		if (n < 9)
			return 0;
		d = unquote(f[8], &de);
		if (!MXG_STARTS(d, de, "Inbound AUTH ") ||
		    !MXG_FIND(d, de, " failed because of "))
			return 0;
	}
	return session_counts(t, f[2], f[3], REP_INBOUND_AUTH, &ev->addr, now);
}
