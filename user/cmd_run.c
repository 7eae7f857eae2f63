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
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "denylist.h"
#include "evidence.h"
#include "follow.h"
#include "journal.h"
#include "loader.h"
#include "log.h"
#include "maps.h"
#include "mxguard.skel.h"
#include "parse.h"
#include "policy.h"

/* Expired bans stay listed (mxguard list --expired) this long, then go. */
#define EXPIRED_RETENTION_NS (86400ULL * 1000000000ULL)

/* How often the timer does its chores, in ticks of one second. */
#define TICK_POLICY	5
#define TICK_SAVE_LOGS	10
#define TICK_SAVE_BANS	60
#define TICK_RECONCILE	10

#define MAX_OWN_ADDRS	256

struct daemon {
	struct mxg_options o;
	struct mxg_parser *parser;
	struct mxg_policy *policy;
	struct mxg_follow *follow;
	struct mxg_journal *journal;
	char follow_state[PATH_MAX + 32];
	char journal_state[PATH_MAX + 32];
	char bans_state[PATH_MAX + 32];
	char evidence_dir[PATH_MAX + 32];
	struct mxg_addr own[MAX_OWN_ADDRS];
	unsigned int n_own;
	uint64_t lines;
	uint64_t matched[MXG_SVC_COUNT];
	uint64_t bans[MXG_REASON_IMPORT + 1];
	bool bans_dirty;
	const char *conf_path;	/* NULL: the default path, optional */
	int argc;		/* kept to re-apply flags on reload */
	char **argv;
	struct mxguard_bpf *skel;
	struct mxg_maps m;
	struct ring_buffer *rb;
	int lock_fd;
	int epfd;
	int sigfd;
	int timerfd;
	uint64_t ticks;
};

enum {
	OPT_MONITOR = 256,
	OPT_PIN_DIR,
	OPT_STATE_DIR,
	OPT_LOG,
	OPT_JOURNAL,
	OPT_XDP_MODE,
	OPT_DETACH,
};

static const struct option run_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "interface", required_argument, NULL, 'i' },
	{ "option", required_argument, NULL, 'o' },
	{ "monitor", no_argument, NULL, OPT_MONITOR },
	{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "journal", no_argument, NULL, OPT_JOURNAL },
	{ "xdp-mode", required_argument, NULL, OPT_XDP_MODE },
	{ "detach-on-exit", no_argument, NULL, OPT_DETACH },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

static void run_usage(void)
{
	printf("usage: mxguard run [-c FILE] [-i IFACE]... [--log FILE]... [--journal]\n"
	       "                   [--monitor] [--pin-dir DIR] [--state-dir DIR]\n"
	       "                   [--xdp-mode auto|native|generic] [--detach-on-exit]\n"
	       "                   [-o key=value]... [-v]\n\n"
	       "Load the XDP program, attach it to each IFACE (default: the interface of\n"
	       "the default route), and keep it fed. Flags and -o override the config\n"
	       "file (default %s, optional). SIGHUP reloads the config.\n",
	       MXG_CONF_DEFAULT);
}

/* "key=value" for a flag, applied through the config table like -o. */
static int flag_set(struct mxg_options *o, const char *key, const char *val)
{
	char kv[PATH_MAX + 64], err[PATH_MAX + 256];

	snprintf(kv, sizeof(kv), "%s=%s", key, val);
	if (mxg_config_set(o, kv, err, sizeof(err))) {
		fprintf(stderr, "mxguard run: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

/*
 * Build the options: defaults, then the file, then flags and -o in command
 * line order. Used at start and on reload.
 */
static int build_options(struct daemon *d, struct mxg_options *o, bool quiet)
{
	char err[PATH_MAX + 512];
	const char *path = d->conf_path ? d->conf_path : MXG_CONF_DEFAULT;
	int opt, ret;

	mxg_config_defaults(o);
	ret = mxg_config_load(o, path, err, sizeof(err));
	if (ret == -ENOENT && !d->conf_path) {
		if (!quiet)
			mxg_info("no %s, using the built-in defaults", path);
	} else if (ret) {
		fprintf(stderr, "mxguard: %s\n", err);
		return -EINVAL;
	}

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(d->argc, d->argv, "c:i:o:vh", run_opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			ret = flag_set(o, "interface", optarg);
			break;
		case 'o':
			ret = mxg_config_set(o, optarg, err, sizeof(err));
			if (ret)
				fprintf(stderr, "mxguard run: %s\n", err);
			break;
		case OPT_MONITOR:
			ret = flag_set(o, "monitor", "yes");
			break;
		case OPT_PIN_DIR:
			ret = flag_set(o, "pin_dir", optarg);
			break;
		case OPT_STATE_DIR:
			ret = flag_set(o, "state_dir", optarg);
			break;
		case OPT_LOG:
			ret = flag_set(o, "log", optarg);
			break;
		case OPT_JOURNAL:
			ret = flag_set(o, "journal", "yes");
			break;
		case OPT_XDP_MODE:
			ret = flag_set(o, "xdp_mode", optarg);
			break;
		case OPT_DETACH:
			ret = flag_set(o, "detach_on_exit", "yes");
			break;
		case 'v':
			ret = flag_set(o, "verbose", "yes");
			break;
		default:
			ret = 0;
		}
		if (ret)
			return -EINVAL;
	}
	if (mxg_config_check(o, err, sizeof(err))) {
		fprintf(stderr, "mxguard run: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct mxg_event *ev = data;
	struct mxg_cidr c;
	char buf[MXG_CIDR_STRLEN];

	if (size < sizeof(*ev))
		return 0;
	memset(&c, 0, sizeof(c));
	c.addr.family = (uint8_t)ev->family;
	memcpy(c.addr.a, ev->addr, ev->family == 4 ? 4 : 16);
	c.prefixlen = ev->prefixlen;
	mxg_addr_mask(&c.addr, c.prefixlen);
	mxg_cidr_str(&c, buf, sizeof(buf));
	if (ev->kind == MXG_EV_RATE) {
		struct daemon *d = ctx;

		mxg_info("%s %s over the SYN rate on port %u (%llu dropped so far)",
			 ev->monitor ? "[monitor]" : "rate limit:", buf, ev->port,
			 (unsigned long long)ev->count);
		if (d->policy)
			mxg_policy_rate(d->policy, mxg_boot_ns(), &c, ev->port,
					ev->count);
	} else
		mxg_debug("%s denylisted %s sent traffic to port %u (%llu hits)",
			  ev->monitor ? "[monitor]" : "deny:", buf, ev->port,
			  (unsigned long long)ev->count);
	return 0;
}

/* The policy decided: put the ban into the denylist. */
static void on_ban(const struct mxg_ban *b, void *ctx)
{
	struct daemon *d = ctx;
	uint64_t now = mxg_boot_ns();
	char buf[MXG_CIDR_STRLEN], dur[64];
	const char *what;
	int ret;

	mxg_cidr_str(&b->cidr, buf, sizeof(buf));
	human_duration(b->duration_ns, dur, sizeof(dur));
	what = b->reason == MXG_REASON_RATE ? "seconds over the SYN rate" : "AUTH failures";
	if (b->monitor) {
		mxg_notice("[monitor] would ban %s for %s (%u %s%s%s)", buf, dur,
			   b->failures, what, b->service ? ", " : "",
			   b->service ? b->service : "");
		return;
	}
	if (b->expires_ns && b->expires_ns <= now)
		return;	/* a ban from old log lines that has run out already */
	ret = mxg_denylist_apply(&d->m, &b->cidr, b->expires_ns, (uint32_t)b->reason,
				 b->ban_count, now);
	if (ret < 0) {
		mxg_err("cannot ban %s: %s", buf, strerror(-ret));
		return;
	}
	if (ret == MXG_APPLY_COVERED) {
		mxg_debug("%s is already covered by a longer ban", buf);
		return;
	}
	d->bans[b->reason <= MXG_REASON_IMPORT ? b->reason : 0]++;
	d->bans_dirty = true;
	if (b->hosts > 1)
		mxg_notice("banned %s for %s: %u hosts, %u %s (offence %u)", buf, dur,
			   b->hosts, b->failures, what, b->ban_count);
	else
		mxg_notice("banned %s for %s: %u %s%s%s (offence %u)", buf, dur,
			   b->failures, what, b->service ? " via " : "",
			   b->service ? b->service : "", b->ban_count);
}

/* A complete log line from a file or the journal. */
static void on_line(const char *line, size_t len, const char *path, void *arg)
{
	struct daemon *d = arg;
	struct mxg_auth_event ev;

	d->lines++;
	if (!mxg_parse_line(d->parser, line, len, (int64_t)time(NULL), &ev) ||
	    ev.kind != MXG_EV_AUTH)
		return;
	d->matched[ev.service]++;
	mxg_policy_failure(d->policy, mxg_boot_ns(), &ev.addr, ev.label,
			   ev.user[0] ? ev.user : NULL, ev.attempts, line, len);
}

/* Loopback and the addresses of every interface here: never banned. */
static void find_own_addrs(struct daemon *d)
{
	struct ifaddrs *ifa, *i;

	d->n_own = 0;
	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i && d->n_own < MAX_OWN_ADDRS; i = i->ifa_next) {
		struct mxg_addr *a = &d->own[d->n_own];

		if (!i->ifa_addr)
			continue;
		memset(a, 0, sizeof(*a));
		if (i->ifa_addr->sa_family == AF_INET) {
			a->family = 4;
			memcpy(a->a, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a->family = 6;
			memcpy(a->a, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		d->n_own++;
	}
	freeifaddrs(ifa);
}

static void policy_config(const struct daemon *d, const struct mxg_options *o,
			  struct mxg_policy_config *pc)
{
	mxg_policy_config_defaults(pc);
	pc->maxretry = o->maxretry;
	pc->findtime_ns = o->findtime_ns;
	pc->bantime_ns = o->bantime_ns;
	pc->bantime_max_ns = o->bantime_max_ns;
	pc->range_hosts = o->range_hosts;
	pc->range_v4 = o->range_v4;
	pc->range_v6 = o->range_v6;
	pc->floor_v4 = o->floor_v4;
	pc->floor_v6 = o->floor_v6;
	pc->rate_events = o->rate_events;
	pc->monitor = o->monitor;
	pc->ignoreip = o->ignoreip.v;
	pc->n_ignoreip = o->ignoreip.n;
	pc->own = d->own;
	pc->n_own = d->n_own;
}

static int note_existing(const struct mxg_cidr *c, const struct mxg_deny *v, void *arg)
{
	struct daemon *d = arg;

	if (v->expires_ns && v->expires_ns <= mxg_boot_ns())
		return 0;
	mxg_policy_note_ban(d->policy, c, v->expires_ns, v->ban_count);
	return 0;
}

struct reconcile_ctx {
	struct daemon *d;
	unsigned int n;
	struct mxg_cidr gone[256];
};

static int reconcile_one(const struct mxg_ban_info *info, void *arg)
{
	struct reconcile_ctx *r = arg;
	struct mxg_deny v;

	if (!info->active || mxg_deny_get(&r->d->m, &info->cidr, &v) == 0)
		return 0;
	r->gone[r->n++] = info->cidr;
	return r->n == sizeof(r->gone) / sizeof(r->gone[0]);
}

/* Bans the policy holds but an operator removed (mxguard unban): forget them. */
static void reconcile(struct daemon *d)
{
	struct reconcile_ctx *r = calloc(1, sizeof(*r));
	char buf[MXG_CIDR_STRLEN];
	unsigned int i;

	if (!r)
		return;
	r->d = d;
	mxg_policy_for_each_ban(d->policy, mxg_boot_ns(), reconcile_one, r);
	for (i = 0; i < r->n; i++) {
		mxg_policy_note_unban(d->policy, &r->gone[i]);
		mxg_info("%s was unbanned by hand: its counts start afresh",
			 mxg_cidr_str(&r->gone[i], buf, sizeof(buf)));
	}
	free(r);
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

static void save_state(struct daemon *d, bool bans)
{
	int ret;

	if (d->follow && mxg_follow_save(d->follow, d->follow_state))
		mxg_warn("cannot save log offsets to %s: %s", d->follow_state,
			 strerror(errno));
	if (d->journal && mxg_journal_save(d->journal, d->journal_state))
		mxg_warn("cannot save the journal cursor to %s", d->journal_state);
	if (d->policy) {
		ret = mxg_evidence_save(d->policy, d->evidence_dir, mxg_boot_ns(),
					time(NULL));
		if (ret < 0)
			mxg_warn("cannot save evidence in %s: %s", d->evidence_dir,
				 strerror(-ret));
	}
	if (bans) {
		ret = mxg_state_save(&d->m, d->bans_state);
		if (ret < 0)
			mxg_warn("cannot save bans to %s: %s", d->bans_state,
				 strerror(-ret));
		d->bans_dirty = false;
	}
}

/* Parser, policy and log sources; errors are configuration errors. */
static int setup_detection(struct daemon *d, bool fresh_maps)
{
	struct mxg_policy_config pc;
	char err[1024];
	unsigned int i, restored, expired;
	int ret;

	ret = mkdir_p(d->o.state_dir, 0700);
	if (ret) {
		mxg_err("cannot create state dir %s: %s", d->o.state_dir, strerror(-ret));
		return EXIT_RUNTIME;
	}
	snprintf(d->follow_state, sizeof(d->follow_state), "%s/logs.state", d->o.state_dir);
	snprintf(d->journal_state, sizeof(d->journal_state), "%s/journal.state", d->o.state_dir);
	snprintf(d->bans_state, sizeof(d->bans_state), "%s/bans.state", d->o.state_dir);
	snprintf(d->evidence_dir, sizeof(d->evidence_dir), "%s/evidence", d->o.state_dir);
	mkdir_p(d->evidence_dir, 0700);

	/* A reboot lost the pins: bring the bans back with the time they have left. */
	if (fresh_maps) {
		ret = mxg_state_restore(&d->m, d->bans_state, &restored, &expired,
					err, sizeof(err));
		if (ret && ret != -ENOENT)
			mxg_err("%s", err);
		if (ret != -ENOENT)
			mxg_notice("restored %u bans from %s (%u had expired)", restored,
				   d->bans_state, expired);
	}

	d->parser = mxg_parser_new();
	if (!d->parser) {
		mxg_err("cannot create the log parser: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	for (i = 0; i < d->o.n_patterns; i++) {
		if (mxg_parser_add_pattern(d->parser, d->o.patterns[i], NULL, err,
					   sizeof(err))) {
			mxg_err("pattern %u: %s", i + 1, err);
			return EXIT_USAGE;
		}
	}

	find_own_addrs(d);
	policy_config(d, &d->o, &pc);
	if (mxg_policy_config_check(&pc, err, sizeof(err))) {
		mxg_err("%s", err);
		return EXIT_USAGE;
	}
	d->policy = mxg_policy_new(&pc, on_ban, d);
	if (!d->policy) {
		mxg_err("cannot create the ban policy: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	mxg_deny_each(&d->m, note_existing, d);

	if (d->o.n_logs) {
		d->follow = mxg_follow_new(0);
		if (!d->follow) {
			mxg_err("cannot create the log follower: %s", strerror(errno));
			return EXIT_RUNTIME;
		}
		if (mxg_follow_load(d->follow, d->follow_state))
			mxg_warn("ignoring unreadable log state %s", d->follow_state);
		for (i = 0; i < d->o.n_logs; i++) {
			ret = mxg_follow_add(d->follow, d->o.logs[i]);
			if (ret && ret != -EEXIST) {
				mxg_err("cannot follow %s: %s", d->o.logs[i], strerror(-ret));
				return EXIT_RUNTIME;
			}
			mxg_info("following %s", d->o.logs[i]);
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
	if (!d->o.n_logs && !d->o.journal)
		mxg_notice("no log source (--log FILE or --journal): only the XDP rate limit and manual bans act");
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
		mxg_deny_del(&d->m, &p.v[i]);
	if (p.n)
		mxg_debug("pruned %u long-expired bans", p.n);
}

static void reload(struct daemon *d)
{
	struct mxg_options o;
	char err[PATH_MAX + 256];

	if (build_options(d, &o, true)) {
		mxg_err("reload refused: the new config is invalid; the old one stays in force");
		return;
	}
	if (strcmp(o.pin_dir, d->o.pin_dir) || o.n_ifaces != d->o.n_ifaces ||
	    memcmp(o.ifaces, d->o.ifaces, sizeof(o.ifaces)) ||
	    o.xdp_mode != d->o.xdp_mode || o.n_logs != d->o.n_logs ||
	    memcmp(o.logs, d->o.logs, sizeof(o.logs)) || o.journal != d->o.journal ||
	    strcmp(o.state_dir, d->o.state_dir))
		mxg_warn("reload: interface, xdp_mode, pin_dir, state_dir and log source changes need a restart");
	/* Keep what cannot change live, so the effective config stays true. */
	o.n_logs = d->o.n_logs;
	memcpy(o.logs, d->o.logs, sizeof(o.logs));
	o.journal = d->o.journal;
	snprintf(o.state_dir, sizeof(o.state_dir), "%s", d->o.state_dir);
	snprintf(o.pin_dir, sizeof(o.pin_dir), "%s", d->o.pin_dir);
	if (!o.n_ifaces) {
		/* The default-route interface was resolved at start. */
		o.n_ifaces = d->o.n_ifaces;
		memcpy(o.ifaces, d->o.ifaces, sizeof(o.ifaces));
	}
	if (d->policy) {
		struct mxg_policy_config pc;

		find_own_addrs(d);
		policy_config(d, &o, &pc);
		if (mxg_policy_config_check(&pc, err, sizeof(err)) ||
		    mxg_policy_reconfigure(d->policy, &pc)) {
			mxg_err("reload refused: %s; the old config stays in force", err);
			return;
		}
	}
	if (mxg_bpf_configure(&d->m, &o, err, sizeof(err))) {
		mxg_err("reload: %s", err);
		return;
	}
	mxg_log_verbose = o.verbose;
	d->o = o;
	mxg_notice("reloaded the config: %u ports, %u allowlisted ranges, %s",
		   o.n_ports, o.allow.n, o.monitor ? "monitor mode" : "enforcing");
}

static int setup_loop(struct daemon *d)
{
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
	d->rb = ring_buffer__new(d->m.events, handle_event, d, NULL);
	if (!d->rb)
		return -errno;

	ev.data.fd = d->sigfd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev))
		return -errno;
	ev.data.fd = d->timerfd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->timerfd, &ev))
		return -errno;
	ev.data.fd = ring_buffer__epoll_fd(d->rb);
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
	return 0;
}

static void on_tick(struct daemon *d)
{
	d->ticks++;
	if (d->follow)
		mxg_follow_poll(d->follow, on_line, d);
	if (d->journal)
		mxg_journal_process(d->journal, on_line, d);
	if (d->ticks % TICK_POLICY == 0)
		mxg_policy_tick(d->policy, mxg_boot_ns());
	if (d->ticks % TICK_RECONCILE == 0)
		reconcile(d);
	if (d->ticks % 60 == 0)
		prune_expired(d);
	if (d->ticks % TICK_SAVE_BANS == 0 || d->bans_dirty)
		save_state(d, true);
	else if (d->ticks % TICK_SAVE_LOGS == 0)
		save_state(d, false);
	else if (d->policy)
		mxg_evidence_save(d->policy, d->evidence_dir, mxg_boot_ns(), time(NULL));
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
			} else if (d->follow && fd == mxg_follow_fd(d->follow)) {
				mxg_follow_process(d->follow, on_line, d);
			} else if (d->journal && fd == mxg_journal_fd(d->journal)) {
				mxg_journal_process(d->journal, on_line, d);
			} else {
				ring_buffer__consume(d->rb);
			}
		}
	}
}

static void teardown(struct daemon *d)
{
	char err[PATH_MAX + 256];

	if (d->policy && !d->o.detach_on_exit)
		save_state(d, true);
	if (d->follow)
		mxg_follow_free(d->follow);
	if (d->journal)
		mxg_journal_free(d->journal);
	if (d->policy)
		mxg_policy_free(d->policy);
	if (d->parser)
		mxg_parser_free(d->parser);

	if (d->rb)
		ring_buffer__free(d->rb);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->timerfd >= 0)
		close(d->timerfd);
	if (d->skel)
		mxguard_bpf__destroy(d->skel);
	if (d->o.detach_on_exit && d->lock_fd >= 0) {
		if (mxg_detach_all(d->o.pin_dir, err, sizeof(err)))
			mxg_err("%s", err);
		else
			mxg_notice("detached and removed %s", d->o.pin_dir);
	}
	if (d->lock_fd >= 0)
		close(d->lock_fd);
}

int cmd_run(int argc, char **argv)
{
	struct daemon d = {
		.argc = argc, .argv = argv,
		.lock_fd = -1, .epfd = -1, .sigfd = -1, .timerfd = -1,
	};
	char err[PATH_MAX + 512];
	const char *mode;
	unsigned int i;
	int opt, ret, status = EXIT_RUNTIME;
	bool fresh_maps;

	/* First pass: help, -c, and options getopt itself refuses. */
	opterr = 1;
	while ((opt = getopt_long(argc, argv, "c:i:o:vh", run_opts, NULL)) != -1) {
		if (opt == 'h') {
			run_usage();
			return EXIT_OK;
		}
		if (opt == 'c')
			d.conf_path = optarg;
		if (opt == '?')
			return cli_bad_option("run", opt, argv);
	}
	if (optind != argc) {
		cli_err("run", "unexpected argument \"%s\"", argv[optind]);
		return EXIT_USAGE;
	}
	if (build_options(&d, &d.o, false))
		return EXIT_USAGE;
	mxg_log_verbose = d.o.verbose;
	mxg_log_prio = getenv("JOURNAL_STREAM") != NULL;

	if (!d.o.n_ifaces) {
		if (mxg_default_iface(d.o.ifaces[0], sizeof(d.o.ifaces[0]))) {
			cli_err("run", "no interface given (-i IFACE) and no default route to pick one from");
			return EXIT_USAGE;
		}
		d.o.n_ifaces = 1;
		mxg_info("protecting %s, the default-route interface", d.o.ifaces[0]);
	}

	ret = mxg_pin_dir_prepare(d.o.pin_dir, err, sizeof(err));
	if (ret) {
		mxg_err("%s", err);
		return EXIT_RUNTIME;
	}
	d.lock_fd = mxg_lock(d.o.pin_dir);
	if (d.lock_fd < 0) {
		if (d.lock_fd == -EBUSY)
			mxg_err("another mxguard daemon is running on %s", d.o.pin_dir);
		else
			mxg_err("cannot lock %s: %s", d.o.pin_dir, strerror(-d.lock_fd));
		return EXIT_RUNTIME;
	}

	snprintf(err, sizeof(err), "%s/deny_v4", d.o.pin_dir);
	fresh_maps = access(err, F_OK) != 0;
	d.skel = mxg_bpf_load(d.o.pin_dir, err, sizeof(err));
	if (!d.skel) {
		mxg_err("%s", err);
		goto out;
	}
	mxg_bpf_maps(d.skel, &d.m);
	if (mxg_bpf_configure(&d.m, &d.o, err, sizeof(err))) {
		mxg_err("%s", err);
		goto out;
	}
	for (i = 0; i < d.o.n_ifaces; i++) {
		ret = mxg_xdp_attach(bpf_program__fd(d.skel->progs.mxguard_xdp),
				     d.o.ifaces[i], d.o.pin_dir, d.o.xdp_mode,
				     &mode, err, sizeof(err));
		if (ret) {
			mxg_err("%s", err);
			goto out;
		}
		mxg_notice("attached to %s (%s XDP)%s", d.o.ifaces[i], mode,
			   d.o.monitor ? ", monitor mode: nothing is dropped" : "");
	}
	ret = setup_detection(&d, fresh_maps);
	if (ret) {
		status = ret;
		goto out;
	}
	ret = setup_loop(&d);
	if (ret) {
		mxg_err("cannot set up the event loop: %s", strerror(-ret));
		goto out;
	}
	mxg_notice("running: ports %u, pin dir %s", d.o.n_ports, d.o.pin_dir);
	serve(&d);
	status = EXIT_OK;
out:
	teardown(&d);
	return status;
}
