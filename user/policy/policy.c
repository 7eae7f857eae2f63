// SPDX-License-Identifier: GPL-2.0
/* The ban policy: see policy.h for what it decides and why. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "evidence_ring.h"
#include "hash.h"
#include "ilist.h"
#include "policy.h"

#define NIL MXG_NIL

/* A recently failing host of a range. */
struct host_slot {
	struct mxg_addr addr;
	uint64_t ts;		/* last failure; 0 = empty */
	uint64_t qts;		/* last time it qualified (enough failures, or banned) */
};

/*
 * One counting entry: a host (/32, /128) or a range (range_v4/v6, or the
 * prefix XDP reports). Its rings live in the policy's arrays at its index.
 */
struct entry {
	struct mxg_cidr key;
	uint32_t hnext;		/* hash chain */
	struct mxg_ilink lru;	/* head = most recently used */
	uint32_t fail_head, fail_n;	/* ring of failure times (hosts) */
	uint32_t rate_head, rate_n;	/* ring of rate-event times */
	uint32_t failures;	/* counted since the entry began or was reset */
	uint32_t win_cur, win_prev;	/* range failures: two findtime buckets */
	uint64_t win_start;
	uint64_t rate_last_sec;	/* second of the last rate event, plus one */
	uint64_t last_ns;
	bool used;
};

/* An active ban or a remembered offence. */
struct ban_rec {
	struct ban_rec *next;
	struct mxg_cidr cidr;
	uint64_t added_ns;
	uint64_t expires_ns;	/* 0 = permanent */
	unsigned int ban_count;
	unsigned int failures;
	int reason;
	bool saved;
	bool queued;		/* on the unsaved queue */
	struct ban_rec *u_next, *u_prev;	/* the unsaved queue, oldest first */
	unsigned int n_lines;
	char *lines;		/* n_lines NUL-terminated strings end to end */
};

struct mxg_policy {
	struct mxg_policy_config cfg;	/* ignoreip/own point at our copies */
	struct mxg_cidr *ignore;
	struct mxg_addr *own;
	mxg_ban_fn fn;
	void *ctx;
	uint64_t seed;
	uint64_t now;			/* latest time seen */
	/* Records whose evidence changed since it was last saved. */
	struct ban_rec *u_head, *u_tail;

	/* Counting table: fixed capacity, chained by index, LRU eviction. */
	unsigned int cap, nbuckets, used;
	unsigned int n_slots;		/* host slots per entry */
	unsigned int n_rate;		/* rate ring slots per entry */
	uint32_t *buckets;
	struct entry *e;
	uint64_t *fail_ts;		/* cap * maxretry */
	uint64_t *rate_ts;		/* cap * n_rate */
	struct host_slot *slots;	/* cap * n_slots */
	struct mxg_ilist lru;
	uint32_t free_head;

	/* Ban records: chained hash, grows up to max_bans. */
	struct ban_rec **bans;
	unsigned int n_bbuckets, n_bans;
	unsigned int plen_count[2][129];	/* records per family and length */

	struct mxg_evidence_pool *pool;
};

/* --- config -------------------------------------------------------------- */

void mxg_policy_config_defaults(struct mxg_policy_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->maxretry = 5;
	cfg->findtime_ns = 10 * MXG_MIN_NS;
	cfg->bantime_ns = MXG_HOUR_NS;
	cfg->bantime_max_ns = 7 * MXG_DAY_NS;
	cfg->forgettime_ns = 7 * MXG_DAY_NS;
	cfg->range_v4 = MXG_PREFIX_V4_DEFAULT;
	cfg->range_v6 = MXG_PREFIX_V6_DEFAULT;
	cfg->range_hosts = 3;
	cfg->range_min_failures = 2;
	cfg->range_failures_v4 = 15;
	cfg->range_failures_v6 = 5;
	cfg->floor_v4 = 16;
	cfg->floor_v6 = 32;
	cfg->rate_events = 3;
	cfg->capacity = 65536;
	cfg->max_bans = 1U << 21;
	cfg->evidence_lines = 20;
	cfg->evidence_pool = 16384;
}

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		snprintf(err, errlen, __VA_ARGS__);			\
		return -EINVAL;						\
	}								\
} while (0)

#define CHECK_RANGE(val, lo, hi, key)					\
	CHECK(in_bounds((val), (lo), (hi)),				\
	      "%s: must be between %llu and %llu", (key),		\
	      (unsigned long long)(lo), (unsigned long long)(hi))

static bool in_bounds(unsigned long long v, unsigned long long lo,
		      unsigned long long hi)
{
	return v >= lo && v <= hi;
}

int mxg_policy_config_check(const struct mxg_policy_config *c, char *err,
			    size_t errlen)
{
	char tmp[1];
	unsigned int i;

	if (!err || !errlen) {
		err = tmp;
		errlen = sizeof(tmp);
	}
	CHECK_RANGE(c->maxretry, 1, MXG_POLICY_MAXRETRY_MAX, "maxretry");
	CHECK_RANGE(c->findtime_ns, MXG_SEC_NS, MXG_POLICY_TIME_MAX, "findtime");
	CHECK_RANGE(c->bantime_ns, MXG_SEC_NS, MXG_POLICY_TIME_MAX, "bantime");
	CHECK_RANGE(c->bantime_max_ns, MXG_SEC_NS, MXG_POLICY_TIME_MAX,
		    "bantime_max");
	CHECK(c->bantime_max_ns >= c->bantime_ns,
	      "bantime_max: must not be shorter than bantime");
	CHECK(c->forgettime_ns <= MXG_POLICY_TIME_MAX,
	      "forgettime: must be at most 365 days");
	CHECK_RANGE(c->floor_v4, 1, 32, "floor_v4");
	CHECK_RANGE(c->floor_v6, 1, 128, "floor_v6");
	CHECK_RANGE(c->range_v4, 1, 32, "range_v4");
	CHECK_RANGE(c->range_v6, 1, 128, "range_v6");
	CHECK(c->range_v4 >= c->floor_v4,
	      "range_v4: /%u is wider than floor_v4 (/%u): automatic bans may not be that wide",
	      c->range_v4, c->floor_v4);
	CHECK(c->range_v6 >= c->floor_v6,
	      "range_v6: /%u is wider than floor_v6 (/%u): automatic bans may not be that wide",
	      c->range_v6, c->floor_v6);
	CHECK(c->range_hosts == 0 ||
	      (c->range_hosts >= 2 && c->range_hosts <= MXG_POLICY_RANGE_HOSTS_MAX),
	      "range_hosts: must be 0 (never) or between 2 and %u",
	      MXG_POLICY_RANGE_HOSTS_MAX);
	CHECK(c->range_min_failures >= 1 && c->range_min_failures <= c->maxretry,
	      "range_min_failures: must be between 1 and maxretry (%u)",
	      c->maxretry);
	CHECK(c->range_failures_v4 == 0 ||
	      (c->range_failures_v4 >= 2 && c->range_failures_v4 <= 100000),
	      "range_failures_v4: must be 0 (never) or between 2 and 100000");
	CHECK(c->range_failures_v6 == 0 ||
	      (c->range_failures_v6 >= 2 && c->range_failures_v6 <= 100000),
	      "range_failures_v6: must be 0 (never) or between 2 and 100000");
	CHECK_RANGE(c->rate_events, 0, MXG_POLICY_RATE_EVENTS_MAX, "rate_events");
	CHECK_RANGE(c->capacity, MXG_POLICY_CAPACITY_MIN, MXG_POLICY_CAPACITY_MAX,
		    "capacity");
	CHECK_RANGE(c->max_bans, 16, 1U << 24, "max_bans");
	CHECK_RANGE(c->evidence_lines, 0, MXG_POLICY_EVIDENCE_LINES_MAX,
		    "evidence_lines");
	CHECK_RANGE(c->evidence_pool, 0, MXG_POLICY_EVIDENCE_POOL_MAX,
		    "evidence_pool");
	CHECK(c->n_ignoreip <= MXG_POLICY_IGNORE_MAX && (c->ignoreip || !c->n_ignoreip),
	      "ignoreip: at most %u ranges", MXG_POLICY_IGNORE_MAX);
	CHECK(c->n_own <= MXG_POLICY_OWN_MAX && (c->own || !c->n_own),
	      "own addresses: at most %u", MXG_POLICY_OWN_MAX);
	for (i = 0; i < c->n_ignoreip; i++)
		CHECK(c->ignoreip[i].addr.family == 4 || c->ignoreip[i].addr.family == 6,
		      "ignoreip: entry %u is not an IPv4 or IPv6 range", i + 1);
	for (i = 0; i < c->n_own; i++)
		CHECK(c->own[i].family == 4 || c->own[i].family == 6,
		      "own addresses: entry %u is not IPv4 or IPv6", i + 1);
	return 0;
}

/* --- helpers --------------------------------------------------------------- */

static unsigned int fam_max(uint8_t family)
{
	return family == 4 ? 32 : 128;
}

static int fam_idx(uint8_t family)
{
	return family == 4 ? 0 : 1;
}

static bool addr_ok(const struct mxg_addr *a)
{
	return a && (a->family == 4 || a->family == 6);
}

/* A clean key: host bits and the unused bytes of IPv4 cleared. */
static struct mxg_cidr make_key(const struct mxg_addr *a, unsigned int plen)
{
	struct mxg_cidr c;

	memset(&c, 0, sizeof(c));
	c.addr.family = a->family;
	memcpy(c.addr.a, a->a, a->family == 4 ? 4 : 16);
	if (plen > fam_max(a->family))
		plen = fam_max(a->family);
	mxg_addr_mask(&c.addr, plen);
	c.prefixlen = plen;
	return c;
}

static bool cidr_equal(const struct mxg_cidr *x, const struct mxg_cidr *y)
{
	return x->prefixlen == y->prefixlen && mxg_addr_equal(&x->addr, &y->addr);
}

static bool cidr_overlap(const struct mxg_cidr *x, const struct mxg_cidr *y)
{
	return mxg_cidr_within(x, y) || mxg_cidr_within(y, x);
}

static uint64_t advance(struct mxg_policy *p, uint64_t now)
{
	if (now > p->now)
		p->now = now;
	return p->now;
}

static bool in_window(const struct mxg_policy *p, uint64_t ts, uint64_t now)
{
	return ts && ts + p->cfg.findtime_ns > now;
}

/* The built-in ranges that are never banned. */
static const struct mxg_cidr never_ban[] = {
	{ .addr = { .family = 4, .a = { 127 } }, .prefixlen = 8 },
	{ .addr = { .family = 4, .a = { 0 } }, .prefixlen = 8 },
	{ .addr = { .family = 6, .a = { [15] = 1 } }, .prefixlen = 128 },
	{ .addr = { .family = 6, .a = { 0 } }, .prefixlen = 128 },
};

/* May range c be banned at all: not wider than the floor, touching nothing protected? */
static bool range_allowed(const struct mxg_policy *p, const struct mxg_cidr *c)
{
	unsigned int i;

	if (c->prefixlen < (c->addr.family == 4 ? p->cfg.floor_v4 : p->cfg.floor_v6))
		return false;
	for (i = 0; i < sizeof(never_ban) / sizeof(never_ban[0]); i++)
		if (cidr_overlap(c, &never_ban[i]))
			return false;
	for (i = 0; i < p->cfg.n_ignoreip; i++)
		if (cidr_overlap(c, &p->ignore[i]))
			return false;
	for (i = 0; i < p->cfg.n_own; i++)
		if (mxg_cidr_contains(c, &p->own[i]))
			return false;
	return true;
}

bool mxg_policy_ignored(const struct mxg_policy *p, const struct mxg_addr *addr)
{
	struct mxg_cidr host;

	if (!addr_ok(addr))
		return true;
	host = make_key(addr, fam_max(addr->family));
	return !range_allowed(p, &host);
}

/* --- ban records ------------------------------------------------------------ */

static struct ban_rec **ban_slot(const struct mxg_policy *p,
				 const struct mxg_cidr *c)
{
	return &p->bans[mxg_cidr_hash(p->seed, c) & (p->n_bbuckets - 1)];
}

static struct ban_rec *ban_find(const struct mxg_policy *p,
				const struct mxg_cidr *c)
{
	struct ban_rec *r;

	for (r = *ban_slot(p, c); r; r = r->next)
		if (cidr_equal(&r->cidr, c))
			return r;
	return NULL;
}

static bool ban_active(const struct ban_rec *r, uint64_t now)
{
	return !r->expires_ns || now < r->expires_ns;
}

static bool ban_forgotten(const struct mxg_policy *p, const struct ban_rec *r,
			  uint64_t now)
{
	return r->expires_ns && now >= r->expires_ns &&
	       now - r->expires_ns >= p->cfg.forgettime_ns;
}

/* Evidence changed: the record waits for the next save, in order. */
static void unsaved_push(struct mxg_policy *p, struct ban_rec *r)
{
	r->saved = false;
	if (r->queued)
		return;
	r->queued = true;
	r->u_next = NULL;
	r->u_prev = p->u_tail;
	if (p->u_tail)
		p->u_tail->u_next = r;
	else
		p->u_head = r;
	p->u_tail = r;
}

static void unsaved_del(struct mxg_policy *p, struct ban_rec *r)
{
	if (!r->queued)
		return;
	if (r->u_prev)
		r->u_prev->u_next = r->u_next;
	else
		p->u_head = r->u_next;
	if (r->u_next)
		r->u_next->u_prev = r->u_prev;
	else
		p->u_tail = r->u_prev;
	r->queued = false;
	r->u_next = r->u_prev = NULL;
}

static void ban_unlink(struct mxg_policy *p, struct ban_rec *r)
{
	struct ban_rec **pp;

	for (pp = ban_slot(p, &r->cidr); *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	p->plen_count[fam_idx(r->cidr.addr.family)][r->cidr.prefixlen]--;
	p->n_bans--;
	unsaved_del(p, r);
	free(r->lines);
	free(r);
}

static void bans_grow(struct mxg_policy *p)
{
	unsigned int nb = p->n_bbuckets * 2, i;
	struct ban_rec **nbk = calloc(nb, sizeof(*nbk));

	if (!nbk)
		return;		/* longer chains, still correct */
	for (i = 0; i < p->n_bbuckets; i++) {
		struct ban_rec *r = p->bans[i], *next;

		for (; r; r = next) {
			struct ban_rec **s = &nbk[mxg_cidr_hash(p->seed, &r->cidr) & (nb - 1)];

			next = r->next;
			r->next = *s;
			*s = r;
		}
	}
	free(p->bans);
	p->bans = nbk;
	p->n_bbuckets = nb;
}

static void bans_forget_old(struct mxg_policy *p, uint64_t now)
{
	unsigned int i;

	for (i = 0; i < p->n_bbuckets; i++) {
		struct ban_rec *r = p->bans[i], *next;

		for (; r; r = next) {
			next = r->next;
			if (ban_forgotten(p, r, now))
				ban_unlink(p, r);
		}
	}
}

/* The record for c, created when missing. NULL when full or out of memory. */
static struct ban_rec *ban_get(struct mxg_policy *p, const struct mxg_cidr *c)
{
	struct ban_rec *r = ban_find(p, c), **s;

	if (r)
		return r;
	if (p->n_bans >= p->cfg.max_bans) {
		bans_forget_old(p, p->now);
		if (p->n_bans >= p->cfg.max_bans)
			return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cidr = *c;
	s = ban_slot(p, c);
	r->next = *s;
	*s = r;
	p->n_bans++;
	p->plen_count[fam_idx(c->addr.family)][c->prefixlen]++;
	if (p->n_bans > p->n_bbuckets && p->n_bbuckets < (1U << 24))
		bans_grow(p);
	return r;
}

/* The active ban covering addr, if any. */
static const struct ban_rec *covering_ban(const struct mxg_policy *p,
					  uint64_t now,
					  const struct mxg_addr *addr)
{
	const unsigned int *counts = p->plen_count[fam_idx(addr->family)];
	unsigned int plen, max = fam_max(addr->family);

	for (plen = 0; plen <= max; plen++) {
		struct mxg_cidr k;
		const struct ban_rec *r;

		if (!counts[plen])
			continue;
		k = make_key(addr, plen);
		r = ban_find(p, &k);
		if (r && ban_active(r, now))
			return r;
	}
	return NULL;
}

/* The active ban covering the whole of range c, if any. */
static const struct ban_rec *covering_range(const struct mxg_policy *p,
					    uint64_t now,
					    const struct mxg_cidr *c)
{
	const unsigned int *counts = p->plen_count[fam_idx(c->addr.family)];
	unsigned int plen;

	for (plen = 0; plen <= c->prefixlen; plen++) {
		struct mxg_cidr k;
		const struct ban_rec *r;

		if (!counts[plen])
			continue;
		k = make_key(&c->addr, plen);
		r = ban_find(p, &k);
		if (r && ban_active(r, now))
			return r;
	}
	return NULL;
}

bool mxg_policy_is_banned(const struct mxg_policy *p, uint64_t now_ns,
			  const struct mxg_addr *addr)
{
	return addr_ok(addr) && covering_ban(p, now_ns, addr);
}

/* Is exactly this host banned (it then counts toward its range)? */
static bool host_banned(const struct mxg_policy *p, uint64_t now,
			const struct mxg_addr *addr)
{
	struct mxg_cidr k = make_key(addr, fam_max(addr->family));
	const struct ban_rec *r;

	if (!p->plen_count[fam_idx(addr->family)][k.prefixlen])
		return false;
	r = ban_find(p, &k);
	return r && ban_active(r, now);
}

/* --- the counting table ------------------------------------------------------ */

#define POLICY_LRU(p) &(p)->lru, (p)->e, sizeof(*(p)->e), offsetof(struct entry, lru)

static uint32_t *bucket_of(const struct mxg_policy *p, const struct mxg_cidr *c)
{
	return &p->buckets[mxg_cidr_hash(p->seed, c) & (p->nbuckets - 1)];
}

static uint32_t entry_find(const struct mxg_policy *p, const struct mxg_cidr *c)
{
	uint32_t i;

	for (i = *bucket_of(p, c); i != NIL; i = p->e[i].hnext)
		if (cidr_equal(&p->e[i].key, c))
			return i;
	return NIL;
}

static void entry_reset(struct mxg_policy *p, uint32_t i)
{
	struct entry *e = &p->e[i];

	e->fail_head = e->fail_n = 0;
	e->rate_head = e->rate_n = 0;
	e->failures = 0;
	e->win_cur = e->win_prev = 0;
	e->win_start = 0;
	e->rate_last_sec = 0;
	memset(&p->slots[(size_t)i * p->n_slots], 0,
	       sizeof(*p->slots) * p->n_slots);
}

static void entry_remove(struct mxg_policy *p, uint32_t i)
{
	struct entry *e = &p->e[i];
	uint32_t *pp = bucket_of(p, &e->key);

	while (*pp != i)
		pp = &p->e[*pp].hnext;
	*pp = e->hnext;
	mxg_ilist_unlink(POLICY_LRU(p), i);
	e->used = false;
	e->hnext = p->free_head;
	p->free_head = i;
	p->used--;
}

/* The entry for c, created (evicting the least recently used) when missing. */
static uint32_t entry_get(struct mxg_policy *p, const struct mxg_cidr *c,
			  uint64_t now)
{
	uint32_t i = entry_find(p, c), *b;

	if (i != NIL) {
		mxg_ilist_touch(POLICY_LRU(p), i);
		p->e[i].last_ns = now;
		return i;
	}
	if (p->free_head == NIL)
		entry_remove(p, p->lru.tail);
	i = p->free_head;
	p->free_head = p->e[i].hnext;
	p->e[i].key = *c;
	p->e[i].used = true;
	p->e[i].last_ns = now;
	entry_reset(p, i);
	b = bucket_of(p, c);
	p->e[i].hnext = *b;
	*b = i;
	mxg_ilist_push_head(POLICY_LRU(p), i);
	p->used++;
	return i;
}

static void push_ts(uint64_t *ring, uint32_t size, uint32_t *head, uint32_t *n,
		    uint64_t ts)
{
	ring[*head] = ts;
	*head = (*head + 1) % size;
	if (*n < size)
		(*n)++;
}

static unsigned int count_ts(const struct mxg_policy *p, const uint64_t *ring,
			     uint32_t n, uint64_t now)
{
	unsigned int c = 0;
	uint32_t k;

	for (k = 0; k < n; k++)
		if (in_window(p, ring[k], now))
			c++;
	return c;
}

static unsigned int host_window(const struct mxg_policy *p, uint32_t i,
				uint64_t now)
{
	return count_ts(p, &p->fail_ts[(size_t)i * p->cfg.maxretry],
			p->e[i].fail_n, now);
}

/* Range failures: the current bucket plus the part of the previous one still in the window. */
static void range_add(struct mxg_policy *p, struct entry *e, uint64_t now,
		      unsigned int n)
{
	uint64_t ft = p->cfg.findtime_ns;

	if (!e->win_start || now >= e->win_start + 2 * ft) {
		e->win_prev = 0;
		e->win_cur = 0;
		e->win_start = now;
	} else if (now >= e->win_start + ft) {
		e->win_prev = e->win_cur;
		e->win_cur = 0;
		e->win_start += ft;
	}
	e->win_cur += n;
}

static unsigned int range_estimate(const struct mxg_policy *p,
				   const struct entry *e, uint64_t now)
{
	uint64_t ft = p->cfg.findtime_ns, into;

	if (!e->win_start || now >= e->win_start + 2 * ft)
		return 0;
	if (now >= e->win_start + ft)
		return (unsigned int)((e->win_cur * (2 * ft - (now - e->win_start))) / ft);
	into = now - e->win_start;
	return e->win_cur + (unsigned int)((e->win_prev * (ft - into)) / ft);
}

static bool slot_qualified(const struct mxg_policy *p,
			   const struct host_slot *s, uint64_t now)
{
	return s->qts && (in_window(p, s->qts, now) || host_banned(p, now, &s->addr));
}

/*
 * Note a failing host in its range. Qualified hosts are kept over the
 * others, so one-shot addresses cannot push them out.
 */
static void slot_update(struct mxg_policy *p, uint32_t ri,
			const struct mxg_addr *addr, uint64_t now, bool qualifies)
{
	struct host_slot *s = &p->slots[(size_t)ri * p->n_slots], *pick = NULL;
	struct host_slot *empty = NULL, *unqualified = NULL, *qualified = NULL;
	unsigned int k;

	for (k = 0; k < p->n_slots; k++) {
		if (s[k].ts && mxg_addr_equal(&s[k].addr, addr)) {
			pick = &s[k];
			break;
		}
	}
	if (!pick) {
		/*
		 * An empty slot, else the unqualified host seen longest ago (the
		 * first to stop counting: one-shot addresses replace each other,
		 * not hosts still failing), else the host that qualified
		 * longest ago.
		 */
		for (k = 0; k < p->n_slots; k++) {
			if (!s[k].ts) {
				empty = &s[k];
				break;
			}
			if (!slot_qualified(p, &s[k], now)) {
				if (!unqualified || s[k].ts < unqualified->ts)
					unqualified = &s[k];
			} else if (!qualified || s[k].qts < qualified->qts) {
				qualified = &s[k];
			}
		}
		pick = empty ? empty : unqualified ? unqualified : qualified;
		memset(pick, 0, sizeof(*pick));
		pick->addr = *addr;
	}
	pick->ts = now;
	if (qualifies)
		pick->qts = now;
}

static void range_hosts(const struct mxg_policy *p, uint32_t ri, uint64_t now,
			unsigned int *qualified, unsigned int *distinct)
{
	const struct host_slot *s = &p->slots[(size_t)ri * p->n_slots];
	unsigned int k;

	*qualified = *distinct = 0;
	for (k = 0; k < p->n_slots; k++) {
		if (slot_qualified(p, &s[k], now))
			(*qualified)++;
		if (in_window(p, s[k].ts, now) || slot_qualified(p, &s[k], now))
			(*distinct)++;
	}
}

/* --- decisions -------------------------------------------------------------- */

static uint64_t ban_duration(const struct mxg_policy *p, unsigned int count)
{
	uint64_t d = p->cfg.bantime_ns;

	while (--count && d < p->cfg.bantime_max_ns)
		d *= 2;
	return d < p->cfg.bantime_max_ns ? d : p->cfg.bantime_max_ns;
}

/* Decide a ban of c; returns 1 when a decision was emitted, 0 if not. */
static int make_ban(struct mxg_policy *p, uint64_t now, const struct mxg_cidr *c,
		    int reason, unsigned int failures, unsigned int hosts,
		    const char *service, uint16_t port)
{
	struct mxg_ban ban;
	struct ban_rec *r;
	unsigned int count = 1;

	/* The last guard: nothing wider than the floor, nothing protected. */
	if (!range_allowed(p, c))
		return 0;
	r = ban_find(p, c);
	if (r && ban_active(r, now))
		return 0;
	if (r)
		count = r->ban_count + 1;

	memset(&ban, 0, sizeof(ban));
	ban.cidr = *c;
	ban.ban_count = count;
	ban.duration_ns = ban_duration(p, count);
	ban.expires_ns = now + ban.duration_ns;
	ban.reason = reason;
	ban.monitor = p->cfg.monitor;
	ban.failures = failures;
	ban.hosts = hosts;
	ban.service = service;
	ban.port = port;

	if (!p->cfg.monitor) {
		r = ban_get(p, c);
		/* No room for the record: the ban is made all the same. */
		if (r) {
			r->added_ns = now;
			r->expires_ns = ban.expires_ns;
			r->ban_count = count;
			r->failures = failures;
			r->reason = reason;
			unsaved_push(p, r);
			free(r->lines);
			r->lines = NULL;
			r->n_lines = 0;
			if (mxg_evidence_pool_collect(p->pool, c,
						      p->cfg.evidence_lines,
						      &r->lines, &r->n_lines))
				r->n_lines = 0;
		}
	}
	if (p->fn)
		p->fn(&ban, p->ctx);
	return 1;
}

static int range_check(struct mxg_policy *p, uint64_t now, uint32_t ri,
		       const char *service)
{
	struct entry *r = &p->e[ri];
	unsigned int qualified, distinct, limit;
	bool v4 = r->key.addr.family == 4;
	struct mxg_cidr key = r->key;
	int n;

	range_hosts(p, ri, now, &qualified, &distinct);
	limit = v4 ? p->cfg.range_failures_v4 : p->cfg.range_failures_v6;
	if ((p->cfg.range_hosts && qualified >= p->cfg.range_hosts) ||
	    (limit && distinct >= 2 && range_estimate(p, r, now) >= limit)) {
		n = make_ban(p, now, &key, MXG_REASON_LOG, r->failures,
			     distinct, service, 0);
		if (n)
			entry_reset(p, ri);
		return n;
	}
	return 0;
}

int mxg_policy_failure(struct mxg_policy *p, uint64_t now_ns,
		       const struct mxg_addr *addr, const char *service,
		       const char *user, unsigned int attempts,
		       const char *line, size_t len)
{
	struct mxg_cidr hkey, rkey;
	uint32_t hi, ri = NIL;
	unsigned int k, hc, plen;
	uint64_t now;
	int n;

	if (!p || !addr_ok(addr) || !attempts)
		return -EINVAL;
	now = advance(p, now_ns);
	if (mxg_policy_ignored(p, addr) || covering_ban(p, now, addr))
		return 0;
	mxg_evidence_pool_add(p->pool, addr, line, len);

	hkey = make_key(addr, fam_max(addr->family));
	hi = entry_get(p, &hkey, now);
	for (k = 0; k < attempts && k < p->cfg.maxretry; k++)
		push_ts(&p->fail_ts[(size_t)hi * p->cfg.maxretry], p->cfg.maxretry,
			&p->e[hi].fail_head, &p->e[hi].fail_n, now);
	p->e[hi].failures += attempts;
	hc = host_window(p, hi, now);

	plen = addr->family == 4 ? p->cfg.range_v4 : p->cfg.range_v6;
	rkey = make_key(addr, plen);
	if (plen < fam_max(addr->family) && range_allowed(p, &rkey)) {
		/* The host entry is at the LRU head: this cannot evict it. */
		ri = entry_get(p, &rkey, now);
		slot_update(p, ri, addr, now,
			    hc >= p->cfg.range_min_failures || hc >= p->cfg.maxretry);
		range_add(p, &p->e[ri], now, attempts);
		p->e[ri].failures += attempts;
		n = range_check(p, now, ri, service);
		if (n) {
			entry_reset(p, hi);
			return n;
		}
	}
	if (hc >= p->cfg.maxretry) {
		n = make_ban(p, now, &hkey, MXG_REASON_LOG, p->e[hi].failures, 1,
			     service, 0);
		p->e[hi].fail_n = p->e[hi].fail_head = 0;
		p->e[hi].failures = 0;
		if (n && ri != NIL) {
			/* A new host ban may complete its range. */
			slot_update(p, ri, addr, now, true);
			n += range_check(p, now, ri, service);
		}
		return n;
	}
	return 0;
}

int mxg_policy_ban_now(struct mxg_policy *p, uint64_t now_ns,
		       const struct mxg_addr *addr, const char *service,
		       const char *line, size_t len)
{
	struct mxg_cidr hkey;
	uint64_t now;

	if (!p || !addr_ok(addr))
		return -EINVAL;
	now = advance(p, now_ns);
	if (mxg_policy_ignored(p, addr) || covering_ban(p, now, addr))
		return 0;
	if (line)
		mxg_evidence_pool_add(p->pool, addr, line, len);
	hkey = make_key(addr, fam_max(addr->family));
	return make_ban(p, now, &hkey, MXG_REASON_LOG, 1, 1, service, 0);
}

int mxg_policy_rate(struct mxg_policy *p, uint64_t now_ns,
		    const struct mxg_cidr *cidr, uint16_t port, uint64_t count)
{
	char line[160], cs[MXG_CIDR_STRLEN];
	struct mxg_cidr key;
	uint64_t now, sec;
	uint32_t i;
	struct entry *e;
	int n;

	if (!p || !cidr || !addr_ok(&cidr->addr) ||
	    cidr->prefixlen > fam_max(cidr->addr.family))
		return -EINVAL;
	now = advance(p, now_ns);
	key = make_key(&cidr->addr, cidr->prefixlen);
	if (!p->cfg.rate_events || !range_allowed(p, &key) ||
	    covering_range(p, now, &key))
		return 0;
	i = entry_get(p, &key, now);
	e = &p->e[i];
	sec = now / MXG_SEC_NS + 1;
	if (e->rate_last_sec == sec)
		return 0;	/* one count per second, whatever the port */
	e->rate_last_sec = sec;
	push_ts(&p->rate_ts[(size_t)i * p->n_rate], p->n_rate, &e->rate_head,
		&e->rate_n, now);
	snprintf(line, sizeof(line),
		 "xdp: %s over the SYN rate limit on port %u (%llu drops)",
		 mxg_cidr_str(&key, cs, sizeof(cs)), port,
		 (unsigned long long)count);
	mxg_evidence_pool_add(p->pool, &key.addr, line, strlen(line));
	n = count_ts(p, &p->rate_ts[(size_t)i * p->n_rate], e->rate_n, now);
	if (n < (int)p->cfg.rate_events)
		return 0;
	n = make_ban(p, now, &key, MXG_REASON_RATE, (unsigned int)n, 0, NULL, port);
	e->rate_n = e->rate_head = 0;
	return n;
}

int mxg_policy_note_ban(struct mxg_policy *p, const struct mxg_cidr *cidr,
			uint64_t expires_ns, unsigned int ban_count)
{
	struct mxg_cidr key;
	struct ban_rec *r;

	if (!p || !cidr || !addr_ok(&cidr->addr) ||
	    cidr->prefixlen > fam_max(cidr->addr.family))
		return -EINVAL;
	key = make_key(&cidr->addr, cidr->prefixlen);
	r = ban_get(p, &key);
	if (!r)
		return -ENOSPC;
	if (!r->added_ns)
		r->added_ns = p->now;
	r->expires_ns = expires_ns;
	r->ban_count = ban_count ? ban_count : 1;
	unsaved_push(p, r);
	return 0;
}

int mxg_policy_note_unban(struct mxg_policy *p, const struct mxg_cidr *cidr)
{
	struct mxg_cidr key;
	struct ban_rec *r;
	uint32_t i, next;

	if (!p || !cidr || !addr_ok(&cidr->addr) ||
	    cidr->prefixlen > fam_max(cidr->addr.family))
		return -EINVAL;
	key = make_key(&cidr->addr, cidr->prefixlen);
	r = ban_find(p, &key);
	if (r)
		ban_unlink(p, r);
	mxg_evidence_pool_forget(p->pool, &key);
	/* Forget counting inside the range, and the range's memory of its hosts. */
	for (i = p->lru.head; i != NIL; i = next) {
		struct entry *e = &p->e[i];

		next = e->lru.next;
		if (mxg_cidr_within(&e->key, &key)) {
			entry_remove(p, i);
		} else if (mxg_cidr_within(&key, &e->key)) {
			struct host_slot *s = &p->slots[(size_t)i * p->n_slots];
			unsigned int k;

			for (k = 0; k < p->n_slots; k++)
				if (s[k].ts && mxg_cidr_contains(&key, &s[k].addr))
					memset(&s[k], 0, sizeof(s[k]));
		}
	}
	return r ? 0 : -ENOENT;
}

static bool entry_holds_bans(const struct mxg_policy *p, uint32_t i,
			     uint64_t now)
{
	const struct host_slot *s = &p->slots[(size_t)i * p->n_slots];
	unsigned int k;

	for (k = 0; k < p->n_slots; k++)
		if (s[k].qts && host_banned(p, now, &s[k].addr))
			return true;
	return false;
}

void mxg_policy_tick(struct mxg_policy *p, uint64_t now_ns)
{
	uint64_t now = advance(p, now_ns);
	uint32_t i, prev;

	bans_forget_old(p, now);
	/* From the least recently used: everything idle for findtime goes. */
	for (i = p->lru.tail; i != NIL; i = prev) {
		prev = p->e[i].lru.prev;
		if (in_window(p, p->e[i].last_ns, now))
			break;
		if (!entry_holds_bans(p, i, now))
			entry_remove(p, i);
	}
}

/* --- construction -------------------------------------------------------------- */

static void table_free(struct mxg_policy *p)
{
	free(p->buckets);
	free(p->e);
	free(p->fail_ts);
	free(p->rate_ts);
	free(p->slots);
	p->buckets = NULL;
	p->e = NULL;
	p->fail_ts = p->rate_ts = NULL;
	p->slots = NULL;
}

/* Allocate the counting table for cfg into p (whose table must be empty). */
static int table_alloc(struct mxg_policy *p, const struct mxg_policy_config *cfg)
{
	unsigned int i;

	p->cap = cfg->capacity;
	p->nbuckets = 1;
	while (p->nbuckets < p->cap)
		p->nbuckets <<= 1;
	p->n_slots = cfg->range_hosts > 2 ? cfg->range_hosts : 2;
	p->n_rate = cfg->rate_events ? cfg->rate_events : 1;
	p->buckets = malloc(sizeof(*p->buckets) * p->nbuckets);
	p->e = calloc(p->cap, sizeof(*p->e));
	p->fail_ts = calloc((size_t)p->cap * cfg->maxretry, sizeof(*p->fail_ts));
	p->rate_ts = calloc((size_t)p->cap * p->n_rate, sizeof(*p->rate_ts));
	p->slots = calloc((size_t)p->cap * p->n_slots, sizeof(*p->slots));
	if (!p->buckets || !p->e || !p->fail_ts || !p->rate_ts || !p->slots) {
		table_free(p);
		return -ENOMEM;
	}
	for (i = 0; i < p->nbuckets; i++)
		p->buckets[i] = NIL;
	for (i = 0; i < p->cap; i++) {
		p->e[i].hnext = i + 1 < p->cap ? i + 1 : NIL;
		p->e[i].lru.prev = p->e[i].lru.next = NIL;
	}
	p->free_head = 0;
	mxg_ilist_init(&p->lru);
	p->used = 0;
	return 0;
}

static int copy_lists(struct mxg_policy *p, const struct mxg_policy_config *cfg)
{
	struct mxg_cidr *ign = NULL;
	struct mxg_addr *own = NULL;

	if (cfg->n_ignoreip) {
		ign = malloc(sizeof(*ign) * cfg->n_ignoreip);
		if (!ign)
			return -ENOMEM;
		memcpy(ign, cfg->ignoreip, sizeof(*ign) * cfg->n_ignoreip);
	}
	if (cfg->n_own) {
		own = malloc(sizeof(*own) * cfg->n_own);
		if (!own) {
			free(ign);
			return -ENOMEM;
		}
		memcpy(own, cfg->own, sizeof(*own) * cfg->n_own);
	}
	free(p->ignore);
	free(p->own);
	p->ignore = ign;
	p->own = own;
	p->cfg = *cfg;
	p->cfg.ignoreip = ign;
	p->cfg.own = own;
	return 0;
}

struct mxg_policy *mxg_policy_new(const struct mxg_policy_config *cfg,
				  mxg_ban_fn fn, void *ctx)
{
	struct mxg_policy *p;
	int err;

	if (!cfg || mxg_policy_config_check(cfg, NULL, 0)) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		goto out_nomem;
	p->fn = fn;
	p->ctx = ctx;
	p->seed = cfg->hash_seed;
	if (!p->seed && getrandom(&p->seed, sizeof(p->seed), GRND_NONBLOCK) !=
			sizeof(p->seed))
		p->seed = mxg_mix64((uint64_t)(uintptr_t)p ^ (uint64_t)getpid());
	p->n_bbuckets = 1024;
	p->bans = calloc(p->n_bbuckets, sizeof(*p->bans));
	if (!p->bans)
		goto out_free;
	err = copy_lists(p, cfg);
	if (err)
		goto out_free;
	err = table_alloc(p, cfg);
	if (err)
		goto out_free;
	p->pool = mxg_evidence_pool_new(cfg->evidence_pool);
	if (!p->pool)
		goto out_free;
	return p;

out_free:
	mxg_policy_free(p);
out_nomem:
	errno = ENOMEM;
	return NULL;
}

void mxg_policy_free(struct mxg_policy *p)
{
	unsigned int i;

	if (!p)
		return;
	if (p->bans) {
		for (i = 0; i < p->n_bbuckets; i++) {
			struct ban_rec *r = p->bans[i], *next;

			for (; r; r = next) {
				next = r->next;
				free(r->lines);
				free(r);
			}
		}
		free(p->bans);
	}
	table_free(p);
	mxg_evidence_pool_free(p->pool);
	free(p->ignore);
	free(p->own);
	free(p);
}

int mxg_policy_reconfigure(struct mxg_policy *p,
			   const struct mxg_policy_config *cfg)
{
	struct mxg_policy tmp;
	struct mxg_evidence_pool *pool = NULL;
	bool rebuild;
	int err;

	if (!p || !cfg || mxg_policy_config_check(cfg, NULL, 0))
		return -EINVAL;
	rebuild = cfg->maxretry != p->cfg.maxretry ||
		  cfg->rate_events != p->cfg.rate_events ||
		  cfg->range_hosts != p->cfg.range_hosts ||
		  cfg->capacity != p->cfg.capacity;
	memset(&tmp, 0, sizeof(tmp));
	if (rebuild) {
		err = table_alloc(&tmp, cfg);
		if (err)
			return err;
	}
	if (cfg->evidence_pool != p->cfg.evidence_pool) {
		pool = mxg_evidence_pool_new(cfg->evidence_pool);
		if (!pool) {
			table_free(&tmp);
			return -ENOMEM;
		}
	}
	err = copy_lists(p, cfg);
	if (err) {
		table_free(&tmp);
		mxg_evidence_pool_free(pool);
		return err;
	}
	p->cfg.hash_seed = p->seed;
	if (rebuild) {
		table_free(p);
		p->cap = tmp.cap;
		p->nbuckets = tmp.nbuckets;
		p->n_slots = tmp.n_slots;
		p->n_rate = tmp.n_rate;
		p->buckets = tmp.buckets;
		p->e = tmp.e;
		p->fail_ts = tmp.fail_ts;
		p->rate_ts = tmp.rate_ts;
		p->slots = tmp.slots;
		p->free_head = tmp.free_head;
		p->lru = tmp.lru;
		p->used = 0;
	}
	if (pool) {
		mxg_evidence_pool_free(p->pool);
		p->pool = pool;
	}
	return 0;
}

/* --- queries ------------------------------------------------------------------ */

unsigned int mxg_policy_entries(const struct mxg_policy *p)
{
	return p->used;
}

unsigned int mxg_policy_bans(const struct mxg_policy *p)
{
	return p->n_bans;
}

unsigned int mxg_policy_failures(const struct mxg_policy *p, uint64_t now_ns,
				 const struct mxg_addr *addr)
{
	struct mxg_cidr k;
	uint32_t i;

	if (!addr_ok(addr))
		return 0;
	k = make_key(addr, fam_max(addr->family));
	i = entry_find(p, &k);
	return i == NIL ? 0 : host_window(p, i, now_ns);
}

static void fill_info(const struct ban_rec *r, uint64_t now,
		      struct mxg_ban_info *out)
{
	out->cidr = r->cidr;
	out->added_ns = r->added_ns;
	out->expires_ns = r->expires_ns;
	out->ban_count = r->ban_count;
	out->reason = r->reason;
	out->failures = r->failures;
	out->active = ban_active(r, now);
	out->saved = r->saved;
	out->n_lines = r->n_lines;
}

int mxg_policy_ban_info(const struct mxg_policy *p, uint64_t now_ns,
			const struct mxg_cidr *cidr, struct mxg_ban_info *out)
{
	struct mxg_cidr key;
	const struct ban_rec *r;

	if (!addr_ok(&cidr->addr) || cidr->prefixlen > fam_max(cidr->addr.family))
		return -EINVAL;
	key = make_key(&cidr->addr, cidr->prefixlen);
	r = ban_find(p, &key);
	if (!r)
		return -ENOENT;
	fill_info(r, now_ns, out);
	return 0;
}

int mxg_policy_for_each_ban(const struct mxg_policy *p, uint64_t now_ns,
			    int (*fn)(const struct mxg_ban_info *info, void *ctx),
			    void *ctx)
{
	struct mxg_ban_info info;
	unsigned int i;
	int err;

	for (i = 0; i < p->n_bbuckets; i++) {
		const struct ban_rec *r;

		for (r = p->bans[i]; r; r = r->next) {
			fill_info(r, now_ns, &info);
			err = fn(&info, ctx);
			if (err)
				return err;
		}
	}
	return 0;
}

int mxg_policy_evidence(const struct mxg_policy *p, const struct mxg_cidr *cidr,
			int (*fn)(const char *line, void *ctx), void *ctx)
{
	struct mxg_cidr key;
	const struct ban_rec *r;
	const char *s;
	unsigned int k;
	int err;

	if (!addr_ok(&cidr->addr) || cidr->prefixlen > fam_max(cidr->addr.family))
		return -EINVAL;
	key = make_key(&cidr->addr, cidr->prefixlen);
	r = ban_find(p, &key);
	if (!r)
		return -ENOENT;
	for (k = 0, s = r->lines; k < r->n_lines; k++, s += strlen(s) + 1) {
		err = fn(s, ctx);
		if (err)
			return err;
	}
	return 0;
}

void mxg_policy_mark_saved(struct mxg_policy *p, const struct mxg_cidr *cidr)
{
	struct mxg_cidr key;
	struct ban_rec *r;

	if (!addr_ok(&cidr->addr) || cidr->prefixlen > fam_max(cidr->addr.family))
		return;
	key = make_key(&cidr->addr, cidr->prefixlen);
	r = ban_find(p, &key);
	if (r) {
		r->saved = true;
		unsaved_del(p, r);
	}
}

int mxg_policy_for_each_unsaved(struct mxg_policy *p, uint64_t now_ns,
				unsigned int max,
				int (*fn)(const struct mxg_ban_info *info, void *ctx),
				void *ctx)
{
	struct mxg_ban_info info;
	struct ban_rec *r, *next;
	unsigned int n = 0;
	int err;

	for (r = p->u_head; r && n < max; r = next) {
		next = r->u_next;
		fill_info(r, now_ns, &info);
		n++;
		err = fn(&info, ctx);
		if (err)
			return err;
	}
	return 0;
}
