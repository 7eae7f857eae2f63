// SPDX-License-Identifier: GPL-2.0
/*
 * Haraka logs the client address when it connects and the failure later,
 * tied by the connection's UUID; the session table (sessions.h) remembers
 * the address in between:
 *   [NOTICE] [UUID] [core] connect ip=198.18.1.2 port=52314 local_ip=...
 *   [INFO] [UUID] [auth/flat_file] AUTH user="bob" success=false
 *   [NOTICE] [UUID] [core] disconnect ip=...
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

int mxg_match_haraka(struct mxg_sessions *t, const char *s, const char *e,
		     int64_t now, struct mxg_auth_event *ev)
{
	const char *p, *id, *ide, *a, *u, *ue;
	struct mxg_session *x;
	struct mxg_addr addr;

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
	p = memchr(ide, ']', (size_t)(e - ide));
	if (!p || !MXG_STARTS(p, e, "] ["))
		return 0;
	p += 3;
	if (MXG_STARTS(p, e, "core] connect ip=")) {
		a = p + 17;
		if (!mxg_addr_span(a, mxg_value_end(a, e), &addr))
			mxg_sessions_put(t, id, (size_t)(ide - id), &addr,
					 now);
		return 0;
	}
	if (MXG_STARTS(p, e, "core] disconnect ip=")) {
		mxg_sessions_del(t, id, (size_t)(ide - id));
		return 0;
	}
	u = MXG_FIND(p, e, " AUTH user=\"");
	if (!u || !MXG_STARTS(p, e, "auth"))
		return 0;
	ue = MXG_RFIND(u, e, "\" success=");
	if (!ue || !MXG_STARTS(ue + 10, e, "false"))
		return 0;
	x = mxg_sessions_get(t, id, (size_t)(ide - id), now);
	if (!x)
		return 0;
	ev->addr = x->addr;
	mxg_user_copy(ev, u + 12, ue);
	return 1;
}
