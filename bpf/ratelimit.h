/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-prefix SYN rate limiting: a token bucket in GCRA form.
 *
 * The bucket is one 64-bit "theoretical arrival time" (tat). With
 * interval = 1 s / rate, a SYN at time now is accepted when
 * max(tat, now) + interval <= now + burst * interval, and tat moves to that
 * sum. A fresh bucket therefore accepts burst SYNs at once, then rate SYNs
 * per second.
 *
 * Concurrency: two CPUs may handle SYNs of one prefix at once. The update is
 * a compare-and-swap on tat, retried MXG_CAS_RETRIES times, so no accepted
 * SYN is ever lost from the account and the limit holds exactly. When the
 * retries run out (several CPUs hammering one bucket), the SYN is passed and
 * counted in stats.cas_busy: we accept erring towards letting mail in. The
 * syns/drops counters are atomic adds. Creating a bucket races too: both
 * CPUs try BPF_NOEXIST, the loser looks the winner's bucket up and goes
 * through the same compare-and-swap.
 *
 * First sight, under a flood of new prefixes: a random-source flood would
 * make the program insert into, and evict from, the LRU map on every SYN,
 * the costliest thing it can do (measured at ~750 ns a packet against ~105
 * for a SYN whose bucket exists), and would evict the buckets of prefixes
 * that are really over their rate. So once a CPU has made MXG_NEW_BUCKETS
 * buckets in the current jiffy, a prefix's first SYN gets no bucket: it
 * passes, as a fresh bucket (burst >= 1) would let it, and leaves a tag in
 * the per-CPU rate_seen array; at its second SYN the bucket is made with
 * that first SYN already taken (tat = now + interval, syns = 1), so one CPU
 * accounts exactly. With several CPUs each may pass one first SYN of a
 * prefix unaccounted, once per bucket. A tag that collides only makes a
 * bucket earlier. The price: during such a flood, a prefix whose tag is
 * overwritten between its SYNs (4,096 slots: under 1 ms at 5 Mpps) gets no
 * bucket, as a bucket the LRU evicted would have restarted full before;
 * buckets that exist are no longer evicted by the flood. Outside a flood
 * every prefix gets its bucket at its first SYN, as it always did.
 */
#ifndef MXG_BPF_RATELIMIT_H
#define MXG_BPF_RATELIMIT_H

#include "maps.h"

#ifndef READ_ONCE
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#endif

/* Returns true when the SYN fits the bucket. */
static __always_inline bool bucket_take(struct mxg_bucket *b, __u64 now,
					const struct mxg_port_limit *lim,
					struct mxg_stats *st)
{
	__u64 rate = lim->rate ? lim->rate : 1;
	__u64 interval = MXG_SEC_NS / rate;
	__u64 tau = interval * (lim->burst ? lim->burst : 1);
	__u64 tat, base, next;
	int i;

#pragma unroll
	for (i = 0; i < MXG_CAS_RETRIES; i++) {
		tat = READ_ONCE(b->tat);
		base = tat > now ? tat : now;
		next = base + interval;
		if (next > now + tau)
			return false;
		if (__sync_val_compare_and_swap(&b->tat, tat, next) == tat)
			return true;
	}
	st->cas_busy++;
	return true;
}

/* Was tag seen on this CPU since its slot last changed? Records it if not. */
static __always_inline bool seen_before(struct mxg_seen_tags *s, __u32 tag)
{
	__u32 slot = (tag * 2654435761U) >> 20 & (MXG_SEEN_SLOTS - 1);

	if (s->tag[slot] == tag)
		return true;
	s->tag[slot] = tag;
	return false;
}

/*
 * The bucket for key in map; NULL for a prefix's first SYN during a flood
 * of new prefixes (see the top), which passes as a fresh bucket would let
 * it, or when the map refused a new bucket.
 */
static __always_inline struct mxg_bucket *bucket_get(void *map, const void *key,
						     __u32 tag, __u64 now,
						     const struct mxg_port_limit *lim)
{
	__u64 rate = lim->rate ? lim->rate : 1;
	struct mxg_bucket fresh = {};
	struct mxg_seen_tags *s;
	struct mxg_bucket *b;
	const __u32 zero = 0;
	__u64 j;

	b = bpf_map_lookup_elem(map, key);
	if (b)
		return b;
	s = bpf_map_lookup_elem(&rate_seen, &zero);
	if (s) {
		j = bpf_jiffies64();
		if (s->jiffies != j) {
			s->jiffies = j;
			s->made = 0;
		}
		if (s->made >= MXG_NEW_BUCKETS) {
			if (!seen_before(s, tag))
				return NULL;
			/* The first SYN, passed without a bucket, is taken now. */
			fresh.tat = now + MXG_SEC_NS / rate;
			fresh.syns = 1;
		}
		s->made++;
	}
	bpf_map_update_elem(map, key, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

#endif
