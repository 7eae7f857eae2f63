/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Operator hooks (on_compromise): a program run without a shell, with no
 * arguments, its input /dev/null, what it needs to know in a clean
 * environment, none of the daemon's file descriptors, default signal
 * dispositions and an empty signal mask, in a process group of its own.
 *
 * The event loop never waits for one: the daemon calls mxg_hook_run in
 * its writer thread (posix_spawn returns only once the child has exec'd,
 * a millisecond or more on a busy host), and mxg_hooks_reap, called from
 * the daemon's timer, collects those that ended and kills (the whole
 * group) those past their time. The two may run in different threads.
 * At most MXG_HOOKS_MAX run at once; an alert beyond that is not run,
 * and counted.
 */
#ifndef MXG_HOOK_H
#define MXG_HOOK_H

#include <stdint.h>

#define MXG_HOOKS_MAX	8

struct mxg_hook_stats {
	uint64_t started;	/* spawned */
	uint64_t ok;		/* ended with status 0 */
	uint64_t failed;	/* could not start, or ended otherwise */
	uint64_t killed;	/* past their time */
	uint64_t skipped;	/* MXG_HOOKS_MAX were running */
};

struct mxg_hooks;

/* NULL and errno. */
struct mxg_hooks *mxg_hooks_new(void);

/*
 * Run path with exactly the environment envp (NULL-terminated). It gets
 * timeout_ns to finish. 0, -EBUSY (too many running), or -errno of the
 * spawn.
 */
int mxg_hook_run(struct mxg_hooks *h, const char *path, char *const envp[],
		 uint64_t timeout_ns);

/* Collect ended hooks, kill those past their time. Never blocks. */
void mxg_hooks_reap(struct mxg_hooks *h);

/* Hooks still running. */
unsigned int mxg_hooks_running(const struct mxg_hooks *h);

void mxg_hooks_stats(const struct mxg_hooks *h, struct mxg_hook_stats *st);

/*
 * Stopping: wait up to wait_ms for running hooks, then kill and collect
 * them, so none is left behind as a zombie or an orphan.
 */
void mxg_hooks_free(struct mxg_hooks *h, int wait_ms);

#endif
