// SPDX-License-Identifier: GPL-2.0
/*
 * Haraka logs the client address when it connects and the failure later,
 * tied by the connection's UUID; the session table (sessions.h) remembers
 * the address in between. From the start of Haraka's message
 * ("[LEVEL] [UUID(.N)] [plugin] text"):
 *   [NOTICE] [UUID] [core] connect ip=198.18.1.2 port=52314 local_ip=...
 *   [INFO] [UUID] [auth/flat_file] AUTH user="bob" success=false   (2.x)
 *   [NOTICE] [UUID] [auth/flat_file] delaying for 1 seconds        (3.x)
 *   [INFO] [UUID] [auth/auth_proxy] AUTH bob FAILED
 *   [NOTICE] [UUID] [core] disconnect ip=... helo=... lr="535 5.7.8
 *       Authentication failed" time=2.1
 * One failed AUTH may be told by more than one of these lines, depending
 * on the version and the log level: per session, each kind of line is
 * counted, and a line counts only when its kind is ahead of what the
 * session reported; the disconnect's last reply counts one failure only
 * when nothing else did (a log level that hides the auth plugin's lines).
 * Haraka also logs the client's AUTH parameters (base64 user names and
 * passwords) at info level: no such line is ever a match, so none reaches
 * the evidence files.
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

enum { REP_SUCCESS_FALSE, REP_DELAYING, REP_FAILED, REP_N };

/* One report of kind k in session x: 1 when it is a new attempt. */
static int session_report(struct mxg_session *x, unsigned int k)
{
	return mxg_session_report(x, k, 1) > 0;
}

/* The session's user name, for the lines that do not repeat it. */
static void keep_user(struct mxg_session *x, const struct mxg_auth_event *ev)
{
	size_t n = strnlen(ev->user, sizeof(x->user) - 1);

	memcpy(x->user, ev->user, n);
	x->user[n] = '\0';
}

static bool plugin_is_auth(const char *p, const char *pe)
{
	return mxg_starts(p, pe, "auth", 4);
}

int mxg_match_haraka(struct mxg_sessions *t, const char *s, const char *e,
		     int64_t now, struct mxg_auth_event *ev)
{
	const char *p, *pe, *m, *id, *ide, *a, *u, *ue, *lr;
	struct mxg_session *x;
	struct mxg_addr addr;
	size_t idn;

	/* "[LEVEL] [UUID(.N)] [plugin] ..." from the start of Haraka's message. */
	if (s >= e || *s != '[')
		return 0;
	for (p = s + 1; p < e && *p >= 'A' && *p <= 'Z' && p - s < 12; p++)
		;
	if (!MXG_STARTS(p, e, "] ["))
		return 0;
	id = p + 3;
	for (ide = id; ide < e && (mxg_is_hex(*ide) || *ide == '-'); ide++)
		;
	if (ide - id < 32 || ide >= e || (*ide != ']' && *ide != '.'))
		return 0;
	idn = (size_t)(ide - id);
	p = memchr(ide, ']', (size_t)(e - ide) < 16 ? (size_t)(e - ide) : 16);
	if (!p || !MXG_STARTS(p, e, "] ["))
		return 0;
	p += 3;
	/* The plugin's name, Haraka's: no blanks, no brackets. */
	for (pe = p; pe < e && *pe != ']' && *pe != ' ' && pe - p < 64; pe++)
		;
	if (!MXG_STARTS(pe, e, "] "))
		return 0;
	m = pe + 2;
	if (pe - p == 4 && !memcmp(p, "core", 4)) {
		if (MXG_STARTS(m, e, "connect ip=")) {
			a = m + 11;
			if (!mxg_addr_span(a, mxg_value_end(a, e), &addr))
				mxg_sessions_put(t, id, idn, &addr, now);
			return 0;
		}
		if (!MXG_STARTS(m, e, "disconnect ip="))
			return 0;
		x = mxg_sessions_get(t, id, idn, now);
		/* ip= is Haraka's first field; helo= (the client's) comes later. */
		a = m + 14;
		if (mxg_addr_span(a, mxg_value_end(a, e), &ev->addr)) {
			if (!x)
				return 0;
			ev->addr = x->addr;
		}
		/*
		 * "... bytes=N lr=\"REPLY\" time=T": Haraka's own fields end
		 * the line, after the client's helo=; the last bytes= is its.
		 */
		lr = MXG_RFIND(a, e, " bytes=");
		if (lr) {
			mxg_uint(lr + 7, e, &lr);
			if (!MXG_STARTS(lr, e, " lr=\""))
				lr = NULL;
		}
		if (x && x->user[0])
			mxg_user_copy(ev, x->user, x->user + strlen(x->user));
		if (x && x->counted) {
			mxg_sessions_del(t, id, idn);
			return 0;
		}
		if (x)
			mxg_sessions_del(t, id, idn);
		return lr && MXG_STARTS(lr + 5, e, "535 ");
	}
	if (!plugin_is_auth(p, pe))
		return 0;
	x = mxg_sessions_get(t, id, idn, now);
	if (!x)
		return 0;
	ev->addr = x->addr;
	if (MXG_STARTS(m, e, "AUTH user=\"")) {
		/* The user is the client's: Haraka's " success=" ends the line. */
		u = m + 11;
		ue = MXG_RFIND(u, e, "\" success=");
		if (!ue)
			return 0;
		mxg_user_copy(ev, u, ue);
		if (MXG_STARTS(ue + 10, e, "true") && ue + 14 == e) {
			ev->kind = MXG_EV_LOGIN;
			return 1;
		}
		if (!MXG_STARTS(ue + 10, e, "false"))
			return 0;
		keep_user(x, ev);
		return session_report(x, REP_SUCCESS_FALSE);
	}
	if (MXG_STARTS(m, e, "delaying for ")) {
		mxg_uint(m + 13, e, &a);
		if (a == m + 13 || !MXG_STARTS(a, e, " second"))
			return 0;
		if (x->user[0])
			mxg_user_copy(ev, x->user, x->user + strlen(x->user));
		return session_report(x, REP_DELAYING);
	}
	if (MXG_STARTS(m, e, "AUTH ") && e - m > 12 &&
	    !memcmp(e - 7, " FAILED", 7)) {
		mxg_user_copy(ev, m + 5, e - 7);
		keep_user(x, ev);
		return session_report(x, REP_FAILED);
	}
	return 0;
}
