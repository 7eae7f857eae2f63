// SPDX-License-Identifier: GPL-2.0
/* Fleet mode on the daemon's event loop (fleetd.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "denylist.h"
#include "duration.h"
#include "fleetd.h"
#include "log.h"
#include "metrics.h"

/* Received items handled in one turn of the event loop at most. */
#define TAKE_BATCH	256
#define TURN_MAX	4096
/* Bans made with the CLI followed for their unban, at most. */
#define CLI_BANS_MAX	4096
/* Refusals logged one by one at most this many a minute; then counted only. */
#define REFUSE_LOG_PER_MIN	20

struct mxg_fleetd {
	struct mxg_fleet *f;
	struct mxg_engine *e;
	const struct mxg_options *o;	/* the daemon's, updated by reloads */
	struct mxg_fleet_conf conf;
	struct mxg_fleet_in *batch;
	uint64_t bans_applied, unbans_applied, count_bans;
	uint64_t refuse_log_min;	/* the minute refusals are being logged in */
	unsigned int refuse_logged;
	uint64_t refuse_quiet;		/* not logged since */
	/*
	 * The publisher thread's scan of the maps for bans made with mxguard
	 * ban or import (the event loop never sees them): those added since
	 * the last scan go out, and each one's removal as an unban. Touched
	 * by that thread only.
	 */
	const struct mxg_maps *m;
	uint64_t scan_mark;		/* added_ns of the newest seen */
	uint64_t scan_newest;
	struct mxg_cidr *cli_bans;
	unsigned int n_cli_bans;
};

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A CLOCK_BOOTTIME expiry as unix ms, and back; 0 stays 0 (permanent). */
static uint64_t boot_to_wall_ms(uint64_t exp_ns)
{
	uint64_t now = mxg_boot_ns();

	if (!exp_ns)
		return 0;
	return wall_ms() + (exp_ns > now ? (exp_ns - now) / MXG_MSEC_NS : 0);
}

static uint64_t wall_ms_to_boot(uint64_t ms)
{
	uint64_t now = wall_ms();

	if (!ms)
		return 0;
	return mxg_boot_ns() + (ms > now ? (ms - now) * MXG_MSEC_NS : 0);
}

static void publish(struct mxg_fleetd *fd, int op, const struct mxg_cidr *c,
		    uint64_t exp_ns, uint32_t reason, unsigned int count,
		    const char *evidence)
{
	struct mxg_fleet_event ev = { .op = op, .cidr = *c, .reason = reason };
	char buf[MXG_CIDR_STRLEN];
	size_t i;

	ev.expires_ms = boot_to_wall_ms(exp_ns);
	ev.count = count ? (count > 65535 ? 65535 : count) : 1;
	snprintf(ev.evidence, sizeof(ev.evidence), "%s", evidence);
	/* Service labels come from our own tables; keep the wire rules anyway. */
	for (i = 0; ev.evidence[i]; i++)
		if ((unsigned char)ev.evidence[i] < 0x20 || (unsigned char)ev.evidence[i] > 0x7e)
			ev.evidence[i] = '?';
	if (mxg_fleet_publish(fd->f, &ev))
		mxg_debug("fleet: queue full, %s of %s not sent",
			  op == MXG_FLEET_BAN ? "ban" : "unban",
			  mxg_cidr_str(c, buf, sizeof(buf)));
}

static void on_banned(const struct mxg_ban *b, uint64_t expires_ns, void *arg)
{
	struct mxg_fleetd *fd = arg;
	char ev[MXG_FLEET_EVIDENCE_MAX + 1];

	if (b->reason == MXG_REASON_RATE)
		snprintf(ev, sizeof(ev), "%u seconds over the SYN rate on port %u",
			 b->failures, b->port);
	else if (b->hosts > 1)
		snprintf(ev, sizeof(ev), "%u hosts, %u AUTH failures%s%s", b->hosts,
			 b->failures, b->service ? " via " : "", b->service ? b->service : "");
	else
		snprintf(ev, sizeof(ev), "%u AUTH failures%s%s", b->failures,
			 b->service ? " via " : "", b->service ? b->service : "");
	publish(fd, MXG_FLEET_BAN, &b->cidr, expires_ns, (uint32_t)b->reason,
		b->ban_count, ev);
}

static void on_unbanned(const struct mxg_cidr *c, void *arg)
{
	publish(arg, MXG_FLEET_UNBAN, c, 0, 0, 0, "unbanned by hand");
}

static void on_failure(const struct mxg_auth_event *ev, void *arg)
{
	struct mxg_fleetd *fd = arg;
	const struct mxg_options *o = fd->o;
	struct mxg_cidr range = { .addr = ev->addr };
	unsigned int range_limit;

	range.prefixlen = ev->addr.family == 4 ? o->range_v4 : o->range_v6;
	mxg_addr_mask(&range.addr, range.prefixlen);
	/* As the policy's defaults: a /24 takes maxretry per host of range_hosts, a /64 maxretry. */
	range_limit = ev->addr.family == 4 ? o->maxretry * o->range_hosts : o->maxretry;
	mxg_fleet_count(fd->f, &ev->addr, &range, ev->attempts, o->maxretry, range_limit);
}

static int scan_one(const struct mxg_cidr *c, const struct mxg_deny *v, void *arg)
{
	struct mxg_fleetd *fd = arg;
	struct mxg_fleet_event ev = { .op = MXG_FLEET_BAN, .cidr = *c, .reason = v->reason };

	if (v->added_ns <= fd->scan_mark ||
	    (v->reason != MXG_REASON_MANUAL && v->reason != MXG_REASON_IMPORT) ||
	    (v->expires_ns && v->expires_ns <= mxg_boot_ns()))
		return 0;
	if (v->added_ns > fd->scan_newest)
		fd->scan_newest = v->added_ns;
	/* Applied from a peer (a manual ban there): not ours to tell again. */
	if (v->note[0] == '@')
		return 0;
	ev.expires_ms = boot_to_wall_ms(v->expires_ns);
	ev.count = v->ban_count ? v->ban_count : 1;
	snprintf(ev.evidence, sizeof(ev.evidence), "%s%s%.15s",
		 v->reason == MXG_REASON_MANUAL ? "mxguard ban" : "mxguard import",
		 v->note[0] ? ": " : "", v->note);
	if (!mxg_fleet_publish(fd->f, &ev) && fd->n_cli_bans < CLI_BANS_MAX)
		fd->cli_bans[fd->n_cli_bans++] = *c;
	return 0;
}

/* In the publisher thread: see struct mxg_fleetd. */
static void scan_maps(struct mxg_fleet *f, void *arg)
{
	struct mxg_fleetd *fd = arg;
	struct mxg_fleet_event ev = { .op = MXG_FLEET_UNBAN };
	struct mxg_deny v;
	unsigned int i = 0;

	fd->f = f;
	fd->scan_newest = fd->scan_mark;
	mxg_deny_each(fd->m, scan_one, fd);
	fd->scan_mark = fd->scan_newest;
	while (i < fd->n_cli_bans) {
		if (!mxg_deny_get(fd->m, &fd->cli_bans[i], &v)) {
			i++;
			continue;
		}
		ev.cidr = fd->cli_bans[i];
		snprintf(ev.evidence, sizeof(ev.evidence), "mxguard unban");
		mxg_fleet_publish(f, &ev);
		fd->cli_bans[i] = fd->cli_bans[--fd->n_cli_bans];
	}
}

static const struct mxg_engine_hooks hooks = {
	.banned = on_banned,
	.unbanned = on_unbanned,
	.failure = on_failure,
};

static void rules_of(const struct mxg_fleetd *fd, struct mxg_fleet_rules *r)
{
	const struct mxg_options *o = fd->o;

	r->floor_v4 = o->floor_v4;
	r->floor_v6 = o->floor_v6;
	r->allow = o->allow.v;
	r->n_allow = o->allow.n;
	r->ignore = o->ignoreip.v;
	r->n_ignore = o->ignoreip.n;
	r->own = fd->e->own;
	r->n_own = fd->e->n_own;
}

static void refused(struct mxg_fleetd *fd, const struct mxg_fleet_in *in, int r,
		    const char *why)
{
	uint64_t minute = mxg_mono_ns() / (60 * MXG_SEC_NS);

	if (minute != fd->refuse_log_min) {
		if (fd->refuse_quiet)
			mxg_warn("fleet: %llu more peer events refused in the last minute (counted in mxguard fleet status)",
				 (unsigned long long)fd->refuse_quiet);
		fd->refuse_log_min = minute;
		fd->refuse_logged = 0;
		fd->refuse_quiet = 0;
	}
	if (fd->refuse_logged++ < REFUSE_LOG_PER_MIN)
		mxg_warn("fleet: refused %s from %s: %s: %s",
			 in->ev.op == MXG_FLEET_BAN ? "a ban" : "an unban", in->ev.origin,
			 mxg_fleet_refusal_name(r), why);
	else
		fd->refuse_quiet++;
}

/* A ban into the maps through the denylist's rules; true when in force. */
static bool apply_ban(struct mxg_fleetd *fd, const struct mxg_cidr *c, uint64_t exp,
		      uint32_t reason, unsigned int count, const char *note)
{
	struct mxg_engine *e = fd->e;
	char buf[MXG_CIDR_STRLEN];
	int ret;

	ret = mxg_denylist_apply(e->m, c, exp, reason, count, mxg_boot_ns(), note);
	if (ret < 0) {
		e->bans_refused++;
		mxg_err("fleet: cannot ban %s: %s", mxg_cidr_str(c, buf, sizeof(buf)),
			strerror(-ret));
		return false;
	}
	if (ret != MXG_APPLY_COVERED) {
		mxg_policy_note_ban(e->policy, c, exp, count);
		e->dirty = true;
	}
	return true;
}

static void peer_event(struct mxg_fleetd *fd, const struct mxg_fleet_in *in)
{
	struct mxg_fleet_rules rules;
	struct mxg_engine *e = fd->e;
	char why[256], buf[MXG_CIDR_STRLEN], note[16], dur[64];
	struct mxg_deny v;
	uint64_t exp;
	int r;

	rules_of(fd, &rules);
	r = mxg_fleet_check(&in->ev, &rules, wall_ms(), why, sizeof(why));
	if (r) {
		refused(fd, in, r, why);
		mxg_fleet_done(fd->f, in, r);
		return;
	}
	mxg_cidr_str(&in->ev.cidr, buf, sizeof(buf));
	if (in->ev.op == MXG_FLEET_UNBAN) {
		if (!mxg_deny_get(e->m, &in->ev.cidr, &v)) {
			mxg_deny_del(e->m, &in->ev.cidr);
			mxg_policy_note_unban(e->policy, &in->ev.cidr);
			e->dirty = true;
			fd->unbans_applied++;
			mxg_notice("fleet: unbanned %s as %s did", buf, in->ev.origin);
		}
		mxg_fleet_done(fd->f, in, MXG_FLEET_OK);
		return;
	}
	/* The note says where it came from: "@" and the origin's id. */
	snprintf(note, sizeof(note), "@%.14s", in->ev.origin);
	exp = wall_ms_to_boot(in->ev.expires_ms);
	if (apply_ban(fd, &in->ev.cidr, exp, in->ev.reason, in->ev.count, note)) {
		fd->bans_applied++;
		if (exp)
			human_duration(exp - mxg_boot_ns(), dur, sizeof(dur));
		mxg_info("fleet: banned %s for %s as %s did (%s)", buf,
			 exp ? dur : "ever", in->ev.origin, in->ev.evidence);
	}
	mxg_fleet_done(fd->f, in, MXG_FLEET_OK);
}

/* A fleet-wide count crossed its limit: ban here, tell the others. */
static void count_ban(struct mxg_fleetd *fd, const struct mxg_fleet_in *in)
{
	const struct mxg_options *o = fd->o;
	struct mxg_engine *e = fd->e;
	struct mxg_fleet_event ev = { .op = MXG_FLEET_BAN, .cidr = in->ev.cidr };
	struct mxg_fleet_rules rules;
	struct mxg_ban_info info;
	char why[256], buf[MXG_CIDR_STRLEN], dur[64], evidence[96];
	uint64_t now = mxg_boot_ns(), d, exp;
	unsigned int count = 1, i;

	rules_of(fd, &rules);
	ev.expires_ms = wall_ms() + 1000;
	if (mxg_fleet_check(&ev, &rules, wall_ms(), why, sizeof(why)) ||
	    mxg_policy_is_banned(e->policy, now, &in->ev.cidr.addr))
		return;
	if (!mxg_policy_ban_info(e->policy, now, &in->ev.cidr, &info))
		count = info.ban_count + 1;
	d = o->bantime_ns;
	for (i = 1; i < count && d < o->bantime_max_ns; i++)
		d *= 2;
	if (d > o->bantime_max_ns)
		d = o->bantime_max_ns;
	if (o->monitor) {
		mxg_notice("[monitor] fleet: would ban %s: %" PRIu64 " AUTH failures across the fleet",
			   mxg_cidr_str(&in->ev.cidr, buf, sizeof(buf)), in->count);
		return;
	}
	exp = now + d;
	if (!apply_ban(fd, &in->ev.cidr, exp, MXG_REASON_LOG, count, "fleet count"))
		return;
	fd->count_bans++;
	e->bans[MXG_REASON_LOG]++;
	human_duration(d, dur, sizeof(dur));
	snprintf(evidence, sizeof(evidence), "%" PRIu64 " AUTH failures across the fleet",
		 in->count);
	mxg_notice("fleet: banned %s for %s: %s (offence %u)",
		   mxg_cidr_str(&in->ev.cidr, buf, sizeof(buf)), dur, evidence, count);
	publish(fd, MXG_FLEET_BAN, &in->ev.cidr, exp, MXG_REASON_LOG, count, evidence);
}

void mxg_fleetd_process(struct mxg_fleetd *fd)
{
	unsigned int n, i, total = 0;

	do {
		n = mxg_fleet_take(fd->f, fd->batch, TAKE_BATCH);
		for (i = 0; i < n; i++) {
			if (fd->batch[i].kind == MXG_FLEET_IN_COUNT)
				count_ban(fd, &fd->batch[i]);
			else
				peer_event(fd, &fd->batch[i]);
		}
		total += n;
	} while (n == TAKE_BATCH && total < TURN_MAX);
}

int mxg_fleetd_fd(const struct mxg_fleetd *fd)
{
	return mxg_fleet_fd(fd->f);
}

static int read_password(const char *path, char *out, size_t len, char *err,
			 size_t errlen)
{
	struct stat st;
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		snprintf(err, errlen, "password_file: %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	if (!fstat(fileno(f), &st) && (st.st_mode & 0077))
		mxg_warn("fleet: %s can be read by others than its owner (chmod 600 it)", path);
	if (!fgets(out, (int)len, f))
		out[0] = '\0';
	fclose(f);
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	if (!n) {
		snprintf(err, errlen, "password_file: %s: the first line is empty", path);
		return -EINVAL;
	}
	return 0;
}

struct mxg_fleetd *mxg_fleetd_start(const struct mxg_options *o,
				    struct mxg_engine *e, char *err,
				    size_t errlen)
{
	struct mxg_fleetd *fd;
	struct mxg_fleet_conf *c;
	char words[sizeof(o->fleet_sentinels)], *w, *save = NULL;

	err[0] = '\0';
	if (!o->fleet_redis[0] && !o->fleet_sentinels[0])
		return NULL;
	fd = calloc(1, sizeof(*fd));
	if (!fd || !(fd->batch = calloc(TAKE_BATCH, sizeof(*fd->batch))) ||
	    !(fd->cli_bans = calloc(CLI_BANS_MAX, sizeof(*fd->cli_bans)))) {
		snprintf(err, errlen, "fleet: out of memory");
		if (fd)
			free(fd->batch);
		free(fd);
		return NULL;
	}
	fd->m = e->m;
	/* Bans made before this start are not news. */
	fd->scan_mark = mxg_boot_ns();
	fd->e = e;
	fd->o = o;
	c = &fd->conf;
	snprintf(c->redis, sizeof(c->redis), "%s", o->fleet_redis);
	snprintf(words, sizeof(words), "%s", o->fleet_sentinels);
	for (w = strtok_r(words, " \t,", &save); w && c->n_sentinels < MXG_FLEET_SENTINELS;
	     w = strtok_r(NULL, " \t,", &save))
		snprintf(c->sentinels[c->n_sentinels++], sizeof(c->sentinels[0]), "%s", w);
	snprintf(c->master, sizeof(c->master), "%s", o->fleet_master);
	snprintf(c->user, sizeof(c->user), "%s", o->fleet_user);
	if (o->fleet_password_file[0] &&
	    read_password(o->fleet_password_file, c->password, sizeof(c->password),
			  err, errlen))
		goto out_free;
	snprintf(c->name, sizeof(c->name), "%s", o->fleet_name);
	if (o->fleet_host_id[0]) {
		snprintf(c->host_id, sizeof(c->host_id), "%s", o->fleet_host_id);
	} else {
		char host[256] = "";

		gethostname(host, sizeof(host) - 1);
		host[strcspn(host, ".")] = '\0';
		if (!mxg_fleet_id_ok(host, MXG_FLEET_HOST_MAX)) {
			snprintf(err, errlen, "host_id: the hostname \"%.64s\" is no fit host id: set host_id",
				 host);
			goto out_free;
		}
		snprintf(c->host_id, sizeof(c->host_id), "%s", host);
	}
	snprintf(c->state_path, sizeof(c->state_path), "%s/fleet.id", o->state_dir);
	snprintf(c->status_path, sizeof(c->status_path), "%s/%s", o->state_dir,
		 MXG_FLEET_STATUS_FILE);
	c->queue_max = o->fleet_queue;
	c->maxlen = o->fleet_stream_len;
	c->findtime_ms = o->findtime_ns / MXG_MSEC_NS;
	c->counting = o->fleet_counting;
	c->scan = scan_maps;
	c->scan_arg = fd;
	fd->f = mxg_fleet_start(c, err, errlen);
	memset(c->password, 0, sizeof(c->password));
	if (!fd->f)
		goto out_free;
	e->hooks = &hooks;
	e->hooks_arg = fd;
	mxg_notice("fleet %s: host %s, Redis %s%s", c->name, c->host_id,
		   c->n_sentinels ? "through the sentinels " : "",
		   c->n_sentinels ? o->fleet_sentinels : c->redis);
	return fd;
out_free:
	memset(c->password, 0, sizeof(c->password));
	free(fd->cli_bans);
	free(fd->batch);
	free(fd);
	return NULL;
}

void mxg_fleetd_stop(struct mxg_fleetd *fd)
{
	if (!fd)
		return;
	if (fd->e->hooks == &hooks)
		fd->e->hooks = NULL;
	mxg_fleet_stop(fd->f);
	free(fd->cli_bans);
	free(fd->batch);
	free(fd);
}

void mxg_fleetd_metrics(struct mxg_fleetd *fd, FILE *f)
{
	struct mxg_fleet_stats st;
	unsigned int i;

	if (!fd)
		return;
	mxg_fleet_get_stats(fd->f, &st);
	mxg_metric(f, "mxguard_fleet_connected", "gauge",
		   "The fleet's Redis takes our events.",
		   (double)st.connected);
	mxg_metric(f, "mxguard_fleet_events_sent_total", "counter",
		   "Local bans and unbans sent to the fleet.",
		   (double)st.sent);
	mxg_metric(f, "mxguard_fleet_queued", "gauge",
		   "Events and counts waiting for Redis.",
		   (double)st.queued);
	mxg_metric(f, "mxguard_fleet_dropped_total", "counter",
		   "Events and counts dropped with the queue full.",
		   (double)st.dropped);
	mxg_metric(f, "mxguard_fleet_events_received_total", "counter",
		   "Peers' events received.",
		   (double)st.received);
	mxg_metric(f, "mxguard_fleet_events_applied_total", "counter",
		   "Peers' events applied to the maps.",
		   (double)st.applied);
	mxg_metric_head(f, "mxguard_fleet_events_refused_total", "counter",
			"Peers' events refused, by why.");
	for (i = 1; i < MXG_FLEET_N_REFUSALS; i++)
		mxg_metric_label(f, "mxguard_fleet_events_refused_total", "why",
				 mxg_fleet_refusal_name((int)i), (double)st.refused[i]);
	mxg_metric(f, "mxguard_fleet_count_bans_total", "counter",
		   "Bans made when a fleet-wide failure count crossed its limit here.",
		   (double)fd->count_bans);
	mxg_metric(f, "mxguard_fleet_lag_seconds", "gauge",
		   "Newest stream entry minus the last applied.",
		   (double)st.lag_ms / 1000.0);
	mxg_metric(f, "mxguard_fleet_peers", "gauge",
		   "Peers seen on the stream.",
		   (double)st.n_peers);
}
