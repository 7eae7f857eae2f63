// SPDX-License-Identifier: GPL-2.0
/*
 * The denylist's never-shorten rule as a pure decision (no maps, no root):
 * given the longest entry covering a new ban, is the ban written, does it
 * replace its own range's entry, or is it covered already?
 */
#include <string.h>

#include "denylist.h"
#include "test.h"

#define NOW (1000 * 1000000000ULL)
#define HOUR (3600 * 1000000000ULL)

static struct mxg_cidr cidr(const char *s)
{
	struct mxg_cidr c;

	if (mxg_cidr_parse(s, &c))
		memset(&c, 0, sizeof(c));
	return c;
}

/* An entry of the trie: its own prefix length, expiry, count, hits. */
static struct mxg_deny entry(unsigned int plen, uint64_t expires, unsigned int count,
			     uint64_t hits)
{
	struct mxg_deny d = {
		.expires_ns = expires, .prefixlen = plen, .ban_count = count, .hits = hits,
	};

	return d;
}

static struct mxg_deny ban(uint64_t expires, unsigned int count)
{
	struct mxg_deny v = { .expires_ns = expires, .added_ns = NOW, .ban_count = count };

	return v;
}

static bool a_ban_where_nothing_covers_is_added(void)
{
	struct mxg_cidr c = cidr("198.18.0.0/24");
	struct mxg_deny v = ban(NOW + HOUR, 1);

	return ASSERT_EQ(mxg_deny_decide(&c, NULL, NOW, &v), MXG_APPLY_ADDED, "added") &&
	       ASSERT_EQ(v.ban_count, 1, "first offence");
}

static bool a_shorter_ban_never_shortens_a_longer_one(void)
{
	struct mxg_cidr c = cidr("198.18.0.0/24");
	struct mxg_deny own = entry(24, NOW + 2 * HOUR, 1, 0);
	struct mxg_deny perm = entry(24, 0, 1, 0);
	struct mxg_deny v = ban(NOW + HOUR, 1), w = ban(NOW + 100 * HOUR, 1);

	return ASSERT_EQ(mxg_deny_decide(&c, &own, NOW, &v), MXG_APPLY_COVERED,
			 "a 1h ban over a 2h one is not written") &&
	       ASSERT_EQ(mxg_deny_decide(&c, &perm, NOW, &w), MXG_APPLY_COVERED,
			 "nothing with an end shortens a permanent ban");
}

static bool an_equal_ban_is_covered(void)
{
	struct mxg_cidr c = cidr("198.18.0.0/24");
	struct mxg_deny own = entry(24, NOW + HOUR, 1, 0);
	struct mxg_deny v = ban(NOW + HOUR, 1);

	return ASSERT_EQ(mxg_deny_decide(&c, &own, NOW, &v), MXG_APPLY_COVERED,
			 "the same end: nothing to write");
}

static bool a_longer_ban_replaces_its_own_entry_and_keeps_hits_and_count(void)
{
	struct mxg_cidr c = cidr("198.18.0.0/24");
	struct mxg_deny own = entry(24, NOW + HOUR, 3, 1234);
	struct mxg_deny v = ban(NOW + 5 * HOUR, 1), p = ban(0, 1);

	return ASSERT_EQ(mxg_deny_decide(&c, &own, NOW, &v), MXG_APPLY_EXTENDED, "extended") &&
	       ASSERT_EQ(v.hits, 1234, "hits kept") &&
	       ASSERT_EQ(v.ban_count, 4, "one more offence than the entry had") &&
	       ASSERT_EQ(v.expires_ns, NOW + 5 * HOUR, "the new end") &&
	       ASSERT_EQ(mxg_deny_decide(&c, &own, NOW, &p), MXG_APPLY_EXTENDED,
			 "permanent outlasts any end");
}

static bool a_counted_offence_above_the_entry_is_kept(void)
{
	struct mxg_cidr c = cidr("198.18.0.0/24");
	struct mxg_deny own = entry(24, NOW + HOUR, 2, 0);
	struct mxg_deny v = ban(NOW + 8 * HOUR, 5);

	return ASSERT_EQ(mxg_deny_decide(&c, &own, NOW, &v), MXG_APPLY_EXTENDED, "extended") &&
	       ASSERT_EQ(v.ban_count, 5, "the caller's count, higher, stays");
}

static bool an_expired_entry_covers_nothing(void)
{
	struct mxg_cidr c = cidr("198.18.0.0/24");
	struct mxg_deny own = entry(24, NOW - 1, 2, 7), wide = entry(16, NOW - 1, 1, 0);
	struct mxg_deny v = ban(NOW + 1, 1), w = ban(NOW + 1, 1);

	return ASSERT_EQ(mxg_deny_decide(&c, &own, NOW, &v), MXG_APPLY_EXTENDED,
			 "its own expired entry is replaced, however short the new ban") &&
	       ASSERT_EQ(v.ban_count, 3, "the offence count goes on") &&
	       ASSERT_EQ(mxg_deny_decide(&c, &wide, NOW, &w), MXG_APPLY_ADDED,
			 "an expired wider range covers nothing");
}

static bool a_wider_range_covers_only_when_it_lasts_as_long(void)
{
	struct mxg_cidr c = cidr("198.18.7.9");
	struct mxg_deny wide_long = entry(16, NOW + 10 * HOUR, 1, 99);
	struct mxg_deny wide_short = entry(16, NOW + HOUR, 1, 99);
	struct mxg_deny v = ban(NOW + 2 * HOUR, 1), w = ban(NOW + 2 * HOUR, 1);

	return ASSERT_EQ(mxg_deny_decide(&c, &wide_long, NOW, &v), MXG_APPLY_COVERED,
			 "inside a longer /16: not written") &&
	       ASSERT_EQ(mxg_deny_decide(&c, &wide_short, NOW, &w), MXG_APPLY_ADDED,
			 "outlasts the /16: its own entry") &&
	       ASSERT_EQ(w.hits, 0, "the /16's hits are not the host's") &&
	       ASSERT_EQ(w.ban_count, 1, "nor its count");
}

int main(void)
{
	TEST_RUN(a_ban_where_nothing_covers_is_added);
	TEST_RUN(a_shorter_ban_never_shortens_a_longer_one);
	TEST_RUN(an_equal_ban_is_covered);
	TEST_RUN(a_longer_ban_replaces_its_own_entry_and_keeps_hits_and_count);
	TEST_RUN(a_counted_offence_above_the_entry_is_kept);
	TEST_RUN(an_expired_entry_covers_nothing);
	TEST_RUN(a_wider_range_covers_only_when_it_lasts_as_long);
	return test_summary();
}
