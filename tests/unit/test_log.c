// SPDX-License-Identifier: GPL-2.0
/*
 * The log sink: each line of a message carries the prefix (under journald,
 * its priority), a trailing newline (libbpf's) makes no empty line, and
 * debug lines appear only when verbose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "test.h"

static char out_path[64];

/* Run fn with stderr going to a temp file; its text into buf. */
static bool capture(void (*fn)(void), char *buf, size_t size)
{
	int saved, fd;
	ssize_t n;

	snprintf(out_path, sizeof(out_path), "/tmp/mxg-test-log.XXXXXX");
	fd = mkstemp(out_path);
	if (fd < 0)
		return false;
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, buf, size - 1, 0);
	close(fd);
	unlink(out_path);
	buf[n > 0 ? n : 0] = '\0';
	return n >= 0;
}

static void two_lines_and_a_newline(void)
{
	mxg_warn("libbpf: first\nsecond\n");
}

static void a_debug_line(void)
{
	mxg_debug("detail");
}

static bool every_line_of_a_message_gets_the_priority(void)
{
	char buf[256];
	bool ok;

	mxg_log_prio = true;
	ok = ASSERT_TRUE(capture(two_lines_and_a_newline, buf, sizeof(buf)), "captured") &&
	     ASSERT_STREQ(buf, "<4>libbpf: first\n<4>second\n", "two lines, each with <4>");
	mxg_log_prio = false;
	ok &= ASSERT_TRUE(capture(two_lines_and_a_newline, buf, sizeof(buf)), "captured") &&
	      ASSERT_STREQ(buf, "mxguard: warning: libbpf: first\nmxguard: warning: second\n",
			   "two lines, each with the level");
	return ok;
}

static bool debug_lines_only_when_verbose(void)
{
	char buf[256];
	bool ok;

	mxg_log_verbose = false;
	ok = ASSERT_TRUE(capture(a_debug_line, buf, sizeof(buf)), "captured") &&
	     ASSERT_STREQ(buf, "", "quiet");
	mxg_log_verbose = true;
	ok &= ASSERT_TRUE(capture(a_debug_line, buf, sizeof(buf)), "captured") &&
	      ASSERT_STREQ(buf, "mxguard: detail\n", "shown with -v");
	mxg_log_verbose = false;
	return ok;
}

static bool journal_stream_is_known_before_main(void)
{
	/* run.sh's environment decides; the sink must agree with it. */
	return ASSERT_EQ(mxg_log_prio, getenv("JOURNAL_STREAM") != NULL,
			 "mxg_log_prio follows JOURNAL_STREAM from the start");
}

int main(void)
{
	TEST_RUN(journal_stream_is_known_before_main);
	TEST_RUN(every_line_of_a_message_gets_the_priority);
	TEST_RUN(debug_lines_only_when_verbose);
	return test_summary();
}
