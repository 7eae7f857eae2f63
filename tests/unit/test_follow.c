// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of user/follow.c on real files in a fresh directory under /tmp,
 * removed whatever the outcome. Every wait is bounded in time.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
	TEST_RUN(long_line_cut_and_counted);
	TEST_RUN(restart_resumes_exactly_after_saved_offset);
	TEST_RUN(restart_after_rotation_reads_rest_of_old_then_new);
	TEST_RUN(restart_after_truncation_or_missing_file_reads_from_zero);
	TEST_RUN(state_file_missing_or_malformed);
	return test_summary();
}
