// SPDX-License-Identifier: GPL-2.0
/*
 * The disk writer thread (see saver.h). One mutex guards the queue and the
 * status; the thread holds it only to take a batch and to put back what
 * failed, never while it writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "saver.h"
#include "units.h"

/* A file that failed is tried again this much later. */
#define RETRY_MS	1000
/* Distinct directories one batch syncs; more are synced per file. */
#define MAX_DIRS	8

struct item {
	struct item *next;
	char *path;
	mode_t mode;
	unsigned int kind;
	char *data;		/* NULL: render makes it */
	size_t len;
	mxg_render_fn render;
	void *arg;
	void (*call)(void *arg);	/* a job, not a file (path NULL) */
	uint64_t not_before;	/* monotonic ms */
	char tmp[PATH_MAX];
	bool written;		/* its temporary file is complete */
};

struct mxg_saver {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work;		/* something queued, or stop */
	pthread_cond_t idle;		/* a batch is done */
	struct item *head, *tail;
	unsigned int n;
	size_t bytes, max_bytes;
	bool stop, busy;
	uint64_t counter;		/* temporary names */
	int err[MXG_SAVER_KINDS];
	char err_path[MXG_SAVER_KINDS][PATH_MAX];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= (long)MXG_SEC_NS) {
		ts->tv_sec++;
		ts->tv_nsec -= (long)MXG_SEC_NS;
	}
}

static void item_free(struct item *it)
{
	free(it->path);
	free(it->data);
	free(it);
}

static void push(struct mxg_saver *s, struct item *it)
{
	it->next = NULL;
	if (s->tail)
		s->tail->next = it;
	else
		s->head = it;
	s->tail = it;
	s->n++;
	s->bytes += it->len;
}

int mxg_saver_put(struct mxg_saver *s, unsigned int kind, const char *path,
		  mode_t mode, char *data, size_t len, mxg_render_fn render,
		  void *arg)
{
	struct item *it, *q;

	if (kind >= MXG_SAVER_KINDS || (!data && !render)) {
		free(data);
		return -EINVAL;
	}
	it = calloc(1, sizeof(*it));
	if (!it || !(it->path = strdup(path))) {
		free(it);
		free(data);
		return -ENOMEM;
	}
	it->mode = mode;
	it->kind = kind;
	it->data = data;
	it->len = data ? len : 0;
	it->render = render;
	it->arg = arg;
	pthread_mutex_lock(&s->mu);
	/* A content made at write time is the newest anyway: one is enough. */
	if (render) {
		for (q = s->head; q; q = q->next) {
			if (q->render == render && q->arg == arg &&
			    !strcmp(q->path, path)) {
				q->not_before = 0;
				pthread_mutex_unlock(&s->mu);
				item_free(it);
				pthread_cond_signal(&s->work);
				return 0;
			}
		}
	}
	if (s->bytes + it->len > s->max_bytes) {
		pthread_mutex_unlock(&s->mu);
		item_free(it);
		return -ENOSPC;
	}
	push(s, it);
	pthread_mutex_unlock(&s->mu);
	pthread_cond_signal(&s->work);
	return 0;
}

int mxg_saver_call(struct mxg_saver *s, void (*fn)(void *arg), void *arg)
{
	struct item *it = calloc(1, sizeof(*it));

	if (!it)
		return -ENOMEM;
	it->call = fn;
	it->arg = arg;
	pthread_mutex_lock(&s->mu);
	push(s, it);
	pthread_mutex_unlock(&s->mu);
	pthread_cond_signal(&s->work);
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The temporary file of it, complete but not yet durable. */
static int write_tmp(struct mxg_saver *s, struct item *it)
{
	int fd, ret;

	if (!it->data) {
		ret = it->render(it->arg, &it->data, &it->len);
		if (ret)
			return ret;
	}
	if (snprintf(it->tmp, sizeof(it->tmp), "%s.tmp-%d-%llu", it->path,
		     (int)getpid(), (unsigned long long)++s->counter) >=
	    (int)sizeof(it->tmp))
		return -ENAMETOOLONG;
	fd = open(it->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, it->mode);
	if (fd < 0)
		return -errno;
	ret = fchmod(fd, it->mode) ? -errno : 0;
	if (!ret)
		ret = write_all(fd, it->data, it->len);
	if (close(fd) && !ret)
		ret = -EIO;
	if (ret)
		unlink(it->tmp);
	return ret;
}

static void dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

/* Write a batch; each item's result in *err (0 done). */
static void write_batch(struct mxg_saver *s, struct item **v, unsigned int n,
			int *err)
{
	char dirs[MAX_DIRS][PATH_MAX], dir[PATH_MAX];
	unsigned int i, k, nd = 0;
	int fd, ret;
	bool per_file = false;

	for (i = 0; i < n; i++) {
		if (v[i]->call) {
			v[i]->call(v[i]->arg);
			err[i] = 0;
			v[i]->written = false;
			continue;
		}
		err[i] = write_tmp(s, v[i]);
		v[i]->written = !err[i];
		if (err[i])
			continue;
		dir_of(v[i]->path, dir, sizeof(dir));
		for (k = 0; k < nd && strcmp(dirs[k], dir); k++)
			;
		if (k == nd) {
			if (nd < MAX_DIRS)
				snprintf(dirs[nd++], sizeof(dirs[0]), "%s", dir);
			else
				per_file = true;
		}
	}
	/* One flush makes the whole batch durable before any rename. */
	for (k = 0; k < nd && !per_file; k++) {
		fd = open(dirs[k], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || syncfs(fd))
			per_file = true;
		if (fd >= 0)
			close(fd);
	}
	for (i = 0; i < n; i++) {
		if (!v[i]->written)
			continue;
		ret = 0;
		if (per_file) {
			fd = open(v[i]->tmp, O_RDONLY | O_CLOEXEC);
			ret = fd < 0 || fsync(fd) ? -errno : 0;
			if (fd >= 0)
				close(fd);
		}
		if (!ret && rename(v[i]->tmp, v[i]->path))
			ret = -errno;
		if (ret) {
			unlink(v[i]->tmp);
			err[i] = ret;
		}
	}
	/* Make the renames themselves durable. */
	for (k = 0; k < nd; k++) {
		fd = open(dirs[k], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
}

/* Take the items due now, in order, leaving the others queued. */
static unsigned int take_due(struct mxg_saver *s, struct item ***out)
{
	struct item *it, *next, *keep_head = NULL, *keep_tail = NULL;
	struct item **v;
	uint64_t now = now_ms();
	unsigned int n = 0, k = 0;

	for (it = s->head; it; it = it->next)
		n += it->not_before <= now;
	if (!n)
		return 0;
	v = malloc(sizeof(*v) * n);
	if (!v)
		return 0;
	for (it = s->head; it; it = next) {
		next = it->next;
		if (it->not_before <= now) {
			v[k++] = it;
			s->n--;
			s->bytes -= it->len;
			continue;
		}
		it->next = NULL;
		if (keep_tail)
			keep_tail->next = it;
		else
			keep_head = it;
		keep_tail = it;
	}
	s->head = keep_head;
	s->tail = keep_tail;
	*out = v;
	return n;
}

static bool any_due(const struct mxg_saver *s, uint64_t now)
{
	const struct item *it;

	for (it = s->head; it; it = it->next)
		if (it->not_before <= now)
			return true;
	return false;
}

static void *run(void *arg)
{
	struct mxg_saver *s = arg;
	struct timespec ts;
	struct item **v;
	unsigned int n, i, k;
	bool failed[MXG_SAVER_KINDS], done[MXG_SAVER_KINDS];
	int *err;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->stop && !any_due(s, now_ms())) {
			deadline_in(&ts, s->head ? 100 : 1000);
			pthread_cond_timedwait(&s->work, &s->mu, &ts);
		}
		if (s->stop)
			break;
		n = take_due(s, &v);
		if (!n)
			continue;
		s->busy = true;
		pthread_mutex_unlock(&s->mu);

		err = calloc(n, sizeof(*err));
		if (err)
			write_batch(s, v, n, err);

		pthread_mutex_lock(&s->mu);
		memset(failed, 0, sizeof(failed));
		memset(done, 0, sizeof(done));
		for (i = 0; i < n; i++) {
			k = v[i]->kind;
			if (err && !err[i]) {
				done[k] |= !v[i]->call;
				item_free(v[i]);
				continue;
			}
			if (v[i]->call) {
				/* Without memory for the batch: run it now. */
				v[i]->call(v[i]->arg);
				item_free(v[i]);
				continue;
			}
			s->err[k] = err ? -err[i] : ENOMEM;
			snprintf(s->err_path[k], sizeof(s->err_path[k]), "%s", v[i]->path);
			failed[k] = true;
			/* Made at write time: make it anew on the next try. */
			if (v[i]->render) {
				free(v[i]->data);
				v[i]->data = NULL;
				v[i]->len = 0;
			}
			v[i]->not_before = now_ms() + RETRY_MS;
			push(s, v[i]);
		}
		for (k = 0; k < MXG_SAVER_KINDS; k++)
			if (done[k] && !failed[k])
				s->err[k] = 0;
		free(err);
		free(v);
		s->busy = false;
		pthread_cond_broadcast(&s->idle);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct mxg_saver *mxg_saver_new(size_t max_bytes)
{
	struct mxg_saver *s = calloc(1, sizeof(*s));
	sigset_t all, old;
	pthread_condattr_t ca;
	int ret;

	if (!s)
		return NULL;
	s->max_bytes = max_bytes;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->work, &ca);
	pthread_cond_init(&s->idle, &ca);
	pthread_condattr_destroy(&ca);
	/*
	 * The daemon takes its signals through a signalfd: the writer must
	 * never be the thread a SIGTERM or SIGHUP is delivered to (it would
	 * end the process without the last save), so it starts with them all
	 * blocked.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&s->thread, NULL, run, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		pthread_cond_destroy(&s->work);
		pthread_cond_destroy(&s->idle);
		pthread_mutex_destroy(&s->mu);
		free(s);
		errno = ret;
		return NULL;
	}
	return s;
}

int mxg_saver_status(struct mxg_saver *s, unsigned int kind, char *path,
		     size_t size)
{
	int err;

	if (kind >= MXG_SAVER_KINDS)
		return EINVAL;
	pthread_mutex_lock(&s->mu);
	err = s->err[kind];
	if (path && size)
		snprintf(path, size, "%s", s->err_path[kind]);
	pthread_mutex_unlock(&s->mu);
	return err;
}

unsigned int mxg_saver_pending(struct mxg_saver *s)
{
	unsigned int n;

	pthread_mutex_lock(&s->mu);
	n = s->n;
	pthread_mutex_unlock(&s->mu);
	return n;
}

int mxg_saver_flush(struct mxg_saver *s, int timeout_ms)
{
	struct timespec ts;
	struct item *it;
	int ret = 0;

	deadline_in(&ts, timeout_ms);
	pthread_mutex_lock(&s->mu);
	/* Now, not at their retry time. */
	for (it = s->head; it; it = it->next)
		it->not_before = 0;
	pthread_cond_signal(&s->work);
	while ((s->head || s->busy) && !ret)
		if (pthread_cond_timedwait(&s->idle, &s->mu, &ts) == ETIMEDOUT)
			ret = -ETIMEDOUT;
	pthread_mutex_unlock(&s->mu);
	return ret;
}

void mxg_saver_free(struct mxg_saver *s)
{
	struct item *it, *next;

	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_mutex_unlock(&s->mu);
	pthread_cond_signal(&s->work);
	pthread_join(s->thread, NULL);
	for (it = s->head; it; it = next) {
		next = it->next;
		item_free(it);
	}
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
