// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int mxg_addr_parse(const char *s, size_t len, struct mxg_addr *out)
{
	char buf[64];
	char *pct;

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len > 5 && !strncasecmp(s, "IPv6:", 5)) {
		s += 5;
		len -= 5;
	}
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	/*
	 * The field is len bytes: a NUL inside would end the text early and
	 * report a shorter address than the line holds.
	 */
	if (memchr(s, '\0', len))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	pct = strchr(buf, '%');
	if (pct)
		*pct = '\0';

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->a) == 1) {
		out->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out->a) == 1) {
		out->family = 6;
		if (!memcmp(out->a, v4mapped, sizeof(v4mapped))) {
			memmove(out->a, out->a + 12, 4);
			memset(out->a + 4, 0, 12);
			out->family = 4;
		}
		return 0;
	}
	return -EINVAL;
}

void mxg_addr_mask(struct mxg_addr *addr, unsigned int prefixlen)
{
	unsigned int bytes = addr->family == 4 ? 4 : 16;
	unsigned int i;

	for (i = 0; i < bytes; i++) {
		if (prefixlen >= 8) {
			prefixlen -= 8;
			continue;
		}
		addr->a[i] &= (uint8_t)(0xff00 >> prefixlen);
		prefixlen = 0;
	}
}

/* Does the address text s[0..len) hold an IPv4 in IPv6 notation? */
static bool v6_text(const char *s, size_t len)
{
	if (len > 5 && !strncasecmp(s, "IPv6:", 5)) {
		s += 5;
		len -= 5;
	}
	return memchr(s, ':', len) != NULL;
}

int mxg_cidr_parse(const char *s, struct mxg_cidr *out)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct mxg_addr masked;
	unsigned long n;
	unsigned int max;
	bool mapped;
	char *end;
	int err;

	memset(out, 0, sizeof(*out));
	err = mxg_addr_parse(s, alen, &out->addr);
	if (err)
		return err;
	/*
	 * "::ffff:a.b.c.d" is normalised to IPv4, but a length given with it
	 * counts IPv6 bits: /120 is the IPv4 /24.
	 */
	mapped = out->addr.family == 4 && v6_text(s, alen);
	max = out->addr.family == 6 || mapped ? 128 : 32;
	if (!slash) {
		out->prefixlen = out->addr.family == 4 ? 32 : 128;
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9')
		return -ERANGE;
	errno = 0;
	n = strtoul(slash + 1, &end, 10);
	if (errno || *end || n > max)
		return -ERANGE;
	if (mapped) {
		if (n < 96)
			return -ERANGE;
		n -= 96;
	}
	out->prefixlen = (unsigned int)n;
	masked = out->addr;
	mxg_addr_mask(&masked, out->prefixlen);
	if (!mxg_addr_equal(&masked, &out->addr))
		return -EDOM;
	return 0;
}

bool mxg_addr_equal(const struct mxg_addr *x, const struct mxg_addr *y)
{
	return x->family == y->family && !memcmp(x->a, y->a, sizeof(x->a));
}

bool mxg_cidr_contains(const struct mxg_cidr *c, const struct mxg_addr *a)
{
	struct mxg_addr m = *a;

	if (a->family != c->addr.family)
		return false;
	mxg_addr_mask(&m, c->prefixlen);
	return mxg_addr_equal(&m, &c->addr);
}

bool mxg_cidr_within(const struct mxg_cidr *a, const struct mxg_cidr *b)
{
	return a->addr.family == b->addr.family &&
	       a->prefixlen >= b->prefixlen &&
	       mxg_cidr_contains(b, &a->addr);
}

const char *mxg_addr_str(const struct mxg_addr *a, char *buf, size_t size)
{
	if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->a, buf,
		       (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

const char *mxg_cidr_str(const struct mxg_cidr *c, char *buf, size_t size)
{
	char a[MXG_ADDR_STRLEN];

	snprintf(buf, size, "%s/%u", mxg_addr_str(&c->addr, a, sizeof(a)),
		 c->prefixlen);
	return buf;
}
