// SPDX-License-Identifier: GPL-2.0
/*
 * The fleet's wire format (user/fleet/wire.c): events round-trip, and a
 * peer's event that is malformed, too wide, expired or aimed at what this
 * host protects is refused with the right reason. The attacker here is a
 * peer (or anyone with write access to the Redis stream).
 */
#include <string.h>

#include "mxguard.h"
#include "test.h"
#include "wire.h"

#define NOW_MS 1800000000000ULL

/* Decode n "name", "value" C strings. */
static int dec(struct mxg_fleet_event *ev, char *why, unsigned int n, const char *const *kv)
{
	const char *name[16], *value[16];
	size_t nlen[16], vlen[16];
	unsigned int i;

	for (i = 0; i < n; i++) {
		name[i] = kv[2 * i];
		nlen[i] = strlen(kv[2 * i]);
		value[i] = kv[2 * i + 1];
		vlen[i] = strlen(kv[2 * i + 1]);
	}
	return mxg_fleet_decode(n, name, nlen, value, vlen, ev, why, 256);
}

/* A well-formed ban of cidr, then checked by host B's rules. */
static int check_ban(const char *cidr, uint64_t expires_ms, char *why)
{
	static const struct mxg_cidr allow[1] = { { { 4, { 192, 0, 2, 0 } }, 24 } };
	static const struct mxg_cidr ignore[1] = { { { 4, { 203, 0, 113, 7 } }, 32 } };
	static const struct mxg_addr own[1] = { { 4, { 198, 18, 12, 1 } } };
	struct mxg_fleet_rules r = {
		.floor_v4 = 16, .floor_v6 = 32,
		.allow = allow, .n_allow = 1, .ignore = ignore, .n_ignore = 1,
		.own = own, .n_own = 1,
	};
	char exp[32];
	const char *kv[] = {
		"v", "1", "op", "ban", "cidr", cidr, "expires", exp, "reason", "log",
		"count", "1", "origin", "mx1", "evidence", "5 AUTH failures via postfix",
	};
	struct mxg_fleet_event ev;
	int ret;

	snprintf(exp, sizeof(exp), "%llu", (unsigned long long)expires_ms);
	ret = dec(&ev, why, 8, kv);
	if (ret)
		return ret;
	return mxg_fleet_check(&ev, &r, NOW_MS, why, 256);
}

static bool ban_round_trips_through_its_fields(void)
{
	struct mxg_fleet_event ev = { .op = MXG_FLEET_BAN, .expires_ms = NOW_MS + 3600000,
				      .reason = MXG_REASON_RATE, .count = 3 };
	struct mxg_fleet_event back;
	struct mxg_fleet_fields f;
	char why[256];
	bool ok = true;

	mxg_cidr_parse("2001:db8:5::/64", &ev.cidr);
	strcpy(ev.origin, "mx-2.example");
	strcpy(ev.evidence, "4 seconds over the SYN rate on port 25");
	mxg_fleet_encode(&ev, &f);
	ok &= ASSERT_EQ(f.n, 8, "fields of a ban");
	ok &= ASSERT_EQ(mxg_fleet_decode(f.n, f.name, (size_t[]){ 1, 2, 4, 7, 6, 5, 6, 8 },
					 f.value, f.len, &back, why, sizeof(why)),
			MXG_FLEET_OK, why);
	ok &= ASSERT_EQ(back.op, MXG_FLEET_BAN, "op");
	ok &= ASSERT_EQ(back.cidr.prefixlen, 64, "prefix");
	ok &= ASSERT_TRUE(mxg_addr_equal(&back.cidr.addr, &ev.cidr.addr), "address");
	ok &= ASSERT_EQ(back.expires_ms, ev.expires_ms, "expires");
	ok &= ASSERT_EQ(back.reason, MXG_REASON_RATE, "reason");
	ok &= ASSERT_EQ(back.count, 3, "count");
	ok &= ASSERT_STREQ(back.origin, "mx-2.example", "origin");
	ok &= ASSERT_STREQ(back.evidence, ev.evidence, "evidence");
	return ok;
}

static bool unban_round_trips_without_ban_fields(void)
{
	struct mxg_fleet_event ev = { .op = MXG_FLEET_UNBAN }, back;
	struct mxg_fleet_fields f;
	size_t nlen[MXG_FLEET_FIELDS];
	char why[256];
	unsigned int i;
	bool ok = true;

	mxg_cidr_parse("198.51.100.0/24", &ev.cidr);
	strcpy(ev.origin, "mx1");
	mxg_fleet_encode(&ev, &f);
	for (i = 0; i < f.n; i++)
		nlen[i] = strlen(f.name[i]);
	ok &= ASSERT_EQ(f.n, 5, "fields of an unban");
	ok &= ASSERT_EQ(mxg_fleet_decode(f.n, f.name, nlen, f.value, f.len, &back, why,
					 sizeof(why)), MXG_FLEET_OK, why);
	ok &= ASSERT_EQ(back.op, MXG_FLEET_UNBAN, "op");
	return ok;
}

static bool a_host_ban_from_a_peer_passes_the_checks(void)
{
	char why[256];

	return ASSERT_EQ(check_ban("198.51.100.7/32", NOW_MS + 60000, why), MXG_FLEET_OK, why) &
	       ASSERT_EQ(check_ban("198.51.0.0/16", 0, why), MXG_FLEET_OK, why);
}

static bool peer_ban_of_everything_is_refused_as_too_wide(void)
{
	char why[256];
	bool ok = ASSERT_EQ(check_ban("0.0.0.0/0", NOW_MS + 60000, why), MXG_FLEET_TOO_WIDE, why);

	ok &= ASSERT_TRUE(strstr(why, "floor_v4") != NULL, why);
	ok &= ASSERT_EQ(check_ban("::/0", NOW_MS + 60000, why), MXG_FLEET_TOO_WIDE, why);
	return ok;
}

static bool peer_ban_of_a_slash_8_is_refused_as_too_wide(void)
{
	char why[256];

	return ASSERT_EQ(check_ban("10.0.0.0/8", NOW_MS + 60000, why), MXG_FLEET_TOO_WIDE, why) &
	       ASSERT_EQ(check_ban("2001:db8::/31", NOW_MS + 60000, why), MXG_FLEET_TOO_WIDE, why);
}

static bool peer_ban_inside_or_around_our_allowlist_is_refused(void)
{
	char why[256];
	bool ok = true;

	ok &= ASSERT_EQ(check_ban("192.0.2.9/32", NOW_MS + 60000, why), MXG_FLEET_PROTECTED, why);
	ok &= ASSERT_EQ(check_ban("192.0.0.0/16", NOW_MS + 60000, why), MXG_FLEET_PROTECTED, why);
	ok &= ASSERT_EQ(check_ban("203.0.113.0/24", NOW_MS + 60000, why), MXG_FLEET_PROTECTED,
			why);
	ok &= ASSERT_EQ(check_ban("198.18.12.0/24", NOW_MS + 60000, why), MXG_FLEET_PROTECTED,
			why);
	ok &= ASSERT_EQ(check_ban("127.0.0.1/32", NOW_MS + 60000, why), MXG_FLEET_PROTECTED, why);
	ok &= ASSERT_EQ(check_ban("::1/128", NOW_MS + 60000, why), MXG_FLEET_PROTECTED, why);
	/* The neighbour of an allowed host is no ally. */
	ok &= ASSERT_EQ(check_ban("192.0.3.0/24", NOW_MS + 60000, why), MXG_FLEET_OK, why);
	return ok;
}

static bool peer_ban_that_expired_is_refused(void)
{
	char why[256];

	return ASSERT_EQ(check_ban("198.51.100.7/32", NOW_MS - 1, why), MXG_FLEET_EXPIRED, why) &
	       ASSERT_EQ(check_ban("198.51.100.7/32", 1, why), MXG_FLEET_EXPIRED, why);
}

static bool peer_ban_with_a_bad_cidr_is_refused(void)
{
	static const char *const bad[] = {
		"198.51.100.7/24", "198.51.100.300/32", "198.51.100.7", "198.51.100.0/33",
		"", "nonsense/24", "198.51.100.0/24 ", "2001:db8::/129",
	};
	char why[256];
	unsigned int i;
	bool ok = true;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok &= ASSERT_EQ(check_ban(bad[i], NOW_MS + 60000, why), MXG_FLEET_BAD_CIDR, bad[i]);
	return ok;
}

static bool event_with_an_unknown_field_is_refused(void)
{
	const char *kv[] = { "v", "1", "op", "unban", "cidr", "198.51.100.0/24", "origin", "a",
			     "evidence", "", "allow", "0.0.0.0/0" };
	struct mxg_fleet_event ev;
	char why[256];

	return ASSERT_EQ(dec(&ev, why, 6, kv), MXG_FLEET_BAD_FORMAT, why) &
	       ASSERT_TRUE(strstr(why, "unknown field \"allow\"") != NULL, why);
}

static bool event_with_missing_or_repeated_fields_is_refused(void)
{
	const char *twice[] = { "v", "1", "op", "unban", "cidr", "198.51.100.0/24",
				"cidr", "10.0.0.0/8", "origin", "a", "evidence", "" };
	const char *no_version[] = { "op", "unban", "cidr", "198.51.100.0/24", "origin", "a",
				     "evidence", "" };
	const char *ban_no_expiry[] = { "v", "1", "op", "ban", "cidr", "198.51.100.0/24",
					"reason", "log", "count", "1", "origin", "a",
					"evidence", "" };
	const char *bad_reason[] = { "v", "1", "op", "ban", "cidr", "198.51.100.0/24",
				     "expires", "0", "reason", "allow", "count", "1",
				     "origin", "a", "evidence", "" };
	const char *bad_op[] = { "v", "1", "op", "allow", "cidr", "198.51.100.0/24",
				 "origin", "a", "evidence", "" };
	const char *bad_expiry[] = { "v", "1", "op", "ban", "cidr", "198.51.100.0/24",
				     "expires", "-5", "reason", "log", "count", "1",
				     "origin", "a", "evidence", "" };
	struct mxg_fleet_event ev;
	char why[256];
	bool ok = true;

	ok &= ASSERT_EQ(dec(&ev, why, 6, twice), MXG_FLEET_BAD_FORMAT, "cidr twice");
	ok &= ASSERT_EQ(dec(&ev, why, 4, no_version), MXG_FLEET_BAD_FORMAT, "no version");
	ok &= ASSERT_EQ(dec(&ev, why, 7, ban_no_expiry), MXG_FLEET_BAD_FORMAT, "no expiry");
	ok &= ASSERT_EQ(dec(&ev, why, 8, bad_reason), MXG_FLEET_BAD_FORMAT, "bad reason");
	ok &= ASSERT_EQ(dec(&ev, why, 5, bad_op), MXG_FLEET_BAD_FORMAT, "bad op");
	ok &= ASSERT_EQ(dec(&ev, why, 8, bad_expiry), MXG_FLEET_BAD_FORMAT, "bad expiry");
	return ok;
}

static bool oversized_fields_are_refused(void)
{
	char big[400], host[80];
	const char *ev_big[] = { "v", "1", "op", "unban", "cidr", "198.51.100.0/24",
				 "origin", "a", "evidence", big };
	const char *host_big[] = { "v", "1", "op", "unban", "cidr", "198.51.100.0/24",
				   "origin", host, "evidence", "" };
	struct mxg_fleet_event ev;
	char why[256];
	bool ok = true;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	ok &= ASSERT_EQ(dec(&ev, why, 5, ev_big), MXG_FLEET_BAD_FORMAT, "evidence 399 bytes");
	ok &= ASSERT_EQ(dec(&ev, why, 5, host_big), MXG_FLEET_BAD_FORMAT, "origin 79 bytes");
	return ok;
}

static bool control_characters_in_the_evidence_are_refused(void)
{
	const char *nl[] = { "v", "1", "op", "unban", "cidr", "198.51.100.0/24",
			     "origin", "a", "evidence", "ok\nFAKE: banned 10.0.0.1" };
	const char *esc[] = { "v", "1", "op", "unban", "cidr", "198.51.100.0/24",
			      "origin", "a", "evidence", "\x1b[2Jcleared" };
	const char *origin[] = { "v", "1", "op", "unban", "cidr", "198.51.100.0/24",
				 "origin", "mx1\r", "evidence", "" };
	const char *name_nul[] = { "v", "1", "op", "unban", "cidr", "198.51.100.0/24",
				   "origin", "a", "evidence", "" };
	const char *name[5], *value[5];
	size_t nlen[5], vlen[5];
	struct mxg_fleet_event ev;
	char why[256];
	unsigned int i;
	bool ok = true;

	ok &= ASSERT_EQ(dec(&ev, why, 5, nl), MXG_FLEET_BAD_FORMAT, "newline");
	ok &= ASSERT_EQ(dec(&ev, why, 5, esc), MXG_FLEET_BAD_FORMAT, "escape");
	ok &= ASSERT_EQ(dec(&ev, why, 5, origin), MXG_FLEET_BAD_FORMAT, "origin CR");
	/* A NUL inside a value, which C strings would hide: "198.51.100.0/24\0junk". */
	for (i = 0; i < 5; i++) {
		name[i] = name_nul[2 * i];
		nlen[i] = strlen(name[i]);
		value[i] = name_nul[2 * i + 1];
		vlen[i] = strlen(value[i]);
	}
	value[2] = "198.51.100.0/24\0junk";
	vlen[2] = 20;
	ok &= ASSERT_EQ(mxg_fleet_decode(5, name, nlen, value, vlen, &ev, why, sizeof(why)),
			MXG_FLEET_BAD_CIDR, "NUL in cidr");
	return ok;
}

static bool stream_ids_parse_and_order(void)
{
	struct mxg_fleet_id a, b;
	char buf[48];
	bool ok = true;

	ok &= ASSERT_EQ(mxg_fleet_id_parse("1700000000000-5", 15, &a), 0, "parse");
	ok &= ASSERT_EQ(mxg_fleet_id_parse("1700000000000-12", 16, &b), 0, "parse");
	ok &= ASSERT_TRUE(mxg_fleet_id_cmp(&a, &b) < 0, "order by sequence");
	mxg_fleet_id_str(&b, buf, sizeof(buf));
	ok &= ASSERT_STREQ(buf, "1700000000000-12", "format");
	ok &= ASSERT_TRUE(mxg_fleet_id_parse("17-", 3, &a) < 0, "no sequence");
	ok &= ASSERT_TRUE(mxg_fleet_id_parse("x-1", 3, &a) < 0, "not a number");
	return ok;
}

int main(void)
{
	TEST_RUN(ban_round_trips_through_its_fields);
	TEST_RUN(unban_round_trips_without_ban_fields);
	TEST_RUN(a_host_ban_from_a_peer_passes_the_checks);
	TEST_RUN(peer_ban_of_everything_is_refused_as_too_wide);
	TEST_RUN(peer_ban_of_a_slash_8_is_refused_as_too_wide);
	TEST_RUN(peer_ban_inside_or_around_our_allowlist_is_refused);
	TEST_RUN(peer_ban_that_expired_is_refused);
	TEST_RUN(peer_ban_with_a_bad_cidr_is_refused);
	TEST_RUN(event_with_an_unknown_field_is_refused);
	TEST_RUN(event_with_missing_or_repeated_fields_is_refused);
	TEST_RUN(oversized_fields_are_refused);
	TEST_RUN(control_characters_in_the_evidence_are_refused);
	TEST_RUN(stream_ids_parse_and_order);
	return test_summary();
}
