// SPDX-License-Identifier: GPL-2.0
/*
 * Address and CIDR parsing (user/lib/addr.c) on the inputs an attacker or an
 * operator can give: NUL bytes inside a log field, IPv4-mapped ranges, and
 * cli_cidr's message for each refusal; the forms servers write, malformed
 * input, which error a bad CIDR gives, and containment and masking at
 * prefixes that do not end on a byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "cli.h"
#include "test.h"

static bool parses_to(const char *s, const char *want)
{
	struct mxg_cidr c;
	char buf[MXG_CIDR_STRLEN];
	int ret = mxg_cidr_parse(s, &c);

	if (!ASSERT_EQ(ret, 0, s))
		return false;
	return ASSERT_STREQ(mxg_cidr_str(&c, buf, sizeof(buf)), want, s);
}

static bool addr_with_nul_inside_is_refused(void)
{
	static const struct { const char *s; size_t len; } bad[] = {
		{ "192.0.2.1\0.5", 12 },
		{ "192.0.2.1\0", 10 },
		{ "2001:db8::1\0:2", 14 },
		{ "[192.0.2.7\0]", 12 },
		{ "IPv6:2001:db8::7\0x", 18 },
	};
	struct mxg_addr a;
	size_t i;
	bool ok = true;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok &= ASSERT_EQ(mxg_addr_parse(bad[i].s, bad[i].len, &a), -EINVAL,
				bad[i].s);
	return ok;
}

static bool addr_given_by_length_is_parsed(void)
{
	struct mxg_addr a;
	char buf[MXG_ADDR_STRLEN];

	/* The field ends at len, not at a NUL: the rest of the line follows. */
	return ASSERT_EQ(mxg_addr_parse("192.0.2.1]: SASL", 9, &a), 0, "v4 by length") &&
	       ASSERT_STREQ(mxg_addr_str(&a, buf, sizeof(buf)), "192.0.2.1", "v4") &&
	       ASSERT_EQ(mxg_addr_parse("[2001:db8::5]", 13, &a), 0, "bracketed v6") &&
	       ASSERT_STREQ(mxg_addr_str(&a, buf, sizeof(buf)), "2001:db8::5", "v6");
}

static bool cidr_v4_mapped_with_v6_length_is_the_v4_range(void)
{
	return parses_to("::ffff:192.0.2.0/120", "192.0.2.0/24") &&
	       parses_to("::ffff:192.0.2.7/128", "192.0.2.7/32") &&
	       parses_to("::ffff:0.0.0.0/96", "0.0.0.0/0") &&
	       parses_to("::ffff:c000:200/120", "192.0.2.0/24") &&
	       parses_to("::ffff:192.0.2.7", "192.0.2.7/32");
}

static bool cidr_v4_mapped_with_length_under_96_is_refused(void)
{
	struct mxg_cidr c;

	return ASSERT_EQ(mxg_cidr_parse("::ffff:0.0.0.0/95", &c), -ERANGE, "/95") &&
	       ASSERT_EQ(mxg_cidr_parse("::ffff:192.0.2.0/24", &c), -ERANGE, "/24") &&
	       ASSERT_EQ(mxg_cidr_parse("::ffff:192.0.2.0/129", &c), -ERANGE, "/129") &&
	       ASSERT_EQ(mxg_cidr_parse("::ffff:192.0.2.7/120", &c), -EDOM, "host bits");
}

static bool cidr_plain_lengths_are_unchanged(void)
{
	struct mxg_cidr c;

	return parses_to("198.51.100.0/24", "198.51.100.0/24") &&
	       parses_to("2001:db8::/32", "2001:db8::/32") &&
	       ASSERT_EQ(mxg_cidr_parse("192.0.2.0/33", &c), -ERANGE, "v4 /33") &&
	       ASSERT_EQ(mxg_cidr_parse("2001:db8::/129", &c), -ERANGE, "v6 /129") &&
	       ASSERT_EQ(mxg_cidr_parse("192.0.2.7/24", &c), -EDOM, "v4 host bits");
}

/* What cli_cidr writes to stderr for arg, into buf. */
static int cli_message(const char *arg, char *buf, size_t size)
{
	char path[] = "/tmp/mxg-test-addr-XXXXXX";
	struct mxg_cidr c;
	int fd = mkstemp(path), saved, ret;
	ssize_t n;

	if (fd < 0)
		return -errno;
	unlink(path);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	ret = cli_cidr("ban", arg, &c);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, size - 1, 0);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return ret;
}

static bool mapped_cidr_under_96_message_says_96_to_128(void)
{
	char msg[512];

	return ASSERT_EQ(cli_message("::ffff:192.0.2.0/24", msg, sizeof(msg)), 2,
			 "exit status") &&
	       ASSERT_TRUE(strstr(msg, "96-128") != NULL, msg) &&
	       ASSERT_TRUE(strstr(msg, "::ffff:192.0.2.0/24") != NULL, msg);
}

static bool mapped_cidr_with_host_bits_suggests_the_v4_range(void)
{
	char msg[512];

	return ASSERT_EQ(cli_message("::ffff:192.0.2.7/120", msg, sizeof(msg)), 2,
			 "exit status") &&
	       ASSERT_TRUE(strstr(msg, "did you mean 192.0.2.0/24") != NULL, msg);
}

static bool addr_forms_the_servers_write_are_parsed(void)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "IPv6:2001:db8::7", "2001:db8::7" },		/* Exim, Postfix */
		{ "::ffff:192.0.2.9", "192.0.2.9" },		/* mapped: IPv4 */
		{ "fe80::1%eth0", "fe80::1" },			/* zone dropped */
		{ "[2001:db8::5]", "2001:db8::5" },
		{ "2001:DB8:0:0:0:0:0:1", "2001:db8::1" },	/* normalised text */
	};
	struct mxg_addr a;
	char buf[MXG_ADDR_STRLEN];
	bool ok = true;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok &= ASSERT_EQ(mxg_addr_parse(cases[i].in, strlen(cases[i].in), &a), 0,
				cases[i].in) &&
		      ASSERT_STREQ(mxg_addr_str(&a, buf, sizeof(buf)), cases[i].want,
				   cases[i].in);
	return ok;
}

static bool malformed_addresses_are_refused(void)
{
	static const char *const bad[] = {
		"", "1.2.3", "256.1.1.1", "1.2.3.4.5", "192.0.2.1:25",
		"2001:db8:::1", "2001:db8::g", "localhost", "[192.0.2.1",
		" 192.0.2.1",
	};
	struct mxg_addr a;
	bool ok = true;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok &= ASSERT_EQ(mxg_addr_parse(bad[i], strlen(bad[i]), &a), -EINVAL, bad[i]);
	return ok;
}

static bool cidr_errors_tell_length_from_address_from_host_bits(void)
{
	static const struct { const char *in; int want; } cases[] = {
		{ "192.0.2.0/", -ERANGE },
		{ "192.0.2.0/33", -ERANGE },
		{ "192.0.2.0/2x", -ERANGE },
		{ "192.0.2.0/-1", -ERANGE },
		{ "2001:db8::/129", -ERANGE },
		{ "/24", -EINVAL },
		{ "192.0.2/24", -EINVAL },
		{ "192.0.2.128/24", -EDOM },
		{ "2001:db8::1/64", -EDOM },
	};
	struct mxg_cidr c;
	bool ok = true;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok &= ASSERT_EQ(mxg_cidr_parse(cases[i].in, &c), cases[i].want, cases[i].in);
	return ok &&
	       parses_to("192.0.2.7", "192.0.2.7/32") &&
	       parses_to("2001:db8::7", "2001:db8::7/128") &&
	       parses_to("0.0.0.0/0", "0.0.0.0/0") &&
	       parses_to("2001:db8:8::/45", "2001:db8:8::/45");
}

static struct mxg_cidr cidr(const char *s)
{
	struct mxg_cidr c;

	if (mxg_cidr_parse(s, &c))
		memset(&c, 0, sizeof(c));
	return c;
}

static struct mxg_addr addr(const char *s)
{
	struct mxg_addr a;

	if (mxg_addr_parse(s, strlen(s), &a))
		memset(&a, 0, sizeof(a));
	return a;
}

static bool contains_and_within_at_prefixes_off_a_byte(void)
{
	struct mxg_cidr r23 = cidr("192.0.2.0/23"), r61 = cidr("2001:db8:0:8::/61");
	struct mxg_addr in = addr("192.0.3.255"), out = addr("192.0.4.0");
	struct mxg_addr in6 = addr("2001:db8:0:f::1"), out6 = addr("2001:db8:0:10::");
	struct mxg_addr v6 = addr("::ffff:192.0.2.1");
	struct mxg_cidr r25 = cidr("192.0.3.128/25"), r22 = cidr("192.0.0.0/22");

	return ASSERT_TRUE(mxg_cidr_contains(&r23, &in), "last address of a /23") &&
	       ASSERT_TRUE(!mxg_cidr_contains(&r23, &out), "first one after it") &&
	       ASSERT_TRUE(mxg_cidr_contains(&r61, &in6), "inside a /61") &&
	       ASSERT_TRUE(!mxg_cidr_contains(&r61, &out6), "past a /61") &&
	       ASSERT_TRUE(mxg_cidr_contains(&r23, &v6), "a mapped address is IPv4") &&
	       ASSERT_TRUE(!mxg_cidr_contains(&r61, &in), "IPv4 is never in an IPv6 range") &&
	       ASSERT_TRUE(mxg_cidr_within(&r25, &r23), "/25 inside the /23") &&
	       ASSERT_TRUE(!mxg_cidr_within(&r23, &r25), "a /23 is not inside a /25") &&
	       ASSERT_TRUE(!mxg_cidr_within(&r22, &r23), "the /22 around it is not inside") &&
	       ASSERT_TRUE(mxg_cidr_within(&r23, &r23), "a range is within itself") &&
	       ASSERT_TRUE(!mxg_cidr_within(&r61, &r23), "nor across families");
}

static bool mask_clears_the_host_bits_off_a_byte(void)
{
	struct mxg_addr a = addr("2001:db8:ffff:ffff::1"), b = addr("198.51.100.255");
	char buf[MXG_ADDR_STRLEN];

	mxg_addr_mask(&a, 37);
	mxg_addr_mask(&b, 21);
	return ASSERT_STREQ(mxg_addr_str(&a, buf, sizeof(buf)), "2001:db8:f800::", "/37") &&
	       ASSERT_STREQ(mxg_addr_str(&b, buf, sizeof(buf)), "198.51.96.0", "/21");
}

int main(void)
{
	TEST_RUN(addr_with_nul_inside_is_refused);
	TEST_RUN(addr_given_by_length_is_parsed);
	TEST_RUN(cidr_v4_mapped_with_v6_length_is_the_v4_range);
	TEST_RUN(cidr_v4_mapped_with_length_under_96_is_refused);
	TEST_RUN(cidr_plain_lengths_are_unchanged);
	TEST_RUN(mapped_cidr_under_96_message_says_96_to_128);
	TEST_RUN(mapped_cidr_with_host_bits_suggests_the_v4_range);
	TEST_RUN(addr_forms_the_servers_write_are_parsed);
	TEST_RUN(malformed_addresses_are_refused);
	TEST_RUN(cidr_errors_tell_length_from_address_from_host_bits);
	TEST_RUN(contains_and_within_at_prefixes_off_a_byte);
	TEST_RUN(mask_clears_the_host_bits_off_a_byte);
	return test_summary();
}
