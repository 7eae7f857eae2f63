// SPDX-License-Identifier: GPL-2.0
/* The session table (sessions.h): id -> client address, bounded. */
#include <string.h>

#include "sessions.h"

static uint32_t hash_id(const char *id, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--) {
		h ^= (unsigned char)*id++;
		h *= 16777619u;
	}
	return h;
}

#define SLOTS_PER_ID 8	/* slots looked at per id: bounds every operation */

static struct mxg_session *find(struct mxg_sessions *t, const char *id,
				size_t n)
{
	uint32_t h = hash_id(id, n);
	int i;

	for (i = 0; i < SLOTS_PER_ID; i++) {
		struct mxg_session *x = &t->slot[(h + i) & (MXG_SESSION_SLOTS - 1)];

		if (!strncmp(x->id, id, n) && x->id[n] == '\0')
			return x;
	}
	return NULL;
}

void mxg_sessions_put(struct mxg_sessions *t, const char *id, size_t n,
		      const struct mxg_addr *addr, int64_t now)
{
	uint32_t h;
	struct mxg_session *x, *victim = NULL;
	int i;

	if (n == 0 || n >= MXG_SESSION_ID_MAX)
		return;
	x = find(t, id, n);
	if (!x) {
		/* A free or expired slot, else the oldest: the table never grows. */
		h = hash_id(id, n);
		for (i = 0; i < SLOTS_PER_ID; i++) {
			x = &t->slot[(h + i) & (MXG_SESSION_SLOTS - 1)];
			if (!x->id[0] || now - x->seen > MXG_SESSION_TTL) {
				victim = x;
				break;
			}
			if (!victim || x->seen < victim->seen)
				victim = x;
		}
		x = victim;
		memcpy(x->id, id, n);
		x->id[n] = '\0';
	}
	x->addr = *addr;
	x->seen = now;
	x->auth_failed = false;
}

struct mxg_session *mxg_sessions_get(struct mxg_sessions *t, const char *id,
				     size_t n, int64_t now)
{
	struct mxg_session *x;

	if (n == 0 || n >= MXG_SESSION_ID_MAX)
		return NULL;
	x = find(t, id, n);
	if (!x || now - x->seen > MXG_SESSION_TTL)
		return NULL;
	return x;
}

void mxg_sessions_del(struct mxg_sessions *t, const char *id, size_t n)
{
	struct mxg_session *x;

	if (n == 0 || n >= MXG_SESSION_ID_MAX)
		return;
	x = find(t, id, n);
	if (x)
		x->id[0] = '\0';
}
