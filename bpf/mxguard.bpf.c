// SPDX-License-Identifier: GPL-2.0
/*
 * mxguard XDP entry point.
 *
 * Verdict order for an IP packet:
 *   1. not a fragment, not TCP to a protected port, and the denylist scope
 *      is SMTP only: pass without any lookup (nothing here could drop it);
 *   2. source in the allowlist: pass (the allowlist always wins);
 *   3. source in the denylist and the entry not expired: drop. This takes
 *      every fragment, whatever the scope: a later fragment carries no port,
 *      so only dropping them all keeps reassembly from building a packet to
 *      a protected port;
 *   4. a fragment shaped as an attack (parsing.h) whose port is protected
 *      or cannot be read: drop. No stack sends these, and the SYN they build
 *      would get past the rate limit, which cannot read its flags;
 *   5. TCP SYN without ACK to a protected port: take a token from the bucket
 *      of (source prefix, port), drop when it is empty;
 *   6. pass.
 * In monitor mode steps 3 to 5 count what they would drop and pass.
 * Anything else that does not parse passes untouched and is counted.
 *
 * The allowlist is looked up only where step 3, 4 or 5 would otherwise
 * judge the packet (a deny match, an attack fragment, a SYN to a protected
 * port): the verdicts are those of the order above, and a packet nothing
 * could drop costs no lookup. An IPv4 source whose whole /24 is banned is
 * judged at step 3 by the deny cache (denycache.h) before the trie.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>

#include "mxguard.h"
#include "maps.h"
#include "parsing.h"
#include "ratelimit.h"
#include "clock.h"
#include "denycache.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Our place in libxdp's multi-program dispatcher, read by libxdp (and
 * xdp-loader) from the object's BTF. The dispatcher runs programs by
 * ascending priority: 5 is before xdp-filter (10) and libxdp's default
 * (50), so a drop of ours ends the chain before anything else sees the
 * packet, and only what we pass (XDP_PASS) goes on to the next program.
 */
#define MXG_XDP_RUN_PRIO 5
struct {
	__uint(priority, MXG_XDP_RUN_PRIO);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(mxguard_xdp);

/* Emit at most one event per MXG_EVENT_INTERVAL_NS for the owner of *last. */
static __always_inline void emit_event(__u64 *last, __u64 now, __u32 kind,
				       const struct pkt *pkt, const void *addr,
				       __u32 prefixlen, __u64 count, bool monitor,
				       struct mxg_stats *st)
{
	struct mxg_event *ev;
	__u64 prev = READ_ONCE(*last);

	/*
	 * Signed: another CPU may have stamped a time later than our "now";
	 * that must read as "recent", not wrap around to "long ago".
	 */
	if (prev && (__s64)(now - prev) < (__s64)MXG_EVENT_INTERVAL_NS)
		return;
	/* Only the CPU that moves the stamp reports. */
	if (__sync_val_compare_and_swap(last, prev, now) != prev)
		return;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		st->events_lost++;
		return;
	}
	ev->ts_ns = now;
	ev->count = count;
	ev->kind = kind;
	ev->family = pkt->family;
	ev->prefixlen = prefixlen;
	ev->port = pkt->has_port ? pkt->dport : 0;
	ev->monitor = monitor;
	__builtin_memcpy(ev->addr, addr, 16);
	bpf_ringbuf_submit(ev, 0);
	st->events++;
}

/* Clear the host bits of a 4-byte word given how many of its bits are network bits. */
static __always_inline __u32 mask_word(__u32 word_be, __s32 bits)
{
	if (bits <= 0)
		return 0;
	if (bits >= 32)
		return word_be;
	return word_be & bpf_htonl(~(0xffffffffU >> bits));
}

static __always_inline bool allowed(const struct pkt *pkt)
{
	struct mxg_allow *a;

	if (pkt->family == 4) {
		struct mxg_lpm_v4 k = { .prefixlen = 32 };

		__builtin_memcpy(k.addr, pkt->src, 4);
		a = bpf_map_lookup_elem(&allow_v4, &k);
	} else {
		struct mxg_lpm_v6 k = { .prefixlen = 128 };

		__builtin_memcpy(k.addr, pkt->src, 16);
		a = bpf_map_lookup_elem(&allow_v6, &k);
	}
	if (!a)
		return false;
	__sync_fetch_and_add(&a->hits, 1);
	return true;
}

static __always_inline bool deny_active(const struct mxg_deny *d, __u64 now)
{
	return !d->expires_ns || now < d->expires_ns;
}

/*
 * The deny entry that judges the packet: the longest match, or when that
 * has expired, the longest active entry wider than it (an expired /32
 * inside a banned /24 must not let its host through). Returns NULL when
 * nothing matches; an expired entry when nothing active covers it.
 */
static __always_inline struct mxg_deny *deny_lookup(const struct pkt *pkt,
						    __u64 now)
{
	struct mxg_lpm_v4 k4 = { .prefixlen = 32 };
	struct mxg_lpm_v6 k6 = { .prefixlen = 128 };
	struct mxg_deny *d, *wider;
	int i;

	if (pkt->family == 4) {
		__builtin_memcpy(k4.addr, pkt->src, 4);
		d = bpf_map_lookup_elem(&deny_v4, &k4);
	} else {
		__builtin_memcpy(k6.addr, pkt->src, 16);
		d = bpf_map_lookup_elem(&deny_v6, &k6);
	}
#pragma unroll
	for (i = 0; i < MXG_DENY_WIDER; i++) {
		if (!d || deny_active(d, now) || !d->prefixlen)
			break;
		/* A shorter key prefix matches only entries at most that long. */
		if (pkt->family == 4) {
			k4.prefixlen = d->prefixlen - 1;
			wider = bpf_map_lookup_elem(&deny_v4, &k4);
		} else {
			k6.prefixlen = d->prefixlen - 1;
			wider = bpf_map_lookup_elem(&deny_v6, &k6);
		}
		if (!wider)
			break;
		d = wider;
	}
	return d;
}

/*
 * Bucket of the packet's source prefix and port; NULL for the prefix's
 * first SYN or if the map is exhausted (bucket_get). w gets the masked
 * prefix, the address events report.
 */
static __always_inline struct mxg_bucket *rate_bucket(const struct pkt *pkt,
						      const struct mxg_config *cfg,
						      const struct mxg_port_limit *lim,
						      __u64 now, __u32 w[4],
						      __u32 *prefixlen)
{
	/* The first-sight tag: the prefix's words and the port, mixed. */
	__u32 tag = (__u32)pkt->dport * 0x9E3779B1U;
	int i;

	__builtin_memcpy(w, pkt->src, 16);
	if (pkt->family == 4) {
		struct mxg_rate_v4 k = { .port = pkt->dport };
		__u32 plen = cfg->prefix_v4 > 32 ? 32 : cfg->prefix_v4;

		w[0] = mask_word(w[0], plen);
		w[1] = w[2] = w[3] = 0;
		__builtin_memcpy(k.addr, w, 4);
		*prefixlen = plen;
		tag ^= w[0];
		return bucket_get(&rate_v4, &k, tag, now, lim);
	} else {
		struct mxg_rate_v6 k = { .port = pkt->dport };
		__u32 plen = cfg->prefix_v6 > 128 ? 128 : cfg->prefix_v6;

#pragma unroll
		for (i = 0; i < 4; i++)
			w[i] = mask_word(w[i], (__s32)plen - 32 * i);
		__builtin_memcpy(k.addr, w, 16);
		*prefixlen = plen;
		tag ^= w[0] ^ (w[1] * 0x85EBCA6BU) ^ (w[2] * 0xC2B2AE35U) ^ (w[3] * 0x27D4EB2FU);
		return bucket_get(&rate_v6, &k, tag, now, lim);
	}
}

/* The limits of a protected port, NULL for any other: an array lookup. */
static __always_inline struct mxg_port_limit *port_limit(__u16 port)
{
	__u32 key = port;
	struct mxg_port_limit *l = bpf_map_lookup_elem(&port_index, &key);

	return l && l->rate ? l : NULL;
}

SEC("xdp")
int mxguard_xdp(struct xdp_md *ctx)
{
	const __u32 zero = 0;
	struct mxg_port_limit *limit = NULL;
	struct mxg_config *cfg;
	struct mxg_stats *st;
	struct mxg_deny *deny = NULL;
	struct dcache_ref dc = {};
	bool use_dc, cached = false;
	struct mxg_bucket *b;
	__u64 inc = 1;
	struct pkt pkt = {};
	int verdict = XDP_PASS;
	bool monitor, is_syn;
	__u32 prefix[4];
	__u32 plen;
	__u64 now;
	int ret;

	st = bpf_map_lookup_elem(&stats, &zero);
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!st || !cfg)
		return XDP_PASS;
	st->packets++;

	ret = parse_packet(ctx, &pkt);
	if (ret == PARSE_MALFORMED) {
		st->malformed++;
		goto out;
	}
	if (ret == PARSE_NOT_IP) {
		st->non_ip++;
		goto out;
	}

	if (pkt.has_port)
		limit = port_limit(pkt.dport);
	if (!limit && !pkt.l4_opaque && !pkt.frag && !(cfg->flags & MXG_F_DENY_ALL))
		goto out;

	monitor = cfg->flags & MXG_F_MONITOR;
	is_syn = limit && pkt.syn && !pkt.ack;
	if (is_syn)
		st->smtp_syn++;

	now = mxg_now();
	/* A /24 the deny cache holds is judged without the trie (denycache.h). */
	use_dc = pkt.family == 4 && !monitor && dcache_ref(pkt.src, now, &dc);
	if (use_dc && dcache_hit(&dc)) {
		if (dcache_sample())
			inc = MXG_DCACHE_SAMPLE;
		else
			cached = true;
	}
	if (!cached) {
		deny = deny_lookup(&pkt, now);
		if (deny && !deny_active(deny, now)) {
			/* Fail safe: an expired ban stops dropping on its own. */
			st->deny_expired++;
			deny = NULL;
		}
	}
	if (cached || deny) {
		/* The allowlist is looked up only where a step could drop. */
		if (allowed(&pkt))
			goto allow;
		if (deny) {
			__u64 hits = __sync_fetch_and_add(&deny->hits, inc) + inc;

			emit_event(&deny->last_event_ns, now, MXG_EV_DENY, &pkt,
				   pkt.src, pkt.family == 4 ? 32 : 128, hits,
				   monitor, st);
			if (monitor) {
				st->monitor_deny++;
				goto out;
			}
			if (use_dc)
				dcache_fill(&dc, pkt.src, deny, now);
		} else {
			st->deny_cached++;
		}
		/* The scope alone would not have dropped it: only the fragment rule. */
		if (!limit && !pkt.l4_opaque && !(cfg->flags & MXG_F_DENY_ALL))
			st->frag_denied++;
		else
			st->denied++;
		verdict = XDP_DROP;
		goto out;
	}

	if (pkt.frag_bad && (limit || !pkt.has_port)) {
		if (allowed(&pkt))
			goto allow;
		if (monitor) {
			st->monitor_frag++;
			goto out;
		}
		st->frag_invalid++;
		verdict = XDP_DROP;
		goto out;
	}

	if (!is_syn)
		goto out;
	if (allowed(&pkt))
		goto allow;
	if (!is_syn)
		goto out;
	b = rate_bucket(&pkt, cfg, limit, now, prefix, &plen);
	if (!b)
		goto out;
	__sync_fetch_and_add(&b->syns, 1);
	if (bucket_take(b, now, limit, st))
		goto out;

	emit_event(&b->last_event_ns, now, MXG_EV_RATE, &pkt, prefix, plen,
		   __sync_fetch_and_add(&b->drops, 1) + 1, monitor, st);
	if (monitor) {
		st->monitor_rate++;
		goto out;
	}
	st->rate_limited++;
	verdict = XDP_DROP;
	goto out;
allow:
	st->allowlisted++;
out:
	if (verdict == XDP_DROP)
		st->dropped++;
	else
		st->passed++;
	return verdict;
}
