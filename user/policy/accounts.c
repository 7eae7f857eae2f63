// SPDX-License-Identifier: GPL-2.0
/* The attacked accounts and the compromise alert: see accounts.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "accounts.h"
#include "hash.h"
#include "ilist.h"

#define NIL MXG_NIL

/* --- a fixed-size hash table with an LRU list, by index ------------------ */

struct node {
	uint64_t score;		/* eviction: the lowest of a sample goes */
	uint32_t hnext;		/* hash chain */
	struct mxg_ilink lru;	/* head = most recently used */
	uint32_t hash;
	bool used;
};

struct tbl {
	unsigned int cap, nbuckets, used;
	uint32_t *buckets;
	struct node *n;
	struct mxg_ilist lru;
	uint32_t free_head;
	uint64_t evicted;
};

static int tbl_init(struct tbl *t, unsigned int cap)
{
	unsigned int i;

	t->cap = cap;
	for (t->nbuckets = 1; t->nbuckets < cap; t->nbuckets <<= 1)
		;
	t->buckets = malloc(sizeof(*t->buckets) * t->nbuckets);
	t->n = calloc(cap, sizeof(*t->n));
	if (!t->buckets || !t->n)
		return -ENOMEM;
	for (i = 0; i < t->nbuckets; i++)
		t->buckets[i] = NIL;
	for (i = 0; i < cap; i++)
		t->n[i].hnext = i + 1 < cap ? i + 1 : NIL;
	t->free_head = 0;
	mxg_ilist_init(&t->lru);
	t->used = 0;
	return 0;
}

static void tbl_free(struct tbl *t)
{
	free(t->buckets);
	free(t->n);
}

#define TBL_LRU(t) &(t)->lru, (t)->n, sizeof(*(t)->n), offsetof(struct node, lru)

static void tbl_touch(struct tbl *t, uint32_t i)
{
	mxg_ilist_touch(TBL_LRU(t), i);
}

/* Take i out of its chain and the LRU list, onto the free list. */
static void tbl_remove(struct tbl *t, uint32_t i)
{
	uint32_t *pp = &t->buckets[t->n[i].hash & (t->nbuckets - 1)];

	while (*pp != NIL && *pp != i)
		pp = &t->n[*pp].hnext;
	if (*pp == i)
		*pp = t->n[i].hnext;
	mxg_ilist_unlink(TBL_LRU(t), i);
	t->n[i].used = false;
	t->n[i].hnext = t->free_head;
	t->free_head = i;
	t->used--;
}

/*
 * A slot for a new entry of hash h: a free one, or the least valuable of
 * the MXG_ACCT_EVICT_SAMPLE least recently used (the lowest score goes
 * first; the score lives in the node, so weighing them touches no
 * payload). The caller fills its payload.
 */
static uint32_t tbl_take(struct tbl *t, uint32_t h)
{
	uint32_t i, best = NIL, *b;
	uint64_t s, best_s = UINT64_MAX;
	unsigned int k;

	if (t->free_head == NIL) {
		for (i = t->lru.tail, k = 0; i != NIL && k < MXG_ACCT_EVICT_SAMPLE;
		     i = t->n[i].lru.prev, k++) {
			s = t->n[i].score;
			if (s < best_s) {
				best_s = s;
				best = i;
			}
		}
		tbl_remove(t, best);
		t->evicted++;
	}
	i = t->free_head;
	t->free_head = t->n[i].hnext;
	b = &t->buckets[h & (t->nbuckets - 1)];
	t->n[i].hash = h;
	t->n[i].score = 0;
	t->n[i].used = true;
	t->n[i].hnext = *b;
	*b = i;
	mxg_ilist_push_head(TBL_LRU(t), i);
	t->used++;
	return i;
}

/* --- the store ------------------------------------------------------------ */

/* A failing host or range, and what it tried during its current run. */
struct src {
	struct mxg_cidr key;
	int64_t first, last;
	uint32_t failures;
	uint32_t distinct;		/* accounts tried (exact + Bloom) */
	unsigned int n_tried;
	uint32_t tried_hash[MXG_ACCT_TRIED];
	uint32_t tried_fail[MXG_ACCT_TRIED];
	uint64_t bloom[4];		/* accounts past the exact ones */
	uint8_t name_len[MXG_ACCT_EVIDENCE_NAMES];
	char names[MXG_ACCT_EVIDENCE_NAMES][MXG_ACCT_NAME_MAX];
};

struct mxg_accounts {
	struct mxg_accounts_config cfg;
	uint64_t seed;
	struct tbl at;			/* accounts */
	struct mxg_account *acc;
	struct tbl st;			/* failing sources */
	struct src *src;
	uint64_t failures, successes, alerts;
};

static uint32_t bytes_hash(uint64_t seed, const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL ^ seed;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ s[i]) * 1099511628211ULL;
	return (uint32_t)mxg_mix64(h ^ len);
}

/*
 * The per-account source set keeps these hashes, and accounts.state keeps
 * the set: they must mean the same after a restart (a new random seed),
 * so they take a fixed one. They index no table: a chosen collision only
 * makes two sources count as one.
 */
static uint32_t addr_hash(const struct mxg_addr *a)
{
	return bytes_hash(0x6d786775617264ULL, a, sizeof(*a));
}

static uint32_t cidr_hash(uint64_t seed, const struct mxg_cidr *c)
{
	return (uint32_t)mxg_cidr_hash(seed, c);
}

static bool addr_ok(const struct mxg_addr *a)
{
	return a && (a->family == 4 || a->family == 6);
}

void mxg_accounts_config_defaults(struct mxg_accounts_config *c)
{
	memset(c, 0, sizeof(*c));
	c->capacity = 32768;
	c->src_capacity = 16384;
	c->window = 3600;
	c->min_failures = 3;
	c->guess_accounts = 3;
	c->prefix_v4 = 24;
	c->prefix_v6 = 64;
}

int mxg_accounts_config_check(const struct mxg_accounts_config *c, char *err,
			      size_t errlen)
{
	const char *key = NULL, *why = NULL;

	if (c->capacity < MXG_ACCT_CAPACITY_MIN || c->capacity > MXG_ACCT_CAPACITY_MAX)
		key = "capacity", why = "out of range";
	else if (c->src_capacity < MXG_ACCT_CAPACITY_MIN ||
		 c->src_capacity > MXG_ACCT_CAPACITY_MAX)
		key = "src_capacity", why = "out of range";
	else if (c->window < 1)
		key = "compromise_window", why = "must be at least 1s";
	else if (c->min_failures < 1)
		key = "compromise_failures", why = "must be at least 1";
	else if (c->guess_accounts < 2)
		key = "compromise_accounts", why = "must be at least 2";
	else if (c->prefix_v4 < 8 || c->prefix_v4 > 32)
		key = "range_v4", why = "must be 8..32";
	else if (c->prefix_v6 < 16 || c->prefix_v6 > 128)
		key = "range_v6", why = "must be 16..128";
	if (!key)
		return 0;
	snprintf(err, errlen, "%s: %s", key, why);
	return -EINVAL;
}

struct mxg_accounts *mxg_accounts_new(const struct mxg_accounts_config *c)
{
	struct mxg_accounts *a;
	char err[128];

	if (mxg_accounts_config_check(c, err, sizeof(err))) {
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->cfg = *c;
	a->seed = c->hash_seed;
	if (!a->seed && getrandom(&a->seed, sizeof(a->seed), 0) != sizeof(a->seed))
		a->seed = 0x9e3779b97f4a7c15ULL;
	a->acc = calloc(c->capacity, sizeof(*a->acc));
	a->src = calloc(c->src_capacity, sizeof(*a->src));
	if (!a->acc || !a->src || tbl_init(&a->at, c->capacity) ||
	    tbl_init(&a->st, c->src_capacity)) {
		mxg_accounts_free(a);
		errno = ENOMEM;
		return NULL;
	}
	return a;
}

void mxg_accounts_free(struct mxg_accounts *a)
{
	if (!a)
		return;
	tbl_free(&a->at);
	tbl_free(&a->st);
	free(a->acc);
	free(a->src);
	free(a);
}

int mxg_accounts_reconfigure(struct mxg_accounts *a,
			     const struct mxg_accounts_config *c)
{
	struct mxg_accounts_config next = *c;
	char err[128];

	next.capacity = a->cfg.capacity;
	next.src_capacity = a->cfg.src_capacity;
	next.hash_seed = a->cfg.hash_seed;
	if (mxg_accounts_config_check(&next, err, sizeof(err)))
		return -EINVAL;
	a->cfg = next;
	return 0;
}

/* --- accounts --------------------------------------------------------------- */

static unsigned int name_len(const char *user, bool *cut)
{
	size_t n = strlen(user);

	*cut = n > MXG_ACCT_NAME_MAX;
	return (unsigned int)(*cut ? MXG_ACCT_NAME_MAX : n);
}

static uint32_t acct_find(const struct mxg_accounts *a, const char *name,
			  unsigned int len, uint32_t h)
{
	uint32_t i;

	for (i = a->at.buckets[h & (a->at.nbuckets - 1)]; i != NIL;
	     i = a->at.n[i].hnext)
		if (a->at.n[i].hash == h && a->acc[i].len == len &&
		    !memcmp(a->acc[i].name, name, len))
			return i;
	return NIL;
}

/* Accounts that logged in or were flagged are kept before failures alone. */
static uint64_t acct_value(const struct mxg_account *acc)
{
	uint64_t s = acc->failures < (1ULL << 40) ? acc->failures : (1ULL << 40) - 1;

	if (acc->successes)
		s += 1ULL << 40;
	if (acc->compromised)
		s += 1ULL << 50;
	return s;
}

/* After a change to account acc: its node's score follows. */
static void acct_scored(struct mxg_accounts *a, struct mxg_account *acc)
{
	a->at.n[acc - a->acc].score = acct_value(acc);
}

static struct mxg_account *acct_get(struct mxg_accounts *a, const char *name,
				    unsigned int len, bool cut, int64_t now)
{
	uint32_t h = bytes_hash(a->seed, name, len), i;
	struct mxg_account *acc;

	i = acct_find(a, name, len, h);
	if (i != NIL) {
		tbl_touch(&a->at, i);
		return &a->acc[i];
	}
	i = tbl_take(&a->at, h);
	acc = &a->acc[i];
	memset(acc, 0, sizeof(*acc));
	memcpy(acc->name, name, len);
	acc->len = len;
	acc->cut = cut;
	acc->first = now;
	return acc;
}

static void acct_source(struct mxg_accounts *a, struct mxg_account *acc,
			const struct mxg_addr *addr)
{
	uint32_t h = addr_hash(addr);
	unsigned int i;

	acc->src_bits[(h & 255) / 64] |= 1ULL << (h & 63);
	for (i = 0; i < acc->n_src_exact; i++)
		if (acc->src_exact[i] == h)
			return;
	if (acc->n_src_exact < MXG_ACCT_SRC_EXACT)
		acc->src_exact[acc->n_src_exact++] = h;
}

/* ln(x) for 0 < x <= 1, without libm: x = m * 2^k, then a short series. */
static double ln_small(double x)
{
	double y, y2, sum = 0, term;
	int k = 0, n;

	while (x < 0.5) {
		x *= 2;
		k++;
	}
	y = (x - 1) / (x + 1);		/* |y| <= 1/3 */
	y2 = y * y;
	term = y;
	for (n = 1; n < 40; n += 2) {
		sum += term / n;
		term *= y2;
	}
	return 2 * sum - k * 0.6931471805599453;
}

/* Distinct sources: exact up to MXG_ACCT_SRC_EXACT, then linear counting. */
static void acct_fill_sources(struct mxg_account *acc)
{
	unsigned int zeros = 256, i;
	double est;

	acc->sources = acc->n_src_exact;
	acc->sources_approx = false;
	if (acc->n_src_exact < MXG_ACCT_SRC_EXACT)
		return;
	for (i = 0; i < 4; i++)
		zeros -= (unsigned int)__builtin_popcountll(acc->src_bits[i]);
	est = zeros ? -256.0 * ln_small((double)zeros / 256.0) : 256.0 * 5.55;
	if (est > acc->sources) {
		acc->sources = (unsigned int)(est + 0.5);
		acc->sources_approx = true;
	}
}

/* --- failing sources -------------------------------------------------------- */

static uint32_t src_find(const struct mxg_accounts *a, const struct mxg_cidr *k,
			 uint32_t h)
{
	uint32_t i;

	for (i = a->st.buckets[h & (a->st.nbuckets - 1)]; i != NIL;
	     i = a->st.n[i].hnext)
		if (a->st.n[i].hash == h && a->src[i].key.prefixlen == k->prefixlen &&
		    mxg_addr_equal(&a->src[i].key.addr, &k->addr))
			return i;
	return NIL;
}

static struct mxg_cidr key_of(const struct mxg_addr *addr, unsigned int plen)
{
	struct mxg_cidr c = { .addr = *addr, .prefixlen = plen };

	mxg_addr_mask(&c.addr, plen);
	return c;
}

static void src_failure(struct mxg_accounts *a, const struct mxg_cidr *key,
			int64_t now, const char *name, unsigned int len,
			uint32_t nh, unsigned int attempts)
{
	uint32_t h = cidr_hash(a->seed, key), i;
	unsigned int k, b1, b2;
	struct src *s;

	i = src_find(a, key, h);
	if (i == NIL) {
		i = tbl_take(&a->st, h);
		memset(&a->src[i], 0, sizeof(a->src[i]));
		a->src[i].key = *key;
	} else {
		tbl_touch(&a->st, i);
	}
	s = &a->src[i];
	/* Quiet for a whole window: a new run starts. */
	if (s->failures && now - s->last > a->cfg.window) {
		memset(s, 0, sizeof(*s));
		s->key = *key;
	}
	if (!s->failures)
		s->first = now;
	if (now > s->last)
		s->last = now;
	s->failures += attempts;
	if (!len)
		return;
	for (k = 0; k < s->n_tried; k++) {
		if (s->tried_hash[k] == nh) {
			s->tried_fail[k] += attempts;
			return;
		}
	}
	if (s->n_tried < MXG_ACCT_TRIED) {
		k = s->n_tried++;
		s->tried_hash[k] = nh;
		s->tried_fail[k] = attempts;
		s->distinct++;
		if (k < MXG_ACCT_EVIDENCE_NAMES) {
			memcpy(s->names[k], name, len);
			s->name_len[k] = (uint8_t)len;
		}
		return;
	}
	b1 = nh & 255;
	b2 = (nh >> 8) & 255;
	if (!(s->bloom[b1 / 64] & (1ULL << (b1 % 64))) ||
	    !(s->bloom[b2 / 64] & (1ULL << (b2 % 64))))
		s->distinct++;
	s->bloom[b1 / 64] |= 1ULL << (b1 % 64);
	s->bloom[b2 / 64] |= 1ULL << (b2 % 64);
}

void mxg_accounts_failure(struct mxg_accounts *a, int64_t now,
			  const struct mxg_addr *addr, const char *user,
			  unsigned int attempts)
{
	struct mxg_cidr host, range;
	struct mxg_account *acc;
	unsigned int len = 0;
	uint32_t nh = 0;
	bool cut = false;

	if (!a || !addr_ok(addr) || !attempts)
		return;
	a->failures += attempts;
	if (user && *user) {
		len = name_len(user, &cut);
		nh = bytes_hash(a->seed, user, len);
		acc = acct_get(a, user, len, cut, now);
		acc->failures += attempts;
		if (now > acc->last)
			acc->last = now;
		acct_source(a, acc, addr);
		acct_scored(a, acc);
	}
	host = key_of(addr, addr->family == 4 ? 32 : 128);
	range = key_of(addr, addr->family == 4 ? a->cfg.prefix_v4 : a->cfg.prefix_v6);
	src_failure(a, &host, now, user, len, nh, attempts);
	if (range.prefixlen != host.prefixlen)
		src_failure(a, &range, now, user, len, nh, attempts);
}

/* How many failures source s had against the account of hash nh (run). */
static unsigned int src_account_failures(const struct src *s, uint32_t nh)
{
	unsigned int k, b1 = nh & 255, b2 = (nh >> 8) & 255;

	for (k = 0; k < s->n_tried; k++)
		if (s->tried_hash[k] == nh)
			return s->tried_fail[k];
	/* Only in the Bloom filter: tried, count unknown; at least once. */
	if (s->n_tried == MXG_ACCT_TRIED &&
	    (s->bloom[b1 / 64] & (1ULL << (b1 % 64))) &&
	    (s->bloom[b2 / 64] & (1ULL << (b2 % 64))))
		return 1;
	return 0;
}

/* Does source key qualify as the guesser behind a login to nh at now? */
static const struct src *src_guilty(const struct mxg_accounts *a,
				    const struct mxg_cidr *key, uint32_t nh,
				    int64_t now, unsigned int *acct_fail)
{
	uint32_t i = src_find(a, key, cidr_hash(a->seed, key));
	const struct src *s;

	if (i == NIL)
		return NULL;
	s = &a->src[i];
	if (!s->failures || now - s->last > a->cfg.window || s->last - now > a->cfg.window)
		return NULL;
	*acct_fail = src_account_failures(s, nh);
	if (*acct_fail >= a->cfg.min_failures || s->distinct >= a->cfg.guess_accounts)
		return s;
	return NULL;
}

int mxg_accounts_success(struct mxg_accounts *a, int64_t now,
			 const struct mxg_addr *addr, const char *user,
			 struct mxg_compromise *out)
{
	struct mxg_cidr host, range, prev;
	struct mxg_account *acc;
	const struct src *s;
	unsigned int len, af = 0, k;
	uint32_t nh;
	bool cut;

	if (!a || !addr_ok(addr) || !user || !*user)
		return -EINVAL;
	a->successes++;
	len = name_len(user, &cut);
	nh = bytes_hash(a->seed, user, len);
	acc = acct_get(a, user, len, cut, now);
	acc->successes++;
	if (now > acc->last)
		acc->last = now;
	acc->last_success = now;
	acc->last_success_addr = *addr;
	acct_source(a, acc, addr);
	acct_scored(a, acc);

	host = key_of(addr, addr->family == 4 ? 32 : 128);
	range = key_of(addr, addr->family == 4 ? a->cfg.prefix_v4 : a->cfg.prefix_v6);
	s = src_guilty(a, &host, nh, now, &af);
	if (!s && range.prefixlen != host.prefixlen)
		s = src_guilty(a, &range, nh, now, &af);
	if (!s)
		return 0;
	/* One alert per account and range per window. */
	if (acc->compromised && now - acc->compromised <= a->cfg.window &&
	    acc->compromise_addr.family == addr->family) {
		prev = key_of(&acc->compromise_addr, range.prefixlen);
		if (mxg_addr_equal(&prev.addr, &range.addr))
			return 0;
	}
	acc->compromised = now;
	acc->compromise_addr = *addr;
	acct_scored(a, acc);
	a->alerts++;
	if (!out)
		return 1;
	memset(out, 0, sizeof(*out));
	out->name = acc->name;
	out->name_len = acc->len;
	out->addr = *addr;
	out->source = s->key;
	out->failures = s->failures;
	out->account_failures = af;
	out->accounts_tried = s->distinct;
	out->first = s->first;
	out->last = s->last;
	out->guesser = s->distinct >= a->cfg.guess_accounts;
	for (k = 0; k < s->n_tried && k < MXG_ACCT_EVIDENCE_NAMES; k++) {
		memcpy(out->names[k], s->names[k], s->name_len[k]);
		out->names_len[k] = s->name_len[k];
	}
	out->n_names = k;
	return 1;
}

int mxg_accounts_get(const struct mxg_accounts *a, const char *user,
		     size_t len, struct mxg_account *out)
{
	uint32_t i;

	if (len > MXG_ACCT_NAME_MAX)
		len = MXG_ACCT_NAME_MAX;
	i = acct_find(a, user, (unsigned int)len,
		      bytes_hash(a->seed, user, len));
	if (i == NIL)
		return -ENOENT;
	*out = a->acc[i];
	acct_fill_sources(out);
	return 0;
}

int mxg_accounts_each(const struct mxg_accounts *a,
		      int (*fn)(const struct mxg_account *acc, void *arg),
		      void *arg)
{
	struct mxg_account acc;
	uint32_t i;
	int ret;

	for (i = a->at.lru.head; i != NIL; i = a->at.n[i].lru.next) {
		acc = a->acc[i];
		acct_fill_sources(&acc);
		ret = fn(&acc, arg);
		if (ret)
			return ret;
	}
	return 0;
}

unsigned int mxg_accounts_copy(const struct mxg_accounts *a,
			       struct mxg_account *out, unsigned int max)
{
	unsigned int n = 0;
	uint32_t i;

	/* In table order, not LRU order: one sequential pass over memory. */
	for (i = 0; i < a->at.cap && n < max; i++)
		if (a->at.n[i].used)
			out[n++] = a->acc[i];
	return n;
}

unsigned int mxg_accounts_capacity(const struct mxg_accounts *a)
{
	return a->cfg.capacity;
}

void mxg_accounts_stats(const struct mxg_accounts *a,
			struct mxg_accounts_stats *st)
{
	st->accounts = a->at.used;
	st->sources = a->st.used;
	st->evicted = a->at.evicted;
	st->src_evicted = a->st.evicted;
	st->failures = a->failures;
	st->successes = a->successes;
	st->alerts = a->alerts;
}

int mxg_accounts_restore(struct mxg_accounts *a, const struct mxg_account *in)
{
	uint32_t h, i;

	if (!in->len || in->len > MXG_ACCT_NAME_MAX ||
	    in->n_src_exact > MXG_ACCT_SRC_EXACT)
		return -EINVAL;
	h = bytes_hash(a->seed, in->name, in->len);
	i = acct_find(a, in->name, in->len, h);
	if (i != NIL) {
		if (a->acc[i].last >= in->last)
			return 0;
	} else {
		/* Full of accounts worth more: this one stays out. */
		if (a->at.free_head == NIL && a->at.lru.tail != NIL &&
		    a->at.n[a->at.lru.tail].score > acct_value(in))
			return -ENOSPC;
		i = tbl_take(&a->at, h);
	}
	a->acc[i] = *in;
	acct_scored(a, &a->acc[i]);
	a->acc[i].sources = 0;
	a->acc[i].sources_approx = false;
	return 0;
}

/* --- text ------------------------------------------------------------------- */

const char *mxg_acct_escape(const char *name, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)name;
	char *o = out;
	size_t i;

	if (len > MXG_ACCT_NAME_MAX)
		len = MXG_ACCT_NAME_MAX;
	for (i = 0; i < len; i++) {
		if (p[i] > ' ' && p[i] < 0x7f && p[i] != '\\') {
			*o++ = (char)p[i];
			continue;
		}
		*o++ = '\\';
		*o++ = 'x';
		*o++ = hex[p[i] >> 4];
		*o++ = hex[p[i] & 15];
	}
	*o = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mxg_acct_unescape(const char *s, size_t slen, char *out, size_t max,
		      size_t *len)
{
	size_t i, n = 0;
	int hi, lo;

	for (i = 0; i < slen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (n == max)
			return -EINVAL;
		if (c == '\\') {
			if (i + 3 >= slen || s[i + 1] != 'x')
				return -EINVAL;
			hi = hexval(s[i + 2]);
			lo = hexval(s[i + 3]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			out[n++] = (char)(hi << 4 | lo);
			i += 3;
			continue;
		}
		if (c <= ' ' || c >= 0x7f)
			return -EINVAL;
		out[n++] = (char)c;
	}
	*len = n;
	return 0;
}

static void put_hashes(char **o, char *end, const uint32_t *v, unsigned int n)
{
	unsigned int i;

	if (!n)
		*o += snprintf(*o, (size_t)(end - *o), " -");
	for (i = 0; i < n && *o < end; i++)
		*o += snprintf(*o, (size_t)(end - *o), "%s%08x", i ? "," : " ", v[i]);
}

size_t mxg_acct_state_line(const struct mxg_account *acc, char *buf,
			   size_t size)
{
	char esc[MXG_ACCT_ESC_MAX], a1[MXG_ADDR_STRLEN], a2[MXG_ADDR_STRLEN];
	char *o = buf, *end = buf + size;
	int n;

	n = snprintf(o, size, "%s %d %llu %llu %lld %lld %lld %s %lld %s",
		     mxg_acct_escape(acc->name, acc->len, esc), acc->cut,
		     (unsigned long long)acc->failures,
		     (unsigned long long)acc->successes, (long long)acc->first,
		     (long long)acc->last, (long long)acc->last_success,
		     acc->last_success ? mxg_addr_str(&acc->last_success_addr, a1, sizeof(a1)) : "-",
		     (long long)acc->compromised,
		     acc->compromised ? mxg_addr_str(&acc->compromise_addr, a2, sizeof(a2)) : "-");
	if (n < 0 || (size_t)n >= size)
		return 0;
	o += n;
	put_hashes(&o, end, acc->src_exact, acc->n_src_exact);
	if (o >= end)
		return 0;
	n = snprintf(o, (size_t)(end - o), " %016llx,%016llx,%016llx,%016llx",
		     (unsigned long long)acc->src_bits[0],
		     (unsigned long long)acc->src_bits[1],
		     (unsigned long long)acc->src_bits[2],
		     (unsigned long long)acc->src_bits[3]);
	if (n < 0 || n >= end - o)
		return 0;
	return (size_t)(o + n - buf);
}

/* The next space-separated field of [*p, e) into [*f, *fe). */
static bool field(const char **p, const char *e, const char **f, size_t *flen)
{
	const char *s = *p, *t;

	while (s < e && *s == ' ')
		s++;
	if (s == e)
		return false;
	for (t = s; t < e && *t != ' '; t++)
		;
	*f = s;
	*flen = (size_t)(t - s);
	*p = t;
	return true;
}

static int num(const char *f, size_t n, bool sign, long long *out)
{
	char buf[32];
	char *end;

	if (!n || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, f, n);
	buf[n] = '\0';
	if (!isdigit((unsigned char)buf[0]) && !(sign && buf[0] == '-'))
		return -EINVAL;
	errno = 0;
	*out = strtoll(buf, &end, 10);
	if (errno || *end || (!sign && *out < 0))
		return -EINVAL;
	return 0;
}

static int addr_field(const char *f, size_t n, struct mxg_addr *a)
{
	if (n == 1 && *f == '-') {
		memset(a, 0, sizeof(*a));
		return 0;
	}
	return mxg_addr_parse(f, n, a);
}

static int hex_list(const char *f, size_t n, uint64_t *v, unsigned int max,
		    unsigned int digits, unsigned int *count)
{
	unsigned int k = 0, i;
	int d;

	if (n == 1 && *f == '-') {
		*count = 0;
		return 0;
	}
	while (n) {
		if (k == max || n < digits)
			return -EINVAL;
		v[k] = 0;
		for (i = 0; i < digits; i++) {
			d = hexval(f[i]);
			if (d < 0)
				return -EINVAL;
			v[k] = v[k] << 4 | (uint64_t)d;
		}
		k++;
		f += digits;
		n -= digits;
		if (n) {
			if (*f != ',')
				return -EINVAL;
			f++;
			n--;
			if (!n)
				return -EINVAL;
		}
	}
	*count = k;
	return 0;
}

int mxg_acct_state_parse(const char *line, size_t len, struct mxg_account *acc)
{
	const char *p = line, *e = line + len, *f;
	long long v[8];
	uint64_t h[MXG_ACCT_SRC_EXACT];
	unsigned int i, n;
	size_t fl, nl;

	memset(acc, 0, sizeof(*acc));
	/* A name from a log line never holds a NUL: nor may one read back. */
	if (!field(&p, e, &f, &fl) ||
	    mxg_acct_unescape(f, fl, acc->name, MXG_ACCT_NAME_MAX, &nl) || !nl ||
	    memchr(acc->name, '\0', nl))
		return -EINVAL;
	acc->len = (unsigned int)nl;
	for (i = 0; i < 6; i++)
		if (!field(&p, e, &f, &fl) || num(f, fl, i >= 3, &v[i]))
			return -EINVAL;
	if (v[0] > 1)
		return -EINVAL;
	acc->cut = v[0];
	acc->failures = (uint64_t)v[1];
	acc->successes = (uint64_t)v[2];
	acc->first = v[3];
	acc->last = v[4];
	acc->last_success = v[5];
	if (!field(&p, e, &f, &fl) || addr_field(f, fl, &acc->last_success_addr) ||
	    !field(&p, e, &f, &fl) || num(f, fl, true, &v[6]) ||
	    !field(&p, e, &f, &fl) || addr_field(f, fl, &acc->compromise_addr))
		return -EINVAL;
	acc->compromised = v[6];
	if ((acc->last_success && !acc->last_success_addr.family) ||
	    (acc->compromised && !acc->compromise_addr.family))
		return -EINVAL;
	if (!field(&p, e, &f, &fl) ||
	    hex_list(f, fl, h, MXG_ACCT_SRC_EXACT, 8, &n))
		return -EINVAL;
	for (i = 0; i < n; i++)
		acc->src_exact[i] = (uint32_t)h[i];
	acc->n_src_exact = n;
	if (!field(&p, e, &f, &fl) || hex_list(f, fl, acc->src_bits, 4, 16, &n) ||
	    n != 4 || field(&p, e, &f, &fl))
		return -EINVAL;
	return 0;
}

bool mxg_acct_is_role(const char *list, const char *name, size_t len)
{
	const char *p = list;
	size_t n;

	if (!list)
		return false;
	while (*p) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		n = strcspn(p, " ,\t");
		if (n && n == len && !strncasecmp(p, name, n))
			return true;
		p += n;
	}
	return false;
}
