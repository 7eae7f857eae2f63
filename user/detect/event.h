/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the log parsers report: the server families and the event a
 * failure line gives. The matchers (matchers.h) fill it, the dispatcher
 * (parse.h) hands it to the other layers.
 */
#ifndef MXG_EVENT_H
#define MXG_EVENT_H

#include <stdint.h>

#include "addr.h"

enum mxg_service {
	MXG_SVC_POSTFIX,
	MXG_SVC_EXIM,
	MXG_SVC_DOVECOT,
	MXG_SVC_SENDMAIL,
	MXG_SVC_COURIER,
	MXG_SVC_DOMINO,
	MXG_SVC_OPENSMTPD,
	MXG_SVC_HARAKA,
	MXG_SVC_EXCHANGE,
	MXG_SVC_MADDY,
	MXG_SVC_CYRUS,
	MXG_SVC_UWIMAP,
	MXG_SVC_NGINX,
	MXG_SVC_ZIMBRA,
	MXG_SVC_VPOPMAIL,
	MXG_SVC_STALWART,
	MXG_SVC_ROUNDCUBE,
	MXG_SVC_SOGO,
	MXG_SVC_CUSTOM,
	MXG_SVC_COUNT
};

/*
 * What a line tells. AUTH is a failed (or refused) authentication attempt:
 * password guessing, the thing mxguard bans for. HOSTILE is other hostile
 * behaviour some tools count (a client dropping the connection right after
 * AUTH, non-SMTP commands, postscreen pregreeting); it is only reported
 * when the parser was asked for it with MXG_PARSE_HOSTILE (`scan
 * --probes`). ("Probe" is the SMTP auditor, `mxguard probe`, only.)
 * LOGIN is a successful authentication, reported only with
 * MXG_PARSE_LOGIN: it feeds the attacked-accounts view and the compromise
 * alert, never a ban.
 * The XDP program's event kinds (include/mxguard.h) come after these, so
 * that no two event kinds in the daemon share a value.
 */
enum mxg_event_kind {
	MXG_EV_AUTH = 0,
	MXG_EV_HOSTILE = 1,
	MXG_EV_LOGIN = 16,	/* a successful login (MXG_PARSE_LOGIN): user
				 * is the account, addr the client */
};

#define MXG_USER_MAX 128

struct mxg_auth_event {
	enum mxg_service service;
	enum mxg_event_kind kind;
	struct mxg_addr addr;		/* the client, as the MTA itself wrote it */
	int64_t time;			/* unix seconds; 0 when the line has none */
	char user[MXG_USER_MAX];	/* "" when not logged; never a password */
	unsigned int attempts;		/* >= 1 */
	const char *label;		/* service name to show; custom patterns
					 * carry their own; lives as long as the
					 * parser */
};

/* Longest program name (syslog tag, journal identifier) we take. */
#define MXG_PROG_MAX		64

#endif
