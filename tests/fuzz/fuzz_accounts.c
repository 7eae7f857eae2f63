// SPDX-License-Identifier: GPL-2.0
/*
 * The accounts.state record reader (mxg_acct_state_parse) and the name
 * escape (mxg_acct_escape / mxg_acct_unescape), user/policy/accounts.c:
 * the file is read back by the daemon and by `mxguard accounts`, and a
 * name is the attacker's text. Properties: a record read is written back
 * to a record that reads the same; every name escapes to printable ASCII
 * without space or backslash-less escapes, and reads back exactly.
 */
#include "accounts.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void record(const char *s, size_t n)
{
	struct mxg_account a, b;
	char line[MXG_ACCT_STATE_LINE_MAX];
	size_t len;

	if (mxg_acct_state_parse(s, n, &a))
		return;
	FUZZ_CHECK(a.len >= 1 && a.len <= MXG_ACCT_NAME_MAX, "name length %u", a.len);
	FUZZ_CHECK(!memchr(a.name, '\0', a.len), "NUL in a name");
	FUZZ_CHECK(a.n_src_exact <= MXG_ACCT_SRC_EXACT, "sources %u", a.n_src_exact);
	len = mxg_acct_state_line(&a, line, sizeof(line));
	FUZZ_CHECK(len > 0 && len < sizeof(line), "written back: %zu", len);
	FUZZ_CHECK(!memchr(line, '\n', len), "a record is one line");
	FUZZ_CHECK(mxg_acct_state_parse(line, len, &b) == 0, "reads back: %.*s",
		   (int)len, line);
	FUZZ_CHECK(a.len == b.len && !memcmp(a.name, b.name, a.len), "same name");
	FUZZ_CHECK(a.failures == b.failures && a.successes == b.successes &&
		   a.first == b.first && a.last == b.last &&
		   a.last_success == b.last_success && a.compromised == b.compromised &&
		   a.cut == b.cut && a.n_src_exact == b.n_src_exact &&
		   !memcmp(a.src_exact, b.src_exact, sizeof(a.src_exact)) &&
		   !memcmp(a.src_bits, b.src_bits, sizeof(a.src_bits)),
		   "same counts");
}

static void name(const char *s, size_t n)
{
	char esc[MXG_ACCT_ESC_MAX], back[MXG_ACCT_NAME_MAX];
	size_t i, len;

	if (n > MXG_ACCT_NAME_MAX)
		n = MXG_ACCT_NAME_MAX;
	mxg_acct_escape(s, n, esc);
	for (i = 0; esc[i]; i++)
		FUZZ_CHECK(esc[i] > ' ' && esc[i] < 0x7f, "byte 0x%02x escaped as itself",
			   (unsigned char)esc[i]);
	FUZZ_CHECK(mxg_acct_unescape(esc, strlen(esc), back, sizeof(back), &len) == 0,
		   "unescapes");
	FUZZ_CHECK(len == n && !memcmp(back, s, n), "round trip");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	record((const char *)data, size);
	name((const char *)data, size);
	return 0;
}
