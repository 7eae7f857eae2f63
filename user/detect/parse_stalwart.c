// SPDX-License-Identifier: GPL-2.0
/*
 * Stalwart Mail Server's log (its own file, or stdout through the
 * journal), one event a line after the timestamp:
 *   INFO Authentication failed (auth.failed) listenerId = "submission",
 *       localPort = 587, remoteIp = 198.18.1.2, remotePort = 51234,
 *       accountName = "bob", ...
 *   INFO Authentication successful (auth.success) ... remoteIp = ...,
 *       accountName = "bob", ...                              (a login)
 * The event id in parentheses is Stalwart's; the fields are walked one by
 * one, honouring quotes, so an account name (the client's) holding
 * "remoteIp = ..." stays inside its string. A line with remoteIp twice is
 * not counted.
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

/* The end of the value at p: past a quoted string, or to ", " / e. */
static const char *value_end(const char *p, const char *e)
{
	if (p < e && *p == '"') {
		for (p++; p < e; p++) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				return p + 1;
		}
		return e;
	}
	while (p < e && !(*p == ',' && p + 1 < e && p[1] == ' '))
		p++;
	return p;
}

int mxg_match_stalwart(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *p, *id, *k, *ke, *v, *ve;
	bool login, have_addr = false;

	/* "LEVEL Description (event.id) " */
	for (p = s; p < e && *p >= 'A' && *p <= 'Z'; p++)
		;
	if (p == s || p - s > 5 || p >= e || *p != ' ')
		return 0;
	id = MXG_FIND(p, e, " (auth.");
	if (!id || id - p > 64 || memchr(p, '(', (size_t)(id - p)))
		return 0;
	if (MXG_STARTS(id, e, " (auth.failed) "))
		login = false;
	else if (MXG_STARTS(id, e, " (auth.success) "))
		login = true;
	else
		return 0;
	p = memchr(id, ')', (size_t)(e - id)) + 2;
	while (p < e) {
		k = p;
		for (ke = k; ke < e && ((*ke >= 'a' && *ke <= 'z') ||
					(*ke >= 'A' && *ke <= 'Z') ||
					(*ke >= '0' && *ke <= '9')); ke++)
			;
		if (ke == k || !MXG_STARTS(ke, e, " = "))
			return 0;
		v = ke + 3;
		ve = value_end(v, e);
		if (ke - k == 8 && !memcmp(k, "remoteIp", 8)) {
			if (have_addr || mxg_addr_span(v, ve, &ev->addr))
				return 0;
			have_addr = true;
		} else if (ke - k == 11 && !memcmp(k, "accountName", 11) &&
			   ve - v >= 2 && *v == '"') {
			mxg_user_copy(ev, v + 1, ve - 1);
		}
		p = ve;
		if (MXG_STARTS(p, e, ", "))
			p += 2;
		else
			break;
	}
	if (!have_addr)
		return 0;
	if (login)
		ev->kind = MXG_EV_LOGIN;
	return 1;
}
