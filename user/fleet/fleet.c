// SPDX-License-Identifier: GPL-2.0
/* Fleet mode through Redis: the two threads and their queues (fleet.h). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis.h>

#include "atomic.h"
#include "fleet.h"
#include "log.h"

/* Commands of one pipelined batch at most (events, or counts). */
#define BATCH		256
/* Socket timeout of the publisher, and of the consumer beyond its BLOCK. */
#define CMD_TIMEOUT_MS	2000
#define BLOCK_MS	1000
/* Reconnect: first wait, then doubling up to this. */
#define RETRY_MIN_MS	100
#define RETRY_MAX_MS	1000
/* Items waiting for the event loop at most; the consumer then waits. */
#define IN_MAX		4096
/* Fields of a received event looked at; more are refused unread. */
#define RECV_FIELDS	32
/* Malformed events logged one by one at most this many a minute. */
#define BAD_LOG_PER_MIN	20
/* A lost connection is warned about at most this often (seconds). */
#define WARN_EVERY	60

enum { OUT_EVENT = 1, OUT_COUNT };

struct out_item {
	int kind;
	struct mxg_fleet_event ev;	/* EVENT; COUNT: cidr = the address */
	struct mxg_cidr range;		/* COUNT */
	unsigned int attempts, addr_limit, range_limit;
};

struct conn {
	redisContext *c;
	char server[256];
	unsigned int retry_ms;
	uint64_t warned_s;
	bool warned;
};

struct mxg_fleet {
	struct mxg_fleet_conf c;
	char k_events[128], k_ban[128], k_fail[128];
	int efd;
	pthread_t pub_thread, sub_thread;
	bool pub_started, sub_started;

	pthread_mutex_t lock;
	pthread_cond_t out_cond, in_cond;
	pthread_cond_t stop_cond;	/* signalled on stop only: for waits between retries */
	bool stop;
	/* Outgoing ring: head is the oldest, sent when Redis takes it. */
	struct out_item *out;
	unsigned int out_head, out_n;
	/* Incoming ring, for the event loop. */
	struct mxg_fleet_in *in;
	unsigned int in_head, in_n;
	struct mxg_fleet_stats st;
	bool id_dirty;			/* applied_id changed since saved */
	/* Malformed events logged this minute (the consumer's own). */
	uint64_t bad_minute;
	unsigned int bad_logged;
	uint64_t bad_quiet;
	uint64_t newest_ms;		/* newest stream entry seen */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct timeval tv_ms(unsigned int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	return tv;
}

int mxg_fleet_hostport(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon, *h = s;
	size_t hl;
	char *end;
	long p;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (!hl || hl >= hostlen)
		return -EINVAL;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || p < 1 || p > 65535)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

static redisContext *connect_to(const char *addr, unsigned int timeout_ms)
{
	struct timeval tv = tv_ms(timeout_ms);
	char host[72];
	int port;

	if (!strncmp(addr, "unix:", 5))
		return redisConnectUnixWithTimeout(addr + 5, tv);
	if (addr[0] == '/')
		return redisConnectUnixWithTimeout(addr, tv);
	if (mxg_fleet_hostport(addr, host, sizeof(host), &port))
		return NULL;
	return redisConnectWithTimeout(host, port, tv);
}

/* A reply that is an error, or none: the connection is not to be trusted. */
static bool reply_bad(redisReply *r)
{
	return !r || r->type == REDIS_REPLY_ERROR;
}

static int auth(struct mxg_fleet *f, redisContext *c, char *why, size_t len)
{
	redisReply *r;

	if (!f->c.password[0])
		return 0;
	if (f->c.user[0])
		r = redisCommand(c, "AUTH %s %s", f->c.user, f->c.password);
	else
		r = redisCommand(c, "AUTH %s", f->c.password);
	if (reply_bad(r)) {
		snprintf(why, len, "AUTH: %s", r ? r->str : c->errstr);
		freeReplyObject(r);
		return -EACCES;
	}
	freeReplyObject(r);
	return 0;
}

/* Ask the sentinels, in turn, where the master is. */
static int sentinel_master(struct mxg_fleet *f, char *addr, size_t len,
			   char *why, size_t whylen)
{
	unsigned int i;

	snprintf(why, whylen, "no sentinel answered");
	for (i = 0; i < f->c.n_sentinels; i++) {
		redisContext *s = connect_to(f->c.sentinels[i], 500);
		redisReply *r;

		if (!s || s->err) {
			snprintf(why, whylen, "sentinel %s: %s", f->c.sentinels[i],
				 s ? s->errstr : "cannot connect");
			if (s)
				redisFree(s);
			continue;
		}
		redisSetTimeout(s, tv_ms(500));
		r = redisCommand(s, "SENTINEL get-master-addr-by-name %s", f->c.master);
		if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		    r->element[0]->type == REDIS_REPLY_STRING &&
		    r->element[1]->type == REDIS_REPLY_STRING) {
			snprintf(addr, len, strchr(r->element[0]->str, ':') ? "[%s]:%s" : "%s:%s",
				 r->element[0]->str, r->element[1]->str);
			freeReplyObject(r);
			redisFree(s);
			return 0;
		}
		snprintf(why, whylen, "sentinel %s: no master named %s", f->c.sentinels[i],
			 f->c.master);
		freeReplyObject(r);
		redisFree(s);
	}
	return -EHOSTUNREACH;
}

/* After a failover the old master may be back as a replica: never write there. */
static int is_master(redisContext *c, char *why, size_t len)
{
	redisReply *r = redisCommand(c, "ROLE");
	int ret = 0;

	if (!r) {
		snprintf(why, len, "ROLE: %s", c->errstr);
		ret = -EIO;
	} else if (r->type == REDIS_REPLY_ERROR) {
		snprintf(why, len, "ROLE: %s", r->str);
		ret = -EIO;
	} else if (r->type != REDIS_REPLY_ARRAY || !r->elements ||
		   r->element[0]->type != REDIS_REPLY_STRING ||
		   strcmp(r->element[0]->str, "master")) {
		snprintf(why, len, "not a master (ROLE)");
		ret = -EAGAIN;
	}
	freeReplyObject(r);
	return ret;
}

static void conn_drop(struct conn *k)
{
	if (k->c)
		redisFree(k->c);
	k->c = NULL;
}

static bool stopping(struct mxg_fleet *f)
{
	bool s;

	pthread_mutex_lock(&f->lock);
	s = f->stop;
	pthread_mutex_unlock(&f->lock);
	return s;
}

/* Wait ms unless told to stop; returns true when stopping. */
static bool nap(struct mxg_fleet *f, pthread_cond_t *cond, unsigned int ms)
{
	struct timespec ts;
	bool s;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&f->lock);
	if (!f->stop)
		pthread_cond_timedwait(cond, &f->lock, &ts);
	s = f->stop;
	pthread_mutex_unlock(&f->lock);
	return s;
}

/*
 * Connect k (through the sentinels when there are some). False when it
 * failed: the caller waits k->retry_ms and tries again. who names the
 * thread in messages.
 */
static bool conn_ensure(struct mxg_fleet *f, struct conn *k, const char *who,
			unsigned int timeout_ms, bool pub)
{
	char addr[256], why[256] = "";
	uint64_t now = (uint64_t)time(NULL);
	redisContext *c = NULL;

	if (k->c)
		return true;
	if (f->c.n_sentinels) {
		if (sentinel_master(f, addr, sizeof(addr), why, sizeof(why)))
			goto fail;
	} else {
		snprintf(addr, sizeof(addr), "%s", f->c.redis);
	}
	snprintf(k->server, sizeof(k->server), "%s", addr);
	c = connect_to(addr, CMD_TIMEOUT_MS);
	if (!c || c->err) {
		snprintf(why, sizeof(why), "%s", c ? c->errstr : "bad address");
		goto fail;
	}
	redisSetTimeout(c, tv_ms(timeout_ms));
	/* A dead peer behind a silent network is noticed; not for unix sockets. */
	if (c->connection_type == REDIS_CONN_TCP)
		redisEnableKeepAlive(c);
	if (auth(f, c, why, sizeof(why)) || is_master(c, why, sizeof(why)))
		goto fail;
	k->c = c;
	k->retry_ms = RETRY_MIN_MS;
	if (k->warned)
		mxg_notice("fleet %s: connected to Redis at %s again", who, addr);
	else
		mxg_info("fleet %s: connected to Redis at %s", who, addr);
	k->warned = false;
	if (pub) {
		pthread_mutex_lock(&f->lock);
		f->st.connected = true;
		f->st.state_since = now;
		f->st.reconnects++;
		snprintf(f->st.server, sizeof(f->st.server), "%s", addr);
		pthread_mutex_unlock(&f->lock);
	}
	return true;
fail:
	if (c)
		redisFree(c);
	if (!k->warned || now - k->warned_s >= WARN_EVERY) {
		mxg_warn("fleet %s: cannot use Redis at %s: %s (local protection goes on; retrying)",
			 who, f->c.n_sentinels ? "the sentinels' master" : f->c.redis, why);
		k->warned = true;
		k->warned_s = now;
	}
	if (pub) {
		pthread_mutex_lock(&f->lock);
		if (f->st.connected)
			f->st.state_since = now;
		f->st.connected = false;
		pthread_mutex_unlock(&f->lock);
	}
	k->retry_ms = k->retry_ms ? k->retry_ms * 2 : RETRY_MIN_MS;
	if (k->retry_ms > RETRY_MAX_MS)
		k->retry_ms = RETRY_MAX_MS;
	return false;
}

static void conn_lost(struct mxg_fleet *f, struct conn *k, const char *who,
		      const char *what, bool pub)
{
	uint64_t now = (uint64_t)time(NULL);

	mxg_warn("fleet %s: Redis at %s: %s; reconnecting", who, k->server,
		 what && *what ? what : "connection lost");
	k->warned = true;
	k->warned_s = now;
	conn_drop(k);
	if (pub) {
		pthread_mutex_lock(&f->lock);
		f->st.connected = false;
		f->st.state_since = now;
		pthread_mutex_unlock(&f->lock);
	}
}

/* ---- publisher ----------------------------------------------------------- */

static void key_of(char *buf, size_t len, const char *prefix, const struct mxg_cidr *c)
{
	char s[MXG_CIDR_STRLEN];

	snprintf(buf, len, "%s%s", prefix, mxg_cidr_str(c, s, sizeof(s)));
}

/* Append one event's commands; returns how many replies to read. */
static unsigned int append_event(struct mxg_fleet *f, redisContext *c,
				 const struct mxg_fleet_event *ev)
{
	struct mxg_fleet_fields ff;
	const char *argv[6 + 2 * MXG_FLEET_FIELDS];
	size_t lens[6 + 2 * MXG_FLEET_FIELDS];
	char key[192], maxlen[24], exp[24];
	unsigned int i, n = 0, replies = 0;

	mxg_fleet_encode(ev, &ff);
	snprintf(maxlen, sizeof(maxlen), "%" PRIu64, f->c.maxlen);
	argv[n++] = "XADD";
	argv[n++] = f->k_events;
	argv[n++] = "MAXLEN";
	argv[n++] = "~";
	argv[n++] = maxlen;
	argv[n++] = "*";
	for (i = 0; i < n; i++)
		lens[i] = strlen(argv[i]);
	for (i = 0; i < ff.n; i++) {
		argv[n] = ff.name[i];
		lens[n++] = strlen(ff.name[i]);
		argv[n] = ff.value[i];
		lens[n++] = ff.len[i];
	}
	redisAppendCommandArgv(c, (int)n, argv, lens);
	replies++;
	key_of(key, sizeof(key), f->k_ban, &ev->cidr);
	if (ev->op == MXG_FLEET_UNBAN) {
		redisAppendCommand(c, "DEL %s", key);
		return replies + 1;
	}
	/* The hash is replaced whole: DEL first, so no field of an older ban stays. */
	redisAppendCommand(c, "DEL %s", key);
	argv[0] = "HSET";
	argv[1] = key;
	lens[0] = 4;
	lens[1] = strlen(key);
	n = 2;
	for (i = 0; i < ff.n; i++) {
		argv[n] = ff.name[i];
		lens[n++] = strlen(ff.name[i]);
		argv[n] = ff.value[i];
		lens[n++] = ff.len[i];
	}
	redisAppendCommandArgv(c, (int)n, argv, lens);
	replies += 2;
	if (ev->expires_ms) {
		snprintf(exp, sizeof(exp), "%" PRIu64, ev->expires_ms);
		redisAppendCommand(c, "PEXPIREAT %s %s", key, exp);
		replies++;
	}
	return replies;
}

static unsigned int append_count(struct mxg_fleet *f, redisContext *c,
				 const struct out_item *it)
{
	char key[192], ms[24];

	snprintf(ms, sizeof(ms), "%" PRIu64, f->c.findtime_ms);
	key_of(key, sizeof(key), f->k_fail, &it->ev.cidr);
	redisAppendCommand(c, "INCRBY %s %u", key, it->attempts);
	redisAppendCommand(c, "PEXPIRE %s %s NX", key, ms);
	key_of(key, sizeof(key), f->k_fail, &it->range);
	redisAppendCommand(c, "INCRBY %s %u", key, it->attempts);
	redisAppendCommand(c, "PEXPIRE %s %s NX", key, ms);
	return 4;
}

static void in_push_locked(struct mxg_fleet *f, const struct mxg_fleet_in *in)
{
	uint64_t one = 1;

	f->in[(f->in_head + f->in_n) % IN_MAX] = *in;
	f->in_n++;
	if (write(f->efd, &one, sizeof(one)) < 0) {
		/* The counter is far from full: nothing to do. */
	}
}

/* A count that crossed its limit with this increment goes to the loop. */
static void count_crossed(struct mxg_fleet *f, const struct mxg_cidr *c,
			  long long got, unsigned int attempts, unsigned int limit)
{
	struct mxg_fleet_in in = { .kind = MXG_FLEET_IN_COUNT };

	if (!limit || got < (long long)limit || got - attempts >= limit)
		return;
	in.ev.cidr = *c;
	in.count = (uint64_t)got;
	pthread_mutex_lock(&f->lock);
	if (f->in_n < IN_MAX)
		in_push_locked(f, &in);
	pthread_mutex_unlock(&f->lock);
}

/* Send items[0..n) in one pipeline; 0, or -EIO with the connection dropped. */
static int send_batch(struct mxg_fleet *f, struct conn *k, const struct out_item *items,
		      unsigned int n)
{
	unsigned int want[BATCH], i, j;
	redisReply *r;
	char err[128] = "";
	long long got[4];

	for (i = 0; i < n; i++)
		want[i] = items[i].kind == OUT_EVENT ? append_event(f, k->c, &items[i].ev) :
			  append_count(f, k->c, &items[i]);
	for (i = 0; i < n; i++) {
		for (j = 0; j < want[i]; j++) {
			if (redisGetReply(k->c, (void **)&r) != REDIS_OK) {
				snprintf(err, sizeof(err), "%s", k->c->errstr);
				conn_lost(f, k, "publisher", err, true);
				return -EIO;
			}
			if (r->type == REDIS_REPLY_ERROR && !err[0])
				snprintf(err, sizeof(err), "%s", r->str);
			if (j < 4)
				got[j] = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
			freeReplyObject(r);
		}
		if (items[i].kind == OUT_COUNT && !err[0]) {
			count_crossed(f, &items[i].ev.cidr, got[0], items[i].attempts,
				      items[i].addr_limit);
			count_crossed(f, &items[i].range, got[2], items[i].attempts,
				      items[i].range_limit);
		}
	}
	/* READONLY after a failover, OOM, ...: send it all again elsewhere. */
	if (err[0]) {
		conn_lost(f, k, "publisher", err, true);
		return -EIO;
	}
	return 0;
}

static void lag_check(struct mxg_fleet *f, struct conn *k)
{
	struct mxg_fleet_id id;
	redisReply *r;

	r = redisCommand(k->c, "XREVRANGE %s + - COUNT 1", f->k_events);
	if (!r) {
		conn_lost(f, k, "publisher", k->c->errstr, true);
		return;
	}
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2 &&
	    r->element[0]->element[0]->type == REDIS_REPLY_STRING &&
	    !mxg_fleet_id_parse(r->element[0]->element[0]->str,
				r->element[0]->element[0]->len, &id)) {
		pthread_mutex_lock(&f->lock);
		f->newest_ms = id.ms;
		f->st.lag_ms = id.ms > f->st.applied_id.ms && f->st.applied_id.ms ?
			       id.ms - f->st.applied_id.ms : 0;
		pthread_mutex_unlock(&f->lock);
	}
	freeReplyObject(r);
}

struct status_ctx {
	struct mxg_fleet *f;
	struct mxg_fleet_stats st;
};

static int fill_status(FILE *out, void *arg)
{
	struct status_ctx *s = arg;

	mxg_fleet_stats_write(&s->st, &s->f->c, (uint64_t)time(NULL), out);
	return ferror(out) ? -EIO : 0;
}

static int fill_id(FILE *out, void *arg)
{
	char buf[48];

	mxg_fleet_id_str(arg, buf, sizeof(buf));
	fprintf(out, "%s\n", buf);
	return ferror(out) ? -EIO : 0;
}

/* Once a second: the status file, and the resume point when it moved. */
static void chores(struct mxg_fleet *f)
{
	struct status_ctx *s = malloc(sizeof(*s));
	struct mxg_fleet_id id;
	bool dirty;

	if (!s)
		return;
	s->f = f;
	mxg_fleet_get_stats(f, &s->st);
	pthread_mutex_lock(&f->lock);
	dirty = f->id_dirty;
	id = f->st.applied_id;
	f->id_dirty = false;
	pthread_mutex_unlock(&f->lock);
	if (f->c.status_path[0])
		mxg_atomic_write(f->c.status_path, 0644, fill_status, s);
	if (dirty && f->c.state_path[0] && mxg_atomic_write(f->c.state_path, 0600, fill_id, &id)) {
		pthread_mutex_lock(&f->lock);
		f->id_dirty = true;
		pthread_mutex_unlock(&f->lock);
	}
	free(s);
}

static void *publisher(void *arg)
{
	struct mxg_fleet *f = arg;
	struct out_item *batch = calloc(BATCH, sizeof(*batch));
	struct conn k = { 0 };
	uint64_t last_chores = 0, last_scan = 0, t;
	unsigned int n, i;
	bool resend = false;

	if (!batch) {
		mxg_err("fleet publisher: out of memory");
		return NULL;
	}
	for (;;) {
		t = now_ms();
		if (t - last_chores >= 1000) {
			if (k.c)
				lag_check(f, &k);
			chores(f);
			last_chores = t;
		}
		if (f->c.scan && t - last_scan >= 2000) {
			f->c.scan(f, f->c.scan_arg);
			last_scan = t;
		}
		/* Connected before there is anything to send: the status says so. */
		if (!k.c && !conn_ensure(f, &k, "publisher", CMD_TIMEOUT_MS, true)) {
			if (nap(f, &f->stop_cond, k.retry_ms))
				break;
			continue;
		}
		pthread_mutex_lock(&f->lock);
		if (!f->out_n && !f->stop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&f->out_cond, &f->lock, &ts);
		}
		if (f->stop) {
			pthread_mutex_unlock(&f->lock);
			break;
		}
		n = f->out_n < BATCH ? f->out_n : BATCH;
		for (i = 0; i < n; i++)
			batch[i] = f->out[(f->out_head + i) % f->c.queue_max];
		pthread_mutex_unlock(&f->lock);
		if (!n)
			continue;
		if (!conn_ensure(f, &k, "publisher", CMD_TIMEOUT_MS, true)) {
			resend = true;
			if (nap(f, &f->stop_cond, k.retry_ms))
				break;
			continue;
		}
		if (send_batch(f, &k, batch, n)) {
			resend = true;
			continue;
		}
		pthread_mutex_lock(&f->lock);
		f->out_head = (f->out_head + n) % f->c.queue_max;
		f->out_n -= n;
		for (i = 0; i < n; i++)
			if (batch[i].kind == OUT_EVENT)
				f->st.sent++;
		if (resend)
			f->st.resent += n;
		pthread_mutex_unlock(&f->lock);
		if (!f->out_n)
			resend = false;
	}
	chores(f);
	conn_drop(&k);
	free(batch);
	return NULL;
}

/* ---- consumer ------------------------------------------------------------ */

static void peer_seen(struct mxg_fleet *f, const char *host, uint64_t ms)
{
	struct mxg_fleet_stats *st = &f->st;
	unsigned int i;

	for (i = 0; i < st->n_peers; i++)
		if (!strcmp(st->peers[i].host, host))
			break;
	if (i == st->n_peers) {
		if (st->n_peers == MXG_FLEET_PEERS)
			return;
		st->n_peers++;
		memset(&st->peers[i], 0, sizeof(st->peers[i]));
		snprintf(st->peers[i].host, sizeof(st->peers[i].host), "%s", host);
	}
	if (ms > st->peers[i].last_ms)
		st->peers[i].last_ms = ms;
}

/*
 * One event from the stream or the set: decoded here; refused ones are
 * counted and logged, others wait for the event loop (this thread waits
 * while its queue is full). Returns true when stopping.
 */
static bool receive(struct mxg_fleet *f, const redisReply *fields, bool hash,
		    const struct mxg_fleet_id *id, uint64_t id_ms)
{
	const char *name[RECV_FIELDS], *value[RECV_FIELDS];
	size_t nlen[RECV_FIELDS], vlen[RECV_FIELDS];
	struct mxg_fleet_in in = { .kind = MXG_FLEET_IN_EVENT };
	char why[256], ids[48];
	unsigned int n, i;
	int r;

	if (fields->type != REDIS_REPLY_ARRAY || fields->elements % 2) {
		r = MXG_FLEET_BAD_FORMAT;
		snprintf(why, sizeof(why), "not a list of field/value pairs");
		goto refuse;
	}
	n = (unsigned int)(fields->elements / 2);
	if (n > RECV_FIELDS) {
		r = MXG_FLEET_BAD_FORMAT;
		snprintf(why, sizeof(why), "%u fields, at most %d", n, MXG_FLEET_FIELDS);
		goto refuse;
	}
	for (i = 0; i < n; i++) {
		const redisReply *a = fields->element[2 * i], *b = fields->element[2 * i + 1];

		if (a->type != REDIS_REPLY_STRING || b->type != REDIS_REPLY_STRING) {
			r = MXG_FLEET_BAD_FORMAT;
			snprintf(why, sizeof(why), "a field that is not a string");
			goto refuse;
		}
		name[i] = a->str;
		nlen[i] = a->len;
		value[i] = b->str;
		vlen[i] = b->len;
	}
	r = mxg_fleet_decode(n, name, nlen, value, vlen, &in.ev, why, sizeof(why));
	if (r)
		goto refuse;
	if (!strcmp(in.ev.origin, f->c.host_id))
		return false;	/* our own, already in our maps */
	if (id)
		in.id = *id;
	pthread_mutex_lock(&f->lock);
	f->st.received++;
	peer_seen(f, in.ev.origin, id_ms);
	while (f->in_n == IN_MAX && !f->stop)
		pthread_cond_wait(&f->in_cond, &f->lock);
	if (!f->stop)
		in_push_locked(f, &in);
	pthread_mutex_unlock(&f->lock);
	return stopping(f);
refuse:
	pthread_mutex_lock(&f->lock);
	f->st.refused[r]++;
	pthread_mutex_unlock(&f->lock);
	if (id)
		mxg_fleet_id_str(id, ids, sizeof(ids));
	/* Whoever can write the stream must not be able to flood the log. */
	if ((uint64_t)time(NULL) / 60 != f->bad_minute) {
		if (f->bad_quiet)
			mxg_warn("fleet: %llu more malformed events refused in the last minute",
				 (unsigned long long)f->bad_quiet);
		f->bad_minute = (uint64_t)time(NULL) / 60;
		f->bad_logged = 0;
		f->bad_quiet = 0;
	}
	if (f->bad_logged++ < BAD_LOG_PER_MIN)
		mxg_warn("fleet: refused %s %s: %s: %s", hash ? "ban key" : "stream entry",
			 id ? ids : "", mxg_fleet_refusal_name(r), why);
	else
		f->bad_quiet++;
	return false;
}

/* The current ban set, one SCAN pass; false when the connection failed. */
static bool load_set(struct mxg_fleet *f, struct conn *k, unsigned int *loaded)
{
	char cursor[32] = "0", match[160];
	redisReply *r, *h;
	size_t i;

	snprintf(match, sizeof(match), "%s*", f->k_ban);
	do {
		r = redisCommand(k->c, "SCAN %s MATCH %s COUNT 1000", cursor, match);
		if (reply_bad(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			conn_lost(f, k, "consumer", r ? r->str : k->c->errstr, false);
			freeReplyObject(r);
			return false;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		for (i = 0; i < r->element[1]->elements; i++) {
			const redisReply *key = r->element[1]->element[i];

			if (key->type == REDIS_REPLY_STRING)
				redisAppendCommand(k->c, "HGETALL %b", key->str, key->len);
			else
				redisAppendCommand(k->c, "PING");
		}
		for (i = 0; i < r->element[1]->elements; i++) {
			if (redisGetReply(k->c, (void **)&h) != REDIS_OK) {
				conn_lost(f, k, "consumer", k->c->errstr, false);
				freeReplyObject(r);
				return false;
			}
			/* Gone (expired) between SCAN and HGETALL: an empty list. */
			if (h->type == REDIS_REPLY_ARRAY && h->elements) {
				receive(f, h, true, NULL, 0);
				(*loaded)++;
			}
			freeReplyObject(h);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") && !stopping(f));
	return true;
}

static bool newest_id(struct mxg_fleet *f, struct conn *k, struct mxg_fleet_id *id)
{
	redisReply *r = redisCommand(k->c, "XREVRANGE %s + - COUNT 1", f->k_events);

	if (reply_bad(r) || r->type != REDIS_REPLY_ARRAY) {
		conn_lost(f, k, "consumer", r ? r->str : k->c->errstr, false);
		freeReplyObject(r);
		return false;
	}
	memset(id, 0, sizeof(*id));
	if (r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements == 2 &&
	    r->element[0]->element[0]->type == REDIS_REPLY_STRING)
		mxg_fleet_id_parse(r->element[0]->element[0]->str,
				   r->element[0]->element[0]->len, id);
	freeReplyObject(r);
	return true;
}

static int load_id(const char *path, struct mxg_fleet_id *id)
{
	char buf[64];
	FILE *fp = fopen(path, "re");
	size_t n;

	if (!fp)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	return mxg_fleet_id_parse(buf, n, id);
}

static void *consumer(void *arg)
{
	struct mxg_fleet *f = arg;
	struct conn k = { 0 };
	struct mxg_fleet_id pos = { 0 }, id;
	bool have_pos, loaded = false;
	unsigned int n;
	char ids[48];
	redisReply *r;
	size_t i;

	have_pos = !load_id(f->c.state_path, &pos);
	if (have_pos) {
		mxg_fleet_id_str(&pos, ids, sizeof(ids));
		mxg_info("fleet: resuming the stream after %s", ids);
	}
	while (!stopping(f)) {
		if (!conn_ensure(f, &k, "consumer", CMD_TIMEOUT_MS + BLOCK_MS, false)) {
			if (nap(f, &f->stop_cond, k.retry_ms))
				break;
			continue;
		}
		if (!loaded) {
			/* Where the stream is now, then the set: what comes after is replayed. */
			if (!newest_id(f, &k, &id))
				continue;
			n = 0;
			if (!load_set(f, &k, &n))
				continue;
			mxg_notice("fleet: loaded %u current bans from Redis", n);
			if (!have_pos)
				pos = id;
			have_pos = loaded = true;
		}
		mxg_fleet_id_str(&pos, ids, sizeof(ids));
		r = redisCommand(k.c, "XREAD COUNT 1000 BLOCK %d STREAMS %s %s", BLOCK_MS,
				 f->k_events, ids);
		if (reply_bad(r)) {
			conn_lost(f, &k, "consumer", r ? r->str : k.c->errstr, false);
			freeReplyObject(r);
			continue;
		}
		/* Nil: nothing new within BLOCK_MS; anything else unexpected is skipped. */
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
		    r->element[0]->type != REDIS_REPLY_ARRAY ||
		    r->element[0]->elements != 2 ||
		    r->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			continue;
		}
		for (i = 0; i < r->element[0]->element[1]->elements; i++) {
			const redisReply *e = r->element[0]->element[1]->element[i];

			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
			    e->element[0]->type != REDIS_REPLY_STRING ||
			    mxg_fleet_id_parse(e->element[0]->str, e->element[0]->len, &id))
				continue;
			pos = id;
			if (receive(f, e->element[1], false, &id, id.ms))
				break;
		}
		freeReplyObject(r);
	}
	conn_drop(&k);
	return NULL;
}

/* ---- the event loop's side -------------------------------------------------- */

int mxg_fleet_fd(const struct mxg_fleet *f)
{
	return f->efd;
}

unsigned int mxg_fleet_take(struct mxg_fleet *f, struct mxg_fleet_in *out,
			    unsigned int max)
{
	uint64_t v;
	unsigned int n = 0;

	if (read(f->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing signalled; the queue is looked at anyway. */
	}
	pthread_mutex_lock(&f->lock);
	while (n < max && f->in_n) {
		out[n++] = f->in[f->in_head];
		f->in_head = (f->in_head + 1) % IN_MAX;
		f->in_n--;
	}
	/* More left than taken: stay readable. */
	if (f->in_n) {
		v = 1;
		if (write(f->efd, &v, sizeof(v)) < 0) {
			/* cannot fail short of a counter overflow */
		}
	}
	pthread_cond_signal(&f->in_cond);
	pthread_mutex_unlock(&f->lock);
	return n;
}

void mxg_fleet_done(struct mxg_fleet *f, const struct mxg_fleet_in *in, int r)
{
	unsigned int i;

	if (in->kind != MXG_FLEET_IN_EVENT)
		return;
	pthread_mutex_lock(&f->lock);
	if (r == MXG_FLEET_OK)
		f->st.applied++;
	else if (r > 0 && r < MXG_FLEET_N_REFUSALS)
		f->st.refused[r]++;
	for (i = 0; i < f->st.n_peers; i++) {
		if (strcmp(f->st.peers[i].host, in->ev.origin))
			continue;
		if (r == MXG_FLEET_OK)
			f->st.peers[i].applied++;
		else
			f->st.peers[i].refused++;
	}
	if (in->id.ms && mxg_fleet_id_cmp(&in->id, &f->st.applied_id) > 0) {
		f->st.applied_id = in->id;
		f->id_dirty = true;
		f->st.lag_ms = f->newest_ms > in->id.ms ? f->newest_ms - in->id.ms : 0;
	}
	pthread_mutex_unlock(&f->lock);
}

static int out_push(struct mxg_fleet *f, const struct out_item *it)
{
	pthread_mutex_lock(&f->lock);
	if (f->out_n == f->c.queue_max) {
		f->st.dropped++;
		pthread_mutex_unlock(&f->lock);
		return -ENOSPC;
	}
	f->out[(f->out_head + f->out_n) % f->c.queue_max] = *it;
	f->out_n++;
	pthread_cond_signal(&f->out_cond);
	pthread_mutex_unlock(&f->lock);
	return 0;
}

int mxg_fleet_publish(struct mxg_fleet *f, const struct mxg_fleet_event *ev)
{
	struct out_item it = { .kind = OUT_EVENT, .ev = *ev };

	snprintf(it.ev.origin, sizeof(it.ev.origin), "%s", f->c.host_id);
	return out_push(f, &it);
}

int mxg_fleet_count(struct mxg_fleet *f, const struct mxg_addr *addr,
		    const struct mxg_cidr *range, unsigned int attempts,
		    unsigned int addr_limit, unsigned int range_limit)
{
	struct out_item it = {
		.kind = OUT_COUNT, .range = *range, .attempts = attempts ? attempts : 1,
		.addr_limit = addr_limit, .range_limit = range_limit,
	};

	if (!f->c.counting)
		return 0;
	it.ev.cidr.addr = *addr;
	it.ev.cidr.prefixlen = addr->family == 4 ? 32 : 128;
	pthread_mutex_lock(&f->lock);
	f->st.failures_counted += it.attempts;
	pthread_mutex_unlock(&f->lock);
	return out_push(f, &it);
}

void mxg_fleet_get_stats(struct mxg_fleet *f, struct mxg_fleet_stats *st)
{
	pthread_mutex_lock(&f->lock);
	*st = f->st;
	st->queued = f->out_n;
	pthread_mutex_unlock(&f->lock);
}

void mxg_fleet_stats_write(const struct mxg_fleet_stats *st,
			   const struct mxg_fleet_conf *c, uint64_t now_s, FILE *out)
{
	char ids[48];
	unsigned int i;

	mxg_fleet_id_str(&st->applied_id, ids, sizeof(ids));
	fprintf(out, "updated %" PRIu64 "\nfleet %s\nhost %s\nserver %s\n"
		"connected %s\nsince %" PRIu64 "\nsent %" PRIu64 "\nqueued %" PRIu64
		"\ndropped %" PRIu64 "\nresent %" PRIu64 "\nreceived %" PRIu64
		"\napplied %" PRIu64 "\nlag_ms %" PRIu64 "\napplied_id %s\n"
		"failures_counted %" PRIu64 "\n",
		now_s, c->name, c->host_id, st->server[0] ? st->server : "-",
		st->connected ? "yes" : "no", st->state_since, st->sent, st->queued,
		st->dropped, st->resent, st->received, st->applied, st->lag_ms, ids,
		st->failures_counted);
	for (i = 1; i < MXG_FLEET_N_REFUSALS; i++)
		fprintf(out, "refused %s %" PRIu64 "\n", mxg_fleet_refusal_name((int)i),
			st->refused[i]);
	for (i = 0; i < st->n_peers; i++)
		fprintf(out, "peer %s %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
			st->peers[i].host, st->peers[i].last_ms, st->peers[i].applied,
			st->peers[i].refused);
}

struct mxg_fleet *mxg_fleet_start(const struct mxg_fleet_conf *c, char *err,
				  size_t errlen)
{
	struct mxg_fleet *f = calloc(1, sizeof(*f));
	char host[72];
	unsigned int i;
	int port;

	if (!f) {
		snprintf(err, errlen, "fleet: out of memory");
		return NULL;
	}
	f->c = *c;
	f->efd = -1;
	if (!c->n_sentinels && strncmp(c->redis, "unix:", 5) && c->redis[0] != '/' &&
	    mxg_fleet_hostport(c->redis, host, sizeof(host), &port)) {
		snprintf(err, errlen, "fleet: redis: \"%s\" is not HOST:PORT or unix:PATH", c->redis);
		goto out_free;
	}
	for (i = 0; i < c->n_sentinels; i++) {
		if (mxg_fleet_hostport(c->sentinels[i], host, sizeof(host), &port)) {
			snprintf(err, errlen, "fleet: sentinel: \"%s\" is not HOST:PORT",
				 c->sentinels[i]);
			goto out_free;
		}
	}
	if (!f->c.queue_max)
		f->c.queue_max = 65536;
	snprintf(f->k_events, sizeof(f->k_events), "mxg:%s:events", c->name);
	snprintf(f->k_ban, sizeof(f->k_ban), "mxg:%s:ban:", c->name);
	snprintf(f->k_fail, sizeof(f->k_fail), "mxg:%s:fail:", c->name);
	f->out = calloc(f->c.queue_max, sizeof(*f->out));
	f->in = calloc(IN_MAX, sizeof(*f->in));
	f->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!f->out || !f->in || f->efd < 0) {
		snprintf(err, errlen, "fleet: %s", strerror(errno ? errno : ENOMEM));
		goto out_free;
	}
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->out_cond, NULL);
	pthread_cond_init(&f->in_cond, NULL);
	pthread_cond_init(&f->stop_cond, NULL);
	if (pthread_create(&f->pub_thread, NULL, publisher, f)) {
		snprintf(err, errlen, "fleet: cannot start a thread");
		goto out_free;
	}
	f->pub_started = true;
	if (pthread_create(&f->sub_thread, NULL, consumer, f)) {
		snprintf(err, errlen, "fleet: cannot start a thread");
		mxg_fleet_stop(f);
		return NULL;
	}
	f->sub_started = true;
	return f;
out_free:
	if (f->efd >= 0)
		close(f->efd);
	free(f->out);
	free(f->in);
	free(f);
	return NULL;
}

void mxg_fleet_stop(struct mxg_fleet *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_cond_broadcast(&f->out_cond);
	pthread_cond_broadcast(&f->in_cond);
	pthread_cond_broadcast(&f->stop_cond);
	pthread_mutex_unlock(&f->lock);
	if (f->pub_started)
		pthread_join(f->pub_thread, NULL);
	if (f->sub_started)
		pthread_join(f->sub_thread, NULL);
	if (f->out_n)
		mxg_warn("fleet: %u events not sent to Redis before stopping", f->out_n);
	close(f->efd);
	free(f->out);
	free(f->in);
	free(f);
}
