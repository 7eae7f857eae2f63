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
	x->counted = 0;
	memset(x->rep, 0, sizeof(x->rep));
	x->seq = 0;
	x->user[0] = '\0';
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

unsigned int mxg_session_report(struct mxg_session *x, unsigned int k,
				unsigned int n)
{
	unsigned int fresh;

	if (k >= sizeof(x->rep) / sizeof(x->rep[0]))
		return n;
	x->rep[k] += n;
	if (x->rep[k] <= x->counted)
		return 0;
	fresh = x->rep[k] - x->counted;
	x->counted = x->rep[k];
	return fresh;
}

static uint32_t hash_addr(const struct mxg_addr *a)
{
	return hash_id((const char *)a->a, sizeof(a->a)) ^ (uint32_t)a->family;
}

static unsigned int estimate(const struct mxg_pair *x)
{
	unsigned int smtp = x->rep[MXG_REP_MTA] > x->rep[MXG_REP_PASSDB] ?
			    x->rep[MXG_REP_MTA] : x->rep[MXG_REP_PASSDB];
	unsigned int all = smtp + x->rep[MXG_REP_SESSION] + x->rep[MXG_REP_SUMMARY];

	return x->rep[MXG_REP_PAM] > all ? x->rep[MXG_REP_PAM] : all;
}

unsigned int mxg_pairs_report(struct mxg_pairs *t, const struct mxg_addr *addr,
			      enum mxg_reporter rep, unsigned int n,
			      int64_t window, int64_t now)
{
	uint32_t h = hash_addr(addr);
	struct mxg_pair *x = NULL, *victim = NULL, *y;
	unsigned int est, fresh;
	int i;

	if ((unsigned int)rep >= MXG_REP_COUNT)
		return n;
	if (now <= 0)
		now = 1;
	if (window < MXG_PAIR_WINDOW)
		window = MXG_PAIR_WINDOW;
	for (i = 0; i < SLOTS_PER_ID; i++) {
		y = &t->slot[(h + i) & (MXG_PAIR_SLOTS - 1)];
		if (y->seen && mxg_addr_equal(&y->addr, addr)) {
			x = y;
			break;
		}
		/* A free slot, else the one quiet longest. */
		if (!victim || (victim->seen && y->seen < victim->seen))
			victim = y;
	}
	/*
	 * A run ends after a quiet window, either way round: a replay reads
	 * one file after another, so a report may be older than the last.
	 */
	if (x && (now - x->seen > window || x->seen - now > window)) {
		victim = x;
		x = NULL;
	}
	if (!x) {
		x = victim;
		memset(x, 0, sizeof(*x));
		x->addr = *addr;
	}
	if (now > x->seen)
		x->seen = now;
	x->rep[rep] += n;
	est = estimate(x);
	fresh = est > x->counted ? est - x->counted : 0;
	if (est > x->counted)
		x->counted = est;
	return fresh;
}
