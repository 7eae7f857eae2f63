// SPDX-License-Identifier: GPL-2.0
/*
 * json_str (user/cmd/cli.c), which writes every string of the --json outputs,
 * many of them taken from log lines an attacker wrote: the output must be
 * valid JSON (RFC 8259, UTF-8) for any bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "test.h"

/* json_str(s) into a malloc'd string. */
static char *json(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	json_str(f, s);
	fclose(f);
	return buf;
}

static bool json_is(const char *in, const char *want)
{
	char *got = json(in);
	bool ok = ASSERT_STREQ(got, want, in);

	free(got);
	return ok;
}

/* Length of a well-formed UTF-8 sequence at p (RFC 3629 table 3-7), or 0. */
static size_t utf8_ok(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	if (p[0] == 0xed)
		hi = 0x9f;
	if (p[0] == 0xf0)
		lo = 0x90;
	if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Is s exactly one JSON string: quotes, valid escapes, UTF-8, no controls? */
static bool valid_json_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (*p++ != '"')
		return false;
	while (*p && *p != '"') {
		if (*p < 0x20)
			return false;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (n = 1; n <= 4; n++)
					if (!strchr("0123456789abcdefABCDEF", p[n]) || !p[n])
						return false;
				p += 5;
			} else if (*p && strchr("\"\\/bfnrt", *p)) {
				p++;
			} else {
				return false;
			}
			continue;
		}
		n = utf8_ok(p);
		if (!n)
			return false;
		p += n;
	}
	return p[0] == '"' && p[1] == '\0';
}

static bool json_str_escapes_quotes_backslashes_and_controls(void)
{
	return json_is("a\"b\\c", "\"a\\\"b\\\\c\"") &&
	       json_is("l1\nl2\tx\r", "\"l1\\nl2\\tx\\r\"") &&
	       json_is("\x01\x1b\x1f", "\"\\u0001\\u001b\\u001f\"") &&
	       json_is("del\x7f", "\"del\x7f\"");
}

static bool json_str_keeps_valid_utf8(void)
{
	return json_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf",
		       "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"");
}

static bool json_str_replaces_each_invalid_byte_with_ufffd(void)
{
	return json_is("a\xff" "b", "\"a\\ufffdb\"") &&
	       json_is("\x80\xbf", "\"\\ufffd\\ufffd\"") &&
	       /* overlong "/" */
	       json_is("\xc0\xaf", "\"\\ufffd\\ufffd\"") &&
	       json_is("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"") &&
	       /* UTF-16 surrogate U+D800 */
	       json_is("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"") &&
	       /* past U+10FFFF */
	       json_is("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"") &&
	       /* cut short by the end of the string, and by a quote */
	       json_is("x\xe2\x82", "\"x\\ufffd\\ufffd\"") &&
	       json_is("\xe2\"", "\"\\ufffd\\\"\"");
}

static bool json_str_of_any_two_bytes_is_valid_json(void)
{
	unsigned int a, b, bad = 0;
	char in[3], *out;

	for (a = 1; a < 256; a++) {
		for (b = 0; b < 256; b++) {
			in[0] = (char)a;
			in[1] = (char)b;
			in[2] = '\0';
			out = json(in);
			if (!valid_json_string(out) && bad++ < 3)
				fprintf(stderr, "  %02x %02x -> %s\n", a, b, out);
			free(out);
		}
	}
	return ASSERT_EQ(bad, 0, "invalid outputs");
}

static bool json_str_of_random_bytes_is_valid_json(void)
{
	unsigned int i, j, bad = 0;
	char in[17], *out;

	srandom(1);
	for (i = 0; i < 200000; i++) {
		for (j = 0; j < 16; j++)
			in[j] = (char)(0x80 | (random() & 0x7f)) ?: 1;
		/* Mostly high bytes, with lead bytes of every length. */
		in[random() % 16] = (char)(0xc0 + random() % 0x38);
		in[16] = '\0';
		out = json(in);
		if (!valid_json_string(out) && bad++ < 3)
			fprintf(stderr, "  random input %u -> %s\n", i, out);
		free(out);
	}
	return ASSERT_EQ(bad, 0, "invalid outputs");
}

int main(void)
{
	TEST_RUN(json_str_escapes_quotes_backslashes_and_controls);
	TEST_RUN(json_str_keeps_valid_utf8);
	TEST_RUN(json_str_replaces_each_invalid_byte_with_ufffd);
	TEST_RUN(json_str_of_any_two_bytes_is_valid_json);
	TEST_RUN(json_str_of_random_bytes_is_valid_json);
	return test_summary();
}
