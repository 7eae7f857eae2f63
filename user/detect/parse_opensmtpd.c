// SPDX-License-Identifier: GPL-2.0
/*
 * OpenSMTPD logs the client address when it connects and the failure
 * later, tied by a session id; the session table (sessions.h) remembers
 * the address in between.
 *
 * OpenSMTPD 6.4 and later:
 *   ID smtp connected address=198.18.1.2 host=foo.example
 *   ID smtp authentication user=bob result=permfail
 *   ID smtp failed-command command="AUTH PLAIN (...)" result="535 ..."
 *   ID smtp disconnected reason=quit
 * earlier ones carry the address on every line:
 *   ID smtp event=authentication user=bob address=A host=H result=permfail
 *   ID smtp event=failed-command address=A host=H command="AUTH LOGIN"
 *       result="503 5.5.1 Invalid command: Command not supported"
 * One wrong password gives both a permfail and a 535 failed-command line;
 * the second is the same event and is not counted again.
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

int mxg_match_opensmtpd(struct mxg_sessions *t, const char *s, const char *e,
			int64_t now, struct mxg_auth_event *ev)
{
	const char *sm, *id, *k, *a, *r, *u, *ue;
	struct mxg_session *x;
	struct mxg_addr addr;
	bool inline_addr, old_format = false;
	size_t idn;

	/* "ID smtp EVENT ..." from the start of smtpd's message. */
	id = s;
	for (sm = s; sm < e && mxg_is_hex(*sm) && sm - s < 32; sm++)
		;
	idn = (size_t)(sm - id);
	if (idn < 8 || !MXG_STARTS(sm, e, " smtp "))
		return 0;
	k = sm + 6;
	/* Only the old "event=" format writes address= on every line. */
	if (MXG_STARTS(k, e, "event=")) {
		k += 6;
		old_format = true;
	}

	if (MXG_STARTS(k, e, "connected ")) {
		a = MXG_FIND(k, e, " address=");
		if (a && !mxg_addr_span(a + 9, mxg_value_end(a + 9, e), &addr))
			mxg_sessions_put(t, id, idn, &addr, now);
		return 0;
	}
	if (MXG_STARTS(k, e, "disconnected") || MXG_STARTS(k, e, "closed")) {
		mxg_sessions_del(t, id, idn);
		return 0;
	}
	if (MXG_STARTS(k, e, "authentication ")) {
		r = MXG_RFIND(k, e, " result=");
		if (r && MXG_STARTS(r + 8, e, "ok") && r + 10 == e) {
			/* A login (MXG_EV_LOGIN): the session's client. */
			a = old_format ? MXG_RFIND(k, r + 1, " address=") : NULL;
			if (!a || mxg_addr_span(a + 9, mxg_value_end(a + 9, r),
						&ev->addr)) {
				x = mxg_sessions_get(t, id, idn, now);
				if (!x)
					return 0;
				ev->addr = x->addr;
				a = NULL;
			}
			u = MXG_FIND(k, r, "user=");
			if (u)
				mxg_user_copy(ev, u + 5, a && a > u ? a : r);
			ev->kind = MXG_EV_LOGIN;
			return 1;
		}
		if (!r || !MXG_STARTS(r + 8, e, "permfail"))
			return 0;
		/* The client's user= comes before address=: take the last. */
		a = old_format ? MXG_RFIND(k, r + 1, " address=") : NULL;
		inline_addr = a && !mxg_addr_span(a + 9, mxg_value_end(a + 9, r),
						  &ev->addr);
		x = mxg_sessions_get(t, id, idn, now);
		if (!inline_addr) {
			if (!x)
				return 0;
			ev->addr = x->addr;
		} else if (!x) {
			mxg_sessions_put(t, id, idn, &ev->addr,
					 now);
			x = mxg_sessions_get(t, id, idn, now);
		}
		if (x)
			x->auth_failed = true;
		u = MXG_FIND(k, r, "user=");
		if (u) {
			ue = a && a > u ? a : r;
			mxg_user_copy(ev, u + 5, ue);
		}
		return 1;
	}
	if (MXG_STARTS(k, e, "failed-command ")) {
		const char *c = MXG_FIND(k, e, " command=\"");

		if (!c || !MXG_STARTS_CI(c + 10, e, "AUTH"))
			return 0;
		r = MXG_RFIND(c, e, " result=\"");
		if (!r || r + 9 >= e || r[9] != '5')
			return 0;
		a = old_format ? MXG_FIND(k, c + 1, " address=") : NULL;
		inline_addr = a && !mxg_addr_span(a + 9, mxg_value_end(a + 9, c),
						  &ev->addr);
		x = mxg_sessions_get(t, id, idn, now);
		if (x && x->auth_failed && MXG_STARTS(r + 9, e, "535")) {
			x->auth_failed = false;
			return 0;
		}
		if (!inline_addr) {
			if (!x)
				return 0;
			ev->addr = x->addr;
		}
		return 1;
	}
	return 0;
}
