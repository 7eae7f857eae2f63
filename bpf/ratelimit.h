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

/*
 * Find or create the bucket for key in map; a new bucket starts full, so its
 * first SYN is accepted by bucket_take like any other.
 */
static __always_inline struct mxg_bucket *bucket_get(void *map, const void *key)
{
	struct mxg_bucket fresh = {};
	struct mxg_bucket *b;

	b = bpf_map_lookup_elem(map, key);
	if (b)
		return b;
	bpf_map_update_elem(map, key, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

#endif
