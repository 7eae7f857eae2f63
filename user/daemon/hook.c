// SPDX-License-Identifier: GPL-2.0
/* Operator hooks run off the event loop: see hook.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hook.h"
#include "log.h"
#include "units.h"

struct running {
	pid_t pid;		/* 0: free; -1: being started */
	uint64_t deadline_ns;	/* CLOCK_MONOTONIC */
	bool killed;
	char path[64];		/* for messages: the start of it */
};

/* mu guards everything: the writer thread starts hooks, the loop reaps. */
struct mxg_hooks {
	pthread_mutex_t mu;
	struct running r[MXG_HOOKS_MAX];
	struct mxg_hook_stats st;
};

struct mxg_hooks *mxg_hooks_new(void)
{
	struct mxg_hooks *h = calloc(1, sizeof(struct mxg_hooks));

	if (h)
		pthread_mutex_init(&h->mu, NULL);
	return h;
}

unsigned int mxg_hooks_running(const struct mxg_hooks *h)
{
	struct mxg_hooks *m = (struct mxg_hooks *)h;
	unsigned int i, n = 0;

	if (!h)
		return 0;
	pthread_mutex_lock(&m->mu);
	for (i = 0; i < MXG_HOOKS_MAX; i++)
		n += h->r[i].pid != 0;
	pthread_mutex_unlock(&m->mu);
	return n;
}

void mxg_hooks_stats(const struct mxg_hooks *h, struct mxg_hook_stats *st)
{
	struct mxg_hooks *m = (struct mxg_hooks *)h;

	pthread_mutex_lock(&m->mu);
	*st = h->st;
	pthread_mutex_unlock(&m->mu);
}

int mxg_hook_run(struct mxg_hooks *h, const char *path, char *const envp[],
		 uint64_t timeout_ns)
{
	char *const argv[] = { (char *)path, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	struct running *r = NULL;
	unsigned int i;
	pid_t pid;
	int ret;

	/* A slot, held while the spawn runs outside the lock. */
	pthread_mutex_lock(&h->mu);
	for (i = 0; i < MXG_HOOKS_MAX && !r; i++)
		if (!h->r[i].pid)
			r = &h->r[i];
	if (!r) {
		h->st.skipped++;
		pthread_mutex_unlock(&h->mu);
		return -EBUSY;
	}
	r->pid = -1;
	pthread_mutex_unlock(&h->mu);
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	if (posix_spawnattr_init(&at)) {
		ret = ENOMEM;
		goto out_free_slot;
	}
	if (posix_spawn_file_actions_init(&fa)) {
		posix_spawnattr_destroy(&at);
		ret = ENOMEM;
		goto out_free_slot;
	}
	/*
	 * The daemon blocks the signals its signalfd reads and ignores
	 * SIGPIPE; both would be inherited through exec. Its own process
	 * group, so a timeout kills what the hook started too.
	 */
	ret = posix_spawnattr_setsigmask(&at, &none) ||
	      posix_spawnattr_setsigdefault(&at, &all) ||
	      posix_spawnattr_setpgroup(&at, 0) ||
	      posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
				       POSIX_SPAWN_SETSIGDEF |
				       POSIX_SPAWN_SETPGROUP) ||
	      posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ||
	      /* Maps, sockets, the lock: none of the daemon's descriptors. */
	      posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (!ret)
		ret = posix_spawn(&pid, path, &fa, &at, argv, envp);
	else
		ret = ENOMEM;
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (ret)
		goto out_free_slot;
	pthread_mutex_lock(&h->mu);
	r->deadline_ns = mxg_mono_ns() + timeout_ns;
	r->killed = false;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->pid = pid;
	h->st.started++;
	pthread_mutex_unlock(&h->mu);
	return 0;

out_free_slot:
	pthread_mutex_lock(&h->mu);
	r->pid = 0;
	h->st.failed++;
	pthread_mutex_unlock(&h->mu);
	return -ret;
}

static void ended(struct mxg_hooks *h, struct running *r, int status)
{
	if (r->killed) {
		h->st.killed++;
		mxg_warn("on_compromise %s (pid %d) ran past its time: killed",
			 r->path, (int)r->pid);
	} else if (WIFEXITED(status) && !WEXITSTATUS(status)) {
		h->st.ok++;
		mxg_info("on_compromise %s (pid %d) done", r->path, (int)r->pid);
	} else {
		h->st.failed++;
		if (WIFEXITED(status))
			mxg_warn("on_compromise %s (pid %d) exited with status %d",
				 r->path, (int)r->pid, WEXITSTATUS(status));
		else
			mxg_warn("on_compromise %s (pid %d) ended by signal %d",
				 r->path, (int)r->pid, WTERMSIG(status));
	}
	r->pid = 0;
}

void mxg_hooks_reap(struct mxg_hooks *h)
{
	uint64_t now = mxg_mono_ns();
	struct running *r;
	unsigned int i;
	int status;
	pid_t ret;

	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	for (i = 0; i < MXG_HOOKS_MAX; i++) {
		r = &h->r[i];
		if (r->pid <= 0)
			continue;
		ret = waitpid(r->pid, &status, WNOHANG);
		if (ret == r->pid) {
			ended(h, r, status);
			continue;
		}
		if (ret < 0) {		/* not ours any more (ECHILD) */
			r->pid = 0;
			continue;
		}
		if (!r->killed && now >= r->deadline_ns) {
			kill(-r->pid, SIGKILL);
			kill(r->pid, SIGKILL);
			r->killed = true;
		}
	}
	pthread_mutex_unlock(&h->mu);
}

void mxg_hooks_free(struct mxg_hooks *h, int wait_ms)
{
	uint64_t until = mxg_mono_ns() + (uint64_t)wait_ms * MXG_MSEC_NS;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	unsigned int i;
	int status;

	if (!h)
		return;
	while (mxg_hooks_running(h) && mxg_mono_ns() < until) {
		mxg_hooks_reap(h);
		if (mxg_hooks_running(h))
			nanosleep(&ts, NULL);
	}
	/* No thread starts hooks any more: the writer has stopped. */
	for (i = 0; i < MXG_HOOKS_MAX; i++) {
		if (h->r[i].pid <= 0)
			continue;
		kill(-h->r[i].pid, SIGKILL);
		kill(h->r[i].pid, SIGKILL);
		h->r[i].killed = true;
		if (waitpid(h->r[i].pid, &status, 0) == h->r[i].pid)
			ended(h, &h->r[i], status);
		h->r[i].pid = 0;
	}
	pthread_mutex_destroy(&h->mu);
	free(h);
}
