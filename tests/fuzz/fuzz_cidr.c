// SPDX-License-Identifier: GPL-2.0
/*
 * Address and CIDR parsing (user/lib/addr.c): whatever is accepted must be well
 * formed, print back to text that parses to the same value, and contain
 * itself. Two entry points: mxg_addr_parse on the raw bytes (with their
 * length, as the log parsers call it) and mxg_cidr_parse on a C string.
 */
#include <errno.h>

#include "fuzz.h"
#include "addr.h"

static void check_addr(const uint8_t *data, size_t size)
{
	struct mxg_addr a, b;
	char buf[MXG_ADDR_STRLEN];

	if (mxg_addr_parse((const char *)data, size, &a))
		return;
	/* A NUL inside the field is not an address (it would end it early). */
	FUZZ_CHECK(!memchr(data, '\0', size), "accepted %zu bytes with a NUL", size);
	FUZZ_CHECK(a.family == 4 || a.family == 6, "family %u", a.family);
	if (a.family == 4) {
		static const uint8_t zero[12];

		FUZZ_CHECK(!memcmp(a.a + 4, zero, 12), "IPv4 with bytes past a[3]");
	}
	mxg_addr_str(&a, buf, sizeof(buf));
	FUZZ_CHECK(mxg_addr_parse(buf, strlen(buf), &b) == 0, "\"%s\" does not parse back", buf);
	FUZZ_CHECK(mxg_addr_equal(&a, &b), "\"%s\" parses back to another address", buf);
}

static void check_cidr(const char *s)
{
	struct mxg_cidr c, d, m;
	char buf[MXG_CIDR_STRLEN];
	int ret = mxg_cidr_parse(s, &c);

	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE || ret == -EDOM,
		   "unexpected return %d", ret);
	if (ret == -EDOM) {
		/* cli_cidr suggests the masked range: it must be valid. */
		m = c;
		mxg_addr_mask(&m.addr, m.prefixlen);
		mxg_cidr_str(&m, buf, sizeof(buf));
		FUZZ_CHECK(mxg_cidr_parse(buf, &d) == 0, "suggested \"%s\" is refused", buf);
		return;
	}
	if (ret)
		return;
	FUZZ_CHECK(c.addr.family == 4 || c.addr.family == 6, "family %u", c.addr.family);
	FUZZ_CHECK(c.prefixlen <= (c.addr.family == 4 ? 32u : 128u), "/%u", c.prefixlen);
	m = c;
	mxg_addr_mask(&m.addr, m.prefixlen);
	FUZZ_CHECK(mxg_addr_equal(&m.addr, &c.addr), "host bits set in an accepted range");
	FUZZ_CHECK(mxg_cidr_contains(&c, &c.addr), "range does not contain its network");
	FUZZ_CHECK(mxg_cidr_within(&c, &c), "range not within itself");
	mxg_cidr_str(&c, buf, sizeof(buf));
	FUZZ_CHECK(mxg_cidr_parse(buf, &d) == 0, "\"%s\" does not parse back", buf);
	FUZZ_CHECK(mxg_addr_equal(&c.addr, &d.addr) && c.prefixlen == d.prefixlen,
		   "\"%s\" parses back to another range", buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > 256)
		return 0;
	check_addr(data, size);
	s = fuzz_cstr(data, size);
	check_cidr(s);
	free(s);
	return 0;
}
