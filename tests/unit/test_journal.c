// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of user/logs/journal.c on real journal files, written without journald by
 * systemd-journal-remote from the journal export format. Skipped when that
 * program is missing (package systemd-journal-remote).
 */
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "test.h"

#define MAX_KEEP 32

/* 2023-11-14T22:13:20Z */
#define T0 1700000000000000ULL

struct collect {
	int n;
	char *text[MAX_KEEP];
};

static void on_line(const char *line, size_t len, const char *path, void *arg)
{
	struct collect *c = arg;

	if (c->n < MAX_KEEP)
		c->text[c->n] = strndup(line, len);
	c->n++;
}

static void collect_free(struct collect *c)
{
	for (int i = 0; i < MAX_KEEP; i++)
		free(c->text[i]);
	memset(c, 0, sizeof(*c));
}

static bool line_is(struct collect *c, int i, const char *want)
{
	char what[32];

	snprintf(what, sizeof(what), "line %d", i);
	return ASSERT_TRUE(i < c->n, what) &&
	       ASSERT_STREQ(c->text[i], want, what);
}

static const char *remote_bin(void)
{
	static const char *const cands[] = {
		"/lib/systemd/systemd-journal-remote",
		"/usr/lib/systemd/systemd-journal-remote",
	};

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++)
		if (access(cands[i], X_OK) == 0)
			return cands[i];
	return NULL;
}

/*
 * Write entries, given as "IDENT|PID|MESSAGE" at T0 + sec seconds each, to
 * the journal file out (created, or appended to) through
 * systemd-journal-remote. The output name must end in ".journal".
 */
/* The _UID journald records for the entries write_journal makes. */
static const char *entry_uid = "0";

static bool write_journal(const char *out, int first_sec, int n, ...)
{
	char cmd[512];
	va_list ap;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "%s -o '%s' - 2>/dev/null", remote_bin(),
		 out);
	p = popen(cmd, "w");
	if (!p)
		return false;
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *e = va_arg(ap, const char *);
		const char *bar1 = strchr(e, '|'), *bar2 = strchr(bar1 + 1, '|');

		fprintf(p, "__REALTIME_TIMESTAMP=%llu\n",
			T0 + (first_sec + i) * 1000000ULL + 250000);
		fprintf(p, "__MONOTONIC_TIMESTAMP=%d\n", first_sec + i + 1);
		fprintf(p, "_BOOT_ID=0123456789abcdef0123456789abcdef\n");
		fprintf(p, "_HOSTNAME=mx1\n");
		if (entry_uid)
			fprintf(p, "_UID=%s\n", entry_uid);
		fprintf(p, "SYSLOG_IDENTIFIER=%.*s\n", (int)(bar1 - e), e);
		if (bar2 > bar1 + 1)
			fprintf(p, "_PID=%.*s\n", (int)(bar2 - bar1 - 1),
				bar1 + 1);
		if (strchr(bar2 + 1, '\n')) {
			/* the export format's binary form: name, le64 size */
			uint64_t len = strlen(bar2 + 1);
			unsigned char le[8];

			for (int k = 0; k < 8; k++)
				le[k] = len >> (8 * k);
			fprintf(p, "MESSAGE\n");
			fwrite(le, 1, 8, p);
			fprintf(p, "%s\n\n", bar2 + 1);
		} else {
			fprintf(p, "MESSAGE=%s\n\n", bar2 + 1);
		}
	}
	va_end(ap);
	st = pclose(p);
	return ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			   "systemd-journal-remote");
}

static int rm_entry(const char *p, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	return remove(p);
}

#define JOURNAL_TEST(name)						\
	static bool name##_body(const char *dir);			\
	static bool name(void)						\
	{								\
		char dir[64] = "/tmp/mxg-journal-XXXXXX";		\
		bool ok;						\
									\
		if (!remote_bin())					\
			return TEST_SKIP("systemd-journal-remote not "	\
					 "installed (package "		\
					 "systemd-journal-remote)");	\
		if (!mkdtemp(dir))					\
			return false;					\
		ok = name##_body(dir);					\
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);		\
		return ok;						\
	}								\
	static bool name##_body(const char *dir)

static const char *const postfix_only[] = { "postfix*", NULL };

JOURNAL_TEST(entries_as_syslog_lines_in_order_others_filtered)
{
	struct mxg_journal_opts o = { .identifiers = postfix_only,
				      .from_start = true };
	struct mxg_journal_stats st;
	struct mxg_journal *j;
	struct collect c = { 0 };
	char file[128];
	bool ok = true;

	snprintf(file, sizeof(file), "%s/a.journal", dir);
	if (!write_journal(file, 0, 4,
			   "postfix/smtpd|10|warning: unknown[192.0.2.7]: SASL LOGIN authentication failed",
			   "sshd|11|Accepted publickey for root",
			   "postfix/submission/smtpd|12|multi\nline",
			   "postfixnot|13|prefix without slash is matched too"))
		return false;
	o.directory = dir;
	j = mxg_journal_open(&o);
	if (!ASSERT_TRUE(j != NULL, "mxg_journal_open"))
		return false;
	ok &= ASSERT_EQ(mxg_journal_process(j, on_line, &c), 3, "process");
	ok &= line_is(&c, 0, "2023-11-14T22:13:20.250000+00:00 mx1 postfix/smtpd[10]: warning: unknown[192.0.2.7]: SASL LOGIN authentication failed");
	ok &= line_is(&c, 1, "2023-11-14T22:13:22.250000+00:00 mx1 postfix/submission/smtpd[12]: multi line");
	ok &= line_is(&c, 2, "2023-11-14T22:13:23.250000+00:00 mx1 postfixnot[13]: prefix without slash is matched too");
	mxg_journal_get_stats(j, &st);
	ok &= ASSERT_EQ(st.entries, 4, "entries");
	ok &= ASSERT_EQ(st.filtered, 1, "filtered");
	ok &= ASSERT_EQ(mxg_journal_process(j, on_line, &c), 0, "again");
	mxg_journal_free(j);
	collect_free(&c);
	return ok;
}

JOURNAL_TEST(exact_identifiers_use_journal_matches_and_files)
{
	static const char *const exact[] = { "postfix/smtpd", NULL };
	struct mxg_journal_opts o = { .identifiers = exact,
				      .from_start = true };
	const char *files[2] = { NULL, NULL };
	struct mxg_journal *j;
	struct collect c = { 0 };
	char file[128];
	bool ok = true;

	snprintf(file, sizeof(file), "%s/b.journal", dir);
	if (!write_journal(file, 0, 3, "postfix/smtpd||one",
			   "postfix/submission/smtpd|5|not exact",
			   "postfix/smtpd|6|two"))
		return false;
	files[0] = file;
	o.files = files;
	j = mxg_journal_open(&o);
	if (!ASSERT_TRUE(j != NULL, "mxg_journal_open"))
		return false;
	ok &= ASSERT_EQ(mxg_journal_process(j, on_line, &c), 2, "process");
	ok &= line_is(&c, 0, "2023-11-14T22:13:20.250000+00:00 mx1 postfix/smtpd: one");
	ok &= line_is(&c, 1, "2023-11-14T22:13:22.250000+00:00 mx1 postfix/smtpd[6]: two");
	mxg_journal_free(j);
	collect_free(&c);
	return ok;
}

/* Call process until want lines arrived, waking on the fd; bounded. */
static void pump(struct mxg_journal *j, struct collect *c, int want)
{
	struct timespec t0, t;
	struct pollfd pfd = { .fd = mxg_journal_fd(j), .events = POLLIN };

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		poll(&pfd, 1, 50);
		mxg_journal_process(j, on_line, c);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (c->n < want && t.tv_sec - t0.tv_sec < 3);
}

JOURNAL_TEST(tail_then_new_entries_and_new_files_picked_up)
{
	struct mxg_journal_opts o = { .identifiers = postfix_only };
	struct mxg_journal *j;
	struct collect c = { 0 };
	char a[128], b[128];
	bool ok = true;

	snprintf(a, sizeof(a), "%s/a.journal", dir);
	snprintf(b, sizeof(b), "%s/b.journal", dir);
	if (!write_journal(a, 0, 2, "postfix/smtpd|1|history 1",
			   "postfix/smtpd|1|history 2"))
		return false;
	o.directory = dir;
	j = mxg_journal_open(&o);
	if (!ASSERT_TRUE(j != NULL, "mxg_journal_open"))
		return false;
	ok &= ASSERT_EQ(mxg_journal_process(j, on_line, &c), 0, "tail");

	/* appended to the same file */
	if (!write_journal(a, 10, 2, "postfix/smtpd|2|new 1", "sshd|3|no"))
		return false;
	pump(j, &c, 1);
	ok &= line_is(&c, 0, "2023-11-14T22:13:30.250000+00:00 mx1 postfix/smtpd[2]: new 1");

	/* a second file appearing in the directory */
	if (!write_journal(b, 20, 1, "postfix/smtpd|4|new 2"))
		return false;
	pump(j, &c, 2);
	ok &= line_is(&c, 1, "2023-11-14T22:13:40.250000+00:00 mx1 postfix/smtpd[4]: new 2");
	ok &= ASSERT_EQ(c.n, 2, "count");
	mxg_journal_free(j);
	collect_free(&c);
	return ok;
}

JOURNAL_TEST(cursor_saved_and_resumed_after_restart)
{
	struct mxg_journal_opts o = { .identifiers = postfix_only,
				      .from_start = true };
	struct mxg_journal *j;
	struct collect c = { 0 };
	char a[128], state[128];
	bool ok = true;

	snprintf(a, sizeof(a), "%s/a.journal", dir);
	snprintf(state, sizeof(state), "%s/journal.state", dir);
	if (!write_journal(a, 0, 2, "postfix/smtpd|1|one",
			   "postfix/smtpd|1|two"))
		return false;
	o.directory = dir;
	j = mxg_journal_open(&o);
	if (!ASSERT_TRUE(j != NULL, "mxg_journal_open"))
		return false;
	ok &= ASSERT_EQ(mxg_journal_load(j, state), 0, "no state yet");
	ok &= ASSERT_EQ(mxg_journal_process(j, on_line, &c), 2, "first run");
	ok &= ASSERT_EQ(mxg_journal_save(j, state), 0, "save");
	mxg_journal_free(j);

	if (!write_journal(a, 10, 2, "postfix/smtpd|1|three", "sshd|1|no"))
		return false;
	/* from_start on purpose: the cursor must win */
	j = mxg_journal_open(&o);
	if (!ASSERT_TRUE(j != NULL, "mxg_journal_open 2"))
		return false;
	ok &= ASSERT_EQ(mxg_journal_load(j, state), 0, "load");
	ok &= ASSERT_EQ(mxg_journal_process(j, on_line, &c), 1, "second run");
	ok &= line_is(&c, 2, "2023-11-14T22:13:30.250000+00:00 mx1 postfix/smtpd[1]: three");
	/* saved on a filtered entry: still resumes after it */
	ok &= ASSERT_EQ(mxg_journal_save(j, state), 0, "save 2");
	mxg_journal_free(j);
	j = mxg_journal_open(&o);
	if (!ASSERT_TRUE(j != NULL, "mxg_journal_open 3"))
		return false;
	ok &= ASSERT_EQ(mxg_journal_load(j, state), 0, "load 2");
	ok &= ASSERT_EQ(mxg_journal_process(j, on_line, &c), 0, "third run");
	mxg_journal_free(j);
	collect_free(&c);
	return ok;
}

JOURNAL_TEST(bad_state_file_refused)
{
	struct mxg_journal_opts o = { .from_start = true };
	struct mxg_journal *j;
	char a[128], state[128];
	bool ok = true;
	FILE *fp;

	snprintf(a, sizeof(a), "%s/a.journal", dir);
	snprintf(state, sizeof(state), "%s/journal.state", dir);
	if (!write_journal(a, 0, 1, "postfix/smtpd|1|one"))
		return false;
	fp = fopen(state, "w");
	if (!fp)
		return false;
	fputs("something else\n", fp);
	fclose(fp);
	o.directory = dir;
	j = mxg_journal_open(&o);
	if (!ASSERT_TRUE(j != NULL, "mxg_journal_open"))
		return false;
	ok &= ASSERT_EQ(mxg_journal_load(j, state), -EINVAL, "bad state");
	mxg_journal_free(j);
	return ok;
}

static bool open_missing_directory_fails_with_errno(void)
{
	struct mxg_journal_opts o = { .directory = "/nonexistent/mxg" };
	struct mxg_journal *j;

	errno = 0;
	j = mxg_journal_open(&o);
	mxg_journal_free(j);
	return ASSERT_TRUE(j == NULL, "open fails") &&
	       ASSERT_TRUE(errno != 0, "errno set");
}

/*
 * Any local user can write an entry with SYSLOG_IDENTIFIER=postfix/smtpd
 * (logger -t): only journald's own _UID and _SYSTEMD_UNIT say who sent it.
 */
JOURNAL_TEST(mail_identifiers_from_untrusted_users_are_filtered)
{
	struct mxg_journal_opts o = { .identifiers = postfix_only,
				      .from_start = true };
	struct mxg_journal_stats st;
	struct mxg_journal *j;
	struct collect c = { 0 };
	char file[128];
	bool ok = true;

	snprintf(file, sizeof(file), "%s/u.journal", dir);
	entry_uid = "1000";
	ok &= write_journal(file, 0, 1,
			    "postfix/smtpd|10|warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: x");
	entry_uid = NULL;
	ok &= write_journal(file, 1, 1,
			    "postfix/smtpd|11|warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: y");
	entry_uid = "0";
	ok &= write_journal(file, 2, 1,
			    "postfix/smtpd|12|warning: unknown[198.18.0.9]: SASL LOGIN authentication failed: z");
	if (!ok)
		return false;
	o.directory = dir;
	j = mxg_journal_open(&o);
	if (!ASSERT_TRUE(j != NULL, "mxg_journal_open"))
		return false;
	ok &= ASSERT_EQ(mxg_journal_process(j, on_line, &c), 1, "only root's entry");
	ok &= line_is(&c, 0, "2023-11-14T22:13:22.250000+00:00 mx1 postfix/smtpd[12]: warning: unknown[198.18.0.9]: SASL LOGIN authentication failed: z");
	mxg_journal_get_stats(j, &st);
	ok &= ASSERT_EQ(st.untrusted, 2, "untrusted");
	mxg_journal_free(j);
	collect_free(&c);
	return ok;
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	TEST_RUN(entries_as_syslog_lines_in_order_others_filtered);
	TEST_RUN(exact_identifiers_use_journal_matches_and_files);
	TEST_RUN(tail_then_new_entries_and_new_files_picked_up);
	TEST_RUN(cursor_saved_and_resumed_after_restart);
	TEST_RUN(bad_state_file_refused);
	TEST_RUN(open_missing_directory_fails_with_errno);
	TEST_RUN(mail_identifiers_from_untrusted_users_are_filtered);
	return test_summary();
}
