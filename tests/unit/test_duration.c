// SPDX-License-Identifier: GPL-2.0
/*
 * Durations as text (user/lib/duration.c): the config and --for/--interval
 * parse them, check-config prints them back, and log lines and ban
 * messages show them rounded for people. No root needed.
 */
#include <errno.h>
#include <stdint.h>

#include "duration.h"
#include "mxguard.h"
#include "test.h"

#define SEC MXG_SEC_NS

static bool duration_units_parse_to_nanoseconds(void)
{
	static const struct { const char *s; uint64_t ns; } v[] = {
		{ "90", 90 * SEC }, { "90s", 90 * SEC }, { "10m", 600 * SEC },
		{ "1h", 3600 * SEC }, { "2d", 2 * 86400 * SEC },
		{ "1w", 7 * 86400 * SEC }, { "500ms", SEC / 2 }, { "0", 0 },
	};
	unsigned int i;
	bool ok = true;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint64_t ns = 1;

		ok &= ASSERT_EQ(mxg_parse_duration(v[i].s, &ns), 0, v[i].s);
		ok &= ASSERT_EQ(ns, v[i].ns, v[i].s);
	}
	return ok;
}

static bool duration_with_sign_space_or_unknown_unit_is_refused(void)
{
	static const char *const bad[] = { "", "-1s", " 1s", "1s ", "1x", "1.5h", "h", "1hh" };
	unsigned int i;
	uint64_t ns;
	bool ok = true;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok &= ASSERT_EQ(mxg_parse_duration(bad[i], &ns), -EINVAL, bad[i]);
	return ok;
}

static bool duration_past_64_bit_nanoseconds_is_out_of_range(void)
{
	uint64_t ns;
	bool ok = true;

	/* 2^64 ns is about 584 years: 30600 weeks is past it. */
	ok &= ASSERT_EQ(mxg_parse_duration("30600w", &ns), -ERANGE, "30600w");
	ok &= ASSERT_EQ(mxg_parse_duration("99999999999999999999", &ns), -ERANGE, "20 digits");
	return ok;
}

static bool duration_str_is_the_largest_exact_unit_and_parses_back(void)
{
	static const struct { uint64_t ns; const char *s; } v[] = {
		{ 3600 * SEC, "1h" }, { 90 * SEC, "90s" }, { 1500 * SEC / 1000, "1500ms" },
		{ 14 * 86400 * SEC, "2w" }, { 1, "1ns" },
	};
	unsigned int i;
	char buf[32];
	uint64_t back;
	bool ok = true;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ok &= ASSERT_STREQ(mxg_duration_str(v[i].ns, buf, sizeof(buf)), v[i].s, v[i].s);
		if (v[i].ns % (SEC / 1000))
			continue;	/* below a millisecond has no unit to read back */
		ok &= ASSERT_EQ(mxg_parse_duration(buf, &back), 0, buf);
		ok &= ASSERT_EQ(back, v[i].ns, buf);
	}
	return ok;
}

static bool human_duration_rounds_up_and_keeps_two_units(void)
{
	static const struct { uint64_t ns; const char *s; } v[] = {
		{ 0, "0s" }, { 1, "1s" }, { 3599 * SEC, "59m 59s" },
		{ 3600 * SEC, "1h" }, { 3601 * SEC, "1h" }, { 3660 * SEC, "1h 1m" },
		{ (2 * 86400 + 3 * 3600 + 59) * SEC, "2d 3h" },
	};
	unsigned int i;
	char buf[32];
	bool ok = true;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ok &= ASSERT_STREQ(human_duration(v[i].ns, buf, sizeof(buf)), v[i].s, v[i].s);
	return ok;
}

int main(void)
{
	TEST_RUN(duration_units_parse_to_nanoseconds);
	TEST_RUN(duration_with_sign_space_or_unknown_unit_is_refused);
	TEST_RUN(duration_past_64_bit_nanoseconds_is_out_of_range);
	TEST_RUN(duration_str_is_the_largest_exact_unit_and_parses_back);
	TEST_RUN(human_duration_rounds_up_and_keeps_two_units);
	return test_summary();
}
