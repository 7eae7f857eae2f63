// SPDX-License-Identifier: GPL-2.0
/* The ban policy and its evidence: thresholds, windows, ranges, memory, files. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "evidence.h"
#include "evidence_ring.h"
#include "policy.h"
#include "test.h"

#define T0 (1000 * MXG_SEC_NS)	/* a "now" well after the clock's start */
#define SEC MXG_SEC_NS
#define MIN MXG_MIN_NS
#define HOUR MXG_HOUR_NS
#define DAY MXG_DAY_NS

#define MAX_BANS 64

/* Decisions as the daemon would receive them. */
struct capture {
	unsigned int n;
	struct mxg_ban v[MAX_BANS];
	unsigned int too_wide;	/* decisions wider than the floor: must stay 0 */
};

static struct capture cap;

static void on_ban(const struct mxg_ban *ban, void *ctx)
{
	struct capture *c = ctx;
	unsigned int floor = ban->cidr.addr.family == 4 ? 16 : 32;

	if (ban->cidr.prefixlen < floor)
		c->too_wide++;
	if (c->n < MAX_BANS) {
		c->v[c->n] = *ban;
		c->v[c->n].service = NULL;	/* not valid after the call */
	}
	c->n++;
}

static struct mxg_addr A(const char *s)
{
	struct mxg_addr a;

	if (mxg_addr_parse(s, strlen(s), &a))
		abort();
	return a;
}

static struct mxg_cidr C(const char *s)
{
	struct mxg_cidr c;

	if (mxg_cidr_parse(s, &c))
		abort();
	return c;
}

static const char *cstr(const struct mxg_cidr *c)
{
	static char buf[4][MXG_CIDR_STRLEN];
	static int k;

	k = (k + 1) % 4;
	return mxg_cidr_str(c, buf[k], sizeof(buf[k]));
}

static struct mxg_policy *policy_with(const struct mxg_policy_config *cfg)
{
	memset(&cap, 0, sizeof(cap));
	return mxg_policy_new(cfg, on_ban, &cap);
}

static struct mxg_policy *policy_default(void)
{
	struct mxg_policy_config cfg;

	mxg_policy_config_defaults(&cfg);
	cfg.hash_seed = 42;
	return policy_with(&cfg);
}

static int fail_n(struct mxg_policy *p, uint64_t now, const char *addr,
		  unsigned int n)
{
	struct mxg_addr a = A(addr);
	char line[200];
	unsigned int i;
	int got = 0, r;

	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line),
			 "May  1 10:00:00 mx postfix/smtpd[7]: warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
			 addr);
		r = mxg_policy_failure(p, now, &a, "postfix", NULL, 1, line,
				       strlen(line));
		if (r < 0)
			return r;
		got += r;
	}
	return got;
}

/* --- config -------------------------------------------------------------- */

static bool defaults_pass_the_config_check(void)
{
	struct mxg_policy_config cfg;
	char err[128] = "";

	mxg_policy_config_defaults(&cfg);
	return ASSERT_EQ(mxg_policy_config_check(&cfg, err, sizeof(err)), 0, err) &&
	       ASSERT_EQ(cfg.maxretry, 5, "maxretry") &&
	       ASSERT_EQ(cfg.findtime_ns, 10 * MIN, "findtime") &&
	       ASSERT_EQ(cfg.bantime_ns, HOUR, "bantime") &&
	       ASSERT_EQ(cfg.bantime_max_ns, 7 * DAY, "bantime_max");
}

static bool config_check_names_the_key_out_of_bounds(void)
{
	struct mxg_policy_config cfg;
	char err[128] = "";

	mxg_policy_config_defaults(&cfg);
	cfg.maxretry = 0;
	if (!ASSERT_EQ(mxg_policy_config_check(&cfg, err, sizeof(err)), -EINVAL, "maxretry 0"))
		return false;
	if (!ASSERT_STREQ(err, "maxretry: must be between 1 and 100", "message"))
		return false;
	mxg_policy_config_defaults(&cfg);
	cfg.bantime_max_ns = 30 * MIN;
	return ASSERT_EQ(mxg_policy_config_check(&cfg, err, sizeof(err)), -EINVAL, "bantime_max < bantime") &&
	       ASSERT_TRUE(!strncmp(err, "bantime_max:", 12), err);
}

static bool config_check_rejects_a_range_wider_than_the_floor(void)
{
	struct mxg_policy_config cfg;
	char err[160] = "";

	mxg_policy_config_defaults(&cfg);
	cfg.range_v4 = 12;
	if (!ASSERT_EQ(mxg_policy_config_check(&cfg, err, sizeof(err)), -EINVAL, "range_v4 /12") ||
	    !ASSERT_TRUE(!strncmp(err, "range_v4:", 9) && strstr(err, "floor_v4"), err))
		return false;
	mxg_policy_config_defaults(&cfg);
	cfg.range_v6 = 24;
	if (!ASSERT_EQ(mxg_policy_config_check(&cfg, err, sizeof(err)), -EINVAL, "range_v6 /24") ||
	    !ASSERT_TRUE(!strncmp(err, "range_v6:", 9), err))
		return false;
	errno = 0;
	return ASSERT_TRUE(mxg_policy_new(&cfg, on_ban, &cap) == NULL, "new refuses") &&
	       ASSERT_EQ(errno, EINVAL, "errno");
}

/* --- thresholds and windows ------------------------------------------------ */

static bool maxretry_minus_one_failures_do_not_ban(void)
{
	struct mxg_policy *p = policy_default();
	bool ok;

	ok = ASSERT_EQ(fail_n(p, T0, "192.0.2.7", 4), 0, "4 failures") &&
	     ASSERT_EQ(cap.n, 0, "decisions") &&
	     ASSERT_EQ(mxg_policy_failures(p, T0, &(struct mxg_addr){ 0 }), 0, "bad addr") &&
	     ASSERT_EQ(mxg_policy_failures(p, T0, &(const struct mxg_addr){ .family = 4, .a = { 192, 0, 2, 7 } }), 4, "counted");
	mxg_policy_free(p);
	return ok;
}

static bool maxretry_failures_ban_the_host_for_bantime(void)
{
	struct mxg_policy *p = policy_default();
	struct mxg_addr a = A("192.0.2.7");
	bool ok;

	ok = ASSERT_EQ(fail_n(p, T0, "192.0.2.7", 5), 1, "5th failure bans") &&
	     ASSERT_EQ(cap.n, 1, "one decision") &&
	     ASSERT_STREQ(cstr(&cap.v[0].cidr), "192.0.2.7/32", "host") &&
	     ASSERT_EQ(cap.v[0].duration_ns, HOUR, "bantime") &&
	     ASSERT_EQ(cap.v[0].expires_ns, T0 + HOUR, "expires") &&
	     ASSERT_EQ(cap.v[0].ban_count, 1, "first offence") &&
	     ASSERT_EQ(cap.v[0].reason, MXG_REASON_LOG, "reason") &&
	     ASSERT_EQ(cap.v[0].failures, 5, "failures") &&
	     ASSERT_TRUE(!cap.v[0].monitor, "enforcing") &&
	     ASSERT_TRUE(mxg_policy_is_banned(p, T0, &a), "banned") &&
	     ASSERT_TRUE(!mxg_policy_is_banned(p, T0 + HOUR, &a), "expired after bantime");
	mxg_policy_free(p);
	return ok;
}

static bool failures_spread_just_over_findtime_do_not_ban(void)
{
	struct mxg_policy *p = policy_default();
	/* 5 failures; first and last 10 min + 1 s apart. */
	uint64_t step = (10 * MIN + SEC) / 4;
	unsigned int i;
	int got = 0;
	bool ok;

	for (i = 0; i < 5; i++)
		got += fail_n(p, T0 + i * step + (i == 4 ? 4 : 0), "198.51.100.9", 1);
	ok = ASSERT_EQ(got, 0, "no ban") && ASSERT_EQ(cap.n, 0, "decisions") &&
	     ASSERT_EQ(mxg_policy_failures(p, T0 + 4 * step + 4,
					   &(const struct mxg_addr){ .family = 4, .a = { 198, 51, 100, 9 } }),
		       4, "oldest left the window");
	mxg_policy_free(p);
	return ok;
}

static bool failures_just_within_findtime_ban(void)
{
	struct mxg_policy *p = policy_default();
	uint64_t step = (10 * MIN - SEC) / 4;
	unsigned int i;
	int got = 0;
	bool ok;

	for (i = 0; i < 5; i++)
		got += fail_n(p, T0 + i * step, "198.51.100.9", 1);
	ok = ASSERT_EQ(got, 1, "ban") &&
	     ASSERT_STREQ(cstr(&cap.v[0].cidr), "198.51.100.9/32", "host");
	mxg_policy_free(p);
	return ok;
}

static bool dovecot_attempts_count_as_that_many_failures(void)
{
	struct mxg_policy *p = policy_default();
	struct mxg_addr a = A("203.0.113.5");
	const char *line = "dovecot: auth: passwd-file(bob,203.0.113.5): auth failed, 3 attempts";
	bool ok;

	ok = ASSERT_EQ(mxg_policy_failure(p, T0, &a, "dovecot", "bob", 3, line, strlen(line)), 0, "3 attempts") &&
	     ASSERT_EQ(mxg_policy_failures(p, T0, &a), 3, "counted 3") &&
	     ASSERT_EQ(mxg_policy_failure(p, T0 + SEC, &a, "dovecot", "bob", 2, line, strlen(line)), 1, "3+2 bans") &&
	     ASSERT_EQ(cap.v[0].failures, 5, "failures") &&
	     ASSERT_EQ(mxg_policy_failure(p, T0, &a, "dovecot", "bob", 0, line, strlen(line)), -EINVAL, "0 attempts refused");
	mxg_policy_free(p);
	return ok;
}

/* --- ranges ----------------------------------------------------------------- */

static bool three_failing_hosts_of_a_v4_24_ban_the_24(void)
{
	struct mxg_policy *p = policy_default();
	bool ok;

	ok = ASSERT_EQ(fail_n(p, T0, "198.18.1.10", 5), 1, "host 1 banned") &&
	     ASSERT_EQ(fail_n(p, T0 + MIN, "198.18.1.11", 5), 1, "host 2 banned") &&
	     ASSERT_EQ(fail_n(p, T0 + 2 * MIN, "198.18.1.12", 2), 1, "host 3 completes the range") &&
	     ASSERT_EQ(cap.n, 3, "decisions") &&
	     ASSERT_STREQ(cstr(&cap.v[2].cidr), "198.18.1.0/24", "range") &&
	     ASSERT_EQ(cap.v[2].hosts, 3, "hosts") &&
	     ASSERT_EQ(cap.v[2].duration_ns, HOUR, "first range offence") &&
	     ASSERT_TRUE(mxg_policy_is_banned(p, T0 + 3 * MIN, &(const struct mxg_addr){ .family = 4, .a = { 198, 18, 1, 200 } }),
			 "a neighbour is inside the ban") &&
	     ASSERT_EQ(fail_n(p, T0 + 3 * MIN, "198.18.1.200", 10), 0, "no duplicate inside") &&
	     ASSERT_EQ(cap.too_wide, 0, "never wider than the floor");
	mxg_policy_free(p);
	return ok;
}

static bool three_neighbours_mistyping_once_do_not_ban_their_24(void)
{
	struct mxg_policy *p = policy_default();
	bool ok;

	ok = ASSERT_EQ(fail_n(p, T0, "198.18.2.1", 1), 0, "1") &&
	     ASSERT_EQ(fail_n(p, T0, "198.18.2.2", 1), 0, "2") &&
	     ASSERT_EQ(fail_n(p, T0, "198.18.2.3", 1), 0, "3") &&
	     ASSERT_EQ(fail_n(p, T0, "198.18.2.4", 1), 0, "4") &&
	     ASSERT_EQ(cap.n, 0, "no decision");
	mxg_policy_free(p);
	return ok;
}

/*
 * A range keeps range_hosts slots of failing hosts. A new host takes an
 * empty slot, else that of the unqualified host seen longest ago: here
 * 198.18.4.3, whose only failure fell out of findtime, not 198.18.4.1 in
 * the first slot, seen 4 minutes ago. The range ban then counts the three
 * hosts failing within findtime.
 */
static bool new_host_replaces_the_stalest_unqualified_slot_of_its_range(void)
{
	struct mxg_policy_config cfg;
	struct mxg_policy *p;
	bool ok;

	mxg_policy_config_defaults(&cfg);
	cfg.hash_seed = 42;
	cfg.range_min_failures = 3;	/* two failures leave a host unqualified */
	cfg.range_failures_v4 = 6;
	p = policy_with(&cfg);
	if (!ASSERT_TRUE(p != NULL, "policy"))
		return false;
	/* The slots fill in this order: .1, .2, .3. */
	ok = ASSERT_EQ(fail_n(p, T0, "198.18.4.1", 1), 0, "1") &&
	     ASSERT_EQ(fail_n(p, T0, "198.18.4.2", 1), 0, "2") &&
	     ASSERT_EQ(fail_n(p, T0, "198.18.4.3", 1), 0, "3") &&
	     ASSERT_EQ(fail_n(p, T0 + 7 * MIN, "198.18.4.1", 1), 0, "1 again") &&
	     ASSERT_EQ(fail_n(p, T0 + 7 * MIN, "198.18.4.2", 1), 0, "2 again") &&
	     /* .3 is stale now; .4 must take its slot. */
	     ASSERT_EQ(fail_n(p, T0 + 11 * MIN, "198.18.4.4", 1), 0, "4") &&
	     ASSERT_EQ(fail_n(p, T0 + 11 * MIN, "198.18.4.4", 1), 1, "4 again bans the range") &&
	     ASSERT_STREQ(cstr(&cap.v[0].cidr), "198.18.4.0/24", "range") &&
	     ASSERT_EQ(cap.v[0].hosts, 3, ".1, .2 and .4 fail within findtime");
	mxg_policy_free(p);
	return ok;
}

static bool one_password_per_address_across_a_v4_24_bans_it(void)
{
	struct mxg_policy *p = policy_default();
	char a[32];
	unsigned int i;
	int got = 0;
	bool ok;

	for (i = 1; i <= 14; i++) {
		snprintf(a, sizeof(a), "198.18.3.%u", i);
		got += fail_n(p, T0 + i * SEC, a, 1);
	}
	if (!ASSERT_EQ(got, 0, "14 one-shot failures"))
		return false;
	got = fail_n(p, T0 + 15 * SEC, "198.18.3.15", 1);
	ok = ASSERT_EQ(got, 1, "15th bans the range") &&
	     ASSERT_STREQ(cstr(&cap.v[0].cidr), "198.18.3.0/24", "range") &&
	     ASSERT_EQ(cap.v[0].failures, 15, "failures");
	mxg_policy_free(p);
	return ok;
}

static bool v6_address_rotation_in_a_64_bans_the_64_after_maxretry(void)
{
	struct mxg_policy *p = policy_default();
	char a[64];
	unsigned int i;
	int got = 0;
	bool ok;

	for (i = 1; i <= 4; i++) {
		snprintf(a, sizeof(a), "2001:db8:1:2:%x::%x", i * 7, i);
		got += fail_n(p, T0 + i * SEC, a, 1);
	}
	if (!ASSERT_EQ(got, 0, "4 rotated failures"))
		return false;
	ok = ASSERT_EQ(fail_n(p, T0 + 5 * SEC, "2001:db8:1:2:ffff::1", 1), 1, "5th bans") &&
	     ASSERT_STREQ(cstr(&cap.v[0].cidr), "2001:db8:1:2::/64", "the /64") &&
	     ASSERT_EQ(fail_n(p, T0 + 6 * SEC, "2001:db8:1:2:abcd::9", 20), 0, "covered") &&
	     ASSERT_EQ(cap.too_wide, 0, "floor");
	mxg_policy_free(p);
	return ok;
}

static bool a_single_v6_host_gets_a_128_not_its_64(void)
{
	struct mxg_policy *p = policy_default();
	bool ok;

	ok = ASSERT_EQ(fail_n(p, T0, "2001:db8:5::7", 5), 1, "ban") &&
	     ASSERT_EQ(cap.n, 1, "one decision") &&
	     ASSERT_STREQ(cstr(&cap.v[0].cidr), "2001:db8:5::7/128", "host only");
	mxg_policy_free(p);
	return ok;
}

/* --- repeat offenders --------------------------------------------------------- */

static bool repeat_bans_double_up_to_bantime_max(void)
{
	static const uint64_t want[] = { 1 * HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR,
					 16 * HOUR, 32 * HOUR, 64 * HOUR,
					 128 * HOUR, 7 * DAY, 7 * DAY };
	struct mxg_policy *p = policy_default();
	uint64_t now = T0;
	unsigned int i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		unsigned int before = cap.n;

		if (!ASSERT_EQ(fail_n(p, now, "192.0.2.99", 5), 1, "banned again") ||
		    !ASSERT_EQ(cap.v[before].ban_count, i + 1, "ban_count") ||
		    !ASSERT_EQ(cap.v[before].duration_ns, want[i], "duration")) {
			mxg_policy_free(p);
			return false;
		}
		now = cap.v[before].expires_ns + MIN;	/* back after the ban */
		mxg_policy_tick(p, now);
	}
	mxg_policy_free(p);
	return true;
}

static bool offences_are_forgotten_after_forgettime(void)
{
	struct mxg_policy *p = policy_default();
	uint64_t end;
	bool ok;

	ok = ASSERT_EQ(fail_n(p, T0, "192.0.2.50", 5), 1, "first");
	end = T0 + HOUR;
	ok = ok && ASSERT_EQ(fail_n(p, end + DAY, "192.0.2.50", 5), 1, "second, a day later") &&
	     ASSERT_EQ(cap.v[1].ban_count, 2, "remembered");
	end = end + DAY + 2 * HOUR;
	mxg_policy_tick(p, end + 7 * DAY);
	ok = ok && ASSERT_EQ(mxg_policy_bans(p), 0, "record forgotten") &&
	     ASSERT_EQ(fail_n(p, end + 7 * DAY + SEC, "192.0.2.50", 5), 1, "third") &&
	     ASSERT_EQ(cap.v[2].ban_count, 1, "a first offence again") &&
	     ASSERT_EQ(cap.v[2].duration_ns, HOUR, "bantime");
	mxg_policy_free(p);
	return ok;
}

/* --- never banned -------------------------------------------------------------- */

static bool ignoreip_is_never_banned_nor_a_range_around_it(void)
{
	struct mxg_policy_config cfg;
	struct mxg_cidr ign[] = { C("198.18.9.128/25"), C("2001:db8:99::/48") };
	struct mxg_policy *p;
	bool ok;

	mxg_policy_config_defaults(&cfg);
	cfg.ignoreip = ign;
	cfg.n_ignoreip = 2;
	p = policy_with(&cfg);
	ok = ASSERT_EQ(fail_n(p, T0, "198.18.9.200", 50), 0, "office") &&
	     ASSERT_EQ(fail_n(p, T0, "2001:db8:99:1::5", 50), 0, "office v6") &&
	     ASSERT_TRUE(mxg_policy_ignored(p, &(const struct mxg_addr){ .family = 4, .a = { 198, 18, 9, 129 } }), "ignored") &&
	     /* Neighbours outside the ignored /25 are banned, but only as hosts. */
	     ASSERT_EQ(fail_n(p, T0, "198.18.9.1", 5), 1, "host 1") &&
	     ASSERT_EQ(fail_n(p, T0, "198.18.9.2", 5), 1, "host 2") &&
	     ASSERT_EQ(fail_n(p, T0, "198.18.9.3", 5), 1, "host 3") &&
	     ASSERT_EQ(cap.n, 3, "three host bans, no /24") &&
	     ASSERT_STREQ(cstr(&cap.v[2].cidr), "198.18.9.3/32", "host") &&
	     ASSERT_EQ(mxg_policy_rate(p, T0, &ign[0], 25, 1), 0, "rate") &&
	     ASSERT_EQ(mxg_policy_rate(p, T0 + SEC, &(struct mxg_cidr){ C("198.18.9.0/24").addr, 24 }, 25, 1), 0, "rate 1") &&
	     ASSERT_EQ(mxg_policy_rate(p, T0 + 2 * SEC, &(struct mxg_cidr){ C("198.18.9.0/24").addr, 24 }, 25, 1), 0, "rate 2") &&
	     ASSERT_EQ(mxg_policy_rate(p, T0 + 3 * SEC, &(struct mxg_cidr){ C("198.18.9.0/24").addr, 24 }, 25, 1), 0, "rate 3") &&
	     ASSERT_EQ(cap.n, 3, "no rate ban over an ignored range");
	mxg_policy_free(p);
	return ok;
}

static bool loopback_unspecified_and_own_addresses_are_never_banned(void)
{
	struct mxg_policy_config cfg;
	struct mxg_addr own[] = { A("203.0.113.25"), A("2001:db8:25::25") };
	struct mxg_policy *p;
	bool ok;

	mxg_policy_config_defaults(&cfg);
	cfg.own = own;
	cfg.n_own = 2;
	p = policy_with(&cfg);
	ok = ASSERT_EQ(fail_n(p, T0, "127.0.0.1", 20), 0, "127.0.0.1") &&
	     ASSERT_EQ(fail_n(p, T0, "127.3.2.1", 20), 0, "127/8") &&
	     ASSERT_EQ(fail_n(p, T0, "::1", 20), 0, "::1") &&
	     ASSERT_EQ(fail_n(p, T0, "::", 20), 0, "::") &&
	     ASSERT_EQ(fail_n(p, T0, "0.0.0.0", 20), 0, "0.0.0.0") &&
	     ASSERT_EQ(fail_n(p, T0, "203.0.113.25", 20), 0, "own v4") &&
	     ASSERT_EQ(fail_n(p, T0, "2001:db8:25::25", 20), 0, "own v6") &&
	     /* Neighbours of our own address: hosts yes, their range no. */
	     ASSERT_EQ(fail_n(p, T0, "203.0.113.1", 5), 1, "n1") &&
	     ASSERT_EQ(fail_n(p, T0, "203.0.113.2", 5), 1, "n2") &&
	     ASSERT_EQ(fail_n(p, T0, "203.0.113.3", 5), 1, "n3") &&
	     ASSERT_EQ(cap.n, 3, "hosts only") &&
	     ASSERT_EQ(mxg_policy_note_ban(p, &(struct mxg_cidr){ A("127.0.0.1"), 32 }, 0, 1), 0, "manual notes are recorded");
	mxg_policy_free(p);
	return ok;
}

static bool nothing_wider_than_the_floor_is_ever_emitted(void)
{
	struct mxg_policy *p = policy_default();
	struct mxg_cidr wide4 = C("10.0.0.0/8"), wide6 = C("2001:db8::/29");
	struct mxg_cidr at_floor = C("10.1.0.0/16");
	unsigned int i;
	int got = 0;
	bool ok;

	for (i = 0; i < 10; i++) {
		got += mxg_policy_rate(p, T0 + i * SEC, &wide4, 25, 100);
		got += mxg_policy_rate(p, T0 + i * SEC, &wide6, 25, 100);
	}
	ok = ASSERT_EQ(got, 0, "wide rate ranges") && ASSERT_EQ(cap.n, 0, "none");
	for (i = 0; i < 3; i++)
		got += mxg_policy_rate(p, T0 + (10 + i) * SEC, &at_floor, 25, 100);
	ok = ok && ASSERT_EQ(got, 1, "the floor itself may be banned") &&
	     ASSERT_EQ(cap.too_wide, 0, "nothing wider");
	mxg_policy_free(p);
	return ok;
}

/* --- monitor mode ----------------------------------------------------------- */

static bool monitor_mode_emits_would_bans_and_records_none(void)
{
	struct mxg_policy_config cfg;
	struct mxg_addr a = A("192.0.2.77");
	struct mxg_policy *p;
	bool ok;

	mxg_policy_config_defaults(&cfg);
	cfg.monitor = true;
	p = policy_with(&cfg);
	ok = ASSERT_EQ(fail_n(p, T0, "192.0.2.77", 5), 1, "would ban") &&
	     ASSERT_TRUE(cap.v[0].monitor, "marked monitor") &&
	     ASSERT_STREQ(cstr(&cap.v[0].cidr), "192.0.2.77/32", "host") &&
	     ASSERT_TRUE(!mxg_policy_is_banned(p, T0, &a), "not banned") &&
	     ASSERT_EQ(mxg_policy_bans(p), 0, "no record") &&
	     ASSERT_EQ(fail_n(p, T0 + SEC, "192.0.2.77", 4), 0, "counting restarted") &&
	     ASSERT_EQ(fail_n(p, T0 + 2 * SEC, "192.0.2.77", 1), 1, "would ban again") &&
	     ASSERT_TRUE(cap.v[1].monitor, "monitor") &&
	     ASSERT_EQ(cap.v[1].ban_count, 1, "no offence recorded");
	mxg_policy_free(p);
	return ok;
}

/* --- bans made elsewhere ---------------------------------------------------------- */

static bool a_noted_ban_prevents_duplicate_bans(void)
{
	struct mxg_policy *p = policy_default();
	struct mxg_cidr r = C("192.0.2.0/26");
	bool ok;

	ok = ASSERT_EQ(mxg_policy_note_ban(p, &r, T0 + HOUR, 3), 0, "noted") &&
	     ASSERT_EQ(fail_n(p, T0, "192.0.2.5", 30), 0, "late log lines: no ban") &&
	     ASSERT_EQ(cap.n, 0, "no decision") &&
	     ASSERT_EQ(fail_n(p, T0, "192.0.2.65", 5), 1, "outside the range: banned") &&
	     /* After the noted ban ends, its count is the base of the doubling. */
	     ASSERT_EQ(mxg_policy_note_ban(p, &(struct mxg_cidr){ A("198.51.100.1"), 32 }, T0 + MIN, 3), 0, "noted host") &&
	     ASSERT_EQ(fail_n(p, T0 + 2 * MIN, "198.51.100.1", 5), 1, "banned again") &&
	     ASSERT_EQ(cap.v[1].ban_count, 4, "4th offence") &&
	     ASSERT_EQ(cap.v[1].duration_ns, 8 * HOUR, "8 h");
	mxg_policy_free(p);
	return ok;
}

static bool unban_forgets_the_ban_the_offences_and_the_counting(void)
{
	struct mxg_policy *p = policy_default();
	struct mxg_cidr host = C("192.0.2.33");
	struct mxg_ban_info info;
	bool ok;

	ok = ASSERT_EQ(fail_n(p, T0, "192.0.2.33", 5), 1, "banned") &&
	     ASSERT_EQ(mxg_policy_note_unban(p, &host), 0, "unbanned") &&
	     ASSERT_EQ(mxg_policy_ban_info(p, T0, &host, &info), -ENOENT, "record gone") &&
	     ASSERT_TRUE(!mxg_policy_is_banned(p, T0, &host.addr), "not banned") &&
	     ASSERT_EQ(fail_n(p, T0 + SEC, "192.0.2.33", 4), 0, "counting from zero") &&
	     ASSERT_EQ(fail_n(p, T0 + SEC, "192.0.2.33", 1), 1, "banned again") &&
	     ASSERT_EQ(cap.v[1].ban_count, 1, "as a first offence") &&
	     ASSERT_EQ(mxg_policy_note_unban(p, &(struct mxg_cidr){ A("198.51.100.200"), 32 }), -ENOENT, "unknown");
	mxg_policy_free(p);
	return ok;
}

/* --- rate events ------------------------------------------------------------------ */

static bool rate_events_in_three_distinct_seconds_ban_the_range(void)
{
	struct mxg_policy *p = policy_default();
	struct mxg_cidr r = C("198.18.7.0/24");
	bool ok;

	ok = ASSERT_EQ(mxg_policy_rate(p, T0, &r, 25, 10), 0, "1st") &&
	     ASSERT_EQ(mxg_policy_rate(p, T0 + SEC / 2, &r, 587, 20), 0, "same second, other port") &&
	     ASSERT_EQ(mxg_policy_rate(p, T0 + 2 * SEC, &r, 25, 30), 0, "2nd") &&
	     ASSERT_EQ(mxg_policy_rate(p, T0 + 5 * SEC, &r, 465, 40), 1, "3rd bans") &&
	     ASSERT_STREQ(cstr(&cap.v[0].cidr), "198.18.7.0/24", "range") &&
	     ASSERT_EQ(cap.v[0].reason, MXG_REASON_RATE, "reason rate") &&
	     ASSERT_EQ(cap.v[0].port, 465, "port") &&
	     ASSERT_EQ(cap.v[0].failures, 3, "seconds") &&
	     ASSERT_EQ(fail_n(p, T0 + 6 * SEC, "198.18.7.9", 10), 0, "log failures inside: no duplicate") &&
	     ASSERT_EQ(mxg_policy_rate(p, T0 + 7 * SEC, &r, 25, 50), 0, "a banned range: no duplicate");
	mxg_policy_free(p);
	if (!ok)
		return false;

	/* A ban of one host of a range does not hide the range's rate events. */
	p = policy_default();
	r = C("198.18.6.0/24");
	ok = ASSERT_EQ(mxg_policy_note_ban(p, &(struct mxg_cidr){ r.addr, 32 }, T0 + HOUR, 1), 0, "host .0 banned") &&
	     ASSERT_EQ(mxg_policy_rate(p, T0, &r, 25, 1), 0, "1") &&
	     ASSERT_EQ(mxg_policy_rate(p, T0 + SEC, &r, 25, 1), 0, "2") &&
	     ASSERT_EQ(mxg_policy_rate(p, T0 + 2 * SEC, &r, 25, 1), 1, "3 bans the range");
	mxg_policy_free(p);
	return ok;
}

static bool rate_events_spread_over_findtime_do_not_ban(void)
{
	struct mxg_policy *p = policy_default();
	struct mxg_cidr r = C("198.18.8.0/24");
	bool ok;

	ok = ASSERT_EQ(mxg_policy_rate(p, T0, &r, 25, 1), 0, "1") &&
	     ASSERT_EQ(mxg_policy_rate(p, T0 + 6 * MIN, &r, 25, 1), 0, "2") &&
	     ASSERT_EQ(mxg_policy_rate(p, T0 + 11 * MIN, &r, 25, 1), 0, "3, first one out of the window") &&
	     ASSERT_EQ(cap.n, 0, "none");
	mxg_policy_free(p);
	return ok;
}

/* --- evidence ------------------------------------------------------------------------ */

static bool redact(const char *in, const char *want)
{
	char out[MXG_EVIDENCE_LINE_MAX];
	size_t n = mxg_evidence_redact(in, strlen(in), out, sizeof(out));

	return ASSERT_STREQ(out, want, in) && ASSERT_EQ(n, strlen(want), "length");
}

static bool redaction_removes_passwords_and_plain_credentials(void)
{
	char small[16];

	return redact("dovecot: auth: passwd-file(alice,192.0.2.7): Password mismatch (given password: hunter2 x)",
		      "dovecot: auth: passwd-file(alice,192.0.2.7): Password mismatch (given password: ***)") &&
	       redact("auth-worker: sql(bob): unknown user (given password: se)cr(et)",
		      "auth-worker: sql(bob): unknown user (given password: ***)") &&
	       redact("login failed user=carol password=Sommer2024! rip=192.0.2.8",
		      "login failed user=carol password=***") &&
	       redact("PASSWD:abc", "PASSWD:***") &&
	       /* "\0alice\0secret" */
	       redact("postfix/smtpd[1]: warning: unknown[192.0.2.9]: SASL PLAIN authentication failed: AGFsaWNlAHNlY3JldA==",
		      "postfix/smtpd[1]: warning: unknown[192.0.2.9]: SASL PLAIN authentication failed: ***") &&
	       redact("exim: AUTH PLAIN YWxpY2UAYWxpY2UAc2VjcmV0 rejected",
		      "exim: AUTH PLAIN *** rejected") &&
	       /* "alice\0secret": one NUL, a secret where Postfix reports the failure... */
	       redact("SASL PLAIN authentication failed: YWxpY2UAc2VjcmV0",
		      "SASL PLAIN authentication failed: ***") &&
	       /* ...but elsewhere only the PLAIN shape (two NULs) is taken for one. */
	       redact("queue YWxpY2UAc2VjcmV0 kept", "queue YWxpY2UAc2VjcmV0 kept") &&
	       /* "Password:" is the LOGIN challenge: no secret, kept. */
	       redact("SASL LOGIN authentication failed: UGFzc3dvcmQ6",
		      "SASL LOGIN authentication failed: UGFzc3dvcmQ6") &&
	       redact("Password mismatch for bob", "Password mismatch for bob") &&
	       redact("a\tb\x01 c\r\n", "a?b? c") &&
	       ASSERT_EQ(mxg_evidence_redact("password=0123456789abcdef", 25, small, sizeof(small)), 12, "cut") &&
	       ASSERT_STREQ(small, "password=***", "cut text");
}

/*
 * The cases of the parser's former line redactor, on the one the daemon
 * uses: a Dovecot password that holds ')' leaks none of its bytes, and
 * the copy is cut to the buffer.
 */
static bool redaction_hides_a_password_holding_parentheses(void)
{
	static const char dovecot[] =
		"Nov 29 10:00:14 mx dovecot: auth: sql(erin,198.18.1.13,<Ab>): Password mismatch (given password: hunter2)";
	char out[MXG_EVIDENCE_LINE_MAX], tiny[4];
	bool ok;

	mxg_evidence_redact(dovecot, sizeof(dovecot) - 1, out, sizeof(out));
	ok = ASSERT_TRUE(!strstr(out, "hunter2"), out);
	ok &= ASSERT_TRUE(strstr(out, "(given password: ***)") != NULL, out);
	ok &= redact("auth: sql(a,1.2.3.4): Password mismatch (given password: a)b) x",
		     "auth: sql(a,1.2.3.4): Password mismatch (given password: ***");
	ok &= ASSERT_EQ(mxg_evidence_redact("plain", 5, tiny, sizeof(tiny)), 3,
			"cut length");
	ok &= ASSERT_STREQ(tiny, "pla", "cut to the buffer");
	return ok;
}

static int collect_line(const char *line, void *ctx)
{
	char *buf = ctx;

	strcat(buf, line);
	strcat(buf, "\n");
	return 0;
}

static bool a_ban_keeps_its_log_lines_with_passwords_removed(void)
{
	struct mxg_policy *p = policy_default();
	struct mxg_addr a = A("192.0.2.44");
	struct mxg_cidr host = C("192.0.2.44");
	struct mxg_ban_info info;
	static char buf[8192];
	char line[160];
	unsigned int i;
	bool ok;

	for (i = 0; i < 5; i++) {
		snprintf(line, sizeof(line),
			 "dovecot: auth: sql(u%u,192.0.2.44): Password mismatch (given password: Secret%u)\n", i, i);
		mxg_policy_failure(p, T0 + i, &a, "dovecot", "u", 1, line, strlen(line));
	}
	buf[0] = '\0';
	ok = ASSERT_EQ(cap.n, 1, "banned") &&
	     ASSERT_EQ(mxg_policy_ban_info(p, T0, &host, &info), 0, "info") &&
	     ASSERT_EQ(info.n_lines, 5, "5 lines") &&
	     ASSERT_TRUE(info.active, "active") &&
	     ASSERT_EQ(mxg_policy_evidence(p, &host, collect_line, buf), 0, "evidence") &&
	     ASSERT_TRUE(strstr(buf, "sql(u0,192.0.2.44): Password mismatch (given password: ***)\n") != NULL, buf) &&
	     ASSERT_TRUE(strstr(buf, "u4,") != NULL, "last line") &&
	     ASSERT_TRUE(strstr(buf, "Secret") == NULL, "no password");
	mxg_policy_free(p);
	return ok;
}

static bool evidence_is_bounded_per_ban(void)
{
	struct mxg_policy_config cfg;
	struct mxg_policy *p;
	struct mxg_addr a = A("192.0.2.45");
	struct mxg_cidr host = C("192.0.2.45");
	struct mxg_ban_info info;
	static char buf[16384];
	char line[80];
	unsigned int i;
	bool ok;

	mxg_policy_config_defaults(&cfg);
	cfg.maxretry = 30;
	cfg.range_min_failures = 2;
	p = policy_with(&cfg);
	for (i = 0; i < 30; i++) {
		snprintf(line, sizeof(line), "line %02u from 192.0.2.45", i);
		mxg_policy_failure(p, T0 + i, &a, "postfix", NULL, 1, line, strlen(line));
	}
	buf[0] = '\0';
	ok = ASSERT_EQ(cap.n, 1, "banned") &&
	     ASSERT_EQ(mxg_policy_ban_info(p, T0, &host, &info), 0, "info") &&
	     ASSERT_EQ(info.n_lines, 20, "the last 20") &&
	     ASSERT_EQ(mxg_policy_evidence(p, &host, collect_line, buf), 0, "evidence") &&
	     ASSERT_TRUE(!strncmp(buf, "line 10 ", 8), "oldest kept is line 10") &&
	     ASSERT_TRUE(strstr(buf, "line 29 ") != NULL, "newest");
	mxg_policy_free(p);
	return ok;
}

static bool range_ban_evidence_gathers_lines_of_all_its_hosts(void)
{
	struct mxg_policy *p = policy_default();
	struct mxg_cidr r = C("198.18.1.0/24");
	static char buf[16384];
	bool ok;

	fail_n(p, T0, "198.18.1.10", 5);
	fail_n(p, T0, "198.18.1.11", 5);
	fail_n(p, T0, "198.18.1.12", 2);
	buf[0] = '\0';
	ok = ASSERT_EQ(cap.n, 3, "range banned") &&
	     ASSERT_EQ(mxg_policy_evidence(p, &r, collect_line, buf), 0, "evidence") &&
	     ASSERT_TRUE(strstr(buf, "[198.18.1.10]") && strstr(buf, "[198.18.1.11]") &&
			 strstr(buf, "[198.18.1.12]"), "lines of the three hosts");
	mxg_policy_free(p);
	return ok;
}

static int count_files(const char *dir, const char *prefix)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			n++;
	closedir(d);
	return n;
}

static bool evidence_files_are_saved_atomically_and_read_back(void)
{
	struct mxg_policy *p = policy_default();
	char dir[] = "/tmp/mxg-evidence-XXXXXX", path[512], name[64];
	struct mxg_evidence_header hdr;
	static char buf[16384];
	bool ok;

	if (!mkdtemp(dir))
		return ASSERT_TRUE(false, "mkdtemp");
	fail_n(p, T0, "198.18.1.10", 5);
	fail_n(p, T0, "198.18.1.11", 5);
	fail_n(p, T0, "198.18.1.12", 2);
	fail_n(p, T0, "2001:db8:7::1", 5);

	ok = ASSERT_EQ(mxg_evidence_filename(&cap.v[2].cidr, name, sizeof(name)), 0, "name") &&
	     ASSERT_STREQ(name, "198.18.1.0_24.txt", "file name") &&
	     ASSERT_EQ(mxg_evidence_save(p, dir, T0, 1714557600), 4, "4 files") &&
	     ASSERT_EQ(count_files(dir, "."), 2, "no temporary files left (only . and ..)") &&
	     ASSERT_EQ(mxg_evidence_save(p, dir, T0, 1714557600), 0, "nothing new to save");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf[0] = '\0';
	ok = ok && ASSERT_EQ(mxg_evidence_read(path, &hdr, collect_line, buf), 0, "read") &&
	     ASSERT_STREQ(cstr(&hdr.cidr), "198.18.1.0/24", "cidr") &&
	     ASSERT_STREQ(hdr.reason, "log", "reason") &&
	     ASSERT_EQ(hdr.ban_count, 1, "ban_count") &&
	     ASSERT_STREQ(hdr.banned, "2024-05-01T10:00:00Z", "banned") &&
	     ASSERT_STREQ(hdr.expires, "2024-05-01T11:00:00Z", "expires") &&
	     ASSERT_EQ(hdr.lines, 12, "lines") &&
	     ASSERT_TRUE(strstr(buf, "unknown[198.18.1.12]") != NULL, "a line");
	snprintf(path, sizeof(path), "%s/2001:db8:7::1_128.txt", dir);
	ok = ok && ASSERT_EQ(mxg_evidence_read(path, &hdr, NULL, NULL), 0, "v6 file") &&
	     ASSERT_EQ(hdr.lines, 5, "v6 lines");
	snprintf(path, sizeof(path), "%s/nothing_32.txt", dir);
	ok = ok && ASSERT_EQ(mxg_evidence_read(path, &hdr, NULL, NULL), -ENOENT, "missing file");

	/* Clean up even on failure. */
	{
		struct dirent *de;
		DIR *d = opendir(dir);

		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.' && (!de->d_name[1] || de->d_name[1] == '.'))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
		if (d)
			closedir(d);
		rmdir(dir);
	}
	mxg_policy_free(p);
	return ok;
}

/* --- memory ----------------------------------------------------------------------- */

static bool ten_times_capacity_addresses_stay_within_capacity(void)
{
	struct mxg_policy_config cfg;
	struct mxg_policy *p;
	struct mxg_addr a = { .family = 6 };
	unsigned int i, over = 0;
	bool ok;

	mxg_policy_config_defaults(&cfg);
	cfg.capacity = 1024;
	cfg.evidence_pool = 256;
	p = policy_with(&cfg);
	a.a[0] = 0x20;
	a.a[1] = 0x01;
	a.a[2] = 0x0d;
	a.a[3] = 0xb8;
	for (i = 0; i < 10 * cfg.capacity; i++) {
		/* Every address in its own /64: host and range entries. */
		a.a[4] = (uint8_t)(i >> 16);
		a.a[5] = (uint8_t)(i >> 8);
		a.a[6] = (uint8_t)i;
		a.a[15] = 1;
		mxg_policy_failure(p, T0 + i, &a, "postfix", NULL, 1, "x", 1);
		if (mxg_policy_entries(p) > cfg.capacity)
			over++;
	}
	ok = ASSERT_EQ(over, 0, "never over capacity") &&
	     ASSERT_EQ(mxg_policy_entries(p), cfg.capacity, "full") &&
	     ASSERT_EQ(cap.n, 0, "no ban from one failure each");
	/* The most recent address is still counted: eviction took the oldest. */
	ok = ok && ASSERT_EQ(fail_n(p, T0 + 10 * cfg.capacity, "2001:db8:27:ff00::1", 4), 1, "recent one bans");
	mxg_policy_tick(p, T0 + 10 * cfg.capacity + 11 * MIN);
	/* The banned host's /64 remembers it while the ban lasts. */
	ok = ok && ASSERT_EQ(mxg_policy_entries(p), 1, "tick expires idle state");
	mxg_policy_tick(p, T0 + 10 * cfg.capacity + 2 * HOUR);
	ok = ok && ASSERT_EQ(mxg_policy_entries(p), 0, "and the rest once the ban is over");
	mxg_policy_free(p);
	return ok;
}

static bool reconfigure_keeps_bans_and_applies_new_thresholds(void)
{
	struct mxg_policy *p = policy_default();
	struct mxg_policy_config cfg;
	struct mxg_addr a = A("192.0.2.60");
	bool ok;

	ok = ASSERT_EQ(fail_n(p, T0, "192.0.2.60", 5), 1, "banned");
	mxg_policy_config_defaults(&cfg);
	cfg.maxretry = 3;
	cfg.range_min_failures = 2;
	ok = ok && ASSERT_EQ(mxg_policy_reconfigure(p, &cfg), 0, "reconfigure") &&
	     ASSERT_TRUE(mxg_policy_is_banned(p, T0, &a), "ban kept") &&
	     ASSERT_EQ(fail_n(p, T0, "192.0.2.61", 3), 1, "3 now ban");
	cfg.maxretry = 0;
	ok = ok && ASSERT_EQ(mxg_policy_reconfigure(p, &cfg), -EINVAL, "bad config refused") &&
	     ASSERT_EQ(fail_n(p, T0, "192.0.2.62", 3), 1, "old config still in force");
	mxg_policy_free(p);
	return ok;
}

int main(void)
{
	TEST_RUN(defaults_pass_the_config_check);
	TEST_RUN(config_check_names_the_key_out_of_bounds);
	TEST_RUN(config_check_rejects_a_range_wider_than_the_floor);
	TEST_RUN(maxretry_minus_one_failures_do_not_ban);
	TEST_RUN(maxretry_failures_ban_the_host_for_bantime);
	TEST_RUN(failures_spread_just_over_findtime_do_not_ban);
	TEST_RUN(failures_just_within_findtime_ban);
	TEST_RUN(dovecot_attempts_count_as_that_many_failures);
	TEST_RUN(three_failing_hosts_of_a_v4_24_ban_the_24);
	TEST_RUN(three_neighbours_mistyping_once_do_not_ban_their_24);
	TEST_RUN(new_host_replaces_the_stalest_unqualified_slot_of_its_range);
	TEST_RUN(one_password_per_address_across_a_v4_24_bans_it);
	TEST_RUN(v6_address_rotation_in_a_64_bans_the_64_after_maxretry);
	TEST_RUN(a_single_v6_host_gets_a_128_not_its_64);
	TEST_RUN(repeat_bans_double_up_to_bantime_max);
	TEST_RUN(offences_are_forgotten_after_forgettime);
	TEST_RUN(ignoreip_is_never_banned_nor_a_range_around_it);
	TEST_RUN(loopback_unspecified_and_own_addresses_are_never_banned);
	TEST_RUN(nothing_wider_than_the_floor_is_ever_emitted);
	TEST_RUN(monitor_mode_emits_would_bans_and_records_none);
	TEST_RUN(a_noted_ban_prevents_duplicate_bans);
	TEST_RUN(unban_forgets_the_ban_the_offences_and_the_counting);
	TEST_RUN(rate_events_in_three_distinct_seconds_ban_the_range);
	TEST_RUN(rate_events_spread_over_findtime_do_not_ban);
	TEST_RUN(redaction_removes_passwords_and_plain_credentials);
	TEST_RUN(redaction_hides_a_password_holding_parentheses);
	TEST_RUN(a_ban_keeps_its_log_lines_with_passwords_removed);
	TEST_RUN(evidence_is_bounded_per_ban);
	TEST_RUN(range_ban_evidence_gathers_lines_of_all_its_hosts);
	TEST_RUN(evidence_files_are_saved_atomically_and_read_back);
	TEST_RUN(ten_times_capacity_addresses_stay_within_capacity);
	TEST_RUN(reconfigure_keeps_bans_and_applies_new_thresholds);
	return test_summary();
}
