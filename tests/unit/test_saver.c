// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's writer thread: files land whole with their content and
 * mode, the newest content of a path wins, a file that cannot be written
 * is kept and written once it can, and jobs run in its thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saver.h"
#include "test.h"

static char dir[64];

static bool file_is(const char *path, const char *want)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return ASSERT_TRUE(false, path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return ASSERT_STREQ(buf, want, path);
}

static int render_counter(void *arg, char **data, size_t *len)
{
	int *calls = arg;

	(*calls)++;
	if (asprintf(data, "rendered %d\n", *calls) < 0)
		return -ENOMEM;
	*len = strlen(*data);
	return 0;
}

static void job(void *arg)
{
	*(pthread_t *)arg = pthread_self();
}

static bool files_land_whole_newest_wins_and_failures_are_retried(void)
{
	struct mxg_saver *s = mxg_saver_new(1 << 20);
	char a[128], b[128], sub[128], c[128], path[256];
	pthread_t ran = pthread_self();
	struct stat st;
	int calls = 0, i;
	bool ok = true;

	if (!ASSERT_TRUE(s != NULL, "mxg_saver_new"))
		return false;
	snprintf(a, sizeof(a), "%s/a.txt", dir);
	snprintf(b, sizeof(b), "%s/b.txt", dir);
	snprintf(sub, sizeof(sub), "%s/later", dir);
	snprintf(c, sizeof(c), "%s/later/c.txt", dir);

	/* Many versions of one path: the last queued is what stays. */
	for (i = 0; i < 100; i++) {
		char *d;

		if (asprintf(&d, "version %d\n", i) < 0)
			return false;
		ok &= ASSERT_EQ(mxg_saver_put(s, 0, a, 0640, d, strlen(d), NULL, NULL), 0, "put");
	}
	ok &= ASSERT_EQ(mxg_saver_put(s, 1, b, 0600, NULL, 0, render_counter, &calls), 0,
			"put render");
	ok &= ASSERT_EQ(mxg_saver_call(s, job, &ran), 0, "call");
	ok &= ASSERT_EQ(mxg_saver_flush(s, 5000), 0, "flush");
	ok &= file_is(a, "version 99\n");
	ok &= file_is(b, "rendered 1\n");
	ok &= ASSERT_TRUE(stat(a, &st) == 0 && (st.st_mode & 0777) == 0640, "mode 0640");
	ok &= ASSERT_TRUE(!pthread_equal(ran, pthread_self()), "job ran in the writer's thread");

	/* Its directory does not exist yet: kept, reported, written later. */
	{
		char *d = strdup("late\n");

		ok &= ASSERT_EQ(mxg_saver_put(s, 2, c, 0640, d, 5, NULL, NULL), 0, "put c");
	}
	ok &= ASSERT_EQ(mxg_saver_flush(s, 300), -ETIMEDOUT, "cannot be written yet");
	ok &= ASSERT_EQ(mxg_saver_status(s, 2, path, sizeof(path)), ENOENT, "status says why");
	ok &= ASSERT_STREQ(path, c, "and where");
	ok &= ASSERT_EQ(mxg_saver_pending(s), 1u, "still queued");
	ok &= ASSERT_EQ(mkdir(sub, 0700), 0, "mkdir");
	ok &= ASSERT_EQ(mxg_saver_flush(s, 5000), 0, "written once it can be");
	ok &= file_is(c, "late\n");
	ok &= ASSERT_EQ(mxg_saver_status(s, 2, NULL, 0), 0, "status clear again");

	/* Over its memory: refused, so the caller keeps it for later. */
	{
		char *big = calloc(1, (1 << 20) + 1);

		ok &= ASSERT_EQ(mxg_saver_put(s, 0, a, 0640, big, (1 << 20) + 1, NULL, NULL),
				-ENOSPC, "too much queued");
	}
	mxg_saver_free(s);
	unlink(a);
	unlink(b);
	unlink(c);
	rmdir(sub);
	return ok;
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mxg-saver-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	TEST_RUN(files_land_whole_newest_wins_and_failures_are_retried);
	rmdir(dir);
	return test_summary();
}
