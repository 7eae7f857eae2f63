// SPDX-License-Identifier: GPL-2.0
#include "test.h"

int test_passed, test_failed, test_skipped;
const char *test_skip_reason;

void test_run_one(const char *name, bool (*fn)(void))
{
	bool ok;

	test_skip_reason = NULL;
	ok = fn();
	if (test_skip_reason) {
		printf("SKIP %s: %s\n", name, test_skip_reason);
		test_skipped++;
	} else if (ok) {
		printf("PASS %s\n", name);
		test_passed++;
	} else {
		printf("FAIL %s\n", name);
		test_failed++;
	}
	fflush(stdout);
}

int test_summary(void)
{
	printf("%d passed, %d failed, %d skipped\n",
	       test_passed, test_failed, test_skipped);
	return test_failed ? 1 : 0;
}
