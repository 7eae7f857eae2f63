// SPDX-License-Identifier: GPL-2.0
/*
 * Cyrus and UW-IMAP, whose lines look alike:
 *   imaps[1]: badlogin: host.example [198.18.1.2] PLAIN bob SASL(-13): ...
 *   Login failed user=bob auth=bob host=host.example [198.18.1.2]
 * The client address is the one in brackets the server writes before the
 * client's own text (Cyrus) or after it, as the last field (UW-IMAP).
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

/*
 * 1 for Cyrus, 2 for UW-IMAP, 0 for neither, from the start of the message:
 *   badlogin: RDNS? [ADDR] MECH USER SASL(-13): ...
 *   Login failed user=USER auth=AUTH host=RDNS [ADDR]
 */
int mxg_match_imapd(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *p, *rb, *q;

	if (MXG_STARTS(s, e, "badlogin: ")) {
		/* The reverse name has no blanks; the client's user comes after. */
		p = s + 10;
		if (p < e && *p != '[') {
			while (p < e && *p != ' ' && *p != '[')
				p++;
			if (p < e && *p == ' ')
				p++;
		}
		if (p >= e || *p != '[')
			return 0;
		rb = memchr(p, ']', (size_t)(e - p) < 60 ? (size_t)(e - p) : 60);
		if (!rb || mxg_addr_span(p + 1, rb, &ev->addr))
			return 0;
		return 1;
	}
	if (MXG_STARTS(s, e, "Login failed user=")) {
		/* host= is UW-IMAP's last field; user= and auth= come before. */
		q = MXG_RFIND(s, e, " host=");
		if (!q || e[-1] != ']' ||
		    !mxg_addr_bracket_before(q, e - 1, &ev->addr))
			return 0;
		return 2;
	}
	return 0;
}
