// SPDX-License-Identifier: GPL-2.0
/* The attacked-accounts store and the compromise alert rule (accounts.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "accounts.h"
#include "addr.h"
#include "test.h"

#define T0 1700000000LL

static struct mxg_addr ip(const char *s)
{
	struct mxg_addr a;

	if (mxg_addr_parse(s, strlen(s), &a))
		abort();
	return a;
}

static struct mxg_accounts *store(unsigned int cap)
{
	struct mxg_accounts_config c;

	mxg_accounts_config_defaults(&c);
	if (cap)
		c.capacity = c.src_capacity = cap;
	c.hash_seed = 42;
	return mxg_accounts_new(&c);
}

static void fail(struct mxg_accounts *a, int64_t t, const char *addr,
		 const char *user)
{
	struct mxg_addr x = ip(addr);

	mxg_accounts_failure(a, t, &x, user, 1);
}

static int login(struct mxg_accounts *a, int64_t t, const char *addr,
		 const char *user, struct mxg_compromise *c)
{
	struct mxg_addr x = ip(addr);

	return mxg_accounts_success(a, t, &x, user, c);
}

static bool guesser_on_one_account_then_success_from_host_alerts(void)
{
	struct mxg_accounts *a = store(0);
	struct mxg_compromise c;
	char buf[MXG_CIDR_STRLEN];
	bool ok;

	fail(a, T0, "198.18.1.2", "alice");
	fail(a, T0 + 5, "198.18.1.2", "alice");
	fail(a, T0 + 9, "198.18.1.2", "alice");
	ok = ASSERT_EQ(login(a, T0 + 12, "198.18.1.2", "alice", &c), 1, "alert") &&
	     ASSERT_EQ(c.account_failures, 3, "failures against alice") &&
	     ASSERT_EQ(c.failures, 3, "failures of the source") &&
	     ASSERT_EQ(c.first, T0, "first failure") &&
	     ASSERT_EQ(c.last, T0 + 9, "last failure") &&
	     ASSERT_STREQ(mxg_cidr_str(&c.source, buf, sizeof(buf)), "198.18.1.2/32",
			  "the host itself is the source") &&
	     ASSERT_EQ(c.name_len, 5, "name") && ASSERT_TRUE(!memcmp(c.name, "alice", 5), "name");
	mxg_accounts_free(a);
	return ok;
}

static bool guesser_in_same_24_alerts_with_the_range_as_source(void)
{
	struct mxg_accounts *a = store(0);
	struct mxg_compromise c;
	char buf[MXG_CIDR_STRLEN];
	bool ok;

	fail(a, T0, "198.18.1.2", "bob");
	fail(a, T0 + 1, "198.18.1.3", "bob");
	fail(a, T0 + 2, "198.18.1.4", "bob");
	ok = ASSERT_EQ(login(a, T0 + 3, "198.18.1.77", "bob", &c), 1, "alert") &&
	     ASSERT_STREQ(mxg_cidr_str(&c.source, buf, sizeof(buf)), "198.18.1.0/24",
			  "the /24 is the source");
	/* Another /24 entirely: nothing. */
	ok = ok && ASSERT_EQ(login(a, T0 + 4, "198.18.2.1", "bob", NULL), 0,
			     "other /24 no alert");
	mxg_accounts_free(a);
	return ok;
}

static bool guesser_in_same_64_alerts(void)
{
	struct mxg_accounts *a = store(0);
	struct mxg_compromise c;
	char buf[MXG_CIDR_STRLEN];
	bool ok;

	fail(a, T0, "2001:db8:1:2::10", "carol");
	fail(a, T0 + 1, "2001:db8:1:2::11", "carol");
	fail(a, T0 + 2, "2001:db8:1:2:ffff::1", "carol");
	ok = ASSERT_EQ(login(a, T0 + 3, "2001:db8:1:2::99", "carol", &c), 1, "alert") &&
	     ASSERT_STREQ(mxg_cidr_str(&c.source, buf, sizeof(buf)), "2001:db8:1:2::/64",
			  "the /64 is the source") &&
	     ASSERT_EQ(login(a, T0 + 4, "2001:db8:1:3::1", "carol", NULL), 0,
		       "other /64 no alert");
	mxg_accounts_free(a);
	return ok;
}

static bool many_accounts_guesser_alerts_on_an_account_it_tried_once(void)
{
	struct mxg_accounts *a = store(0);
	struct mxg_compromise c;
	bool ok;

	fail(a, T0, "198.18.5.5", "admin");
	fail(a, T0 + 1, "198.18.5.5", "info");
	fail(a, T0 + 2, "198.18.5.5", "sales");
	fail(a, T0 + 3, "198.18.5.5", "office");
	ok = ASSERT_EQ(login(a, T0 + 4, "198.18.5.5", "sales", &c), 1, "alert") &&
	     ASSERT_TRUE(c.guesser, "flagged as a guesser") &&
	     ASSERT_EQ(c.accounts_tried, 4, "accounts tried") &&
	     ASSERT_EQ(c.account_failures, 1, "one failure against sales") &&
	     ASSERT_EQ(c.n_names, 4, "names in the evidence") &&
	     ASSERT_TRUE(!memcmp(c.names[0], "admin", 5), "first name tried");
	mxg_accounts_free(a);
	return ok;
}

static bool success_without_prior_failures_raises_nothing(void)
{
	struct mxg_accounts *a = store(0);
	struct mxg_account acc;
	bool ok;

	ok = ASSERT_EQ(login(a, T0, "198.18.9.9", "dave", NULL), 0, "no alert") &&
	     ASSERT_EQ(login(a, T0 + 60, "198.18.9.9", "dave", NULL), 0, "still none") &&
	     ASSERT_EQ(mxg_accounts_get(a, "dave", 4, &acc), 0, "kept") &&
	     ASSERT_EQ(acc.successes, 2, "two successes") &&
	     ASSERT_EQ(acc.compromised, 0, "not flagged");
	mxg_accounts_free(a);
	return ok;
}

static bool one_mistyped_password_then_success_raises_nothing(void)
{
	struct mxg_accounts *a = store(0);
	bool ok;

	fail(a, T0, "198.18.9.9", "erin");
	ok = ASSERT_EQ(login(a, T0 + 5, "198.18.9.9", "erin", NULL), 0,
		       "one typo is not a guess");
	mxg_accounts_free(a);
	return ok;
}

static bool failures_older_than_the_window_raise_nothing(void)
{
	struct mxg_accounts *a = store(0);
	bool ok;

	fail(a, T0, "198.18.1.2", "frank");
	fail(a, T0 + 1, "198.18.1.2", "frank");
	fail(a, T0 + 2, "198.18.1.2", "frank");
	ok = ASSERT_EQ(login(a, T0 + 2 + 3601, "198.18.1.2", "frank", NULL), 0,
		       "after the window");
	mxg_accounts_free(a);
	/* The edge itself is inside the window. */
	a = store(0);
	fail(a, T0, "198.18.1.2", "frank");
	fail(a, T0 + 1, "198.18.1.2", "frank");
	fail(a, T0 + 2, "198.18.1.2", "frank");
	ok = ok && ASSERT_EQ(login(a, T0 + 2 + 3600, "198.18.1.2", "frank", NULL), 1,
			     "at the window's edge");
	mxg_accounts_free(a);
	return ok;
}

static bool a_new_run_after_a_quiet_window_starts_counting_afresh(void)
{
	struct mxg_accounts *a = store(0);
	struct mxg_compromise c;
	bool ok;

	fail(a, T0, "198.18.1.2", "gina");
	fail(a, T0 + 1, "198.18.1.2", "gina");
	fail(a, T0 + 5000, "198.18.1.2", "gina");
	ok = ASSERT_EQ(login(a, T0 + 5001, "198.18.1.2", "gina", &c), 0,
		       "two old failures do not add to the new one");
	fail(a, T0 + 5002, "198.18.1.2", "gina");
	fail(a, T0 + 5003, "198.18.1.2", "gina");
	ok = ok && ASSERT_EQ(login(a, T0 + 5004, "198.18.1.2", "gina", &c), 1, "alert") &&
	     ASSERT_EQ(c.first, T0 + 5000, "run started at the new failure");
	mxg_accounts_free(a);
	return ok;
}

static bool one_alert_per_account_and_range_per_window(void)
{
	struct mxg_accounts *a = store(0);
	bool ok;

	fail(a, T0, "198.18.1.2", "hank");
	fail(a, T0, "198.18.1.2", "hank");
	fail(a, T0, "198.18.1.2", "hank");
	ok = ASSERT_EQ(login(a, T0 + 1, "198.18.1.2", "hank", NULL), 1, "first") &&
	     ASSERT_EQ(login(a, T0 + 2, "198.18.1.2", "hank", NULL), 0, "no repeat") &&
	     ASSERT_EQ(login(a, T0 + 3, "198.18.1.9", "hank", NULL), 0,
		       "no repeat from the same /24");
	mxg_accounts_free(a);
	return ok;
}

static bool account_counts_failures_sources_and_successes(void)
{
	struct mxg_accounts *a = store(0);
	struct mxg_account acc;
	char s[32];
	unsigned int i;
	bool ok;

	for (i = 0; i < 5; i++) {
		snprintf(s, sizeof(s), "198.18.%u.1", i);
		fail(a, T0 + i, s, "ivan");
	}
	fail(a, T0 + 10, "198.18.0.1", "ivan");
	login(a, T0 + 20, "198.18.200.1", "ivan", NULL);
	ok = ASSERT_EQ(mxg_accounts_get(a, "ivan", 4, &acc), 0, "found") &&
	     ASSERT_EQ(acc.failures, 6, "failures") &&
	     ASSERT_EQ(acc.successes, 1, "successes") &&
	     ASSERT_EQ(acc.sources, 6, "distinct sources, exact") &&
	     ASSERT_TRUE(!acc.sources_approx, "exact") &&
	     ASSERT_EQ(acc.first, T0, "first") && ASSERT_EQ(acc.last, T0 + 20, "last") &&
	     ASSERT_EQ(acc.last_success, T0 + 20, "last success");
	mxg_accounts_free(a);
	return ok;
}

static bool distinct_sources_past_the_exact_set_are_estimated(void)
{
	struct mxg_accounts *a = store(0);
	struct mxg_account acc;
	char s[32];
	unsigned int i;
	bool ok;

	for (i = 0; i < 200; i++) {
		snprintf(s, sizeof(s), "198.18.%u.%u", i / 100, i % 100 + 1);
		fail(a, T0, s, "judy");
		fail(a, T0, s, "judy");	/* twice each: counted once */
	}
	ok = ASSERT_EQ(mxg_accounts_get(a, "judy", 4, &acc), 0, "found") &&
	     ASSERT_TRUE(acc.sources_approx, "an estimate") &&
	     ASSERT_TRUE(acc.sources >= 160 && acc.sources <= 240,
			 "200 sources within 20 %");
	if (!ok)
		fprintf(stderr, "  estimate %u\n", acc.sources);
	mxg_accounts_free(a);
	return ok;
}

static long rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static bool a_million_distinct_names_stay_within_capacity(void)
{
	struct mxg_accounts *a = store(4096);
	struct mxg_accounts_stats st;
	struct mxg_account acc;
	struct mxg_addr x = ip("198.18.7.7");
	long before, after;
	char name[32];
	unsigned int i;
	bool ok;

	/* The attacked account, then a spray of a million one-off names. */
	for (i = 0; i < 500; i++)
		mxg_accounts_failure(a, T0, &x, "admin", 1);
	before = rss_kib();
	for (i = 0; i < 1000000; i++) {
		snprintf(name, sizeof(name), "u%07u", i);
		mxg_accounts_failure(a, T0 + i / 1000, &x, name, 1);
	}
	after = rss_kib();
	mxg_accounts_stats(a, &st);
	ok = ASSERT_EQ(st.accounts, 4096, "accounts held = capacity") &&
	     ASSERT_EQ(st.evicted, 1000001 - 4096, "every other one evicted, counted") &&
	     ASSERT_TRUE(after - before < 1024, "no memory growth (KiB)") &&
	     ASSERT_EQ(mxg_accounts_get(a, "admin", 5, &acc), 0,
		       "the most attacked account survives the spray") &&
	     ASSERT_EQ(acc.failures, 500, "its count intact");
	mxg_accounts_free(a);
	return ok;
}

static bool long_names_are_cut_to_the_bound(void)
{
	struct mxg_accounts *a = store(0);
	struct mxg_account acc;
	char name[300];
	bool ok;

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	fail(a, T0, "198.18.1.1", name);
	ok = ASSERT_EQ(mxg_accounts_get(a, name, strlen(name), &acc), 0, "found") &&
	     ASSERT_EQ(acc.len, MXG_ACCT_NAME_MAX, "cut") &&
	     ASSERT_TRUE(acc.cut, "marked cut");
	mxg_accounts_free(a);
	return ok;
}

static const char *const hostile[] = {
	"a\nb", "x\"y", "$(reboot)", "`id`", "a b", "\x1b[31mred", "back\\slash",
	"tab\there", "\xc3\xa9t\xc3\xa9", "\xff\xfe", "; rm -rf /", "../../etc/passwd",
};

static bool hostile_names_escape_to_printable_text_and_read_back(void)
{
	char esc[MXG_ACCT_ESC_MAX], back[MXG_ACCT_NAME_MAX];
	size_t i, n, len;
	bool ok = true;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		const char *h = hostile[i];

		mxg_acct_escape(h, strlen(h), esc);
		for (n = 0; esc[n]; n++)
			ok = ok && ASSERT_TRUE(esc[n] > ' ' && esc[n] < 0x7f,
					       "printable, no space");
		ok = ok && ASSERT_TRUE(!strchr(esc, '\n'), "no newline") &&
		     ASSERT_EQ(mxg_acct_unescape(esc, strlen(esc), back, sizeof(back), &len),
			       0, "reads back") &&
		     ASSERT_EQ(len, strlen(h), "same length") &&
		     ASSERT_TRUE(!memcmp(back, h, len), "same bytes");
	}
	mxg_acct_escape("a\nb", 3, esc);
	ok = ok && ASSERT_STREQ(esc, "a\\x0ab", "newline as \\x0a");
	mxg_acct_escape("$(x)", 4, esc);
	ok = ok && ASSERT_STREQ(esc, "$(x)", "shell text is plain text, never run");
	return ok;
}

static bool state_lines_round_trip_and_bad_ones_are_refused(void)
{
	struct mxg_accounts *a = store(0), *b = store(0);
	struct mxg_account acc, got;
	char line[MXG_ACCT_STATE_LINE_MAX];
	size_t n;
	bool ok = true;

	fail(a, T0, "198.18.1.2", "a\nb c");
	fail(a, T0, "198.18.1.2", "a\nb c");
	fail(a, T0, "198.18.1.2", "a\nb c");
	login(a, T0 + 1, "198.18.1.2", "a\nb c", NULL);
	ok = ok && ASSERT_EQ(mxg_accounts_get(a, "a\nb c", 5, &acc), 0, "found");
	n = mxg_acct_state_line(&acc, line, sizeof(line));
	ok = ok && ASSERT_TRUE(n > 0, "written") &&
	     ASSERT_TRUE(!memchr(line, '\n', n), "one line") &&
	     ASSERT_EQ(mxg_acct_state_parse(line, n, &got), 0, "parsed") &&
	     ASSERT_EQ(mxg_accounts_restore(b, &got), 0, "restored") &&
	     ASSERT_EQ(mxg_accounts_get(b, "a\nb c", 5, &got), 0, "found again") &&
	     ASSERT_EQ(got.failures, 3, "failures") && ASSERT_EQ(got.successes, 1, "successes") &&
	     ASSERT_EQ(got.compromised, T0 + 1, "flag kept") &&
	     ASSERT_TRUE(mxg_addr_equal(&got.compromise_addr, &acc.compromise_addr), "addr") &&
	     ASSERT_EQ(got.sources, acc.sources, "sources");
	ok = ok && ASSERT_EQ(mxg_acct_state_parse("x 0 1 2", 7, &got), -22, "short") &&
	     ASSERT_EQ(mxg_acct_state_parse("a\\x0 0 1 1 1 1 0 - 0 - - 0,0,0,0", 33, &got),
		       -22, "bad escape") &&
	     ASSERT_EQ(mxg_acct_state_parse("a 0 1 1 1 1 5 - 0 - - 0,0,0,0", 29, &got),
		       -22, "success time without address");
	mxg_accounts_free(a);
	mxg_accounts_free(b);
	return ok;
}

static bool sources_seen_again_after_a_restart_are_not_counted_twice(void)
{
	struct mxg_accounts_config c;
	struct mxg_accounts *a, *b;
	struct mxg_account acc;
	bool ok;

	mxg_accounts_config_defaults(&c);
	c.hash_seed = 1;
	a = mxg_accounts_new(&c);
	c.hash_seed = 2;	/* a restarted daemon picks another seed */
	b = mxg_accounts_new(&c);
	fail(a, T0, "198.18.1.2", "lena");
	fail(a, T0, "198.18.1.3", "lena");
	mxg_accounts_get(a, "lena", 4, &acc);
	ok = ASSERT_EQ(mxg_accounts_restore(b, &acc), 0, "restored");
	fail(b, T0 + 1, "198.18.1.2", "lena");
	fail(b, T0 + 1, "198.18.1.4", "lena");
	ok = ok && ASSERT_EQ(mxg_accounts_get(b, "lena", 4, &acc), 0, "found") &&
	     ASSERT_EQ(acc.sources, 3, "198.18.1.2 counted once across the restart");
	mxg_accounts_free(a);
	mxg_accounts_free(b);
	return ok;
}

static bool role_list_matches_whole_words_case_insensitively(void)
{
	const char *l = "admin, root backup,postmaster";

	return ASSERT_TRUE(mxg_acct_is_role(l, "Admin", 5), "Admin") &&
	       ASSERT_TRUE(mxg_acct_is_role(l, "postmaster", 10), "postmaster") &&
	       ASSERT_TRUE(!mxg_acct_is_role(l, "adm", 3), "prefix") &&
	       ASSERT_TRUE(!mxg_acct_is_role(l, "admins", 6), "longer") &&
	       ASSERT_TRUE(!mxg_acct_is_role(l, "alice", 5), "other");
}

static bool failures_without_a_user_count_for_the_source_only(void)
{
	struct mxg_accounts *a = store(0);
	struct mxg_accounts_stats st;
	struct mxg_addr x = ip("198.18.1.2");
	bool ok;

	mxg_accounts_failure(a, T0, &x, "", 5);
	mxg_accounts_failure(a, T0, &x, NULL, 1);
	mxg_accounts_stats(a, &st);
	ok = ASSERT_EQ(st.accounts, 0, "no account") &&
	     ASSERT_EQ(st.sources, 2, "host and /24") &&
	     ASSERT_EQ(login(a, T0 + 1, "198.18.1.2", "kim", NULL), 0,
		       "failures on no account are no evidence against kim");
	mxg_accounts_free(a);
	return ok;
}

int main(void)
{
	TEST_RUN(guesser_on_one_account_then_success_from_host_alerts);
	TEST_RUN(guesser_in_same_24_alerts_with_the_range_as_source);
	TEST_RUN(guesser_in_same_64_alerts);
	TEST_RUN(many_accounts_guesser_alerts_on_an_account_it_tried_once);
	TEST_RUN(success_without_prior_failures_raises_nothing);
	TEST_RUN(one_mistyped_password_then_success_raises_nothing);
	TEST_RUN(failures_older_than_the_window_raise_nothing);
	TEST_RUN(a_new_run_after_a_quiet_window_starts_counting_afresh);
	TEST_RUN(one_alert_per_account_and_range_per_window);
	TEST_RUN(account_counts_failures_sources_and_successes);
	TEST_RUN(distinct_sources_past_the_exact_set_are_estimated);
	TEST_RUN(a_million_distinct_names_stay_within_capacity);
	TEST_RUN(long_names_are_cut_to_the_bound);
	TEST_RUN(hostile_names_escape_to_printable_text_and_read_back);
	TEST_RUN(state_lines_round_trip_and_bad_ones_are_refused);
	TEST_RUN(sources_seen_again_after_a_restart_are_not_counted_twice);
	TEST_RUN(role_list_matches_whole_words_case_insensitively);
	TEST_RUN(failures_without_a_user_count_for_the_source_only);
	return test_summary();
}
