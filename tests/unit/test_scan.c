// SPDX-License-Identifier: GPL-2.0
/*
 * mxg_scan_file and `mxguard scan`: plain and gzip files, line numbers,
 * lines without a final newline, over-long lines, unreadable files and the
 * command's exit statuses.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "commands.h"
#include "parse.h"
#include "readfile.h"
#include "test.h"

static const char *const log_lines[] = {
	"Nov 29 10:00:00 mx postfix/smtpd[1]: connect from unknown[198.18.1.2]",
	"Nov 29 10:00:01 mx postfix/submission/smtpd[1]: warning: unknown[198.18.1.2]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice",
	"Nov 29 10:00:02 mx postfix/smtpd[1]: disconnect from unknown[198.18.1.2] ehlo=1 auth=0/1 quit=1 commands=2/3",
	"Nov 29 10:00:03 mx dovecot: imap-login: Disconnected (auth failed, 3 attempts in 12 secs): user=<bob>, method=PLAIN, rip=198.18.1.3, lip=10.0.0.1",
	"",
	"Nov 29 10:00:04 mx postfix/smtpd[1]: warning: unknown[2001:db8::9]:4444: SASL PLAIN authentication failed: x",
};

struct tally {
	unsigned long hits, last_line, attempts;
	int stop_after;
};

static int count(const struct mxg_auth_event *ev, const char *line, size_t len,
		 const char *file, unsigned long lineno, void *arg)
{
	struct tally *t = arg;

	t->hits++;
	t->last_line = lineno;
	t->attempts += ev->attempts;
	if (t->stop_after && (int)t->hits >= t->stop_after)
		return 42;
	return 0;
}

/* The log, final newline left out when trailing_nl is false. */
static size_t make_log(char *buf, size_t size, bool trailing_nl)
{
	size_t i, n = 0;

	for (i = 0; i < sizeof(log_lines) / sizeof(log_lines[0]); i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", log_lines[i],
				      i + 1 < sizeof(log_lines) / sizeof(log_lines[0]) ||
				      trailing_nl ? "\n" : "");
	return n;
}

static bool write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (!f)
		return false;
	ok = fwrite(data, 1, len, f) == len;
	return !fclose(f) && ok;
}

static bool write_gz(const char *path, const char *data, size_t len)
{
	gzFile gz = gzopen(path, "wb");
	bool ok;

	if (!gz)
		return false;
	ok = gzwrite(gz, data, (unsigned int)len) == (int)len;
	return gzclose(gz) == Z_OK && ok;
}

static bool scan_counts(const char *path, unsigned long want_lines)
{
	struct mxg_parser *p = mxg_parser_new();
	struct tally t = { 0 };
	unsigned long lines = 0;
	bool ok = true;

	if (!ASSERT_TRUE(p != NULL, "mxg_parser_new"))
		return false;
	ok &= ASSERT_EQ(mxg_scan_file(p, MXG_SRC_SYSLOG, path, count, &t, &lines), 0, path);
	ok &= ASSERT_EQ(lines, want_lines, "lines read");
	ok &= ASSERT_EQ(t.hits, 3, "failures found");
	ok &= ASSERT_EQ(t.attempts, 5, "attempts summed");
	ok &= ASSERT_EQ(t.last_line, 6, "line number of the last failure");
	mxg_parser_free(p);
	return ok;
}

static bool scan_reads_plain_and_gzip_files(void)
{
	char dir[] = "/tmp/mxg-scan-XXXXXX", plain[64], gz[64], nonl[64];
	char buf[4096];
	size_t n;
	bool ok = true;

	if (!ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp"))
		return false;
	snprintf(plain, sizeof(plain), "%s/mail.log", dir);
	snprintf(gz, sizeof(gz), "%s/mail.log.1.gz", dir);
	snprintf(nonl, sizeof(nonl), "%s/nonl.log", dir);
	n = make_log(buf, sizeof(buf), true);
	ok &= ASSERT_TRUE(write_file(plain, buf, n), "write plain");
	ok &= ASSERT_TRUE(write_gz(gz, buf, n), "write gz");
	n = make_log(buf, sizeof(buf), false);
	ok &= ASSERT_TRUE(write_file(nonl, buf, n), "write no-newline");
	if (ok) {
		ok &= scan_counts(plain, 6);
		ok &= scan_counts(gz, 6);
		ok &= scan_counts(nonl, 6);
	}
	unlink(plain);
	unlink(gz);
	unlink(nonl);
	rmdir(dir);
	return ok;
}

static bool scan_survives_a_line_longer_than_its_buffer(void)
{
	char dir[] = "/tmp/mxg-scan-XXXXXX", path[64];
	size_t big = (3u << 20) / 2, n;
	struct mxg_parser *p = mxg_parser_new();
	struct tally t = { 0 };
	unsigned long lines = 0;
	char *buf;
	bool ok = true;

	buf = malloc(big + 4096);
	if (!ASSERT_TRUE(buf && p && mkdtemp(dir), "setup")) {
		free(buf);
		mxg_parser_free(p);
		return false;
	}
	snprintf(path, sizeof(path), "%s/long.log", dir);
	n = (size_t)sprintf(buf, "%s\n", log_lines[1]);
	memset(buf + n, 'x', big);
	n += big;
	buf[n++] = '\n';
	n += (size_t)sprintf(buf + n, "%s\n", log_lines[5]);
	ok &= ASSERT_TRUE(write_file(path, buf, n), "write");
	ok &= ASSERT_EQ(mxg_scan_file(p, MXG_SRC_SYSLOG, path, count, &t, &lines), 0, "scan");
	ok &= ASSERT_EQ(lines, 3, "the long line counts once");
	ok &= ASSERT_EQ(t.hits, 2, "failures around it found");
	ok &= ASSERT_EQ(t.last_line, 3, "line numbers stay right");
	unlink(path);
	rmdir(dir);
	free(buf);
	mxg_parser_free(p);
	return ok;
}

static bool scan_reports_missing_file_and_callback_stop(void)
{
	char dir[] = "/tmp/mxg-scan-XXXXXX", path[64], buf[4096];
	struct mxg_parser *p = mxg_parser_new();
	struct tally t = { .stop_after = 1 };
	bool ok = true;
	size_t n;

	if (!ASSERT_TRUE(p && mkdtemp(dir), "setup")) {
		mxg_parser_free(p);
		return false;
	}
	ok &= ASSERT_EQ(mxg_scan_file(p, MXG_SRC_SYSLOG, "/nonexistent/mail.log", count, &t,
				      NULL), -ENOENT, "missing file");
	snprintf(path, sizeof(path), "%s/mail.log", dir);
	n = make_log(buf, sizeof(buf), true);
	ok &= ASSERT_TRUE(write_file(path, buf, n), "write");
	ok &= ASSERT_EQ(mxg_scan_file(p, MXG_SRC_SYSLOG, path, count, &t, NULL), 42,
			"callback's value returned");
	ok &= ASSERT_EQ(t.hits, 1, "stopped after the first");
	unlink(path);
	rmdir(dir);
	mxg_parser_free(p);
	return ok;
}

/* Run `mxguard scan ARGS` with stdout to to (or /dev/null), stderr to /dev/null. */
static int run_scan_to(int argc, char **argv, const char *to)
{
	int out = dup(1), err = dup(2), null = open("/dev/null", O_WRONLY);
	int dst = to ? open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600) : dup(null);
	int rc;

	fflush(stdout);
	fflush(stderr);
	dup2(dst, 1);
	dup2(null, 2);
	close(dst);
	rc = cmd_scan(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(out, 1);
	dup2(err, 2);
	close(out);
	close(err);
	close(null);
	return rc;
}

static int run_scan(int argc, char **argv)
{
	return run_scan_to(argc, argv, NULL);
}

/* What a run wrote to path, NUL terminated; its length, or -1. */
static ssize_t read_out(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return n;
}

/*
 * --hostile (or its older name --probes) reports hostile lines, marked
 * "hostile": "probe" is the SMTP auditor, mxguard probe, only.
 */
static bool scan_marks_hostile_lines_as_hostile(void)
{
	static const char line[] = "Nov 29 10:01:03 mx postfix/smtpd[1234]: "
		"lost connection after AUTH from unknown[198.18.1.2]\n";
	char dir[] = "/tmp/mxg-scan-XXXXXX", path[64], out[64], buf[512];
	char *json[] = { "scan", "--hostile", "--json", path, NULL };
	char *text[] = { "scan", "--probes", path, NULL };
	char *plain[] = { "scan", "--json", path, NULL };
	bool ok = true;
	ssize_t n;

	if (!ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp"))
		return false;
	snprintf(path, sizeof(path), "%s/mail.log", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	ok &= ASSERT_TRUE(write_file(path, line, sizeof(line) - 1), "write");

	ok &= ASSERT_EQ(run_scan_to(4, json, out), EXIT_OK, "scan --hostile --json");
	n = read_out(out, buf, sizeof(buf));
	ok &= ASSERT_TRUE(strstr(buf, "\"kind\":\"hostile\"") != NULL, "JSON kind hostile");
	ok &= ASSERT_TRUE(strstr(buf, "probe") == NULL, "not called a probe");

	ok &= ASSERT_EQ(run_scan_to(3, text, out), EXIT_OK, "scan --probes");
	n = read_out(out, buf, sizeof(buf));
	ok &= ASSERT_TRUE(strstr(buf, " 198.18.1.2 - 1 hostile\n") != NULL, "text mark hostile");

	ok &= ASSERT_EQ(run_scan_to(3, plain, out), EXIT_OK, "scan without it");
	n = read_out(out, buf, sizeof(buf));
	ok &= ASSERT_EQ(n, 0, "hostile lines quiet without --hostile");
	unlink(out);
	unlink(path);
	rmdir(dir);
	return ok;
}

static bool scan_command_exit_statuses(void)
{
	char dir[] = "/tmp/mxg-scan-XXXXXX", path[64], buf[4096];
	char *ok_args[] = { "scan", "--json", path, NULL };
	char *missing[] = { "scan", path, "/nonexistent/x.log", NULL };
	char *unknown[] = { "scan", "--frobnicate", path, NULL };
	char *nofile[] = { "scan", "--json", NULL };
	char *badre[] = { "scan", "--pattern", "(<HOST>", path, NULL };
	char *goodre[] = { "scan", "--pattern", "myapp: x from <HOST>$", path, NULL };
	char *help[] = { "scan", "--help", NULL };
	bool ok = true;
	size_t n;

	if (!ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp"))
		return false;
	snprintf(path, sizeof(path), "%s/mail.log", dir);
	n = make_log(buf, sizeof(buf), true);
	ok &= ASSERT_TRUE(write_file(path, buf, n), "write");
	ok &= ASSERT_EQ(run_scan(3, ok_args), EXIT_OK, "scan --json FILE");
	ok &= ASSERT_EQ(run_scan(3, missing), EXIT_RUNTIME, "unreadable file");
	ok &= ASSERT_EQ(run_scan(3, unknown), EXIT_USAGE, "unknown option");
	ok &= ASSERT_EQ(run_scan(2, nofile), EXIT_USAGE, "no file");
	ok &= ASSERT_EQ(run_scan(4, badre), EXIT_USAGE, "bad --pattern");
	ok &= ASSERT_EQ(run_scan(4, goodre), EXIT_OK, "good --pattern");
	ok &= ASSERT_EQ(run_scan(2, help), EXIT_OK, "--help");
	unlink(path);
	rmdir(dir);
	return ok;
}

int main(void)
{
	TEST_RUN(scan_reads_plain_and_gzip_files);
	TEST_RUN(scan_survives_a_line_longer_than_its_buffer);
	TEST_RUN(scan_reports_missing_file_and_callback_stop);
	TEST_RUN(scan_command_exit_statuses);
	TEST_RUN(scan_marks_hostile_lines_as_hostile);
	return test_summary();
}
