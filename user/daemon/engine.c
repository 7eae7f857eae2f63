// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "denylist.h"
#include "duration.h"
#include "engine.h"
#include "log.h"

const double mxg_lat_bounds[MXG_LAT_BUCKETS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.1,
};

static void record_latency(struct mxg_engine *e)
{
	double s;
	unsigned int i;

	if (!e->line_read_ns)
		return;
	s = (double)(mxg_mono_ns() - e->line_read_ns) / 1e9;
	for (i = 0; i < MXG_LAT_BUCKETS && s > mxg_lat_bounds[i]; i++)
		;
	e->lat_count[i]++;
	e->lat_sum += s;
}

/* The policy decided: put the ban into the denylist. */
static void on_ban(const struct mxg_ban *b, void *ctx)
{
	struct mxg_engine *e = ctx;
	uint64_t now = mxg_boot_ns();
	uint64_t expires = b->expires_ns ? b->expires_ns - e->clock_offset : 0;
	char buf[MXG_CIDR_STRLEN], dur[64];
	const char *what;
	int ret;

	mxg_cidr_str(&b->cidr, buf, sizeof(buf));
	human_duration(b->duration_ns, dur, sizeof(dur));
	what = b->reason == MXG_REASON_RATE ? "seconds over the SYN rate" : "AUTH failures";
	if (b->monitor) {
		e->would_bans++;
		mxg_notice("[monitor] would ban %s for %s (%u %s%s%s)", buf, dur,
			   b->failures, what, b->service ? ", " : "",
			   b->service ? b->service : "");
		return;
	}
	if (b->expires_ns && (b->expires_ns <= e->clock_offset || expires <= now)) {
		/* Replayed history: this ban would have ended already. */
		e->bans_run_out++;
		mxg_debug("%s: a ban for %s that has already run out", buf, dur);
		return;
	}
	if (!e->m) {
		mxg_notice("would ban %s for %s", buf, dur);
		return;
	}
	ret = mxg_denylist_apply(e->m, &b->cidr, expires, (uint32_t)b->reason,
				 b->ban_count, now, b->service);
	if (ret < 0) {
		e->bans_refused++;
		if (e->n_refused < MXG_REFUSED_MAX)
			e->refused[e->n_refused++] = b->cidr;
		if (ret != -ENOSPC && ret != -E2BIG) {
			mxg_err("cannot ban %s: %s", buf, strerror(-ret));
			return;
		}
		/*
		 * A full trie keeps every ban it holds and takes no more. Under
		 * an attack that is one refusal per offender: say it once a
		 * minute, with the count, rather than once per ban.
		 */
		if (!e->refused_warned_ns ||
		    mxg_mono_ns() - e->refused_warned_ns >= MXG_REFUSED_WARN_NS) {
			mxg_warn("denylist is full: cannot ban %s (%llu bans refused so far; the bans it holds stay in force; mxguard list and unban, or wait for bans to expire and be pruned)",
				 buf, (unsigned long long)e->bans_refused);
			e->refused_warned_ns = mxg_mono_ns();
		}
		return;
	}
	if (ret == MXG_APPLY_COVERED) {
		mxg_debug("%s is already covered by a longer ban", buf);
		return;
	}
	record_latency(e);
	e->bans[b->reason <= MXG_REASON_IMPORT ? b->reason : 0]++;
	e->dirty = true;
	if (e->replay)
		human_duration(expires - now, dur, sizeof(dur));
	if (b->hosts > 1)
		mxg_notice("banned %s for %s: %u hosts, %u %s (offence %u)", buf, dur,
			   b->hosts, b->failures, what, b->ban_count);
	else
		mxg_notice("banned %s for %s: %u %s%s%s (offence %u)", buf, dur,
			   b->failures, what, b->service ? " via " : "",
			   b->service ? b->service : "", b->ban_count);
}

/* The policy's bans that never reached the map are no bans: say so. */
static void forget_refused(struct mxg_engine *e)
{
	unsigned int i;

	for (i = 0; i < e->n_refused; i++)
		mxg_policy_note_unban(e->policy, &e->refused[i]);
	e->n_refused = 0;
}

void mxg_engine_event(struct mxg_engine *e, const struct mxg_auth_event *ev,
		      const char *line, size_t len)
{
	uint64_t now = mxg_boot_ns() + e->clock_offset;

	if (ev->kind != MXG_EV_AUTH)
		return;
	e->matched[ev->service]++;
	/* Replay: the policy's clock is the wall clock, and a line is judged
	 * at the time it carries. */
	if (e->replay && ev->time > 0)
		now = (uint64_t)ev->time * MXG_SEC_NS;
	/*
	 * One attempt logged by two services (Postfix and Dovecot's auth,
	 * PAM, a login summary) reaches here once: the parser pairs them
	 * (user/detect/sessions.h).
	 */
	mxg_policy_failure(e->policy, now, &ev->addr, ev->label,
			   ev->user[0] ? ev->user : NULL, ev->attempts, line, len);
	forget_refused(e);
}

static int source_of(const struct mxg_engine *e, const char *path)
{
	unsigned int i;

	for (i = 0; path && i < e->n_sources; i++)
		if (!strcmp(e->sources[i].path, path))
			return e->sources[i].src;
	return MXG_SRC_SYSLOG;
}

void mxg_engine_line(const char *line, size_t len, const char *path, void *arg)
{
	struct mxg_engine *e = arg;
	struct mxg_auth_event ev;

	e->lines++;
	if (mxg_parse_source(e->parser, source_of(e, path), line, len,
			     (int64_t)time(NULL), &ev))
		mxg_engine_event(e, &ev, line, len);
}

/* Resolve o's logs against parser p into v; returns how many, or -EINVAL. */
static int resolve_sources(const struct mxg_parser *p, const struct mxg_options *o,
			   struct mxg_log_source *v, char *err, size_t errlen)
{
	const char *path;
	unsigned int i;
	int src;

	for (i = 0; i < o->n_logs && i < MXG_MAX_LOGS; i++) {
		src = mxg_log_spec(p, o->logs[i], &path);
		if (src == -ENOENT) {
			snprintf(err, errlen,
				 "log: %s: names no server or pattern program before ':' "
				 "(servers: postfix exim dovecot sendmail courier domino "
				 "opensmtpd haraka exchange maddy cyrus uwimap nginx zimbra "
				 "vpopmail stalwart roundcube sogo, or syslog)",
				 o->logs[i]);
			return -EINVAL;
		}
		snprintf(v[i].path, sizeof(v[i].path), "%s", path);
		v[i].src = src;
	}
	return (int)i;
}

int mxg_engine_sources(struct mxg_engine *e, const struct mxg_options *o,
		       char *err, size_t errlen)
{
	int n = resolve_sources(e->parser, o, e->sources, err, errlen);

	if (n < 0)
		return n;
	e->n_sources = (unsigned int)n;
	return 0;
}

/* A parser with o's custom patterns into *out; 0, or -errno with err set. */
static int parser_build(const struct mxg_options *o, struct mxg_parser **out,
			char *err, size_t errlen)
{
	struct mxg_parser *p = mxg_parser_new();
	char why[512];
	unsigned int i;
	int ret;

	if (!p) {
		snprintf(err, errlen, "cannot create the log parser: %s", strerror(errno));
		return -ENOMEM;
	}
	for (i = 0; i < o->n_patterns; i++) {
		ret = mxg_parser_add_pattern(p, o->patterns[i], NULL, why, sizeof(why));
		if (ret) {
			snprintf(err, errlen, "pattern: %s: %s", o->patterns[i], why);
			mxg_parser_free(p);
			return ret;
		}
	}
	*out = p;
	return 0;
}

static void patterns_keep(struct mxg_engine *e, const struct mxg_options *o)
{
	e->n_patterns = o->n_patterns;
	memcpy(e->patterns, o->patterns, sizeof(e->patterns));
}

static bool patterns_changed(const struct mxg_engine *e, const struct mxg_options *o)
{
	unsigned int i;

	if (e->n_patterns != o->n_patterns)
		return true;
	for (i = 0; i < o->n_patterns; i++)
		if (strcmp(e->patterns[i], o->patterns[i]))
			return true;
	return false;
}

static uint32_t rate_slot(const struct mxg_cidr *c, uint16_t port)
{
	uint32_t h = 2166136261u;
	unsigned int i;

	for (i = 0; i < 16; i++)
		h = (h ^ c->addr.a[i]) * 16777619u;
	h = (h ^ c->addr.family) * 16777619u;
	h = (h ^ (port & 0xff)) * 16777619u;
	h = (h ^ (port >> 8)) * 16777619u;
	return h % MXG_RATE_SEEN;
}

bool mxg_engine_rate(struct mxg_engine *e, const struct mxg_cidr *cidr,
		     uint16_t port, uint64_t count, uint64_t stamp_ns)
{
	struct mxg_rate_seen *s;

	if (!e->rate_seen)
		e->rate_seen = calloc(MXG_RATE_SEEN, sizeof(*e->rate_seen));
	if (e->rate_seen && stamp_ns) {
		s = &e->rate_seen[rate_slot(cidr, port)];
		if (s->stamp_ns == stamp_ns && s->port == port &&
		    s->cidr.prefixlen == cidr->prefixlen &&
		    mxg_addr_equal(&s->cidr.addr, &cidr->addr))
			return false;
		s->stamp_ns = stamp_ns;
		s->cidr = *cidr;
		s->port = port;
	}
	e->line_read_ns = 0;
	mxg_policy_rate(e->policy, mxg_boot_ns() + e->clock_offset, cidr, port, count);
	forget_refused(e);
	return true;
}

/* Loopback and the addresses of every interface here: never banned. */
static void find_own_addrs(struct mxg_engine *e)
{
	struct ifaddrs *ifa, *i;

	e->n_own = 0;
	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i && e->n_own < MXG_MAX_OWN_ADDRS; i = i->ifa_next) {
		struct mxg_addr *a = &e->own[e->n_own];

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
		e->n_own++;
	}
	freeifaddrs(ifa);
}

static void policy_config(const struct mxg_engine *e, const struct mxg_options *o,
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
	pc->own = e->own;
	pc->n_own = e->n_own;
}

static int note_existing(const struct mxg_cidr *c, const struct mxg_deny *v, void *arg)
{
	struct mxg_engine *e = arg;

	if (v->expires_ns && v->expires_ns <= mxg_boot_ns())
		return 0;
	mxg_policy_note_ban(e->policy, c,
			    v->expires_ns ? v->expires_ns + e->clock_offset : 0,
			    v->ban_count);
	return 0;
}

int mxg_engine_init(struct mxg_engine *e, const struct mxg_options *o,
		    const struct mxg_maps *m, char *err, size_t errlen)
{
	struct mxg_policy_config pc;
	int ret;

	e->m = m;
	e->clock_offset = 0;
	if (e->replay) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		e->clock_offset = (uint64_t)ts.tv_sec * MXG_SEC_NS +
				  (uint64_t)ts.tv_nsec - mxg_boot_ns();
	}
	ret = parser_build(o, &e->parser, err, errlen);
	if (ret)
		return ret;
	patterns_keep(e, o);
	if (mxg_engine_sources(e, o, err, errlen))
		return -EINVAL;
	find_own_addrs(e);
	policy_config(e, o, &pc);
	if (mxg_policy_config_check(&pc, err, errlen))
		return -EINVAL;
	e->policy = mxg_policy_new(&pc, on_ban, e);
	if (!e->policy) {
		snprintf(err, errlen, "cannot create the ban policy: %s", strerror(errno));
		return -ENOMEM;
	}
	if (m)
		mxg_deny_each(m, note_existing, e);
	return 0;
}

int mxg_engine_reconfigure(struct mxg_engine *e, const struct mxg_options *o,
			   char *err, size_t errlen)
{
	struct mxg_log_source sources[MXG_MAX_LOGS];
	struct mxg_parser *parser = NULL;
	struct mxg_policy_config pc;
	int n = 0, ret;

	/*
	 * Everything that can fail comes before anything changes. A new
	 * parser only when the patterns changed: the parser's session table
	 * (OpenSMTPD) would be lost for nothing.
	 */
	if (patterns_changed(e, o)) {
		ret = parser_build(o, &parser, err, errlen);
		if (ret)
			return ret;
		/* A log bound to a pattern's program must find it again. */
		n = ret = resolve_sources(parser, o, sources, err, errlen);
		if (ret < 0)
			goto out_free_parser;
	}
	find_own_addrs(e);
	policy_config(e, o, &pc);
	ret = mxg_policy_config_check(&pc, err, errlen);
	if (ret)
		goto out_free_parser;
	if (mxg_policy_reconfigure(e->policy, &pc)) {
		snprintf(err, errlen, "the policy refused the new settings");
		ret = -EINVAL;
		goto out_free_parser;
	}
	if (parser) {
		mxg_parser_free(e->parser);
		e->parser = parser;
		memcpy(e->sources, sources, sizeof(sources[0]) * (unsigned int)n);
		e->n_sources = (unsigned int)n;
		patterns_keep(e, o);
	}
	return 0;

out_free_parser:
	if (parser)
		mxg_parser_free(parser);
	return ret;
}

void mxg_engine_free(struct mxg_engine *e)
{
	if (e->policy)
		mxg_policy_free(e->policy);
	if (e->parser)
		mxg_parser_free(e->parser);
	free(e->rate_seen);
	e->policy = NULL;
	e->parser = NULL;
	e->rate_seen = NULL;
}

/* The active bans as the policy knows them, and which the maps lack. */
struct mxg_reconcile {
	const struct mxg_maps *m;
	struct mxg_cidr *v;
	bool *gone;
	unsigned int n, cap;
};

static int list_active(const struct mxg_ban_info *info, void *arg)
{
	struct mxg_reconcile *r = arg;

	if (!info->active)
		return 0;
	if (r->n == r->cap) {
		unsigned int cap = r->cap ? r->cap * 2 : 1024;
		struct mxg_cidr *v = realloc(r->v, sizeof(*v) * cap);

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = info->cidr;
	return 0;
}

void mxg_reconcile_free(struct mxg_reconcile *r)
{
	if (!r)
		return;
	free(r->v);
	free(r->gone);
	free(r);
}

struct mxg_reconcile *mxg_reconcile_begin(const struct mxg_engine *e)
{
	struct mxg_reconcile *r;

	if (!e->m)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->m = e->m;
	if (mxg_policy_for_each_ban(e->policy, mxg_boot_ns() + e->clock_offset,
				    list_active, r) ||
	    !(r->gone = calloc(r->n ? r->n : 1, sizeof(*r->gone)))) {
		mxg_reconcile_free(r);
		return NULL;
	}
	return r;
}

void mxg_reconcile_check(struct mxg_reconcile *r)
{
	struct mxg_deny v;
	unsigned int i;

	for (i = 0; i < r->n; i++)
		r->gone[i] = mxg_deny_get(r->m, &r->v[i], &v) != 0;
}

void mxg_reconcile_end(struct mxg_engine *e, struct mxg_reconcile *r)
{
	struct mxg_ban_info info;
	char buf[MXG_CIDR_STRLEN];
	struct mxg_deny v;
	unsigned int i;

	for (i = 0; i < r->n; i++) {
		if (!r->gone[i])
			continue;
		/*
		 * Looked at again now: still a running ban to the policy, still
		 * not in the maps. A ban the daemon made again, or that ran
		 * out, since the check is no unban.
		 */
		if (mxg_policy_ban_info(e->policy, mxg_boot_ns() + e->clock_offset,
					&r->v[i], &info) || !info.active ||
		    mxg_deny_get(e->m, &r->v[i], &v) == 0)
			continue;
		mxg_policy_note_unban(e->policy, &r->v[i]);
		mxg_info("%s was unbanned by hand: its counts start afresh",
			 mxg_cidr_str(&r->v[i], buf, sizeof(buf)));
	}
	mxg_reconcile_free(r);
}

void mxg_engine_reconcile(struct mxg_engine *e)
{
	struct mxg_reconcile *r = mxg_reconcile_begin(e);

	if (!r)
		return;
	mxg_reconcile_check(r);
	mxg_reconcile_end(e, r);
}
