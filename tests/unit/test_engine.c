// SPDX-License-Identifier: GPL-2.0
/*
 * The engine's rate path: a report is counted once per bucket stamp,
 * whether it came through the event ring, a walk of the rate maps after
 * the ring lost events, or both.
 */
#include <string.h>

#include "config.h"
#include "engine.h"
#include "test.h"

#define SEC 1000000000ULL

static struct mxg_options opts;

/* An engine that decides only (no maps), its clock moved by hand. */
static bool engine_up(struct mxg_engine *e)
{
	char err[512];

	memset(e, 0, sizeof(*e));
	mxg_config_defaults(&opts);
	if (mxg_engine_init(e, &opts, NULL, err, sizeof(err))) {
		fprintf(stderr, "  engine: %s\n", err);
		return false;
	}
	return true;
}

static struct mxg_cidr prefix(void)
{
	struct mxg_cidr c = { .addr = { .family = 4, .a = { 100, 64, 7, 0 } }, .prefixlen = 24 };

	return c;
}

static bool one_stamp_seen_three_times_is_counted_once(void)
{
	struct mxg_engine e;
	struct mxg_cidr c = prefix();
	bool ok = true;
	int i;

	if (!engine_up(&e))
		return false;
	/* Ring event, then two walks that find the same stamp, seconds apart. */
	for (i = 0; i < 3; i++) {
		ok &= ASSERT_EQ(mxg_engine_rate(&e, &c, 25, 10, 5 * SEC), i == 0,
				"counted only the first time");
		e.clock_offset += 2 * SEC;
	}
	ok &= ASSERT_EQ(mxg_policy_bans(e.policy), 0, "no ban from one second over the rate");
	mxg_engine_free(&e);
	return ok;
}

static bool three_stamps_in_three_seconds_ban_the_prefix(void)
{
	struct mxg_engine e;
	struct mxg_cidr c = prefix();
	bool ok = true;
	int i;

	if (!engine_up(&e))
		return false;
	for (i = 0; i < 3; i++) {
		ok &= ASSERT_TRUE(mxg_engine_rate(&e, &c, 25, 10, (5 + 2 * (uint64_t)i) * SEC),
				  "a new stamp is counted");
		e.clock_offset += 2 * SEC;
	}
	ok &= ASSERT_EQ(mxg_policy_bans(e.policy), 1, "rate_events 3 ban the prefix");
	mxg_engine_free(&e);
	return ok;
}

static bool the_same_stamp_on_another_port_is_counted(void)
{
	struct mxg_engine e;
	struct mxg_cidr c = prefix();
	bool ok = true;

	if (!engine_up(&e))
		return false;
	ok &= ASSERT_TRUE(mxg_engine_rate(&e, &c, 25, 1, 5 * SEC), "port 25");
	ok &= ASSERT_TRUE(mxg_engine_rate(&e, &c, 587, 1, 5 * SEC), "port 587: another bucket");
	mxg_engine_free(&e);
	return ok;
}

int main(void)
{
	TEST_RUN(one_stamp_seen_three_times_is_counted_once);
	TEST_RUN(three_stamps_in_three_seconds_ban_the_prefix);
	TEST_RUN(the_same_stamp_on_another_port_is_counted);
	return test_summary();
}
