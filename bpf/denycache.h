/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The IPv4 deny cache: one bit per /24 that says "every address here is
 * inside an active ban", so that a flood from banned ranges is dropped
 * after two array lookups (which the verifier inlines) instead of a walk
 * of the deny_v4 trie, the costliest step of the deny path
 * (tests/bench/flood.sh: probe_lpm).
 *
 * Words. deny_cache entry 1 + (a >> 13) holds the bits of the 32 /24s of
 * one /19 in its low half and, in its high half, the tag they were set
 * under: (epoch + generation) mod 2^32, where epoch is the program's
 * CLOCK_BOOTTIME >> MXG_DCACHE_EPOCH_SHIFT (1.07 s) and generation entry 0
 * of the map. Both only grow, so a tag that equals the current one was set
 * in this epoch and this generation. A word is read and replaced whole,
 * with a compare-and-swap, so no CPU ever reads a tag with bits of
 * another.
 *
 * Summary. The 4 MiB of words are too big to stay in a CPU's caches, and
 * a flood from random sources would miss on every word it reads. So a
 * word is read only when its /16's bit in the 8 KiB summary is set: the
 * program sets that bit with the first cached /24 of the /16 and never
 * clears it. A clear summary bit only sends the packet to the trie.
 *
 * When a bit is set. Only on the slow path, after the trie found the
 * packet's source banned: the program then looks up the source's /24 as a
 * /24 key, which matches only entries of /24 or wider, and sets the bit if
 * that entry is active and lasts past the end of the current epoch (or is
 * permanent). Every address of the /24 is then banned by it, whatever
 * narrower entries say (an expired narrower entry falls back to the wider
 * active one). The value's prefixlen field only decides whether to try.
 *
 * Hosts. Where no such /24 entry exists (bans of /25 to /32), the program
 * caches the address alone: bit a & 31 of the word that deny_cache_hosts
 * keeps for a >> 5 (an LRU hash: a word it evicts is only a miss), same
 * tag, set when the entry the trie judged the address by outlasts the
 * epoch. It stands for that one address, which the trie just judged, so
 * it trusts nothing in the value. Its own /16 summary gates the lookup,
 * so traffic from /16s where no banned host was seen pays nothing.
 *
 * Why it can only drop what the trie would drop:
 *   - expiry: a bit lives at most until its epoch ends, and is set only
 *     for entries that outlive it;
 *   - unban and replacement: mxguard's writers (user/kernel/maps.c) bump
 *     the generation after every delete or replacement of a deny_v4 entry,
 *     and the program reads the generation before the trie: a bit set from
 *     a trie read that saw the old entry carries the old tag. A write made
 *     with bpftool, which bumps nothing, is seen within one epoch;
 *   - new bans only add drops, so inserts bump nothing;
 *   - the allowlist is still looked up before any drop, cached or not;
 *   - monitor mode never reads the cache.
 * Each epoch and generation every banned /24 takes the slow path once, to
 * set its bit again: a few hundred trie lookups a second for a flood that
 * sends millions of packets.
 *
 * Hits. A cached drop does not touch the entry; one in MXG_DCACHE_SAMPLE,
 * chosen by a per-CPU xorshift, takes the slow path and adds
 * MXG_DCACHE_SAMPLE hits, so an entry's hits are an estimate while the
 * cache judges its traffic (exact otherwise), and events still flow.
 */
#ifndef MXG_BPF_DENYCACHE_H
#define MXG_BPF_DENYCACHE_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "mxguard.h"
#include "maps.h"
#include "clock.h"

#ifndef READ_ONCE
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#endif

/* Where a source's bits are (summaries and word) and the tag to compare with. */
struct dcache_ref {
	__u64 *word;
	__u64 *sum;
	__u64 *host_sum;
	__u64 sum_bit;
	__u32 addr;	/* the source, host order */
	__u32 bit;
	__u32 tag;
};

/*
 * Find the source's word and the current tag; false when the maps do not
 * answer (never, for an array within bounds). Reads the generation first:
 * everything the caller looks up in the trie afterwards is at least as new.
 */
static __always_inline bool dcache_ref(const __u8 *src, __u64 now,
				       struct dcache_ref *r)
{
	__u32 key = MXG_DCACHE_GEN;
	__u32 a;
	__u64 *gen;

	gen = bpf_map_lookup_elem(&deny_cache, &key);
	if (!gen)
		return false;
	__builtin_memcpy(&a, src, 4);
	a = bpf_ntohl(a);
	key = MXG_DCACHE_SUMMARY + (a >> 22);
	r->sum = bpf_map_lookup_elem(&deny_cache, &key);
	key = MXG_DCACHE_HOST_SUMMARY + (a >> 22);
	r->host_sum = bpf_map_lookup_elem(&deny_cache, &key);
	key = 1 + (a >> 13);
	r->word = bpf_map_lookup_elem(&deny_cache, &key);
	if (!r->sum || !r->host_sum || !r->word)
		return false;
	r->addr = a;
	r->sum_bit = 1ULL << ((a >> 16) & 63);
	r->bit = 1U << ((a >> 8) & 31);
	r->tag = (__u32)((now >> MXG_DCACHE_EPOCH_SHIFT) + READ_ONCE(*gen));
	return true;
}

static __always_inline bool word_has(__u64 w, __u32 tag, __u32 bit)
{
	return (__u32)(w >> 32) == tag && ((__u32)w & bit);
}

/* Set bit under tag in *word: one compare-and-swap, a lost race is a miss. */
static __always_inline void word_set(__u64 *word, __u32 tag, __u32 bit)
{
	__u64 old = READ_ONCE(*word);
	__u64 next = (__u32)(old >> 32) == tag ? old : (__u64)tag << 32;

	next |= bit;
	if (next != old)
		__sync_val_compare_and_swap(word, old, next);
}

/* Is the source's /24, or else the source alone, cached as banned? */
static __always_inline bool dcache_hit(const struct dcache_ref *r)
{
	__u32 key = r->addr >> 5;
	__u64 *w;

	if ((READ_ONCE(*r->sum) & r->sum_bit) &&
	    word_has(READ_ONCE(*r->word), r->tag, r->bit))
		return true;
	if (!(READ_ONCE(*r->host_sum) & r->sum_bit))
		return false;
	w = bpf_map_lookup_elem(&deny_cache_hosts, &key);
	return w && word_has(READ_ONCE(*w), r->tag, 1U << (r->addr & 31));
}

/* One in MXG_DCACHE_SAMPLE, per CPU (state in the CPU's clock slot). */
static __always_inline bool dcache_sample(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct mxg_clock_slot *c;
	__u32 x;

	if (cpu >= MXG_CLOCK_CPUS)
		return bpf_get_prandom_u32() % MXG_DCACHE_SAMPLE == 0;
	c = &clock_slots[cpu];
	x = c->rng ? c->rng : cpu * 2654435761U + 1;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	c->rng = x;
	return x % MXG_DCACHE_SAMPLE == 0;
}

/*
 * After the trie banned the source through d, active: cache its /24 if an
 * entry of /24 or wider covers it past the current epoch, else the source
 * alone if d lasts past the epoch.
 */
static __always_inline void dcache_fill(const struct dcache_ref *r,
					const __u8 *src,
					const struct mxg_deny *d, __u64 now)
{
	struct mxg_lpm_v4 k = { .prefixlen = MXG_DCACHE_PREFIX };
	__u64 end = ((now >> MXG_DCACHE_EPOCH_SHIFT) + 1) << MXG_DCACHE_EPOCH_SHIFT;
	__u32 key = r->addr >> 5, hbit = 1U << (r->addr & 31);
	struct mxg_deny *wide;
	__u64 *w, fresh;

	if (d->prefixlen <= MXG_DCACHE_PREFIX) {
		__builtin_memcpy(k.addr, src, 4);
		wide = bpf_map_lookup_elem(&deny_v4, &k);
		if (wide && (!wide->expires_ns || wide->expires_ns >= end)) {
			word_set(r->word, r->tag, r->bit);
			if (!(READ_ONCE(*r->sum) & r->sum_bit))
				__sync_fetch_and_or(r->sum, r->sum_bit);
			return;
		}
	}
	if (d->expires_ns && d->expires_ns < end)
		return;
	w = bpf_map_lookup_elem(&deny_cache_hosts, &key);
	if (w) {
		word_set(w, r->tag, hbit);
	} else {
		fresh = (__u64)r->tag << 32 | hbit;
		bpf_map_update_elem(&deny_cache_hosts, &key, &fresh, BPF_NOEXIST);
	}
	if (!(READ_ONCE(*r->host_sum) & r->sum_bit))
		__sync_fetch_and_or(r->host_sum, r->sum_bit);
}

#endif
