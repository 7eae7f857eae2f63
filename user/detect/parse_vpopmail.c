// SPDX-License-Identifier: GPL-2.0
/*
 * qmail with vpopmail: vchkpw checks the password for qmail-smtpd (with an
 * AUTH patch), qmail-pop3d and Courier's authvchkpw, and logs through
 * syslog under "vpopmail" (or "vchkpw"), from the start of the message:
 *   vchkpw-smtp: password fail bob@example.org:198.18.1.2
 *   vchkpw-pop3: password fail (pass: 'guess') bob@example.org:198.18.1.2
 *   vchkpw-submission: vpopmail user not found nobody@example.org:198.18.1.2
 *   vchkpw-pop3: (PLAIN) login success bob@example.org:198.18.1.2  (a login)
 * The client address is vchkpw's last field, after the user name (the
 * client's, which may hold ':'): the longest tail after a ':' that is an
 * address. The password some builds log is never copied: a line that
 * carries one gives no user name.
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

/* "USER:ADDR" ending at e: the address, and where the user ends. */
static bool user_addr(const char *s, const char *e, struct mxg_addr *addr,
		      const char **ue)
{
	const char *c;

	for (c = s; c < e && e - c > 2; c++) {
		if (*c != ':')
			continue;
		if (!mxg_addr_span(c + 1, e, addr)) {
			*ue = c;
			return true;
		}
	}
	return false;
}

int mxg_match_vpopmail(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *p, *u, *ue;
	bool secret = false, login = false;

	if (!MXG_STARTS(s, e, "vchkpw-"))
		return 0;
	for (p = s + 7; p < e && ((*p >= 'a' && *p <= 'z') || *p == '-' ||
				  (*p >= '0' && *p <= '9')) && p - s < 32; p++)
		;
	if (!MXG_STARTS(p, e, ": "))
		return 0;
	p += 2;
	if (MXG_STARTS(p, e, "password fail ")) {
		u = p + 14;
		if (MXG_STARTS(u, e, "(pass: ")) {
			/* Skip the logged password: the user follows "') ". */
			secret = true;
			u = MXG_RFIND(u, e, "') ");
			if (!u)
				return 0;
			u += 3;
		}
	} else if (MXG_STARTS(p, e, "vpopmail user not found ")) {
		u = p + 24;
	} else if (MXG_STARTS(p, e, "(") &&
		   (u = MXG_FIND(p, e, ") login success ")) && u - p < 16) {
		u += 16;
		login = true;
	} else {
		return 0;
	}
	if (!user_addr(u, e, &ev->addr, &ue))
		return 0;
	if (!secret)
		mxg_user_copy(ev, u, ue);
	if (login)
		ev->kind = MXG_EV_LOGIN;
	return 1;
}
