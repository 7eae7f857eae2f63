// SPDX-License-Identifier: GPL-2.0
/*
 * mxg_parse_duration (user/lib/duration.c): an accepted duration must be exactly
 * the number times its unit, computed here in 128 bits so an overflow
 * cannot hide; a value past 2^64 ns must be refused; and what
 * mxg_duration_str prints must parse back to the same value.
 */
#include <ctype.h>
#include <errno.h>

#include "fuzz.h"
#include "duration.h"

#define SEC 1000000000ULL

/* The reference: digits, then one of the units, nothing else. */
static int ref_parse(const char *s, unsigned __int128 *out)
{
	static const struct { const char *suf; uint64_t mult; } units[] = {
		{ "ms", 1000000ULL }, { "s", SEC }, { "m", 60 * SEC },
		{ "h", 3600 * SEC }, { "d", 86400 * SEC },
		{ "w", 7 * 86400 * SEC }, { "", SEC },
	};
	unsigned __int128 v = 0;
	size_t i;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (unsigned)(*s - '0');
		if (v > UINT64_MAX)
			return 1;	/* too big whatever the unit */
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(s, units[i].suf)) {
			*out = v * units[i].mult;
			return *out > UINT64_MAX ? 1 : 0;
		}
	}
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned __int128 want = 0;
	uint64_t ns = 0, back = 0;
	char buf[64];
	char *s;
	int ret, ref;

	if (size > 64)
		return 0;
	s = fuzz_cstr(data, size);
	ret = mxg_parse_duration(s, &ns);
	ref = ref_parse(s, &want);
	if (ref == 0) {
		FUZZ_CHECK(ret == 0, "\"%s\" refused (%d)", s, ret);
		FUZZ_CHECK(ns == (uint64_t)want, "\"%s\" gave %llu ns", s,
			   (unsigned long long)ns);
	} else if (ref > 0) {
		FUZZ_CHECK(ret == -ERANGE, "\"%s\" overflows but gave %d", s, ret);
	} else {
		FUZZ_CHECK(ret == -EINVAL || ret == -ERANGE, "\"%s\" accepted", s);
	}
	/* 0 prints as "0ns", which no config key allows (all start at 1s). */
	if (ret == 0 && ns) {
		mxg_duration_str(ns, buf, sizeof(buf));
		FUZZ_CHECK(mxg_parse_duration(buf, &back) == 0 && back == ns,
			   "%llu ns prints as \"%s\", which does not parse back",
			   (unsigned long long)ns, buf);
	}
	free(s);
	return 0;
}
