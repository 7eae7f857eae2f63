// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "maps.h"

_Static_assert(sizeof(struct mxg_config) == 16, "mxg_config layout");
_Static_assert(sizeof(struct mxg_port_limit) == 8, "mxg_port_limit layout");
_Static_assert(sizeof(struct mxg_lpm_v4) == 8, "mxg_lpm_v4 layout");
_Static_assert(sizeof(struct mxg_lpm_v6) == 20, "mxg_lpm_v6 layout");
_Static_assert(sizeof(struct mxg_deny) == 64, "mxg_deny layout");
_Static_assert(sizeof(struct mxg_allow) == 24, "mxg_allow layout");
_Static_assert(sizeof(struct mxg_rate_v4) == 8, "mxg_rate_v4 layout");
_Static_assert(sizeof(struct mxg_rate_v6) == 24, "mxg_rate_v6 layout");
_Static_assert(sizeof(struct mxg_bucket) == 32, "mxg_bucket layout");
_Static_assert(sizeof(struct mxg_stats) % 8 == 0, "mxg_stats layout");
_Static_assert(sizeof(struct mxg_event) == 48, "mxg_event layout");

#define MXG_MAP_DESC(n, k, f) { #n, offsetof(struct mxg_maps, n), k, f },
const struct mxg_map_desc mxg_map_list[MXG_N_MAPS] = { MXG_MAPS(MXG_MAP_DESC) };
#undef MXG_MAP_DESC

/* count_keys reads keys into a fixed buffer. */
#define MXG_MAP_KEY_FITS(n, k, f) _Static_assert((k) <= 32, #n " key fits count_keys");
MXG_MAPS(MXG_MAP_KEY_FITS)
#undef MXG_MAP_KEY_FITS

#define F(name, help) { #name, offsetof(struct mxg_stats, name), help }
const struct mxg_stat_field mxg_stat_fields[] = {
	F(packets, "frames seen by the XDP program"),
	F(passed, "frames passed to the stack"),
	F(dropped, "frames dropped"),
	F(malformed, "truncated or invalid headers, passed"),
	F(non_ip, "not IPv4 or IPv6, passed"),
	F(smtp_syn, "new connections to a protected port"),
	F(allowlisted, "passed because allowlisted"),
	F(denied, "dropped by the denylist"),
	F(deny_expired, "matched an expired ban, passed"),
	F(rate_limited, "SYNs dropped by the rate limit"),
	F(monitor_deny, "monitor mode: would have been denied"),
	F(monitor_rate, "monitor mode: would have been rate limited"),
	F(events, "events sent to the daemon"),
	F(events_lost, "events lost, ring buffer full"),
	F(cas_busy, "bucket updates given up under contention, passed"),
	F(frag_denied, "fragments from a denied source, dropped whatever the scope"),
	F(frag_invalid, "tiny or overlapping TCP fragments (RFC 1858/3128/7112), dropped"),
	F(monitor_frag, "monitor mode: would have been dropped as frag_invalid"),
	F(deny_cached, "of the denylist's drops, judged by the /24 deny cache"),
};
#undef F
const unsigned int mxg_n_stat_fields =
	sizeof(mxg_stat_fields) / sizeof(mxg_stat_fields[0]);

void mxg_maps_init(struct mxg_maps *m)
{
	unsigned int i;

	for (i = 0; i < MXG_N_MAPS; i++)
		*mxg_map_fd(m, i) = -1;
}

bool mxg_maps_pinned(const char *pin_dir)
{
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < MXG_N_MAPS; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, mxg_map_list[i].name);
		if (access(path, F_OK))
			return false;
	}
	return true;
}

int mxg_maps_open(struct mxg_maps *m, const char *pin_dir, char *err,
		  size_t errlen)
{
	char path[PATH_MAX];
	unsigned int i;
	int fd, ret;

	mxg_maps_init(m);
	for (i = 0; i < MXG_N_MAPS; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, mxg_map_list[i].name);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot open pinned map %s: %s%s", path,
				 strerror(errno),
				 errno == ENOENT ? " (is mxguard running, or was it ever started with this --pin-dir?)" : "");
			mxg_maps_close(m);
			return ret;
		}
		*mxg_map_fd(m, i) = fd;
	}
	return 0;
}

void mxg_maps_close(struct mxg_maps *m)
{
	unsigned int i;
	int *fd;

	for (i = 0; i < MXG_N_MAPS; i++) {
		fd = mxg_map_fd(m, i);
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

static int ret_errno(int ret)
{
	return ret < 0 ? -errno : 0;
}

int mxg_config_read(const struct mxg_maps *m, struct mxg_config *cfg)
{
	__u32 zero = 0;

	return ret_errno(bpf_map_lookup_elem(m->config, &zero, cfg));
}

int mxg_config_write(const struct mxg_maps *m, const struct mxg_config *cfg)
{
	__u32 zero = 0;

	return ret_errno(bpf_map_update_elem(m->config, &zero, cfg, BPF_ANY));
}

/* Set port's entry in port_index (zero: not protected). */
static int port_index_put(const struct mxg_maps *m, uint16_t port,
			  const struct mxg_port_limit *lim)
{
	__u32 key = port;

	return ret_errno(bpf_map_update_elem(m->port_index, &key, lim, BPF_ANY));
}

int mxg_port_put(const struct mxg_maps *m, uint16_t port,
		 const struct mxg_port_limit *lim)
{
	int ret = ret_errno(bpf_map_update_elem(m->ports, &port, lim, BPF_ANY));

	return ret ?: port_index_put(m, port, lim);
}

/* Clear every index entry whose port has no ports entry (left by an older run). */
static int port_index_prune(const struct mxg_maps *m)
{
	static const struct mxg_port_limit off;
	struct mxg_port_limit lim;
	__u32 key;
	__u16 port;
	int ret = 0;

	for (key = 0; key < 65536; key++) {
		port = (__u16)key;
		if (bpf_map_lookup_elem(m->port_index, &key, &lim) || !lim.rate)
			continue;
		if (!bpf_map_lookup_elem(m->ports, &port, &lim))
			continue;
		if (!ret)
			ret = port_index_put(m, port, &off);
	}
	return ret;
}

int mxg_ports_prune(const struct mxg_maps *m, const uint16_t *keep,
		    unsigned int n)
{
	__u16 key, next, *prev = NULL;
	__u16 stale[MXG_MAX_PORTS];
	unsigned int i, j, n_stale = 0;
	int ret = 0;

	/* Collect first: deleting while walking would restart the walk. */
	while (n_stale < MXG_MAX_PORTS &&
	       bpf_map_get_next_key(m->ports, prev, &next) == 0) {
		key = next;
		prev = &key;
		for (j = 0; j < n; j++)
			if (keep[j] == key)
				break;
		if (j == n)
			stale[n_stale++] = key;
	}
	for (i = 0; i < n_stale; i++) {
		static const struct mxg_port_limit off;
		int r = port_index_put(m, stale[i], &off);

		if (r && !ret)
			ret = r;
		if (bpf_map_delete_elem(m->ports, &stale[i]) && errno != ENOENT && !ret)
			ret = -errno;
	}
	return ret ?: port_index_prune(m);
}

/* Key for c in whichever trie its family uses; returns that map's fd. */
static int lpm_key(int fd4, int fd6, const struct mxg_cidr *c,
		   struct mxg_lpm_v4 *k4, struct mxg_lpm_v6 *k6, void **key)
{
	if (c->addr.family == 4) {
		k4->prefixlen = c->prefixlen;
		memcpy(k4->addr, c->addr.a, 4);
		*key = k4;
		return fd4;
	}
	k6->prefixlen = c->prefixlen;
	memcpy(k6->addr, c->addr.a, 16);
	*key = k6;
	return fd6;
}

int mxg_deny_cache_void(const struct mxg_maps *m)
{
	long page = sysconf(_SC_PAGESIZE);
	__u32 key = MXG_DCACHE_GEN;
	__u64 *gen, g;
	int ret;

	/* Maps made without the program (unit tests) have no cache to void. */
	if (m->deny_cache < 0)
		return 0;
	/* An atomic add through the shared mapping: writers never lose a bump. */
	gen = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, m->deny_cache, 0);
	if (gen != MAP_FAILED) {
		__atomic_fetch_add(&gen[MXG_DCACHE_GEN], 1, __ATOMIC_SEQ_CST);
		munmap(gen, page);
		return 0;
	}
	/* Without mmap a write still moves the tag on, if two can race. */
	ret = ret_errno(bpf_map_lookup_elem(m->deny_cache, &key, &g));
	if (!ret) {
		g++;
		ret = ret_errno(bpf_map_update_elem(m->deny_cache, &key, &g, BPF_ANY));
	}
	return ret;
}

int mxg_deny_add(const struct mxg_maps *m, const struct mxg_cidr *c,
		 const struct mxg_deny *val)
{
	struct mxg_lpm_v4 k4;
	struct mxg_lpm_v6 k6;
	struct mxg_deny v = *val;
	void *key;
	int fd = lpm_key(m->deny_v4, m->deny_v6, c, &k4, &k6, &key);

	v.prefixlen = c->prefixlen;
	return ret_errno(bpf_map_update_elem(fd, key, &v, BPF_NOEXIST));
}

bool mxg_deny_empty(const struct mxg_maps *m, int family)
{
	union { struct mxg_lpm_v4 v4; struct mxg_lpm_v6 v6; } first;

	return bpf_map_get_next_key(family == 4 ? m->deny_v4 : m->deny_v6, NULL,
				    &first) && errno == ENOENT;
}

int mxg_deny_put(const struct mxg_maps *m, const struct mxg_cidr *c,
		 const struct mxg_deny *val)
{
	struct mxg_lpm_v4 k4;
	struct mxg_lpm_v6 k6;
	struct mxg_deny v = *val;
	void *key;
	int fd = lpm_key(m->deny_v4, m->deny_v6, c, &k4, &k6, &key);

	/* The program needs it to look past an expired entry. */
	v.prefixlen = c->prefixlen;
	/* A new entry only adds drops; one that replaces may shorten a ban. */
	if (!bpf_map_update_elem(fd, key, &v, BPF_NOEXIST))
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (bpf_map_update_elem(fd, key, &v, BPF_ANY))
		return -errno;
	return c->addr.family == 4 ? mxg_deny_cache_void(m) : 0;
}

/*
 * Does the trie hold exactly this key? A lookup is a longest-prefix match and
 * cannot tell. The kernel's get_next_key finds the key itself when present
 * and answers with its successor (or -ENOENT for the last key); for an
 * absent key it answers with the first key. The first key is nobody's
 * successor, so "answer != first key" means "present".
 */
static bool lpm_exact(int fd, const void *key, size_t size)
{
	union { struct mxg_lpm_v4 v4; struct mxg_lpm_v6 v6; } first, next;

	if (bpf_map_get_next_key(fd, NULL, &first))
		return false;
	if (bpf_map_get_next_key(fd, key, &next))
		return errno == ENOENT;
	return memcmp(&first, &next, size) != 0;
}

int mxg_deny_get(const struct mxg_maps *m, const struct mxg_cidr *c,
		 struct mxg_deny *val)
{
	struct mxg_lpm_v4 k4;
	struct mxg_lpm_v6 k6;
	void *key;
	int fd = lpm_key(m->deny_v4, m->deny_v6, c, &k4, &k6, &key);

	if (bpf_map_lookup_elem(fd, key, val))
		return -errno;
	if (!lpm_exact(fd, key, c->addr.family == 4 ? sizeof(k4) : sizeof(k6)))
		return -ENOENT;
	return 0;
}

int mxg_deny_match(const struct mxg_maps *m, const struct mxg_cidr *c,
		   struct mxg_deny *val)
{
	struct mxg_lpm_v4 k4;
	struct mxg_lpm_v6 k6;
	void *key;
	int fd = lpm_key(m->deny_v4, m->deny_v6, c, &k4, &k6, &key);

	return ret_errno(bpf_map_lookup_elem(fd, key, val));
}

int mxg_deny_del_expired(const struct mxg_maps *m, const struct mxg_cidr *c)
{
	struct mxg_lpm_v4 k4;
	struct mxg_lpm_v6 k6;
	void *key;
	int fd = lpm_key(m->deny_v4, m->deny_v6, c, &k4, &k6, &key);

	return ret_errno(bpf_map_delete_elem(fd, key));
}

int mxg_deny_del(const struct mxg_maps *m, const struct mxg_cidr *c)
{
	int ret = mxg_deny_del_expired(m, c);

	if (ret)
		return ret;
	return c->addr.family == 4 ? mxg_deny_cache_void(m) : 0;
}

int mxg_allow_put(const struct mxg_maps *m, const struct mxg_cidr *c,
		  const struct mxg_allow *val)
{
	struct mxg_lpm_v4 k4;
	struct mxg_lpm_v6 k6;
	void *key;
	int fd = lpm_key(m->allow_v4, m->allow_v6, c, &k4, &k6, &key);

	return ret_errno(bpf_map_update_elem(fd, key, val, BPF_ANY));
}

int mxg_allow_del(const struct mxg_maps *m, const struct mxg_cidr *c)
{
	struct mxg_lpm_v4 k4;
	struct mxg_lpm_v6 k6;
	void *key;
	int fd = lpm_key(m->allow_v4, m->allow_v6, c, &k4, &k6, &key);

	return ret_errno(bpf_map_delete_elem(fd, key));
}

union lpm_key {
	struct mxg_lpm_v4 v4;
	struct mxg_lpm_v6 v6;
};

static void key_cidr(const union lpm_key *k, int family, struct mxg_cidr *c)
{
	memset(c, 0, sizeof(*c));
	c->addr.family = (uint8_t)family;
	if (family == 4) {
		c->prefixlen = k->v4.prefixlen;
		memcpy(c->addr.a, k->v4.addr, 4);
	} else {
		c->prefixlen = k->v6.prefixlen;
		memcpy(c->addr.a, k->v6.addr, 16);
	}
}

/* Entries read per batched lookup. */
#define EACH_BATCH 4096

/*
 * Walk one trie with batched lookups (a million entries in about half a
 * second); -EOPNOTSUPP when the kernel has no batch ops for tries.
 */
static int trie_each_batch(int fd, int family, size_t vsize,
			   int (*fn)(const struct mxg_cidr *c, const void *v, void *arg),
			   void *arg)
{
	size_t ksize = family == 4 ? sizeof(struct mxg_lpm_v4) : sizeof(struct mxg_lpm_v6);
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	union lpm_key in, out;
	char *keys, *vals;
	bool first = true, done = false;
	struct mxg_cidr c;
	__u32 n, i;
	int ret = 0;

	keys = malloc(EACH_BATCH * ksize);
	vals = malloc(EACH_BATCH * vsize);
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	while (!done) {
		n = EACH_BATCH;
		if (bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &n, &opts)) {
			if (errno != ENOENT) {
				ret = first ? -EOPNOTSUPP : -errno;
				goto out;
			}
			done = true;	/* the last, possibly empty, batch */
		}
		first = false;
		in = out;
		for (i = 0; i < n; i++) {
			key_cidr((const union lpm_key *)(keys + i * ksize), family, &c);
			ret = fn(&c, vals + i * vsize, arg);
			if (ret)
				goto out;
		}
	}
out:
	free(keys);
	free(vals);
	return ret;
}

/* Walk one trie, batched where the kernel can, key by key otherwise. */
static int trie_each(int fd, int family, void *val, size_t vsize,
		     int (*fn)(const struct mxg_cidr *c, const void *v, void *arg),
		     void *arg)
{
	union lpm_key cur, next;
	struct mxg_cidr c;
	void *prev = NULL;
	int ret;

	ret = trie_each_batch(fd, family, vsize, fn, arg);
	if (ret != -EOPNOTSUPP)
		return ret;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		cur = next;
		prev = &cur;
		key_cidr(&cur, family, &c);
		/* Exact-key read: a trie lookup with the full key returns the entry itself. */
		if (bpf_map_lookup_elem(fd, &cur, val))
			continue;	/* deleted meanwhile */
		ret = fn(&c, val, arg);
		if (ret)
			return ret;
	}
	return 0;
}

int mxg_deny_each(const struct mxg_maps *m, mxg_deny_fn fn, void *arg)
{
	struct mxg_deny v;
	int ret;

	ret = trie_each(m->deny_v4, 4, &v, sizeof(v), (void *)fn, arg);
	if (ret)
		return ret;
	return trie_each(m->deny_v6, 6, &v, sizeof(v), (void *)fn, arg);
}

int mxg_allow_each(const struct mxg_maps *m, mxg_allow_fn fn, void *arg)
{
	struct mxg_allow v;
	int ret;

	ret = trie_each(m->allow_v4, 4, &v, sizeof(v), (void *)fn, arg);
	if (ret)
		return ret;
	return trie_each(m->allow_v6, 6, &v, sizeof(v), (void *)fn, arg);
}

/* Buckets read per batched lookup of a rate map. */
#define RATE_BATCH 4096

static int rate_map_each(int fd, int family, unsigned int plen, mxg_rate_fn fn,
			 void *arg)
{
	size_t ksize = family == 4 ? sizeof(struct mxg_rate_v4) : sizeof(struct mxg_rate_v6);
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), n, i, in = 0, out = 0;
	unsigned long seen = 0;
	struct mxg_bucket *vals;
	bool first = true, done = false;
	struct mxg_cidr c;
	char *keys;
	int ret = 0;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	keys = malloc(RATE_BATCH * ksize);
	vals = malloc(RATE_BATCH * sizeof(*vals));
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	/*
	 * Hash batches resume from an opaque bucket index (a __u32). LRU maps
	 * recycle entries while we read: bound the walk by the map's size.
	 */
	while (!done && seen < info.max_entries) {
		n = RATE_BATCH;
		if (bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &n, &opts)) {
			if (errno != ENOENT) {
				ret = -errno;
				goto out;
			}
			done = true;
		}
		first = false;
		in = out;
		for (i = 0; i < n; i++) {
			const char *k = keys + i * ksize;
			uint16_t port;

			memset(&c, 0, sizeof(c));
			c.addr.family = (uint8_t)family;
			c.prefixlen = plen;
			if (family == 4) {
				memcpy(c.addr.a, ((const struct mxg_rate_v4 *)k)->addr, 4);
				port = ((const struct mxg_rate_v4 *)k)->port;
			} else {
				memcpy(c.addr.a, ((const struct mxg_rate_v6 *)k)->addr, 16);
				port = ((const struct mxg_rate_v6 *)k)->port;
			}
			ret = fn(&c, port, &vals[i], arg);
			if (ret)
				goto out;
		}
		seen += n;
	}
out:
	free(keys);
	free(vals);
	return ret;
}

int mxg_rate_each(const struct mxg_maps *m, unsigned int plen_v4,
		  unsigned int plen_v6, mxg_rate_fn fn, void *arg)
{
	int ret;

	ret = rate_map_each(m->rate_v4, 4, plen_v4, fn, arg);
	if (ret)
		return ret;
	return rate_map_each(m->rate_v6, 6, plen_v6, fn, arg);
}

static unsigned long count_keys(int fd, size_t key_size)
{
	char cur[32], next[32];
	unsigned long n = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(cur, next, key_size);
		prev = cur;
		n++;
	}
	return n;
}

void mxg_maps_fill(const struct mxg_maps *m, struct mxg_fill out[MXG_N_FILL])
{
	unsigned int i, n = 0;

	for (i = 0; i < MXG_N_MAPS && n < MXG_N_FILL; i++) {
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = mxg_map_fd_of(m, i);

		if (!mxg_map_list[i].fill)
			continue;
		out[n].name = mxg_map_list[i].name;
		out[n].entries = count_keys(fd, mxg_map_list[i].key_size);
		out[n].max = bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
		n++;
	}
}

struct mxg_events {
	struct ring_buffer *rb;
};

struct mxg_events *mxg_events_open(const struct mxg_maps *m, mxg_event_fn fn,
				   void *ctx)
{
	struct mxg_events *e = calloc(1, sizeof(*e));
	int err;

	if (!e)
		return NULL;
	e->rb = ring_buffer__new(m->events, fn, ctx, NULL);
	if (!e->rb) {
		err = errno;
		free(e);
		errno = err;
		return NULL;
	}
	return e;
}

int mxg_events_fd(const struct mxg_events *e)
{
	return ring_buffer__epoll_fd(e->rb);
}

int mxg_events_consume(struct mxg_events *e)
{
	return ring_buffer__consume(e->rb);
}

void mxg_events_free(struct mxg_events *e)
{
	if (!e)
		return;
	ring_buffer__free(e->rb);
	free(e);
}

int mxg_stats_read(const struct mxg_maps *m, struct mxg_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct mxg_stats *per;
	__u32 zero = 0;
	unsigned int f;
	int i, ret = 0;

	if (ncpu < 1)
		return -EINVAL;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(m->stats, &zero, per)) {
		ret = -errno;
		goto out;
	}
	for (i = 0; i < ncpu; i++) {
		for (f = 0; f < sizeof(*sum) / sizeof(__u64); f++)
			((__u64 *)sum)[f] += ((__u64 *)&per[i])[f];
	}
out:
	free(per);
	return ret;
}

const char *mxg_reason_str(uint32_t reason)
{
	switch (reason) {
	case MXG_REASON_MANUAL:
		return "manual";
	case MXG_REASON_LOG:
		return "log";
	case MXG_REASON_RATE:
		return "rate";
	case MXG_REASON_IMPORT:
		return "import";
	}
	return "unknown";
}
