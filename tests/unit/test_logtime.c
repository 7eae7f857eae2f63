// SPDX-License-Identifier: GPL-2.0
/*
 * mxg_logtime_parse on hostile line starts. This suite is built with
 * user/detect/logtime.c compiled under UBSan (see the Makefile): an arithmetic
 * overflow on attacker-controlled digits aborts it instead of passing
 * silently.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logtime.h"
#include "test.h"

#define NOW 1795996800LL	/* 2026-11-30T00:00:00Z */

static int64_t lt(const char *s)
{
	return mxg_logtime_parse(s, strlen(s), NOW);
}

static bool logtime_with_19_or_more_leading_digits_is_no_time(void)
{
	return ASSERT_EQ(lt("9999999999999999999 mx postfix/smtpd[1]: x"), 0, "19 digits") &&
	       ASSERT_EQ(lt("55555555555555555555555555 mx smtpd: x"), 0, "26 digits") &&
	       ASSERT_EQ(lt("18446744073709551616.5 mx smtpd: x"), 0, "2^64 with a fraction");
}

static bool logtime_short_unix_with_ten_digits_is_read(void)
{
	return ASSERT_EQ(lt("1764410401.123456 mx postfix/smtpd[1]: x"), 1764410401LL,
			 "short-unix") &&
	       ASSERT_EQ(lt("1764410401 mx postfix/smtpd[1]: x"), 1764410401LL,
			 "short-unix without fraction") &&
	       ASSERT_EQ(lt("17644104012 mx postfix/smtpd[1]: x"), 0, "11 digits");
}

static bool logtime_rfc3339_is_read(void)
{
	return ASSERT_EQ(lt("2026-11-29T10:00:01Z mx postfix/smtpd[1]: x"), 1795946401LL,
			 "RFC 3339 UTC");
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	TEST_RUN(logtime_with_19_or_more_leading_digits_is_no_time);
	TEST_RUN(logtime_short_unix_with_ten_digits_is_read);
	TEST_RUN(logtime_rfc3339_is_read);
	return test_summary();
}
