// SPDX-License-Identifier: GPL-2.0
/*
 * The attacked-accounts store on the daemon's hot path: what each AUTH
 * failure costs it, beside what the same failure costs the ban policy
 * (measured in the same run on the same events), and what writing the
 * full store as accounts.state costs the event loop (it is made in the
 * loop, then written by the writer thread), beside the 1 ms the loop
 * gives evidence per step; and what starting the on_compromise hook costs
 * the thread that starts it (the daemon's writer thread: posix_spawn
 * returns once the child has exec'd; the timer reaps it), beside
 * system(), which runs a shell and waits. Not a test: it never fails on a
 * timing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "accounts.h"
#include "accounts_file.h"
#include "hook.h"
#include "policy.h"

#define N_EVENTS	2000000u
#define N_HOSTS		20000u
#define N_NAMES		100000u

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

#define N_HOOKS 200

/* The loop's share of starting a hook, beside system() of the same program. */
static void hook_figures(void)
{
	char *const envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct mxg_hooks *h = mxg_hooks_new();
	struct timespec nap = { 0, 1000000 };
	double t0, spawn_s = 0, sys_s;
	unsigned int i;
	int ret;

	if (!h)
		return;
	for (i = 0; i < N_HOOKS; i++) {
		t0 = now_s();
		ret = mxg_hook_run(h, "/bin/true", envp, 1000000000ULL);
		spawn_s += now_s() - t0;
		if (ret)
			break;
		while (mxg_hooks_running(h)) {
			nanosleep(&nap, NULL);
			mxg_hooks_reap(h);
		}
	}
	mxg_hooks_free(h, 1000);
	t0 = now_s();
	for (i = 0; i < N_HOOKS; i++)
		if (system("/bin/true"))
			break;
	sys_s = now_s() - t0;
	printf("%-44s %12s %12s %8s\n", "starting on_compromise (/bin/true, 200 runs)",
	       "posix_spawn", "system()", "ratio");
	printf("%-44s %9.0f us %9.0f us %7.2fx\n", "the starting thread waits", spawn_s * 1e6 / N_HOOKS,
	       sys_s * 1e6 / N_HOOKS, sys_s / spawn_s);
	printf("(posix_spawn: until the child has exec'd, no shell, reaped by the timer;\n"
	       " system(): a shell, waited for to the end. The daemon starts hooks in its\n"
	       " writer thread: its event loop only queues one)\n");
}

struct ev {
	struct mxg_addr addr;
	char user[16];
};

int main(void)
{
	struct mxg_accounts_config ac;
	struct mxg_policy_config pc;
	struct mxg_accounts_stats st;
	struct mxg_accounts *a;
	struct mxg_policy *p;
	struct ev *evs = malloc(sizeof(*evs) * N_EVENTS);
	double t0, acc_s, pol_s, render_s, copy_s;
	struct mxg_account *copy;
	unsigned int n;
	long rss0, rss_acc;
	unsigned int i, h;
	char *data;
	size_t len;

	if (!evs)
		return 1;
	/* A dictionary attack from 20,000 hosts in 2,000 /24s over 100,000 names. */
	srand(7);
	for (i = 0; i < N_EVENTS; i++) {
		h = (unsigned int)rand() % N_HOSTS;
		memset(&evs[i].addr, 0, sizeof(evs[i].addr));
		evs[i].addr.family = 4;
		evs[i].addr.a[0] = 100;
		evs[i].addr.a[1] = 64 + (uint8_t)(h / 2000 / 256);
		evs[i].addr.a[2] = (uint8_t)(h / 10);
		evs[i].addr.a[3] = (uint8_t)(h % 10 + 1);
		snprintf(evs[i].user, sizeof(evs[i].user), "u%u",
			 (unsigned int)rand() % N_NAMES);
	}

	rss0 = rss_kib();
	mxg_accounts_config_defaults(&ac);
	a = mxg_accounts_new(&ac);
	if (!a)
		return 1;
	t0 = now_s();
	for (i = 0; i < N_EVENTS; i++)
		mxg_accounts_failure(a, 1700000000 + i / 1000, &evs[i].addr,
				     evs[i].user, 1);
	acc_s = now_s() - t0;
	rss_acc = rss_kib() - rss0;

	mxg_policy_config_defaults(&pc);
	pc.maxretry = 100;	/* count, as under attack, without banning everyone */
	pc.range_hosts = 0;
	pc.range_failures_v4 = 0;
	p = mxg_policy_new(&pc, NULL, NULL);
	if (!p)
		return 1;
	t0 = now_s();
	for (i = 0; i < N_EVENTS; i++)
		mxg_policy_failure(p, (1700000000ULL + i / 1000) * 1000000000ULL,
				   &evs[i].addr, "postfix", evs[i].user, 1, NULL, 0);
	pol_s = now_s() - t0;

	copy = malloc(sizeof(*copy) * ac.capacity);
	if (!copy)
		return 1;
	/* The daemon reuses its copy buffer: time a copy into touched memory. */
	mxg_accounts_copy(a, copy, ac.capacity);
	t0 = now_s();
	n = mxg_accounts_copy(a, copy, ac.capacity);
	copy_s = now_s() - t0;
	t0 = now_s();
	if (mxg_accounts_render_list(copy, n, &data, &len))
		return 1;
	render_s = now_s() - t0;
	mxg_accounts_stats(a, &st);

	printf("%-44s %12s %12s %8s\n", "per AUTH failure (2 M, 20,000 hosts, 100,000 names)",
	       "accounts", "policy", "ratio");
	printf("%-44s %9.0f ns %9.0f ns %7.2fx\n", "cost", acc_s * 1e9 / N_EVENTS,
	       pol_s * 1e9 / N_EVENTS, acc_s / pol_s);
	printf("accounts store: %u accounts held (capacity %u), %llu evicted; RSS grew %.1f MiB\n",
	       st.accounts, ac.capacity, (unsigned long long)st.evicted, (double)rss_acc / 1024);
	printf("%-44s %12s %12s %8s\n", "accounts.state of a full store",
	       "in the loop", "in writer", "ratio");
	printf("%-44s %9.2f ms %9.2f ms %7.2fx\n", "copy (loop) vs render (writer thread)",
	       copy_s * 1e3, render_s * 1e3, render_s / copy_s);
	printf("(%u accounts, %.1f MiB; rendered in the loop it would stall it by the second figure)\n",
	       n, (double)len / (1 << 20));
	free(copy);
	free(data);
	hook_figures();
	mxg_policy_free(p);
	mxg_accounts_free(a);
	free(evs);
	return 0;
}
