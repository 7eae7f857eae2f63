/* SPDX-License-Identifier: GPL-2.0 */
/* Addresses and CIDR ranges: parsing, normalising, formatting. Pure functions. */
#ifndef MXG_ADDR_H
#define MXG_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv4 or IPv6 address; IPv4 sits in a[0..3], the rest is zero. */
struct mxg_addr {
	uint8_t family;		/* 4 or 6 */
	uint8_t a[16];		/* network order */
};

struct mxg_cidr {
	struct mxg_addr addr;	/* host bits zero */
	unsigned int prefixlen;	/* 0..32 or 0..128 */
};

/* Longest text form of an address or a CIDR, with the NUL. */
#define MXG_ADDR_STRLEN 46
#define MXG_CIDR_STRLEN 50

/*
 * Parse the address in s[0..len): IPv4, IPv6, "[v6]", "IPv6:v6" (as Exim and
 * Postfix write it), "::ffff:a.b.c.d" (normalised to IPv4), "%zone" dropped.
 * A trailing ":port" is NOT accepted here: callers split it first, nor a
 * NUL byte inside the len bytes. Returns 0, or -EINVAL.
 */
int mxg_addr_parse(const char *s, size_t len, struct mxg_addr *out);

/*
 * Parse "ADDR" or "ADDR/LEN". A bare address becomes a /32 or /128.
 * Host bits set below the prefix length are refused (-EDOM) so that
 * "192.0.2.7/24" is not silently widened; a bad length gives -ERANGE, a bad
 * address -EINVAL. "::ffff:a.b.c.d/N" is the IPv4 range a.b.c.d/(N-96),
 * so N must be 96..128.
 */
int mxg_cidr_parse(const char *s, struct mxg_cidr *out);

/* Clear the host bits of addr below prefixlen. */
void mxg_addr_mask(struct mxg_addr *addr, unsigned int prefixlen);

/* Does range c contain address a (same family)? */
bool mxg_cidr_contains(const struct mxg_cidr *c, const struct mxg_addr *a);

/* Is a inside b (b's prefix no longer than a's, and a's network inside b)? */
bool mxg_cidr_within(const struct mxg_cidr *a, const struct mxg_cidr *b);

bool mxg_addr_equal(const struct mxg_addr *x, const struct mxg_addr *y);

/* Format into buf (at least MXG_ADDR_STRLEN / MXG_CIDR_STRLEN bytes). */
const char *mxg_addr_str(const struct mxg_addr *a, char *buf, size_t size);
const char *mxg_cidr_str(const struct mxg_cidr *c, char *buf, size_t size);

#endif
