/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Access to the pinned maps, for the daemon and for the operator commands
 * (which work without a running daemon, as bpftool does).
 */
#ifndef MXG_MAPS_H
#define MXG_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxguard.h"
#include "addr.h"

/*
 * Every map of the XDP program (bpf/maps.h defines them; all are pinned by
 * name under the pin dir), in one list: X(name, key_size, fill). fill is
 * true for the maps whose entries status and the metrics count. struct
 * mxg_maps, opening the pins, taking the fds from the loaded program, the
 * fill counts and detach are all made from this list; test_maps checks it
 * against the compiled program.
 */
#define MXG_MAPS(X)							\
	X(config,   sizeof(__u32),              false)	/* switches */	\
	X(ports,    sizeof(__u16),              false)	/* port limits */ \
	X(port_index, sizeof(__u32),            false)	/* ports by index */ \
	X(deny_v4,  sizeof(struct mxg_lpm_v4),  true)	/* bans */	\
	X(deny_v6,  sizeof(struct mxg_lpm_v6),  true)			\
	X(deny_cache, sizeof(__u32),            false)	/* /24s banned whole */ \
	X(deny_cache_hosts, sizeof(__u32),      false)	/* banned hosts */ \
	X(allow_v4, sizeof(struct mxg_lpm_v4),  true)	/* allowlist */	\
	X(allow_v6, sizeof(struct mxg_lpm_v6),  true)			\
	X(rate_v4,  sizeof(struct mxg_rate_v4), true)	/* SYN buckets */ \
	X(rate_v6,  sizeof(struct mxg_rate_v6), true)			\
	X(rate_seen, sizeof(__u32),             false)	/* first SYNs */ \
	X(stats,    sizeof(__u32),              false)	/* per-CPU counters */ \
	X(events,   0,                          false)	/* ring buffer */

/* One fd per map of the list, named as the map (-1 when not open). */
struct mxg_maps {
#define MXG_MAP_FD(name, key_size, fill) int name;
	MXG_MAPS(MXG_MAP_FD)
#undef MXG_MAP_FD
};

#define MXG_MAP_ONE(name, key_size, fill) + 1
#define MXG_MAP_FILL(name, key_size, fill) + (fill)
#define MXG_N_MAPS (0 MXG_MAPS(MXG_MAP_ONE))
/* How many maps have fill counts. */
#define MXG_N_FILL (0 MXG_MAPS(MXG_MAP_FILL))

/* The list as data: name, where its fd is in struct mxg_maps, key size. */
struct mxg_map_desc {
	const char *name;
	size_t fd_off;
	size_t key_size;
	bool fill;
};
extern const struct mxg_map_desc mxg_map_list[];

/* The fd of list entry i in m. */
static inline int *mxg_map_fd(struct mxg_maps *m, unsigned int i)
{
	return (int *)((char *)m + mxg_map_list[i].fd_off);
}

static inline int mxg_map_fd_of(const struct mxg_maps *m, unsigned int i)
{
	return *(const int *)((const char *)m + mxg_map_list[i].fd_off);
}

/* Every fd -1: nothing open (mxg_maps_close is then a no-op). */
void mxg_maps_init(struct mxg_maps *m);

/* Are the maps of the list pinned under pin_dir (an earlier run's, to adopt)? */
bool mxg_maps_pinned(const char *pin_dir);

/* Open every pinned map under pin_dir; err says which one failed. */
int mxg_maps_open(struct mxg_maps *m, const char *pin_dir, char *err,
		  size_t errlen);
void mxg_maps_close(struct mxg_maps *m);

/* The program's switches and rate-key lengths (the one record of config). */
int mxg_config_read(const struct mxg_maps *m, struct mxg_config *cfg);
int mxg_config_write(const struct mxg_maps *m, const struct mxg_config *cfg);

/*
 * Protect port with limit lim (add or replace): its ports entry, then its
 * port_index entry, which is what the program reads.
 */
int mxg_port_put(const struct mxg_maps *m, uint16_t port,
		 const struct mxg_port_limit *lim);
/*
 * Stop protecting every port that is not one of keep[0..n-1] (index entry
 * first, then the ports entry); also clears index entries left without one.
 */
int mxg_ports_prune(const struct mxg_maps *m, const uint16_t *keep,
		    unsigned int n);

/*
 * Add or replace a deny entry; expires_ns 0 = permanent. A replacement
 * bumps the deny cache's generation (bpf/denycache.h), as does every delete.
 */
int mxg_deny_put(const struct mxg_maps *m, const struct mxg_cidr *c,
		 const struct mxg_deny *val);
/* Add a deny entry only if c has none: -EEXIST otherwise. */
int mxg_deny_add(const struct mxg_maps *m, const struct mxg_cidr *c,
		 const struct mxg_deny *val);
/* Does the family's trie hold no entry at all? */
bool mxg_deny_empty(const struct mxg_maps *m, int family);
/* Read the exact entry for c (not a longest-prefix match); -ENOENT. */
int mxg_deny_get(const struct mxg_maps *m, const struct mxg_cidr *c,
		 struct mxg_deny *val);
int mxg_deny_del(const struct mxg_maps *m, const struct mxg_cidr *c);
/*
 * Delete an entry that has expired, without voiding the deny cache: no
 * verdict rests on an expired entry (a wider active one judges instead),
 * and the prune of thousands of them pays no mmap each.
 */
int mxg_deny_del_expired(const struct mxg_maps *m, const struct mxg_cidr *c);
/*
 * Void every bit of the deny cache: the program judges each banned /24 by
 * the trie again. mxg_deny_put and mxg_deny_del call it; a caller that
 * writes deny_v4 itself must call it after a delete or replacement.
 */
int mxg_deny_cache_void(const struct mxg_maps *m);
/*
 * The longest entry covering c: c itself or a wider one, as the program
 * would match it. Returns 0 or -ENOENT.
 */
int mxg_deny_match(const struct mxg_maps *m, const struct mxg_cidr *c,
		   struct mxg_deny *val);

/* Same for the allowlist. */
int mxg_allow_put(const struct mxg_maps *m, const struct mxg_cidr *c,
		  const struct mxg_allow *val);
int mxg_allow_del(const struct mxg_maps *m, const struct mxg_cidr *c);

/* Call fn for every entry of deny_v4 then deny_v6 (or allow_*); stops on non-zero. */
typedef int (*mxg_deny_fn)(const struct mxg_cidr *c, const struct mxg_deny *v,
			   void *arg);
typedef int (*mxg_allow_fn)(const struct mxg_cidr *c, const struct mxg_allow *v,
			    void *arg);
int mxg_deny_each(const struct mxg_maps *m, mxg_deny_fn fn, void *arg);
int mxg_allow_each(const struct mxg_maps *m, mxg_allow_fn fn, void *arg);

/*
 * Call fn for every bucket of rate_v4 then rate_v6, read with batched
 * lookups; prefix is the bucket's key with prefixlen plen_v4 or plen_v6 (the
 * rate-key lengths in force). At most max_entries buckets per map are
 * visited, whatever the program does meanwhile. Stops on non-zero.
 */
typedef int (*mxg_rate_fn)(const struct mxg_cidr *prefix, uint16_t port,
			   const struct mxg_bucket *b, void *arg);
int mxg_rate_each(const struct mxg_maps *m, unsigned int plen_v4,
		  unsigned int plen_v6, mxg_rate_fn fn, void *arg);

/* How full the maps with fill counts are (status, metrics), in list order. */
struct mxg_fill {
	const char *name;
	unsigned long entries;	/* counted key by key: O(entries) */
	unsigned int max;
};
void mxg_maps_fill(const struct mxg_maps *m, struct mxg_fill out[MXG_N_FILL]);

/*
 * The events ring (struct mxg_event records from the program). fn gets
 * each record as the ring holds it; mxg_events_fd is for epoll, and
 * mxg_events_consume calls fn for everything there now (a count or a
 * negative errno).
 */
struct mxg_events;
typedef int (*mxg_event_fn)(void *ctx, void *data, size_t size);
struct mxg_events *mxg_events_open(const struct mxg_maps *m, mxg_event_fn fn,
				   void *ctx);
int mxg_events_fd(const struct mxg_events *e);
int mxg_events_consume(struct mxg_events *e);
void mxg_events_free(struct mxg_events *e);

/* Sum the per-CPU stats record. */
int mxg_stats_read(const struct mxg_maps *m, struct mxg_stats *sum);

/* Names and offsets of struct mxg_stats fields, for printing. */
struct mxg_stat_field {
	const char *name;
	size_t off;
	const char *help;
};
extern const struct mxg_stat_field mxg_stat_fields[];
extern const unsigned int mxg_n_stat_fields;

const char *mxg_reason_str(uint32_t reason);

#endif
