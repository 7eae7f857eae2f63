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

/* Where a source's bits are (summary and word) and the tag to compare with. */
struct dcache_ref {
	__u64 *word;
	__u64 *sum;
	__u64 sum_bit;
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
	key = 1 + (a >> 13);
	r->word = bpf_map_lookup_elem(&deny_cache, &key);
	if (!r->sum || !r->word)
		return false;
	r->sum_bit = 1ULL << ((a >> 16) & 63);
	r->bit = 1U << ((a >> 8) & 31);
	r->tag = (__u32)((now >> MXG_DCACHE_EPOCH_SHIFT) + READ_ONCE(*gen));
	return true;
}

static __always_inline bool dcache_hit(const struct dcache_ref *r)
{
	__u64 w;

	if (!(READ_ONCE(*r->sum) & r->sum_bit))
		return false;
	w = READ_ONCE(*r->word);
	return (__u32)(w >> 32) == r->tag && ((__u32)w & r->bit);
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
 * After the trie banned src through d: set its /24's bit if an active
 * entry of /24 or wider covers it past the current epoch. One attempt;
 * a lost race leaves it to the next packet.
 */
static __always_inline void dcache_fill(const struct dcache_ref *r,
					const __u8 *src,
					const struct mxg_deny *d, __u64 now)
{
	struct mxg_lpm_v4 k = { .prefixlen = MXG_DCACHE_PREFIX };
	__u64 end = ((now >> MXG_DCACHE_EPOCH_SHIFT) + 1) << MXG_DCACHE_EPOCH_SHIFT;
	struct mxg_deny *wide;
	__u64 old, next;

	if (d->prefixlen > MXG_DCACHE_PREFIX)
		return;
	__builtin_memcpy(k.addr, src, 4);
	wide = bpf_map_lookup_elem(&deny_v4, &k);
	if (!wide)
		return;
	if (wide->expires_ns && wide->expires_ns < end)
		return;
	old = READ_ONCE(*r->word);
	next = (__u32)(old >> 32) == r->tag ? old : (__u64)r->tag << 32;
	next |= r->bit;
	if (next != old)
		__sync_val_compare_and_swap(r->word, old, next);
	if (!(READ_ONCE(*r->sum) & r->sum_bit))
		__sync_fetch_and_or(r->sum, r->sum_bit);
}

#endif
