/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A bounded table that ties a session id to the client address, for the
 * servers that log the address when a client connects and the failure
 * later (OpenSMTPD, Haraka). It never grows: a new session takes a free or
 * expired slot among the few its id hashes to, else the oldest of them.
 */
#ifndef MXG_SESSIONS_H
#define MXG_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define MXG_SESSION_SLOTS	4096	/* power of two */
#define MXG_SESSION_TTL		3600	/* seconds a session is remembered */
#define MXG_SESSION_ID_MAX	40

struct mxg_session {
	char id[MXG_SESSION_ID_MAX];	/* "" when free */
	struct mxg_addr addr;
	int64_t seen;
	bool auth_failed;		/* a failure was reported, the matching
					 * 535 reply line is the same event */
};

struct mxg_sessions {
	struct mxg_session slot[MXG_SESSION_SLOTS];
};

void mxg_sessions_put(struct mxg_sessions *t, const char *id, size_t idlen,
		      const struct mxg_addr *addr, int64_t now);
struct mxg_session *mxg_sessions_get(struct mxg_sessions *t, const char *id,
				     size_t idlen, int64_t now);
void mxg_sessions_del(struct mxg_sessions *t, const char *id, size_t idlen);

#endif
