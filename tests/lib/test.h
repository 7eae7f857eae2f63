/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal test harness shared by the C test suites.
 *
 * Each test is a function returning bool; TEST_RUN() prints
 * "PASS name", "FAIL name" or "SKIP name: why" and counts it. A suite ends
 * with test_summary(), which prints "N passed, N failed, N skipped" and
 * returns the exit status. tests/run.sh adds the suites' counts together.
 */
#ifndef MXG_TEST_H
#define MXG_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

extern int test_passed, test_failed, test_skipped;
extern const char *test_skip_reason;

#define ASSERT_TRUE(cond, what) ({					\
	bool ___ok = (cond);						\
	if (!___ok)							\
		fprintf(stderr, "  %s:%d: %s: expected true\n",	\
			__FILE__, __LINE__, (what));			\
	___ok;								\
})

#define ASSERT_EQ(got, want, what) ({					\
	long long ___g = (long long)(got), ___w = (long long)(want);	\
	bool ___ok = ___g == ___w;					\
	if (!___ok)							\
		fprintf(stderr, "  %s:%d: %s: got %lld, want %lld\n",	\
			__FILE__, __LINE__, (what), ___g, ___w);	\
	___ok;								\
})

#define ASSERT_STREQ(got, want, what) ({				\
	const char *___g = (got), *___w = (want);			\
	bool ___ok = ___g && ___w && !strcmp(___g, ___w);		\
	if (!___ok)							\
		fprintf(stderr, "  %s:%d: %s: got \"%s\", want \"%s\"\n", \
			__FILE__, __LINE__, (what),			\
			___g ? ___g : "(null)", ___w ? ___w : "(null)"); \
	___ok;								\
})

/* Mark the running test skipped; the test then returns true. */
#define TEST_SKIP(why) ({ test_skip_reason = (why); true; })

#define TEST_RUN(fn) test_run_one(#fn, fn)

void test_run_one(const char *name, bool (*fn)(void));
int test_summary(void);

#endif
