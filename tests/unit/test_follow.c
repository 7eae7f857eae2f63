// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of user/logs/follow.c on real files in a fresh directory under /tmp,
 * removed whatever the outcome. Every wait is bounded in time.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "follow.h"
#include "test.h"

#define MAX_KEEP	64	/* lines kept as text per collector */

struct collect {
	int n;				/* lines delivered */
	char *text[MAX_KEEP];		/* the first MAX_KEEP lines */
	size_t len[MAX_KEEP];
	int *seen;			/* per sequence number, for seq tests */
	int nseq;
	int bad;			/* lines that did not parse as seq lines */
	int dup;			/* sequence numbers seen twice */
	bool nul_ok;			/* every line had line[len] == 0 */
};

static void collect_init(struct collect *c, int nseq)
{
	memset(c, 0, sizeof(*c));
	c->nul_ok = true;
	if (nseq) {
		c->seen = calloc(nseq, sizeof(int));
		c->nseq = nseq;
	}
}

static void collect_free(struct collect *c)
{
	for (int i = 0; i < MAX_KEEP; i++)
		free(c->text[i]);
	free(c->seen);
}

static void on_line(const char *line, size_t len, const char *path, void *arg)
{
	struct collect *c = arg;

	if (line[len] != '\0' || memchr(line, '\n', len))
		c->nul_ok = false;
	if (c->n < MAX_KEEP) {
		c->text[c->n] = strndup(line, len);
		c->len[c->n] = len;
	}
	if (c->seen) {
		int seq;

		if (sscanf(line, "seq %d ", &seq) != 1 || seq < 0 ||
		    seq >= c->nseq)
			c->bad++;
		else if (c->seen[seq]++)
			c->dup++;
	}
	c->n++;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Drive f like the daemon would until c has want lines or timeout_ms passed. */
static void pump(struct mxg_follow *f, struct collect *c, int want,
		 int timeout_ms, atomic_int *progress)
{
	long long end = now_ms() + timeout_ms, next_poll = now_ms() + 200;
	struct pollfd pfd = { .fd = mxg_follow_fd(f), .events = POLLIN };
	struct mxg_follow_stats st;

	while (c->n < want && now_ms() < end) {
		if (poll(&pfd, 1, 20) > 0)
			mxg_follow_process(f, on_line, c);
		if (now_ms() >= next_poll) {
			mxg_follow_poll(f, on_line, c);
			next_poll = now_ms() + 200;
		}
		if (progress) {
			mxg_follow_get_stats(f, &st);
			atomic_store(progress, c->n);
		}
	}
}

static int rm_entry(const char *p, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	return remove(p);
}

static bool tmp_make(char *dir)
{
	strcpy(dir, "/tmp/mxg-follow-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return false;
	}
	return true;
}

static void tmp_remove(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void pathf_n(char *out, size_t size, const char *dir, const char *name)
{
	/* test paths are short; a cut one would fail the test visibly */
	if (snprintf(out, size, "%s/%s", dir, name) >= (int)size)
		out[0] = '\0';
}

#define pathf(out, dir, name) pathf_n(out, sizeof(out), dir, name)

static bool append(const char *path, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0)
		return false;
	if (write(fd, buf, n) != n) {
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

static bool line_is(struct collect *c, int i, const char *want)
{
	char what[32];

	snprintf(what, sizeof(what), "line %d", i);
	return ASSERT_TRUE(i < c->n, what) &&
	       ASSERT_STREQ(c->text[i], want, what);
}

/* Each test body gets a fresh directory; the wrapper always removes it. */
#define DIR_TEST(name)							\
	static bool name##_body(const char *dir);			\
	static bool name(void)						\
	{								\
		char dir[64];						\
		bool ok;						\
									\
		if (!tmp_make(dir))					\
			return false;					\
		ok = name##_body(dir);					\
		tmp_remove(dir);					\
		return ok;						\
	}								\
	static bool name##_body(const char *dir)

DIR_TEST(appended_lines_delivered_once_in_order_history_skipped)
{
	struct pollfd pfd;
	struct mxg_follow *f;
	struct collect c;
	char p[256];
	bool ok = true;

	pathf(p, dir, "mail.log");
	append(p, "old 1\nold 2\n");
	collect_init(&c, 0);
	f = mxg_follow_new(0);
	ok &= ASSERT_TRUE(f != NULL, "mxg_follow_new");
	if (!f)
		return false;
	ok &= ASSERT_EQ(mxg_follow_add(f, p), 0, "add");
	ok &= ASSERT_EQ(mxg_follow_add(f, p), -EEXIST, "add twice");
	ok &= ASSERT_EQ(mxg_follow_process(f, on_line, &c), 0, "no history");

	append(p, "new 1\nnew 2\n");
	pfd.fd = mxg_follow_fd(f);
	pfd.events = POLLIN;
	ok &= ASSERT_EQ(poll(&pfd, 1, 1000), 1, "inotify fd readable");
	ok &= ASSERT_EQ(mxg_follow_process(f, on_line, &c), 2, "process");
	ok &= ASSERT_EQ(mxg_follow_process(f, on_line, &c), 0, "again");
	ok &= ASSERT_EQ(mxg_follow_poll(f, on_line, &c), 0, "poll");
	ok &= line_is(&c, 0, "new 1") && line_is(&c, 1, "new 2");
	ok &= ASSERT_EQ(c.n, 2, "delivered once");
	ok &= ASSERT_TRUE(c.nul_ok, "NUL-terminated, no newline");
	mxg_follow_free(f);
	collect_free(&c);
	return ok;
}

DIR_TEST(partial_line_held_until_newline)
{
	struct mxg_follow *f = mxg_follow_new(0);
	struct mxg_follow_stats st;
	struct collect c;
	char p[256];
	bool ok = true;

	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	pathf(p, dir, "mail.log");
	append(p, "history\n");
	collect_init(&c, 0);
	mxg_follow_add(f, p);
	append(p, "par");
	ok &= ASSERT_EQ(mxg_follow_process(f, on_line, &c), 0, "partial held");
	append(p, "tial");
	ok &= ASSERT_EQ(mxg_follow_poll(f, on_line, &c), 0, "still held");
	append(p, "\nnext");
	ok &= ASSERT_EQ(mxg_follow_process(f, on_line, &c), 1, "completed");
	ok &= line_is(&c, 0, "partial");
	append(p, "\n");
	mxg_follow_process(f, on_line, &c);
	ok &= line_is(&c, 1, "next");
	mxg_follow_get_stats(f, &st);
	ok &= ASSERT_EQ(st.lines, 2, "lines counter");
	ok &= ASSERT_EQ(st.bytes, strlen("partial\nnext\n"), "bytes counter");
	mxg_follow_free(f);
	collect_free(&c);
	return ok;
}

DIR_TEST(start_mid_line_delivers_that_line_whole)
{
	struct mxg_follow *f = mxg_follow_new(0);
	struct collect c;
	char p[256];
	bool ok = true;

	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	pathf(p, dir, "mail.log");
	append(p, "old\nhead of ");
	collect_init(&c, 0);
	mxg_follow_add(f, p);
	append(p, "line\nnext\n");
	mxg_follow_process(f, on_line, &c);
	ok &= line_is(&c, 0, "head of line") && line_is(&c, 1, "next");
	ok &= ASSERT_EQ(c.n, 2, "count");
	mxg_follow_free(f);
	collect_free(&c);
	return ok;
}

DIR_TEST(from_start_flag_reads_history)
{
	struct mxg_follow *f = mxg_follow_new(MXG_FOLLOW_FROM_START);
	struct collect c;
	char p[256];
	bool ok = true;

	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	pathf(p, dir, "mail.log");
	append(p, "old 1\nold 2\n");
	collect_init(&c, 0);
	mxg_follow_add(f, p);
	ok &= ASSERT_EQ(mxg_follow_process(f, on_line, &c), 2, "history");
	ok &= line_is(&c, 0, "old 1");
	mxg_follow_free(f);
	collect_free(&c);
	return ok;
}

DIR_TEST(file_created_after_start_read_from_offset_zero)
{
	struct mxg_follow *f = mxg_follow_new(0);
	struct collect c;
	char p[256];
	bool ok = true;

	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	pathf(p, dir, "later.log");
	collect_init(&c, 0);
	ok &= ASSERT_EQ(mxg_follow_add(f, p), 0, "add missing file");
	ok &= ASSERT_EQ(mxg_follow_process(f, on_line, &c), 0, "nothing yet");
	append(p, "first\nsecond\n");
	pump(f, &c, 2, 2000, NULL);
	ok &= line_is(&c, 0, "first") && line_is(&c, 1, "second");
	append(p, "third\n");
	pump(f, &c, 3, 2000, NULL);
	ok &= line_is(&c, 2, "third");
	ok &= ASSERT_EQ(c.n, 3, "count");
	mxg_follow_free(f);
	collect_free(&c);
	return ok;
}

DIR_TEST(directory_created_later_is_watched_after_a_poll)
{
	struct mxg_follow *f = mxg_follow_new(0);
	struct collect c;
	char sub[128], p[256];
	bool ok = true;

	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	pathf(sub, dir, "later");
	pathf(p, sub, "mail.log");
	collect_init(&c, 0);
	ok &= ASSERT_EQ(mxg_follow_add(f, p), 0, "add in missing directory");
	mkdir(sub, 0755);
	mxg_follow_poll(f, on_line, &c);	/* watches the directory now */
	append(p, "first\n");
	pump(f, &c, 1, 2000, NULL);
	ok &= line_is(&c, 0, "first");
	ok &= ASSERT_EQ(c.n, 1, "count");
	mxg_follow_free(f);
	collect_free(&c);
	return ok;
}

/* A writer thread appending numbered lines of varied length. */
#define SEQ_LINES	20000
#define ROTATIONS	3

struct writer {
	char path[256];
	bool copytruncate;
	atomic_int *progress;	/* lines delivered so far, set by the reader */
	atomic_int *rotations;	/* rotations the reader has seen */
	int rotated;
	bool failed;
};

static int write_seq(int fd, int seq)
{
	char buf[512];
	int n;

	/* lengths 20..400 so that lines straddle the 256 KiB reads */
	n = snprintf(buf, sizeof(buf), "seq %d %.*s\n", seq, (seq * 37) % 380,
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	return write(fd, buf, n) == n ? 0 : -1;
}

/* Wait (bounded) until the reader's counter reaches want. */
static bool wait_for(atomic_int *v, int want, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	while (atomic_load(v) < want) {
		if (now_ms() > end)
			return false;
		usleep(1000);
	}
	return true;
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (in < 0 || out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			n = -1;
	close(in);
	close(out);
	return n < 0 ? -1 : 0;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char p1[300], p2[300];
	int fd, next_rot = SEQ_LINES / (ROTATIONS + 1);

	snprintf(p1, sizeof(p1), "%s.1", w->path);
	snprintf(p2, sizeof(p2), "%s.2", w->path);
	fd = open(w->path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	for (int seq = 0; seq < SEQ_LINES && fd >= 0; seq++) {
		if (seq == next_rot && w->rotated < ROTATIONS) {
			next_rot += SEQ_LINES / (ROTATIONS + 1);
			w->rotated++;
			if (w->copytruncate) {
				/*
				 * The writer pauses around copy+truncate and
				 * lets the reader catch up first: whatever
				 * is written between our last read and the
				 * truncate is only in the copy.
				 */
				if (!wait_for(w->progress, seq, 3000))
					w->failed = true;
				copy_file(w->path, p1);
				if (truncate(w->path, 0) < 0)
					w->failed = true;
			} else {
				/* logrotate: shift, rename, create */
				rename(p1, p2);
				rename(w->path, p1);
				close(open(w->path, O_WRONLY | O_CREAT, 0644));
				/* the writer keeps writing to the old file a bit */
				for (int k = 0; k < 50 && seq < SEQ_LINES; k++)
					write_seq(fd, seq++);
				close(fd);
				fd = open(w->path, O_WRONLY | O_APPEND);
				/* rotations are further apart than one read */
				if (!wait_for(w->rotations, w->rotated, 3000))
					w->failed = true;
				if (seq >= SEQ_LINES)
					break;
			}
		}
		if (write_seq(fd, seq) < 0)
			w->failed = true;
	}
	if (fd < 0)
		w->failed = true;
	else
		close(fd);
	return NULL;
}

static bool rotation_under_load(const char *dir, bool copytruncate)
{
	atomic_int progress = 0, rotations = 0;
	struct writer w = { .copytruncate = copytruncate,
			    .progress = &progress, .rotations = &rotations };
	long long end = now_ms() + 8000, next_poll = now_ms() + 200;
	struct mxg_follow_stats st;
	struct mxg_follow *f;
	struct pollfd pfd;
	struct collect c;
	pthread_t th;
	int missing = 0;
	bool ok = true;

	pathf(w.path, dir, "mail.log");
	close(open(w.path, O_WRONLY | O_CREAT, 0644));
	f = mxg_follow_new(0);
	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	collect_init(&c, SEQ_LINES);
	mxg_follow_add(f, w.path);
	if (pthread_create(&th, NULL, writer_main, &w)) {
		mxg_follow_free(f);
		collect_free(&c);
		return false;
	}
	pfd.fd = mxg_follow_fd(f);
	pfd.events = POLLIN;
	while (c.n < SEQ_LINES && now_ms() < end) {
		if (poll(&pfd, 1, 10) > 0)
			mxg_follow_process(f, on_line, &c);
		if (now_ms() >= next_poll) {
			mxg_follow_poll(f, on_line, &c);
			next_poll = now_ms() + 200;
		}
		mxg_follow_get_stats(f, &st);
		atomic_store(&progress, c.n);
		atomic_store(&rotations, copytruncate ? st.truncations :
			     st.rotations);
	}
	pthread_join(th, NULL);
	/* anything left, then make sure nothing comes twice */
	mxg_follow_poll(f, on_line, &c);
	mxg_follow_process(f, on_line, &c);
	mxg_follow_get_stats(f, &st);

	for (int i = 0; i < SEQ_LINES; i++)
		missing += !c.seen[i];
	ok &= ASSERT_TRUE(!w.failed, "writer ran as planned");
	ok &= ASSERT_EQ(missing, 0, "lines missing");
	ok &= ASSERT_EQ(c.dup, 0, "lines delivered twice");
	ok &= ASSERT_EQ(c.bad, 0, "mangled lines");
	ok &= ASSERT_EQ(c.n, SEQ_LINES, "lines delivered");
	ok &= ASSERT_EQ(copytruncate ? st.truncations : st.rotations, ROTATIONS,
			"rotations counted");
	mxg_follow_free(f);
	collect_free(&c);
	return ok;
}

DIR_TEST(rename_rotation_under_load_delivers_every_line_once)
{
	return rotation_under_load(dir, false);
}

DIR_TEST(copytruncate_under_load_delivers_every_line_once)
{
	return rotation_under_load(dir, true);
}

DIR_TEST(truncated_and_rewritten_past_offset_restarts_at_zero)
{
	struct mxg_follow *f = mxg_follow_new(0);
	struct collect c;
	char p[256];
	bool ok = true;

	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	pathf(p, dir, "mail.log");
	append(p, "AAAA old content\n");
	collect_init(&c, 0);
	mxg_follow_add(f, p);
	append(p, "one\n");
	mxg_follow_process(f, on_line, &c);
	/* copytruncate, then more than we had read written before we look */
	if (truncate(p, 0) < 0)
		return false;
	append(p, "BBBB new content 1\nBBBB new content 2\n");
	mxg_follow_process(f, on_line, &c);
	ok &= line_is(&c, 0, "one");
	ok &= line_is(&c, 1, "BBBB new content 1");
	ok &= line_is(&c, 2, "BBBB new content 2");
	ok &= ASSERT_EQ(c.n, 3, "count");
	mxg_follow_free(f);
	collect_free(&c);
	return ok;
}

/* Syslog lines of one second often share far more than 64 first bytes. */
#define SAME_HEAD "Nov 29 10:00:01 mx postfix/smtpd[123]: warning: unknown[198.18.0.1]: SASL LOGIN authentication failed: "

DIR_TEST(truncated_and_rewritten_past_offset_with_same_first_bytes_restarts_at_zero)
{
	struct mxg_follow *f = mxg_follow_new(0);
	struct mxg_follow_stats st;
	struct collect c;
	char p[256];
	bool ok = true;

	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	pathf(p, dir, "mail.log");
	append(p, SAME_HEAD "history\n");
	collect_init(&c, 0);
	mxg_follow_add(f, p);
	append(p, SAME_HEAD "old 1\n");
	mxg_follow_process(f, on_line, &c);
	/* copytruncate, and the new file grew past our offset before we looked */
	if (truncate(p, 0) < 0)
		return false;
	append(p, SAME_HEAD "new 1 a longer one\n" SAME_HEAD "new 2\n"
	       SAME_HEAD "new 3\n");
	mxg_follow_process(f, on_line, &c);
	mxg_follow_get_stats(f, &st);
	ok &= line_is(&c, 0, SAME_HEAD "old 1");
	ok &= line_is(&c, 1, SAME_HEAD "new 1 a longer one");
	ok &= line_is(&c, 2, SAME_HEAD "new 2");
	ok &= line_is(&c, 3, SAME_HEAD "new 3");
	ok &= ASSERT_EQ(c.n, 4, "count");
	ok &= ASSERT_EQ(st.truncations, 1, "truncations");
	mxg_follow_free(f);
	collect_free(&c);
	return ok;
}

DIR_TEST(copytruncate_lines_unread_at_truncate_are_read_from_the_copy)
{
	struct mxg_follow *f = mxg_follow_new(0);
	struct mxg_follow_stats st;
	struct collect c;
	char p[256], p1[256], p2[256];
	bool ok = true;

	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	pathf(p, dir, "mail.log");
	pathf(p1, dir, "mail.log.1");
	pathf(p2, dir, "mail.log.2");
	append(p, SAME_HEAD "history\n");
	collect_init(&c, 0);
	mxg_follow_add(f, p);
	append(p, SAME_HEAD "read 1\n");
	mxg_follow_process(f, on_line, &c);
	/* an older rotation with the same first line but another history */
	append(p2, SAME_HEAD "history\n" SAME_HEAD "other 1\n" SAME_HEAD "other 2\n");
	/* written, then copied and truncated before the reader woke up */
	append(p, SAME_HEAD "unread 1\n" SAME_HEAD "unread 2\n");
	if (copy_file(p, p1) < 0 || truncate(p, 0) < 0)
		return false;
	append(p, SAME_HEAD "after 1\n");
	mxg_follow_process(f, on_line, &c);
	mxg_follow_poll(f, on_line, &c);
	mxg_follow_get_stats(f, &st);
	ok &= line_is(&c, 0, SAME_HEAD "read 1");
	ok &= line_is(&c, 1, SAME_HEAD "unread 1");
	ok &= line_is(&c, 2, SAME_HEAD "unread 2");
	ok &= line_is(&c, 3, SAME_HEAD "after 1");
	ok &= ASSERT_EQ(c.n, 4, "count");
	ok &= ASSERT_EQ(st.truncations, 1, "truncations");
	ok &= ASSERT_EQ(st.copies, 1, "read from the copy");
	mxg_follow_free(f);
	collect_free(&c);
	return ok;
}

DIR_TEST(long_line_cut_and_counted)
{
	struct mxg_follow *f = mxg_follow_new(0);
	struct mxg_follow_stats st;
	size_t big = 3 * MXG_FOLLOW_READ_SIZE / 2;
	struct collect c;
	char p[256], *blob;
	bool ok = true;
	int fd;

	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	pathf(p, dir, "mail.log");
	append(p, "");
	collect_init(&c, 0);
	mxg_follow_add(f, p);
	blob = malloc(big);
	memset(blob, 'L', big);
	fd = open(p, O_WRONLY | O_APPEND);
	/* in pieces, so that the cut happens in the pending buffer too */
	ok &= ASSERT_EQ(write(fd, blob, 1000), 1000, "write");
	mxg_follow_process(f, on_line, &c);
	ok &= ASSERT_EQ(write(fd, blob, big), (long long)big, "write");
	mxg_follow_process(f, on_line, &c);
	ok &= ASSERT_EQ(write(fd, "tail looks like a line\nshort\n", 29), 29,
			"write");
	mxg_follow_process(f, on_line, &c);
	/* a long line within one read */
	ok &= ASSERT_EQ(write(fd, blob, MXG_FOLLOW_LINE_MAX + 10),
			MXG_FOLLOW_LINE_MAX + 10, "write");
	ok &= ASSERT_EQ(write(fd, "\nend\n", 5), 5, "write");
	close(fd);
	mxg_follow_process(f, on_line, &c);
	mxg_follow_get_stats(f, &st);
	ok &= ASSERT_EQ(c.n, 4, "lines");
	ok &= ASSERT_EQ(c.len[0], MXG_FOLLOW_LINE_MAX, "cut length");
	ok &= line_is(&c, 1, "short");
	ok &= ASSERT_EQ(c.len[2], MXG_FOLLOW_LINE_MAX, "cut length 2");
	ok &= line_is(&c, 3, "end");
	ok &= ASSERT_EQ(st.long_lines, 2, "long lines counted");
	ok &= ASSERT_TRUE(c.nul_ok, "NUL-terminated");
	free(blob);
	mxg_follow_free(f);
	collect_free(&c);
	return ok;
}

DIR_TEST(restart_resumes_exactly_after_saved_offset)
{
	struct mxg_follow *f = mxg_follow_new(0);
	struct collect c;
	char p[256], state[256];
	bool ok = true;

	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	pathf(p, dir, "mail.log");
	pathf(state, dir, "follow.state");
	append(p, "history\n");
	collect_init(&c, 0);
	mxg_follow_add(f, p);
	append(p, "a\nb\npart");
	mxg_follow_process(f, on_line, &c);
	ok &= ASSERT_EQ(mxg_follow_save(f, state), 0, "save");
	mxg_follow_free(f);
	ok &= ASSERT_EQ(c.n, 2, "before restart");
	append(p, "ial\nc\n");

	f = mxg_follow_new(0);
	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	ok &= ASSERT_EQ(mxg_follow_load(f, state), 0, "load");
	ok &= ASSERT_EQ(mxg_follow_add(f, p), 0, "add");
	ok &= ASSERT_EQ(mxg_follow_load(f, state), -EBUSY, "load after add");
	mxg_follow_process(f, on_line, &c);
	ok &= line_is(&c, 0, "a") && line_is(&c, 1, "b");
	ok &= line_is(&c, 2, "partial") && line_is(&c, 3, "c");
	ok &= ASSERT_EQ(c.n, 4, "count");
	mxg_follow_free(f);
	collect_free(&c);
	return ok;
}

DIR_TEST(restart_after_rotation_reads_rest_of_old_then_new)
{
	struct mxg_follow *f = mxg_follow_new(0);
	struct mxg_follow_stats st;
	struct collect c;
	char p[256], p1[256], state[256];
	bool ok = true;

	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	pathf(p, dir, "mail.log");
	pathf(p1, dir, "mail.log.1");
	pathf(state, dir, "follow.state");
	append(p, "history\n");
	collect_init(&c, 0);
	mxg_follow_add(f, p);
	append(p, "a\n");
	mxg_follow_process(f, on_line, &c);
	ok &= ASSERT_EQ(mxg_follow_save(f, state), 0, "save");
	mxg_follow_free(f);

	/* while stopped: more lines, rotation, lines in the new file */
	append(p, "b\n");
	rename(p, p1);
	append(p, "c\n");

	f = mxg_follow_new(0);
	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	mxg_follow_load(f, state);
	mxg_follow_add(f, p);
	mxg_follow_process(f, on_line, &c);
	mxg_follow_get_stats(f, &st);
	ok &= line_is(&c, 0, "a") && line_is(&c, 1, "b") && line_is(&c, 2, "c");
	ok &= ASSERT_EQ(c.n, 3, "count");
	ok &= ASSERT_EQ(st.rotations, 1, "rotation counted");

	/* the old file removed: the new one is still read from 0 */
	ok &= ASSERT_EQ(mxg_follow_save(f, state), 0, "save 2");
	mxg_follow_free(f);
	append(p, "d\n");
	rename(p, p1);	/* replaces the old .1 */
	unlink(p1);
	append(p, "e\n");
	f = mxg_follow_new(0);
	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	mxg_follow_load(f, state);
	mxg_follow_add(f, p);
	mxg_follow_process(f, on_line, &c);
	ok &= line_is(&c, 3, "e");
	ok &= ASSERT_EQ(c.n, 4, "count after lost rotation");
	mxg_follow_free(f);
	collect_free(&c);
	return ok;
}

DIR_TEST(restart_after_copytruncate_reads_rest_from_the_copy)
{
	struct mxg_follow *f = mxg_follow_new(0);
	struct collect c;
	char p[256], p1[256], p2[256], state[256];
	bool ok = true;

	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	pathf(p, dir, "mail.log");
	pathf(p1, dir, "mail.log.1");
	pathf(p2, dir, "mail.log.2");
	pathf(state, dir, "follow.state");
	append(p, SAME_HEAD "history\n");
	collect_init(&c, 0);
	mxg_follow_add(f, p);
	append(p, SAME_HEAD "read 1\n");
	mxg_follow_process(f, on_line, &c);
	ok &= ASSERT_EQ(mxg_follow_save(f, state), 0, "save");
	mxg_follow_free(f);
	/* while we are stopped: more lines, copytruncate, new lines */
	append(p, SAME_HEAD "unread 1\n" SAME_HEAD "unread 2\n");
	/* an older rotation with the same first line but another history */
	append(p2, SAME_HEAD "history\n" SAME_HEAD "other 1\n" SAME_HEAD "other 2\n");
	if (copy_file(p, p1) < 0 || truncate(p, 0) < 0)
		return false;
	append(p, SAME_HEAD "after 1\n" SAME_HEAD "after 2 and some more\n");

	f = mxg_follow_new(0);
	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	ok &= ASSERT_EQ(mxg_follow_load(f, state), 0, "load");
	ok &= ASSERT_EQ(mxg_follow_add(f, p), 0, "add");
	mxg_follow_process(f, on_line, &c);
	ok &= line_is(&c, 0, SAME_HEAD "read 1");
	ok &= line_is(&c, 1, SAME_HEAD "unread 1");
	ok &= line_is(&c, 2, SAME_HEAD "unread 2");
	ok &= line_is(&c, 3, SAME_HEAD "after 1");
	ok &= line_is(&c, 4, SAME_HEAD "after 2 and some more");
	ok &= ASSERT_EQ(c.n, 5, "count");
	mxg_follow_free(f);
	collect_free(&c);
	return ok;
}

DIR_TEST(state_file_of_version_1_still_resumes)
{
	struct mxg_follow *f = mxg_follow_new(0);
	struct collect c;
	char p[256], state[256];
	struct stat st;
	bool ok = true;

	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	pathf(p, dir, "mail.log");
	pathf(state, dir, "follow.state");
	append(p, "old 1\nnew 1\n");
	if (stat(p, &st) < 0)
		return false;
	/* as an earlier mxguard wrote it: no bytes before the offset */
	append(state, "mxguard-follow-state 1\n%ju %ju 6 6f6c642031 %s\n",
	       (uintmax_t)st.st_dev, (uintmax_t)st.st_ino, p);
	collect_init(&c, 0);
	ok &= ASSERT_EQ(mxg_follow_load(f, state), 0, "load");
	ok &= ASSERT_EQ(mxg_follow_add(f, p), 0, "add");
	mxg_follow_process(f, on_line, &c);
	ok &= line_is(&c, 0, "new 1");
	ok &= ASSERT_EQ(c.n, 1, "count");
	mxg_follow_free(f);
	collect_free(&c);
	return ok;
}

DIR_TEST(restart_after_truncation_or_missing_file_reads_from_zero)
{
	struct mxg_follow *f = mxg_follow_new(0);
	struct collect c;
	char p[256], q[256], state[256];
	bool ok = true;

	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	pathf(p, dir, "mail.log");
	pathf(q, dir, "other.log");	/* does not exist at save time */
	pathf(state, dir, "follow.state");
	append(p, "history line that is long\n");
	collect_init(&c, 0);
	mxg_follow_add(f, p);
	mxg_follow_add(f, q);
	ok &= ASSERT_EQ(mxg_follow_save(f, state), 0, "save");
	mxg_follow_free(f);

	if (truncate(p, 0) < 0)
		return false;
	append(p, "x\n");
	append(q, "y\n");

	f = mxg_follow_new(0);
	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	mxg_follow_load(f, state);
	mxg_follow_add(f, p);
	mxg_follow_add(f, q);
	mxg_follow_process(f, on_line, &c);
	ok &= line_is(&c, 0, "x") && line_is(&c, 1, "y");
	ok &= ASSERT_EQ(c.n, 2, "count");
	mxg_follow_free(f);
	collect_free(&c);
	return ok;
}

DIR_TEST(state_file_missing_or_malformed)
{
	struct mxg_follow *f = mxg_follow_new(0);
	char state[256];
	bool ok = true;

	if (!ASSERT_TRUE(f != NULL, "new"))
		return false;
	pathf(state, dir, "none.state");
	ok &= ASSERT_EQ(mxg_follow_load(f, state), 0, "missing state");
	append(state, "garbage\n");
	ok &= ASSERT_EQ(mxg_follow_load(f, state), -EINVAL, "bad magic");
	unlink(state);
	append(state, "mxguard-follow-state 1\n1 2 x - /p\n");
	ok &= ASSERT_EQ(mxg_follow_load(f, state), -EINVAL, "bad line");
	mxg_follow_free(f);
	return ok;
}

/*
 * Rotation storm: a writer appends Postfix AUTH failure lines at a steady
 * rate while a rotator, every 150-400 ms, rotates the file like logrotate:
 * "create" (rename, create, the writer reopens a moment later, as syslog
 * does on HUP) and "copytruncate" in turn, shifting .1 to .2 and gzipping
 * .2 each time. The reader drives the follower like the daemon (inotify plus
 * a 1 s timer) and answers each wake-up a few ms late, as a busy daemon does.
 *
 * Every line names its sequence number in its client address. Lines that
 * copytruncate itself loses (written after the copy ended, before the
 * truncate) are found by the rotator, which holds the writer back from the
 * end of the copy to the truncate and reads what the copy missed; every
 * other line must be delivered exactly once.
 */
#define STORM_RATE	5000		/* lines per second */
#define STORM_MAX	131072		/* sequence numbers: hosts of 198.18.0.0/15 */
#define STORM_MS	20000		/* default length; MXG_STORM_MS overrides */
#define STORM_LINE_MAX	256

struct storm {
	char path[256];
	int ms;
	pthread_mutex_t lock;	/* the writer per line; the rotator around truncate */
	atomic_int written;	/* sequence numbers 0..written-1 are written */
	atomic_bool stop;
	atomic_int done;	/* threads finished: writer and rotator */
	atomic_int reopen;	/* create rotations: the writer reopens its file */
	unsigned char *excused;	/* per seq: lost by copytruncate itself */
	int n_excused;
	int creates, copytruncates;
	const char *failed;	/* what went wrong in the writer or the rotator */
};

static int storm_line(char *buf, size_t size, int seq)
{
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	return snprintf(buf, size,
			"%s mx postfix/smtpd[123]: warning: unknown[198.%d.%d.%d]: SASL LOGIN authentication failed: authentication failure\n",
			stamp, 18 + (seq >> 16), (seq >> 8) & 255, seq & 255);
}

/* The sequence number of a whole storm line, or -1 for anything else. */
static int storm_seq(const char *line, size_t len)
{
	static const char tail[] = "]: SASL LOGIN authentication failed: authentication failure";
	const char *a = memmem(line, len, " mx postfix/smtpd[123]: warning: unknown[198.", 45);
	int b, c, d, n = 0;

	if (!a || a - line != 15 || len < sizeof(tail) ||
	    memcmp(line + len - (sizeof(tail) - 1), tail, sizeof(tail) - 1))
		return -1;
	if (sscanf(a + 45, "%d.%d.%d%n", &b, &c, &d, &n) != 3 ||
	    a + 45 + n != line + len - (sizeof(tail) - 1) ||
	    b < 18 || b > 19 || c < 0 || c > 255 || d < 0 || d > 255)
		return -1;
	return ((b - 18) << 16) | (c << 8) | d;
}

static void on_storm_line(const char *line, size_t len, const char *path,
			  void *arg)
{
	struct collect *c = arg;
	int seq = storm_seq(line, len);

	if (seq < 0 || seq >= c->nseq) {
		if (c->bad++ < 3)
			fprintf(stderr, "  mangled line: %.*s\n",
				(int)(len > 200 ? 200 : len), line);
	} else if (c->seen[seq]++) {
		c->dup++;
	}
	c->n++;
}

static void storm_write(struct storm *s)
{
	long long start = now_ms(), now;
	int fd, seen_reopen = 0, reopen_at = -1;
	char line[STORM_LINE_MAX];

	fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		s->failed = "writer cannot open the log";
		return;
	}
	while (!atomic_load(&s->stop) && (now = now_ms()) - start < s->ms) {
		int want = (now - start) * STORM_RATE / 1000;

		if (want > STORM_MAX)
			want = STORM_MAX;
		while (atomic_load(&s->written) < want) {
			int seq = atomic_load(&s->written), n;

			if (atomic_load(&s->reopen) != seen_reopen) {
				/* syslog reopens on HUP, a few lines later */
				seen_reopen = atomic_load(&s->reopen);
				reopen_at = seq + 20;
			}
			if (seq == reopen_at) {
				close(fd);
				fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT |
					  O_CLOEXEC, 0644);
				if (fd < 0) {
					s->failed = "writer cannot reopen the log";
					return;
				}
			}
			n = storm_line(line, sizeof(line), seq);
			pthread_mutex_lock(&s->lock);
			if (write(fd, line, n) != n)
				s->failed = "short write";
			atomic_store(&s->written, seq + 1);
			pthread_mutex_unlock(&s->lock);
		}
		if (want == STORM_MAX)
			break;
		usleep(1000);
	}
	close(fd);
}

static void *storm_writer(void *arg)
{
	struct storm *s = arg;

	storm_write(s);
	atomic_fetch_add(&s->done, 1);
	return NULL;
}

/* gzip from into to and remove from, as logrotate's compress does. */
static int gzip_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0;
	gzFile out;

	if (in < 0)
		return errno == ENOENT ? 0 : -1;
	out = gzopen(to, "wb");
	if (!out) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (gzwrite(out, buf, n) != n)
			n = -1;
	close(in);
	if (gzclose(out) != Z_OK || n < 0)
		return -1;
	return unlink(from);
}

/* Mark the lines whose newline lies at or after copied in the log. */
static int storm_excuse(struct storm *s, int fd, off_t copied)
{
	off_t from = copied > 2 * STORM_LINE_MAX ? copied - 2 * STORM_LINE_MAX : 0;
	struct stat st;
	char *buf, *p, *nl, *start;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return -1;
	if (st.st_size <= copied)
		return 0;
	buf = malloc(st.st_size - from);
	if (!buf)
		return -1;
	n = pread(fd, buf, st.st_size - from, from);
	if (n != st.st_size - from) {
		free(buf);
		return -1;
	}
	start = from ? NULL : buf;	/* NULL: not at a line start yet */
	for (p = buf; (nl = memchr(p, '\n', buf + n - p)); p = nl + 1) {
		if (start && from + (nl - buf) >= copied) {
			int seq = storm_seq(start, nl - start);

			if (seq >= 0 && seq < STORM_MAX && !s->excused[seq]) {
				s->excused[seq] = 1;
				s->n_excused++;
			}
		}
		start = nl + 1;
	}
	free(buf);
	return 0;
}

static void storm_shift(struct storm *s, const char *p1, const char *p2,
			const char *p2gz)
{
	unlink(p2gz);
	if (rename(p1, p2) < 0 && errno != ENOENT)
		s->failed = "cannot shift .1 to .2";
	else if (gzip_file(p2, p2gz) < 0)
		s->failed = "cannot gzip .2";
}

static void *storm_rotator(void *arg)
{
	struct storm *s = arg;
	char p1[300], p2[300], p2gz[300];
	unsigned int seed = 7;
	long long end = now_ms() + s->ms - 300;

	snprintf(p1, sizeof(p1), "%s.1", s->path);
	snprintf(p2, sizeof(p2), "%s.2", s->path);
	snprintf(p2gz, sizeof(p2gz), "%s.2.gz", s->path);
	for (int i = 0; now_ms() < end && !s->failed; i++) {
		usleep((150 + rand_r(&seed) % 250) * 1000);
		storm_shift(s, p1, p2, p2gz);
		if (i % 2 == 0) {
			int fd;

			if (rename(s->path, p1) < 0) {
				s->failed = "cannot rename the log";
				break;
			}
			fd = open(s->path, O_WRONLY | O_CREAT | O_EXCL |
				  O_CLOEXEC, 0640);
			if (fd < 0) {
				s->failed = "cannot create the log";
				break;
			}
			close(fd);
			atomic_fetch_add(&s->reopen, 1);
			s->creates++;
		} else {
			struct stat st;
			int fd;

			/* the copy races with the writer, as logrotate's does */
			if (copy_file(s->path, p1) < 0 || stat(p1, &st) < 0) {
				s->failed = "cannot copy the log";
				break;
			}
			fd = open(s->path, O_RDWR | O_CLOEXEC);
			pthread_mutex_lock(&s->lock);
			if (fd < 0 || storm_excuse(s, fd, st.st_size) < 0 ||
			    ftruncate(fd, 0) < 0)
				s->failed = "cannot truncate the log";
			pthread_mutex_unlock(&s->lock);
			if (fd >= 0)
				close(fd);
			s->copytruncates++;
		}
	}
	atomic_fetch_add(&s->done, 1);
	return NULL;
}

DIR_TEST(rotation_storm_counts_every_line_once)
{
	struct storm s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct pollfd pfd;
	struct mxg_follow_stats st;
	struct mxg_follow *f;
	struct collect c;
	pthread_t wth, rth;
	long long next_tick, quiet_until = 0, end;
	const char *env = getenv("MXG_STORM_MS");
	unsigned int seed = 11;
	int missing = 0, excused_seen = 0, last_n = -1, written;
	bool ok = true;

	s.ms = env ? atoi(env) : STORM_MS;
	if (s.ms < 1000)
		s.ms = 1000;
	pathf(s.path, dir, "mail.log");
	close(open(s.path, O_WRONLY | O_CREAT, 0644));
	s.excused = calloc(STORM_MAX, 1);
	f = mxg_follow_new(0);
	if (!ASSERT_TRUE(f && s.excused, "new")) {
		mxg_follow_free(f);
		free(s.excused);
		return false;
	}
	collect_init(&c, STORM_MAX);
	mxg_follow_add(f, s.path);
	if (pthread_create(&wth, NULL, storm_writer, &s)) {
		mxg_follow_free(f);
		collect_free(&c);
		free(s.excused);
		return false;
	}
	if (pthread_create(&rth, NULL, storm_rotator, &s)) {
		atomic_store(&s.stop, true);
		pthread_join(wth, NULL);
		mxg_follow_free(f);
		collect_free(&c);
		free(s.excused);
		return false;
	}
	pfd.fd = mxg_follow_fd(f);
	pfd.events = POLLIN;
	next_tick = now_ms() + 1000;
	end = now_ms() + s.ms + 15000;
	/* until both threads are done and nothing new came for 1.5 s */
	while (now_ms() < end) {
		long long now = now_ms();
		int wait = next_tick > now ? next_tick - now : 0;

		if (wait > 100)
			wait = 100;
		if (poll(&pfd, 1, wait) > 0) {
			/* a busy daemon answers a few ms late */
			usleep(rand_r(&seed) % 3000);
			mxg_follow_process(f, on_storm_line, &c);
		}
		if (now_ms() >= next_tick) {
			mxg_follow_poll(f, on_storm_line, &c);
			next_tick += 1000;
		}
		if (c.n != last_n) {
			last_n = c.n;
			quiet_until = now_ms() + 1500;
		}
		if (atomic_load(&s.done) == 2 && now_ms() > quiet_until)
			break;
	}
	atomic_store(&s.stop, true);
	pthread_join(wth, NULL);
	pthread_join(rth, NULL);
	mxg_follow_poll(f, on_storm_line, &c);
	mxg_follow_process(f, on_storm_line, &c);
	mxg_follow_get_stats(f, &st);

	written = atomic_load(&s.written);
	for (int i = 0; i < written; i++) {
		if (s.excused[i])
			excused_seen += c.seen[i] > 0;
		else if (!c.seen[i] && missing++ < 3)
			fprintf(stderr, "  line %d (198.%d.%d.%d) never delivered\n",
				i, 18 + (i >> 16), (i >> 8) & 255, i & 255);
	}
	fprintf(stderr, "  %d lines written, %d delivered, %d create and %d copytruncate rotations, %d lines lost between copy and truncate (%d of them read before the truncate)\n",
		written, c.n, s.creates, s.copytruncates, s.n_excused,
		excused_seen);
	ok &= ASSERT_TRUE(!s.failed, s.failed ? s.failed : "writer and rotator");
	ok &= ASSERT_TRUE(written >= s.ms / 1000 * STORM_RATE / 2, "lines written");
	ok &= ASSERT_TRUE(s.creates >= 2 && s.copytruncates >= 2, "both kinds of rotation");
	ok &= ASSERT_EQ(missing, 0, "lines missing");
	ok &= ASSERT_EQ(c.dup, 0, "lines delivered twice");
	ok &= ASSERT_EQ(c.bad, 0, "mangled lines");
	ok &= ASSERT_EQ(st.rotations, s.creates, "create rotations counted");
	ok &= ASSERT_EQ(st.truncations, s.copytruncates, "truncations counted");
	mxg_follow_free(f);
	collect_free(&c);
	free(s.excused);
	return ok;
}

int main(void)
{
	TEST_RUN(appended_lines_delivered_once_in_order_history_skipped);
	TEST_RUN(partial_line_held_until_newline);
	TEST_RUN(start_mid_line_delivers_that_line_whole);
	TEST_RUN(from_start_flag_reads_history);
	TEST_RUN(file_created_after_start_read_from_offset_zero);
	TEST_RUN(directory_created_later_is_watched_after_a_poll);
	TEST_RUN(rename_rotation_under_load_delivers_every_line_once);
	TEST_RUN(copytruncate_under_load_delivers_every_line_once);
	TEST_RUN(truncated_and_rewritten_past_offset_restarts_at_zero);
	TEST_RUN(truncated_and_rewritten_past_offset_with_same_first_bytes_restarts_at_zero);
	TEST_RUN(copytruncate_lines_unread_at_truncate_are_read_from_the_copy);
	TEST_RUN(long_line_cut_and_counted);
	TEST_RUN(restart_resumes_exactly_after_saved_offset);
	TEST_RUN(restart_after_rotation_reads_rest_of_old_then_new);
	TEST_RUN(restart_after_copytruncate_reads_rest_from_the_copy);
	TEST_RUN(state_file_of_version_1_still_resumes);
	TEST_RUN(restart_after_truncation_or_missing_file_reads_from_zero);
	TEST_RUN(state_file_missing_or_malformed);
	TEST_RUN(rotation_storm_counts_every_line_once);
	return test_summary();
}
