/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hashing for the daemon's own tables (the policy's counting table and ban
 * records, the accounts store): a 64-bit finaliser and a seeded hash of a
 * CIDR. The seed is random per process, so a client cannot choose
 * addresses that share a chain.
 */
#ifndef MXG_HASH_H
#define MXG_HASH_H

#include <stdint.h>
#include <string.h>

#include "addr.h"

/* The finaliser of MurmurHash3: every input bit reaches every output bit. */
static inline uint64_t mxg_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static inline uint64_t mxg_cidr_hash(uint64_t seed, const struct mxg_cidr *c)
{
	uint64_t lo, hi, h;

	memcpy(&lo, c->addr.a, 8);
	memcpy(&hi, c->addr.a + 8, 8);
	h = mxg_mix64(seed ^ lo);
	h = mxg_mix64(h ^ hi ^ seed);
	return mxg_mix64(h ^ ((uint64_t)c->prefixlen << 8 | c->addr.family));
}

#endif
