// SPDX-License-Identifier: GPL-2.0
/*
 * mxguard run: the daemon. Loads the XDP program (adopting pinned maps and
 * links), writes the config into the maps, attaches, then serves one epoll
 * loop: signals, the XDP event ring buffer, the followed logs and a
 * one-second timer. Log lines go parser -> policy -> denylist map in the
 * same turn of the loop, so a ban is in force before the next line is read.
 *
 * Stopping it (SIGINT/SIGTERM) leaves the program attached and every map
 * pinned: the protection goes on without the daemon, and the next run adopts
 * it. --detach-on-exit removes everything instead.
 */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <sys/stat.h>
#include <time.h>

#include "accounts_file.h"
#include "atomic.h"
#include "clock.h"
#include "daemon.h"
#include "exitcode.h"
#include "config.h"
#include "denylist.h"
#include "engine.h"
#include "evidence.h"
#include "fleetd.h"
#include "follow.h"
#include "hook.h"
#include "journal.h"
#include "loader.h"
#include "log.h"
#include "logtime.h"
#include "maps.h"
#include "metrics.h"
#include "parse.h"
#include "policy.h"
#include "saver.h"

/* Expired bans stay listed (mxguard list --expired) this long, then go. */
#define EXPIRED_RETENTION_NS MXG_DAY_NS

/* How often the timer does its chores, in ticks of one second. */
#define TICK_POLICY	5
#define TICK_SAVE_LOGS	10
#define TICK_SAVE_BANS	60
/*
 * New bans reach the state file within this many ticks, not at once: the
 * file holds the whole denylist (a million imported entries are a second's
 * work), and during an attack bans come many a second. The pinned maps hold
 * every ban meanwhile; only a reboot inside this window could lose one.
 */
#define TICK_SAVE_NEW	3
#define TICK_MAP_COUNT	30
#define TICK_RECONCILE	10
/* Evidence made in one step of the event loop at most; the rest waits. */
#define EVIDENCE_STEP_NS	MXG_MSEC_NS
/* A state file that cannot be saved is reported at most this often (seconds). */
#define SAVE_WARN_EVERY	60
/* A full event ring is reported at most this often (seconds), with the sum. */
#define RING_WARN_EVERY	60

/* The state files, for reporting failed saves (and the saver's kinds). */
enum { SAVE_LOGS, SAVE_JOURNAL, SAVE_EVIDENCE, SAVE_BANS, SAVE_ACCOUNTS, SAVE_N };
_Static_assert(SAVE_N <= MXG_SAVER_KINDS, "one saver kind per state file");
/* Content queued for the writer thread at most; more waits in the policy. */
#define SAVER_MAX_BYTES	(64u << 20)
/* How long stopping waits for queued files to reach the disk. */
#define SAVER_STOP_MS	10000

struct daemon {
	struct mxg_options o;
	struct mxg_engine eng;
	struct mxg_follow *follow;
	struct mxg_journal *journal;
	char follow_state[PATH_MAX + 32];
	char journal_state[PATH_MAX + 32];
	char bans_state[PATH_MAX + 32];
	char evidence_dir[PATH_MAX + 32];
	bool ready;		/* the engine is set up */
	bool bans_frozen;	/* bans.state holds bans not restored: never overwrite it */
	/* Writes evidence and bans.state off the event loop (saver.h). */
	struct mxg_saver *saver;
	/* A reconcile whose map lookups run in the saver's thread. */
	struct mxg_reconcile *reconcile;
	atomic_bool reconcile_done;
	bool save_failing[SAVE_N];	/* the last save of it failed */
	uint64_t save_warned_tick[SAVE_N];
	uint64_t saved_tick;	/* when the bans were last saved */
	struct mxg_metrics *metrics;
	struct mxg_fill fill[MXG_N_FILL];	/* as of the last count */
	/* The next count, made in the saver's thread (a walk of every map). */
	struct mxg_fill fill_next[MXG_N_FILL];
	atomic_int fill_state;	/* FILL_IDLE, FILL_RUNNING, FILL_DONE */
	/* Where the config comes from, at start and on every reload. */
	mxg_daemon_config_fn get_config;
	void *get_config_arg;
	struct mxguard_bpf *skel;
	struct mxg_maps m;
	struct mxg_events *rb;
	int lock_fd;
	int epfd;
	int sigfd;
	int timerfd;
	uint64_t ticks;
	/* XDP events lost to a full ring, and what the rate-map walks made of it. */
	uint64_t lost_seen;	/* stats.events_lost as of the last tick */
	uint64_t lost_check_ns;	/* when it was read (CLOCK_BOOTTIME) */
	uint64_t lost_unreported;	/* lost since the last warning */
	uint64_t recovered_unreported;
	uint64_t lost_warned_tick;
	bool lost_warned;
	uint64_t rate_walks;	/* walks of the rate maps after a loss */
	uint64_t rate_recovered;	/* reports fed from those walks */
	/* The attacked accounts: their state file and the on_compromise hooks. */
	char accounts_state[PATH_MAX + 32];
	/*
	 * A copy of the accounts, made in the loop (a memcpy), rendered by
	 * the writer thread: rendering a full store takes tens of ms.
	 */
	pthread_mutex_t acc_mu;
	struct mxg_account *acc_copy;
	unsigned int acc_n;
	uint64_t accounts_saved_alerts;	/* eng.compromises at the last save */
	struct mxg_hooks *hooks;
	struct mxg_fleetd *fleet;	/* fleet mode, or NULL */
};

/* The config's part for the XDP program, as the kernel layer takes it. */
static int configure_maps(const struct mxg_maps *m, const struct mxg_options *o,
			  char *err, size_t errlen)
{
	struct mxg_xdp_settings s = {
		.cfg = {
			.prefix_v4 = o->prefix_v4,
			.prefix_v6 = o->prefix_v6,
			.flags = (o->monitor ? MXG_F_MONITOR : 0) |
				 (o->deny_scope == MXG_SCOPE_ALL ? MXG_F_DENY_ALL : 0),
		},
		.n_ports = o->n_ports,
		.n_allow = o->allow.n,
		.allow = o->allow.v,
	};
	unsigned int i;

	for (i = 0; i < o->n_ports && i < MXG_MAX_PORTS; i++) {
		s.port[i] = o->ports[i].port;
		s.limit[i].rate = o->ports[i].rate;
		s.limit[i].burst = o->ports[i].burst;
	}
	return mxg_bpf_configure(m, &s, err, errlen);
}

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct mxg_event *ev = data;
	struct daemon *d = ctx;
	struct mxg_cidr c;
	char buf[MXG_CIDR_STRLEN];

	if (size < sizeof(*ev))
		return 0;
	memset(&c, 0, sizeof(c));
	c.addr.family = (uint8_t)ev->family;
	memcpy(c.addr.a, ev->addr, ev->family == 4 ? 4 : 16);
	c.prefixlen = ev->prefixlen;
	mxg_addr_mask(&c.addr, c.prefixlen);
	if (ev->kind == MXG_EV_RATE && d->ready)
		mxg_engine_rate(&d->eng, &c, ev->port, ev->count, ev->ts_ns);
	/* Up to one event a second per prefix: only worth words at debug level. */
	if (!mxg_log_verbose)
		return 0;
	mxg_cidr_str(&c, buf, sizeof(buf));
	if (ev->kind == MXG_EV_RATE)
		mxg_debug("%s %s over the SYN rate on port %u (%llu dropped so far)",
			  ev->monitor ? "[monitor]" : "rate limit:", buf, ev->port,
			  (unsigned long long)ev->count);
	else
		mxg_debug("%s denylisted %s sent traffic to port %u (%llu hits)",
			  ev->monitor ? "[monitor]" : "deny:", buf, ev->port,
			  (unsigned long long)ev->count);
	return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * A state file that cannot be written (a full disk, most likely) is said
 * once, then once a minute while it lasts, and its recovery is said too:
 * the daemon saves every few seconds and must not fill the log instead.
 * err is a positive errno, or 0 for a save that worked. Returns err != 0.
 */
static bool save_failed(struct daemon *d, int what, int err, const char *fmt,
			const char *path)
{
	char msg[PATH_MAX + 128];

	if (!err) {
		if (d->save_failing[what])
			mxg_notice("saving to %s works again", path);
		d->save_failing[what] = false;
		return false;
	}
	if (!d->save_failing[what] || d->ticks - d->save_warned_tick[what] >= SAVE_WARN_EVERY) {
		snprintf(msg, sizeof(msg), fmt, path);
		mxg_warn("%s: %s%s", msg, strerror(err),
			 d->save_failing[what] ? " (still)" : "");
		d->save_warned_tick[what] = d->ticks;
	}
	d->save_failing[what] = true;
	return true;
}

/* The writer thread takes each unsaved ban's evidence file. */
static int queue_evidence_file(const char *name, char *data, size_t len, void *ctx)
{
	struct daemon *d = ctx;
	char path[PATH_MAX + 128];

	snprintf(path, sizeof(path), "%s/%s", d->evidence_dir, name);
	return mxg_saver_put(d->saver, SAVE_EVIDENCE, path, 0640, data, len,
			     NULL, NULL);
}

/* bans.state, made from the maps in the writer's thread when it writes. */
static int render_bans(void *arg, char **data, size_t *len)
{
	return mxg_state_render(arg, data, len);
}

/*
 * Evidence of new bans, for at most budget_ns (0: all of it): a flood of
 * bans is written a millisecond at a time between log lines.
 */
static void queue_evidence(struct daemon *d, uint64_t budget_ns)
{
	int ret;

	if (!d->ready)
		return;
	/* A full queue (-ENOSPC) leaves the rest unsaved for the next step. */
	ret = mxg_evidence_each_unsaved(d->eng.policy, mxg_boot_ns(), time(NULL),
					budget_ns, queue_evidence_file, d);
	if (ret < 0 && ret != -ENOSPC)
		save_failed(d, SAVE_EVIDENCE, -ret, "cannot save evidence in %s",
			    d->evidence_dir);
}

/* What the writer thread says of the files it was given. */
static void saver_report(struct daemon *d)
{
	char path[PATH_MAX];
	int err;

	err = mxg_saver_status(d->saver, SAVE_EVIDENCE, path, sizeof(path));
	save_failed(d, SAVE_EVIDENCE, err, "cannot save evidence to %s",
		    err ? path : d->evidence_dir);
	err = mxg_saver_status(d->saver, SAVE_BANS, path, sizeof(path));
	save_failed(d, SAVE_BANS, err, "cannot save bans to %s", d->bans_state);
	err = mxg_saver_status(d->saver, SAVE_ACCOUNTS, path, sizeof(path));
	save_failed(d, SAVE_ACCOUNTS, err, "cannot save accounts to %s", d->accounts_state);
}

static void save_state(struct daemon *d, bool bans, uint64_t evidence_ns)
{
	int ret;

	if (d->follow) {
		ret = -mxg_follow_save(d->follow, d->follow_state);
		save_failed(d, SAVE_LOGS, ret, "cannot save log offsets to %s", d->follow_state);
	}
	if (d->journal) {
		ret = -mxg_journal_save(d->journal, d->journal_state);
		save_failed(d, SAVE_JOURNAL, ret, "cannot save the journal cursor to %s",
			    d->journal_state);
	}
	queue_evidence(d, evidence_ns);
	if (bans && !d->bans_frozen) {
		/*
		 * The writer keeps it queued, and tries again, until it is on
		 * disk; the file is only ever replaced whole by rename.
		 */
		ret = mxg_saver_put(d->saver, SAVE_BANS, d->bans_state, 0600, NULL, 0,
				    render_bans, &d->m);
		if (ret)
			save_failed(d, SAVE_BANS, -ret, "cannot save bans to %s",
				    d->bans_state);
	}
	if (bans) {
		d->eng.dirty = false;
		d->saved_tick = d->ticks;
	}
}

/*
 * accounts.state: made here (the store belongs to the loop), written by
 * the writer thread. Every TICK_SAVE_LOGS ticks when something changed,
 * and at the next tick after an alert, so `mxguard accounts` shows it.
 */
/* accounts.state from the last copy, in the writer's thread. */
static int render_accounts(void *arg, char **data, size_t *len)
{
	struct daemon *d = arg;
	int ret;

	pthread_mutex_lock(&d->acc_mu);
	ret = mxg_accounts_render_list(d->acc_copy, d->acc_n, data, len);
	pthread_mutex_unlock(&d->acc_mu);
	return ret;
}

static void save_accounts(struct daemon *d, bool now)
{
	unsigned int cap;
	int ret;

	if (!d->ready || !d->eng.accounts || !d->eng.accounts_dirty)
		return;
	if (!now && d->ticks % TICK_SAVE_LOGS &&
	    d->eng.compromises == d->accounts_saved_alerts)
		return;
	cap = mxg_accounts_capacity(d->eng.accounts);
	if (!d->acc_copy) {
		d->acc_copy = calloc(cap, sizeof(*d->acc_copy));
		if (!d->acc_copy) {
			save_failed(d, SAVE_ACCOUNTS, ENOMEM, "cannot save accounts to %s",
				    d->accounts_state);
			return;
		}
	}
	/* The writer is making the file from the last copy: next tick. */
	if (!now && pthread_mutex_trylock(&d->acc_mu))
		return;
	if (now)
		pthread_mutex_lock(&d->acc_mu);
	d->acc_n = mxg_accounts_copy(d->eng.accounts, d->acc_copy, cap);
	pthread_mutex_unlock(&d->acc_mu);
	/* Queued once: a newer copy is what a queued render will use. */
	ret = mxg_saver_put(d->saver, SAVE_ACCOUNTS, d->accounts_state, 0600,
			    NULL, 0, render_accounts, d);
	if (save_failed(d, SAVE_ACCOUNTS, -ret, "cannot save accounts to %s",
			d->accounts_state))
		return;
	d->eng.accounts_dirty = false;
	d->accounts_saved_alerts = d->eng.compromises;
}

/* An environment variable for a hook, "NAME=value", into a fixed buffer. */
static char *env_put(char *buf, size_t size, const char *name, const char *value)
{
	snprintf(buf, size, "%s=%s", name, value);
	return buf;
}

/* One on_compromise run, as the writer thread gets it: all it needs, copied. */
#define HOOK_ENV_N	16
#define HOOK_ENV_LEN	(MXG_ACCT_EVIDENCE_NAMES * MXG_ACCT_ESC_MAX + 64)
struct hook_job {
	struct mxg_hooks *hooks;
	uint64_t timeout_ns;
	char path[PATH_MAX];
	char *envp[HOOK_ENV_N + 1];
	char env[HOOK_ENV_N][HOOK_ENV_LEN];
};

/* In the writer thread: posix_spawn waits for the exec, the loop must not. */
static void hook_job_run(void *arg)
{
	struct hook_job *j = arg;
	int ret;

	ret = mxg_hook_run(j->hooks, j->path, j->envp, j->timeout_ns);
	if (ret == -EBUSY)
		mxg_warn("on_compromise: %u hooks still running: not run for this alert",
			 MXG_HOOKS_MAX);
	else if (ret)
		mxg_err("cannot run on_compromise %s: %s", j->path, strerror(-ret));
	free(j);
}

/*
 * A compromise alert: run on_compromise with what it needs to know in its
 * environment, never on its command line nor through a shell.
 */
static void run_hook(const struct mxg_compromise *c, const char *service,
		     bool banned, void *arg)
{
	struct daemon *d = arg;
	char esc[MXG_ACCT_ESC_MAX], names[MXG_ACCT_EVIDENCE_NAMES * MXG_ACCT_ESC_MAX];
	char addr[MXG_ADDR_STRLEN], src[MXG_CIDR_STRLEN], t1[32], t2[32], t3[32];
	char num[3][24], ev[1024];
	struct hook_job *j;
	size_t off = 0;
	unsigned int i, n = 0;

	if (!d->o.on_compromise[0] || !d->hooks)
		return;
	j = malloc(sizeof(*j));
	if (!j) {
		mxg_err("cannot run on_compromise %s: out of memory", d->o.on_compromise);
		return;
	}
	j->hooks = d->hooks;
	j->timeout_ns = d->o.on_compromise_timeout_ns;
	snprintf(j->path, sizeof(j->path), "%s", d->o.on_compromise);
	names[0] = '\0';
	for (i = 0; i < c->n_names && off < sizeof(names); i++)
		off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", i ? " " : "",
					mxg_acct_escape(c->names[i], c->names_len[i], esc));
	snprintf(num[0], sizeof(num[0]), "%u", c->failures);
	snprintf(num[1], sizeof(num[1]), "%u", c->account_failures);
	snprintf(num[2], sizeof(num[2]), "%u", c->accounts_tried);
#define PUT(name, value) (j->envp[n] = env_put(j->env[n], HOOK_ENV_LEN, name, value), n++)
	PUT("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
	PUT("MXGUARD_EVENT", "compromise");
	PUT("MXGUARD_ACCOUNT", mxg_acct_escape(c->name, c->name_len, esc));
	PUT("MXGUARD_ADDR", mxg_addr_str(&c->addr, addr, sizeof(addr)));
	PUT("MXGUARD_SOURCE", mxg_cidr_str(&c->source, src, sizeof(src)));
	PUT("MXGUARD_SERVICE", service ? service : "");
	PUT("MXGUARD_FAILURES", num[0]);
	PUT("MXGUARD_ACCOUNT_FAILURES", num[1]);
	PUT("MXGUARD_ACCOUNTS_TRIED", num[2]);
	PUT("MXGUARD_ACCOUNTS", names);
	PUT("MXGUARD_FIRST_FAILURE", mxg_time_iso(c->first, t1, sizeof(t1)));
	PUT("MXGUARD_LAST_FAILURE", mxg_time_iso(c->last, t2, sizeof(t2)));
	PUT("MXGUARD_TIME", mxg_time_iso((int64_t)time(NULL), t3, sizeof(t3)));
	PUT("MXGUARD_BANNED", banned ? "yes" : "no");
	PUT("MXGUARD_EVIDENCE", mxg_compromise_text(c, service, ev, sizeof(ev)));
#undef PUT
	j->envp[n] = NULL;
	if (mxg_saver_call(d->saver, hook_job_run, j)) {
		mxg_err("cannot run on_compromise %s: out of memory", d->o.on_compromise);
		free(j);
	}
}

static void accounts_report(const char *msg, void *arg)
{
	mxg_warn("%s", msg);
}

/* The accounts store as the last run left it. */
static void load_accounts(struct daemon *d)
{
	unsigned int skipped;
	int n;

	n = mxg_accounts_load(d->eng.accounts, d->accounts_state, accounts_report,
			      NULL, &skipped);
	if (n == -ENOENT)
		return;
	if (n < 0) {
		mxg_warn("cannot read %s: %s; the accounts start afresh",
			 d->accounts_state, strerror(-n));
		return;
	}
	mxg_info("restored %d accounts from %s%s", n, d->accounts_state,
		 skipped ? " (some records skipped)" : "");
}

struct recover_ctx {
	struct daemon *d;
	uint64_t since_ns;
	unsigned int fed;
	unsigned long seen;
};

static int recover_one(const struct mxg_cidr *prefix, uint16_t port,
		       const struct mxg_bucket *b, void *arg)
{
	struct recover_ctx *r = arg;

	r->seen++;
	/* Stamped since the last check: it dropped SYNs, and its event may be lost. */
	if (!b->drops || !b->last_event_ns || b->last_event_ns <= r->since_ns)
		return 0;
	if (mxg_engine_rate(&r->d->eng, prefix, port, b->drops, b->last_event_ns))
		r->fed++;
	return 0;
}

/*
 * The ring buffer was full: the program's rate reports since the last check
 * may be lost, and with them the bans they would have led to. Every bucket
 * that reported (or tried to) carries the stamp of it, so walk the rate maps
 * and feed each stamp the events did not bring; stamps that came through
 * the ring are recognised and not counted twice.
 */
static void recover_lost_events(struct daemon *d)
{
	struct recover_ctx r = { .d = d };
	uint64_t now = mxg_boot_ns(), lost, t0;
	struct mxg_stats st;
	int ret;

	if (!d->ready || mxg_stats_read(&d->m, &st))
		return;
	lost = st.events_lost - d->lost_seen;
	if (st.events_lost < d->lost_seen)
		lost = st.events_lost;	/* the stats were reset (a fresh program) */
	d->lost_seen = st.events_lost;
	/* A second of slack: a stamp is made just before its event is lost. */
	r.since_ns = d->lost_check_ns > MXG_SEC_NS ? d->lost_check_ns - MXG_SEC_NS : 0;
	d->lost_check_ns = now;
	if (!lost)
		goto report;
	d->rate_walks++;
	t0 = mxg_mono_ns();
	ret = mxg_rate_each(&d->m, d->o.prefix_v4, d->o.prefix_v6, recover_one, &r);
	if (ret)
		mxg_warn("cannot walk the rate maps for lost events: %s", strerror(-ret));
	mxg_debug("%llu events lost: walked %lu buckets in %.1f ms, %u reports recovered",
		  (unsigned long long)lost, r.seen, (double)(mxg_mono_ns() - t0) / 1e6, r.fed);
	d->rate_recovered += r.fed;
	d->lost_unreported += lost;
	d->recovered_unreported += r.fed;
report:
	if (!d->lost_unreported ||
	    (d->lost_warned && d->ticks - d->lost_warned_tick < RING_WARN_EVERY))
		return;
	mxg_warn("XDP event ring full: %llu events lost, %llu rate reports recovered from the rate maps (said at most every %ds)",
		 (unsigned long long)d->lost_unreported,
		 (unsigned long long)d->recovered_unreported, RING_WARN_EVERY);
	d->lost_warned = true;
	d->lost_warned_tick = d->ticks;
	d->lost_unreported = 0;
	d->recovered_unreported = 0;
}

/* The attacked accounts and the compromise alert. */
static void write_account_metrics(const struct daemon *d, FILE *f)
{
	const struct mxg_engine *e = &d->eng;
	struct mxg_accounts_stats as = { 0 };
	struct mxg_hook_stats hs = { 0 };

	if (d->ready && e->accounts)
		mxg_accounts_stats(e->accounts, &as);
	if (d->hooks)
		mxg_hooks_stats(d->hooks, &hs);
	mxg_metric(f, "mxguard_logins_total", "counter",
		   "Successful logins recognised in the logs.",
		   (double)e->logins);
	mxg_metric(f, "mxguard_compromise_alerts_total", "counter",
		   "Logins from a source that was guessing passwords shortly before.",
		   (double)e->compromises);
	mxg_metric(f, "mxguard_compromise_bans_total", "counter",
		   "Sources banned at once for a compromise alert (ban_on_compromise).",
		   (double)e->compromise_bans);
	mxg_metric(f, "mxguard_accounts", "gauge",
		   "Account names the accounts store holds.",
		   (double)as.accounts);
	mxg_metric(f, "mxguard_accounts_evicted_total", "counter",
		   "Account names dropped from the full store for newer ones.",
		   (double)as.evicted);
	mxg_metric_head(f, "mxguard_compromise_hooks_total", "counter",
			"Runs of on_compromise, by how they ended.");
	mxg_metric_label(f, "mxguard_compromise_hooks_total", "result", "ok", (double)hs.ok);
	mxg_metric_label(f, "mxguard_compromise_hooks_total", "result", "failed", (double)hs.failed);
	mxg_metric_label(f, "mxguard_compromise_hooks_total", "result", "killed", (double)hs.killed);
	mxg_metric_label(f, "mxguard_compromise_hooks_total", "result", "skipped", (double)hs.skipped);
}

/* One Prometheus scrape. */
static void write_metrics(FILE *f, void *arg)
{
	struct daemon *d = arg;
	const struct mxg_engine *e = &d->eng;
	static const char *const reasons[] = { NULL, "manual", "log", "rate", "import" };
	struct mxg_stats st;
	unsigned int i;
	uint64_t cum = 0;
	char name[64], help[128];

	mxg_metric(f, "mxguard_up", "gauge", "The daemon is running.", 1);
	if (!mxg_stats_read(&d->m, &st)) {
		for (i = 0; i < mxg_n_stat_fields; i++) {
			snprintf(name, sizeof(name), "mxguard_xdp_%s_total", mxg_stat_fields[i].name);
			snprintf(help, sizeof(help), "XDP: %s.", mxg_stat_fields[i].help);
			mxg_metric(f, name, "counter", help,
				   (double)*(const __u64 *)((const char *)&st + mxg_stat_fields[i].off));
		}
	}
	mxg_metric_head(f, "mxguard_bans_total", "counter", "Bans the daemon wrote, by source.");
	for (i = MXG_REASON_LOG; i <= MXG_REASON_RATE; i++)
		mxg_metric_label(f, "mxguard_bans_total", "reason", reasons[i], (double)e->bans[i]);
	mxg_metric(f, "mxguard_would_bans_total", "counter",
		   "Bans monitor mode would have made.",
		   (double)e->would_bans);
	mxg_metric(f, "mxguard_rate_walks_total", "counter",
		   "Walks of the rate maps after XDP events were lost.",
		   (double)d->rate_walks);
	mxg_metric(f, "mxguard_rate_recovered_total", "counter",
		   "Rate reports lost with the ring and recovered from the rate maps.",
		   (double)d->rate_recovered);
	mxg_metric(f, "mxguard_bans_refused_total", "counter",
		   "Bans the denylist did not take (full, or an error).",
		   (double)e->bans_refused);
	snprintf(help, sizeof(help), "Entries in a map (counted every %ds).", TICK_MAP_COUNT);
	mxg_metric_head(f, "mxguard_map_entries", "gauge", help);
	for (i = 0; i < MXG_N_FILL; i++)
		mxg_metric_label(f, "mxguard_map_entries", "map", d->fill[i].name,
				 (double)d->fill[i].entries);
	mxg_metric_head(f, "mxguard_map_max_entries", "gauge", "Capacity of a map.");
	for (i = 0; i < MXG_N_FILL; i++)
		mxg_metric_label(f, "mxguard_map_max_entries", "map", d->fill[i].name,
				 (double)d->fill[i].max);
	mxg_metric(f, "mxguard_log_lines_total", "counter",
		   "Log lines read.",
		   (double)e->lines);
	mxg_metric_head(f, "mxguard_log_failures_total", "counter",
			"AUTH failures recognised, by service.");
	for (i = 0; i < MXG_SVC_COUNT; i++)
		mxg_metric_label(f, "mxguard_log_failures_total", "service",
				 mxg_service_name((enum mxg_service)i), (double)e->matched[i]);
	mxg_metric_head(f, "mxguard_ban_latency_seconds", "histogram",
			"From reading a log line to its ban in the map.");
	for (i = 0; i < MXG_LAT_BUCKETS; i++) {
		cum += e->lat_count[i];
		fprintf(f, "mxguard_ban_latency_seconds_bucket{le=\"%g\"} %llu\n",
			mxg_lat_bounds[i], (unsigned long long)cum);
	}
	cum += e->lat_count[MXG_LAT_BUCKETS];
	fprintf(f, "mxguard_ban_latency_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	fprintf(f, "mxguard_ban_latency_seconds_sum %.9f\nmxguard_ban_latency_seconds_count %llu\n",
		e->lat_sum, (unsigned long long)cum);
	if (d->ready) {
		mxg_metric(f, "mxguard_policy_entries", "gauge",
			   "Addresses and ranges being counted.",
			   mxg_policy_entries(e->policy));
		mxg_metric(f, "mxguard_policy_bans", "gauge",
			   "Ban records the policy holds.", mxg_policy_bans(e->policy));
	}
	write_account_metrics(d, f);
	mxg_fleetd_metrics(d->fleet, f);
	if (d->follow) {
		struct mxg_follow_stats fs;

		mxg_follow_get_stats(d->follow, &fs);
		mxg_metric(f, "mxguard_log_rotations_total", "counter",
		   "Log rotations followed.",
		   (double)(fs.rotations + fs.truncations));
	}
}

/* Parser, policy and log sources; errors are configuration errors. */
static void restore_report(const char *msg, void *ctx)
{
	mxg_warn("%s", msg);
}

/* Parser, policy and log sources; errors are configuration errors. */
static int setup_detection(struct daemon *d, bool fresh_maps)
{
	struct mxg_restore_stats rs;
	char err[PATH_MAX + 512];
	unsigned int i;
	int ret;

	ret = mkdir_p(d->o.state_dir, 0700);
	if (ret) {
		mxg_err("cannot create state dir %s: %s", d->o.state_dir, strerror(-ret));
		return EXIT_RUNTIME;
	}
	/* Another user able to write there could swap bans.state or the evidence. */
	/* It holds evidence (log lines) too: 0700, as systemd's StateDirectoryMode. */
	if (mxg_dir_check_private(d->o.state_dir, "state dir", false, true, err,
				  sizeof(err))) {
		mxg_err("%s", err);
		return EXIT_USAGE;
	}
	snprintf(d->follow_state, sizeof(d->follow_state), "%s/logs.state", d->o.state_dir);
	snprintf(d->journal_state, sizeof(d->journal_state), "%s/journal.state", d->o.state_dir);
	snprintf(d->bans_state, sizeof(d->bans_state), "%s/bans.state", d->o.state_dir);
	snprintf(d->evidence_dir, sizeof(d->evidence_dir), "%s/evidence", d->o.state_dir);
	snprintf(d->accounts_state, sizeof(d->accounts_state), "%s/accounts.state",
		 d->o.state_dir);
	mkdir_p(d->evidence_dir, 0700);
	d->saver = mxg_saver_new(SAVER_MAX_BYTES);
	if (!d->saver) {
		mxg_err("cannot start the writer thread: %s", strerror(errno));
		return EXIT_RUNTIME;
	}

	/* A reboot lost the pins: bring the bans back with the time they have left. */
	if (fresh_maps) {
		ret = mxg_state_restore(&d->m, d->bans_state, &rs, restore_report, NULL);
		if (ret && ret != -ENOENT) {
			/* Unread bans stay in the file until an operator looks. */
			d->bans_frozen = true;
			mxg_err("cannot restore the bans of %s: %s; it will not be overwritten (move it away to start afresh)",
				d->bans_state, strerror(-ret));
		}
		/* Skipped records were reported one by one, with their count. */
		if (ret != -ENOENT)
			mxg_notice("restored %u bans from %s (%u had expired)", rs.restored,
				   d->bans_state, rs.expired);
		if (rs.held)
			mxg_info("%u bans of %s were already in the maps for at least as long",
				 rs.held, d->bans_state);
	}

	ret = mxg_engine_init(&d->eng, &d->o, &d->m, err, sizeof(err));
	if (ret) {
		mxg_err("%s", err);
		return ret == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
	}
	d->ready = true;
	load_accounts(d);
	d->hooks = mxg_hooks_new();
	if (!d->hooks) {
		mxg_err("cannot set up hooks: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	d->eng.on_compromise = run_hook;
	d->eng.on_compromise_arg = d;

	if (d->o.n_logs) {
		d->follow = mxg_follow_new(0);
		if (!d->follow) {
			mxg_err("cannot create the log follower: %s", strerror(errno));
			return EXIT_RUNTIME;
		}
		/* It says what it could not read; the logs are then read from their end. */
		mxg_follow_load(d->follow, d->follow_state);
		for (i = 0; i < d->eng.n_sources; i++) {
			const struct mxg_log_source *ls = &d->eng.sources[i];

			ret = mxg_follow_add(d->follow, ls->path);
			if (ret && ret != -EEXIST) {
				mxg_err("cannot follow %s: %s", ls->path, strerror(-ret));
				return EXIT_RUNTIME;
			}
			mxg_info("following %s (%s)", ls->path,
				 ls->src == MXG_SRC_SYSLOG ? "syslog: each line by its program" :
				 ls->src >= MXG_SRC_CUSTOM_BASE ? "a pattern program's file" :
				 mxg_service_name(ls->src));
		}
	}
	if (d->o.journal) {
		struct mxg_journal_opts jo = {
			.directory = d->o.journal_dir[0] ? d->o.journal_dir : NULL,
		};

		d->journal = mxg_journal_open(&jo);
		if (!d->journal) {
			mxg_err("cannot open the journal%s%s: %s",
				jo.directory ? " in " : "", jo.directory ? jo.directory : "",
				strerror(errno));
			return EXIT_RUNTIME;
		}
		mxg_journal_load(d->journal, d->journal_state);
		mxg_info("following the journal");
	}
	/* Fleet mode: its threads connect on their own, never holding us up. */
	d->fleet = mxg_fleetd_start(&d->o, &d->eng, err, sizeof(err));
	if (!d->fleet && err[0]) {
		mxg_err("%s", err);
		return EXIT_USAGE;
	}
	if (!d->o.n_logs && !d->o.journal)
		mxg_notice("no log source (--log FILE or --journal): only the XDP rate limit and manual bans act");
	mxg_maps_fill(&d->m, d->fill);
	if (strcmp(d->o.metrics, "off")) {
		d->metrics = mxg_metrics_new(d->o.metrics, write_metrics, d, err, sizeof(err));
		if (!d->metrics) {
			mxg_err("%s", err);
			return errno == EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
		}
		mxg_info("metrics on http://%s/metrics", d->o.metrics);
	}
	return 0;
}

struct prune_ctx {
	const struct mxg_maps *m;
	uint64_t now;
	unsigned int n;
	struct mxg_cidr v[256];
};

static int prune_one(const struct mxg_cidr *c, const struct mxg_deny *v, void *arg)
{
	struct prune_ctx *p = arg;

	if (v->expires_ns && v->expires_ns + EXPIRED_RETENTION_NS < p->now) {
		p->v[p->n++] = *c;
		if (p->n == sizeof(p->v) / sizeof(p->v[0]))
			return 1;
	}
	return 0;
}

/* Delete bans that expired more than a day ago (the program ignores them already). */
static void prune_expired(struct daemon *d)
{
	struct prune_ctx p = { .m = &d->m, .now = mxg_boot_ns() };
	unsigned int i;

	mxg_deny_each(&d->m, prune_one, &p);
	for (i = 0; i < p.n; i++)
		mxg_deny_del_expired(&d->m, &p.v[i]);
	if (p.n)
		mxg_debug("pruned %u long-expired bans", p.n);
}

/* Say what a reload changes; restart-only keys keep their running value. */
static void reload_change(const char *key, bool live, const char *was,
			  const char *now, void *arg)
{
	/* Lists can be long (256 ranges): a line in the log, not a page. */
	if (live)
		mxg_info("reload: %s: %.200s -> %.200s", key, was, now);
	else
		mxg_warn("reload: %s changed: needs a restart (still using %.200s)",
			 key, *was ? was : "(empty)");
}

/*
 * The config table decides what a reload may change: mxg_config_reload
 * puts back the running value of every changed key marked restart-only,
 * so o is what will be in force. Then what is live is applied: the engine
 * (policy, patterns) first, as it can refuse; the maps. Changes are named
 * once the reload is through, so a refused one claims nothing.
 */
static void reload(struct daemon *d)
{
	struct mxg_options *o, *asked;
	char err[PATH_MAX + 256];

	o = malloc(sizeof(*o));
	asked = malloc(sizeof(*asked));
	if (!o || !asked) {
		mxg_err("reload refused: out of memory; the old config stays in force");
		goto out_free;
	}
	if (d->get_config(o, true, err, sizeof(err), d->get_config_arg)) {
		mxg_err("reload refused: %s; the old config stays in force", err);
		goto out_free;
	}
	if (!o->n_ifaces) {
		/* The default-route interface was resolved at start: no change. */
		o->n_ifaces = d->o.n_ifaces;
		memcpy(o->ifaces, d->o.ifaces, sizeof(o->ifaces));
	}
	*asked = *o;
	if (mxg_config_reload(&d->o, o, NULL, NULL) < 0) {
		mxg_err("reload refused: out of memory; the old config stays in force");
		goto out_free;
	}
	if (d->ready && mxg_engine_reconfigure(&d->eng, o, err, sizeof(err))) {
		mxg_err("reload refused: %s; the old config stays in force", err);
		goto out_free;
	}
	if (configure_maps(&d->m, o, err, sizeof(err))) {
		mxg_err("reload: %s", err);
		goto out_free;
	}
	mxg_config_reload(&d->o, asked, reload_change, NULL);
	mxg_log_verbose = o->verbose;
	d->o = *o;
	mxg_notice("reloaded the config: %u ports, %u allowlisted ranges, %s",
		   o->n_ports, o->allow.n, o->monitor ? "monitor mode" : "enforcing");
out_free:
	free(asked);
	free(o);
}

static int setup_loop(struct daemon *d)
{
	struct mxg_stats st;
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sigfd < 0 || d->timerfd < 0 || d->epfd < 0)
		return -errno;
	if (timerfd_settime(d->timerfd, 0, &its, NULL))
		return -errno;
	d->rb = mxg_events_open(&d->m, handle_event, d);
	if (!d->rb)
		return -errno;
	/* Events lost before we ran belong to an earlier run: not ours to recover. */
	if (!mxg_stats_read(&d->m, &st))
		d->lost_seen = st.events_lost;
	d->lost_check_ns = mxg_boot_ns();

	ev.data.fd = d->sigfd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev))
		return -errno;
	ev.data.fd = d->timerfd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->timerfd, &ev))
		return -errno;
	ev.data.fd = mxg_events_fd(d->rb);
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
		return -errno;
	if (d->follow) {
		ev.data.fd = mxg_follow_fd(d->follow);
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
			return -errno;
	}
	if (d->journal) {
		ev.data.fd = mxg_journal_fd(d->journal);
		if (ev.data.fd >= 0 && epoll_ctl(d->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
			return -errno;
	}
	if (d->fleet) {
		ev.data.fd = mxg_fleetd_fd(d->fleet);
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
			return -errno;
	}
	if (d->metrics)
		return mxg_metrics_attach(d->metrics, d->epfd);
	return 0;
}

enum { FILL_IDLE, FILL_RUNNING, FILL_DONE };

static void fill_job(void *arg)
{
	struct daemon *d = arg;

	mxg_maps_fill(&d->m, d->fill_next);
	atomic_store(&d->fill_state, FILL_DONE);
}

/* Map fill levels: counted off the event loop, taken when ready. */
static void fill_step(struct daemon *d)
{
	if (atomic_load(&d->fill_state) == FILL_DONE) {
		memcpy(d->fill, d->fill_next, sizeof(d->fill));
		atomic_store(&d->fill_state, FILL_IDLE);
	}
	if (d->ticks % TICK_MAP_COUNT || atomic_load(&d->fill_state) != FILL_IDLE)
		return;
	atomic_store(&d->fill_state, FILL_RUNNING);
	if (mxg_saver_call(d->saver, fill_job, d)) {
		mxg_maps_fill(&d->m, d->fill);
		atomic_store(&d->fill_state, FILL_IDLE);
	}
}

static void reconcile_job(void *arg)
{
	struct daemon *d = arg;

	mxg_reconcile_check(d->reconcile);
	atomic_store(&d->reconcile_done, true);
}

/* Unbans by hand: the list made here, the lookups in the saver's thread. */
static void reconcile_step(struct daemon *d)
{
	if (d->reconcile) {
		if (!atomic_load(&d->reconcile_done))
			return;
		mxg_reconcile_end(&d->eng, d->reconcile);
		d->reconcile = NULL;
		return;
	}
	if (d->ticks % TICK_RECONCILE)
		return;
	d->reconcile = mxg_reconcile_begin(&d->eng);
	if (!d->reconcile)
		return;
	atomic_store(&d->reconcile_done, false);
	if (mxg_saver_call(d->saver, reconcile_job, d)) {
		mxg_reconcile_check(d->reconcile);
		mxg_reconcile_end(&d->eng, d->reconcile);
		d->reconcile = NULL;
	}
}

/*
 * Each step of a tick timed: the event loop serves no log line meanwhile,
 * so a slow step is a ban late. Said at debug level when a tick is slow.
 */
enum { T_READ, T_POLICY, T_RECONCILE, T_PRUNE, T_FILL, T_SAVE, T_STEPS };
static const char *const tick_step_names[T_STEPS] = {
	"read", "policy", "reconcile", "prune", "map count", "save",
};
#define SLOW_TICK_MS	5

static void step_done(uint64_t *t, uint64_t *ms_x1000, int step)
{
	uint64_t now = mxg_mono_ns();

	ms_x1000[step] += (now - *t) / 1000;
	*t = now;
}

static void on_tick(struct daemon *d)
{
	uint64_t t = mxg_mono_ns(), t0 = t, us[T_STEPS] = { 0 };
	char buf[256];
	size_t off = 0;
	int i;

	d->ticks++;
	d->eng.line_read_ns = 0;
	mxg_metrics_expire(d->metrics);
	/* Drain what is there first, so that only lost stamps are left to find. */
	if (d->rb)
		mxg_events_consume(d->rb);
	recover_lost_events(d);
	if (d->follow)
		mxg_follow_poll(d->follow, mxg_engine_line, &d->eng);
	if (d->journal)
		mxg_journal_process(d->journal, mxg_engine_line, &d->eng);
	step_done(&t, us, T_READ);
	if (d->ticks % TICK_POLICY == 0)
		mxg_policy_tick(d->eng.policy, mxg_boot_ns());
	step_done(&t, us, T_POLICY);
	reconcile_step(d);
	step_done(&t, us, T_RECONCILE);
	if (d->ticks % 60 == 0)
		prune_expired(d);
	step_done(&t, us, T_PRUNE);
	fill_step(d);
	step_done(&t, us, T_FILL);
	if (d->ticks % TICK_SAVE_BANS == 0 ||
	    (d->eng.dirty && d->ticks - d->saved_tick >= TICK_SAVE_NEW))
		save_state(d, true, EVIDENCE_STEP_NS);
	else if (d->ticks % TICK_SAVE_LOGS == 0)
		save_state(d, false, EVIDENCE_STEP_NS);
	else
		queue_evidence(d, EVIDENCE_STEP_NS);
	save_accounts(d, false);
	mxg_hooks_reap(d->hooks);
	saver_report(d);
	step_done(&t, us, T_SAVE);
	if (t - t0 < SLOW_TICK_MS * MXG_MSEC_NS)
		return;
	for (i = 0; i < T_STEPS && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s %.1f",
					i ? ", " : "", tick_step_names[i],
					(double)us[i] / 1000.0);
	mxg_debug("slow tick: %.1f ms (%s)", (double)(t - t0) / 1e6, buf);
}

/* Links pinned by an earlier run for interfaces not given now. */
static void warn_stale_links(const struct daemon *d)
{
	struct mxg_link_state links[64];
	unsigned int i, j, n;

	n = mxg_links_list(d->o.pin_dir, links, sizeof(links) / sizeof(links[0]));
	for (j = 0; j < n; j++) {
		for (i = 0; i < d->o.n_ifaces; i++)
			if (!strcmp(links[j].ifname, d->o.ifaces[i]))
				break;
		if (i == d->o.n_ifaces)
			mxg_warn("an earlier run left the program attached to %s, where it keeps filtering with these maps; add -i %s to update it, or mxguard detach to remove all",
				 links[j].ifname, links[j].ifname);
	}
}

/* Returns when told to stop. */
static void serve(struct daemon *d)
{
	struct epoll_event evs[16];
	struct signalfd_siginfo si;
	uint64_t expirations;
	int n, i;

	for (;;) {
		n = epoll_wait(d->epfd, evs, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			mxg_err("epoll_wait: %s", strerror(errno));
			return;
		}
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == d->sigfd) {
				while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						reload(d);
						continue;
					}
					mxg_notice("signal %u: stopping", si.ssi_signo);
					return;
				}
			} else if (fd == d->timerfd) {
				if (read(d->timerfd, &expirations, sizeof(expirations)) < 0)
					continue;
				on_tick(d);
			} else if (d->fleet && fd == mxg_fleetd_fd(d->fleet)) {
				mxg_fleetd_process(d->fleet);
			} else if (mxg_metrics_owns(d->metrics, fd)) {
				mxg_metrics_handle(d->metrics, fd);
			} else if (d->follow && fd == mxg_follow_fd(d->follow)) {
				d->eng.line_read_ns = mxg_mono_ns();
				mxg_follow_process(d->follow, mxg_engine_line, &d->eng);
				queue_evidence(d, EVIDENCE_STEP_NS);
			} else if (d->journal && fd == mxg_journal_fd(d->journal)) {
				d->eng.line_read_ns = mxg_mono_ns();
				mxg_journal_process(d->journal, mxg_engine_line, &d->eng);
				queue_evidence(d, EVIDENCE_STEP_NS);
			} else {
				mxg_events_consume(d->rb);
			}
		}
	}
}

static void teardown(struct daemon *d)
{
	char err[PATH_MAX + 256];

	/* Before the engine goes: its hooks point into the fleet. */
	mxg_fleetd_stop(d->fleet);
	d->fleet = NULL;
	if (d->ready && !d->o.detach_on_exit)
		save_state(d, true, 0);
	if (d->ready)
		save_accounts(d, true);
	if (d->saver) {
		if (mxg_saver_flush(d->saver, SAVER_STOP_MS))
			mxg_warn("%u state files could not be written before stopping",
				 mxg_saver_pending(d->saver));
		mxg_saver_free(d->saver);
		d->saver = NULL;
	}
	/*
	 * Hooks were started by the writer, which has stopped: each gets a
	 * moment to finish, then goes; none outlives us.
	 */
	mxg_hooks_free(d->hooks, 2000);
	d->hooks = NULL;
	/* Its lookups ran or never will: the thread is gone. */
	mxg_reconcile_free(d->reconcile);
	d->reconcile = NULL;
	if (d->follow)
		mxg_follow_free(d->follow);
	if (d->journal)
		mxg_journal_free(d->journal);
	mxg_metrics_free(d->metrics);
	mxg_engine_free(&d->eng);
	/* The writer thread is gone: nothing renders from the copy any more. */
	free(d->acc_copy);
	d->acc_copy = NULL;

	mxg_events_free(d->rb);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->timerfd >= 0)
		close(d->timerfd);
	if (d->skel)
		mxg_bpf_unload(d->skel);
	if (d->o.detach_on_exit && d->lock_fd >= 0) {
		if (mxg_detach_all(d->o.pin_dir, err, sizeof(err)))
			mxg_err("%s", err);
		else
			mxg_notice("detached and removed %s", d->o.pin_dir);
	}
	if (d->lock_fd >= 0)
		close(d->lock_fd);
}

int mxg_daemon_run(mxg_daemon_config_fn get_config, void *arg)
{
	struct daemon d = {
		.lock_fd = -1, .epfd = -1, .sigfd = -1, .timerfd = -1,
		.get_config = get_config, .get_config_arg = arg,
		.acc_mu = PTHREAD_MUTEX_INITIALIZER,
	};
	char err[PATH_MAX + 512];
	const char *mode;
	unsigned int i;
	int ret, status = EXIT_RUNTIME;
	bool fresh_maps;

	if (get_config(&d.o, false, err, sizeof(err), arg))
		return EXIT_USAGE;
	mxg_log_verbose = d.o.verbose;

	if (!d.o.n_ifaces) {
		if (mxg_default_iface(d.o.ifaces[0], sizeof(d.o.ifaces[0]))) {
			mxg_err("no interface given (-i IFACE) and no default route to pick one from");
			return EXIT_USAGE;
		}
		d.o.n_ifaces = 1;
		mxg_info("protecting %s, the default-route interface", d.o.ifaces[0]);
	}

	ret = mxg_pin_dir_prepare(d.o.pin_dir, err, sizeof(err));
	if (ret) {
		mxg_err("%s", err);
		/* A pin dir we refuse stays refused: no restart loop (exit 2). */
		return ret == -EPERM ? EXIT_USAGE : EXIT_RUNTIME;
	}
	d.lock_fd = mxg_lock(d.o.pin_dir);
	if (d.lock_fd < 0) {
		if (d.lock_fd == -EBUSY)
			mxg_err("another mxguard daemon is running on %s", d.o.pin_dir);
		else
			mxg_err("cannot lock %s: %s", d.o.pin_dir, strerror(-d.lock_fd));
		return EXIT_RUNTIME;
	}

	fresh_maps = !mxg_maps_pinned(d.o.pin_dir);
	d.skel = mxg_bpf_load(d.o.pin_dir, err, sizeof(err));
	if (!d.skel) {
		mxg_err("%s", err);
		goto out;
	}
	mxg_bpf_maps(d.skel, &d.m);
	if (configure_maps(&d.m, &d.o, err, sizeof(err))) {
		mxg_err("%s", err);
		goto out;
	}
	/*
	 * Logs, patterns, policy and metrics first: a config error stops us
	 * before anything is attached (or, on a restart, leaves the running
	 * program alone), and restored bans are in the maps before it filters.
	 */
	ret = setup_detection(&d, fresh_maps);
	if (ret) {
		status = ret;
		goto out;
	}
	for (i = 0; i < d.o.n_ifaces; i++) {
		ret = mxg_xdp_attach(mxg_bpf_prog_fd(d.skel),
				     d.o.ifaces[i], d.o.pin_dir, d.o.xdp_mode,
				     &mode, err, sizeof(err));
		if (ret) {
			mxg_err("%s", err);
			goto out;
		}
		mxg_notice("attached to %s (%s XDP)%s", d.o.ifaces[i], mode,
			   d.o.monitor ? ", monitor mode: nothing is dropped" : "");
	}
	warn_stale_links(&d);
	ret = setup_loop(&d);
	if (ret) {
		mxg_err("cannot set up the event loop: %s", strerror(-ret));
		goto out;
	}
	/*
	 * The maps may hold bans the state file lacks: made by the CLI while
	 * no daemon ran, or by a daemon killed before its next save. Save
	 * what we adopted within TICK_SAVE_NEW rather than at the next full
	 * save.
	 */
	d.eng.dirty = true;
	mxg_notice("running: ports %u, pin dir %s", d.o.n_ports, d.o.pin_dir);
	serve(&d);
	status = EXIT_OK;
out:
	teardown(&d);
	return status;
}
