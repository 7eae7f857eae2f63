/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fleet mode: this host's bans go to a Redis stream, the other hosts' bans
 * come back from it, and AUTH failures are also counted fleet-wide.
 *
 * Everything that talks to Redis runs in two threads of this module, each
 * with its own connection: a publisher (the outgoing queue, shared
 * counting, the status file) and a consumer (loading the current ban set,
 * then XREAD BLOCK on the stream). The daemon's event loop only ever takes
 * a lock for a few copies: it queues with mxg_fleet_publish() and
 * mxg_fleet_count() (never waiting: a full queue drops and counts), and
 * takes received events with mxg_fleet_take() when mxg_fleet_fd() is
 * readable. Redis down, slow or failing over stalls these threads only;
 * what is queued stays queued and is sent when a connection works again.
 *
 * Keys, all under "mxg:NAME:" (NAME the fleet name):
 *     events          the stream (XADD MAXLEN ~ maxlen), one entry per
 *                     ban or unban (wire.h)
 *     ban:CIDR        a hash per current ban, the same fields, expiring
 *                     with the ban: a starting host loads them by SCAN
 *     fail:CIDR       fleet-wide failure count of an address or a range,
 *                     expiring findtime after its first failure
 */
#ifndef MXG_FLEET_H
#define MXG_FLEET_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "wire.h"

#define MXG_FLEET_SENTINELS	8

struct mxg_fleet;
#define MXG_FLEET_PEERS		64

struct mxg_fleet_conf {
	char redis[256];		/* "HOST:PORT", "unix:PATH" or "/PATH"; "" with sentinels */
	char sentinels[MXG_FLEET_SENTINELS][72];	/* "HOST:PORT" each */
	unsigned int n_sentinels;
	char master[64];		/* the Sentinel master name */
	char user[64];			/* ACL user; "" for the default user */
	char password[256];		/* "" for none */
	char name[MXG_FLEET_NAME_MAX + 1];
	char host_id[MXG_FLEET_HOST_MAX + 1];
	char state_path[PATH_MAX + 32];	/* the last applied stream id */
	char status_path[PATH_MAX + 32];	/* what mxguard fleet status reads */
	unsigned int queue_max;		/* outgoing events held at most */
	uint64_t maxlen;		/* stream length kept (approximately) */
	uint64_t findtime_ms;		/* window of the shared counts */
	bool counting;			/* shared counting on */
	/*
	 * Called by the publisher thread about every 2 s, to queue what the
	 * event loop does not see (bans and unbans made with the CLI). NULL:
	 * none.
	 */
	void (*scan)(struct mxg_fleet *f, void *arg);
	void *scan_arg;
};

/* What the consumer hands to the event loop. */
enum mxg_fleet_in_kind {
	MXG_FLEET_IN_EVENT = 1,	/* a peer's event, decoded, not yet checked */
	MXG_FLEET_IN_COUNT,	/* a shared count crossed its limit */
};

struct mxg_fleet_in {
	int kind;
	struct mxg_fleet_event ev;	/* EVENT; COUNT: cidr only */
	struct mxg_fleet_id id;		/* EVENT from the stream; 0-0 from the set */
	uint64_t count;			/* COUNT: the fleet-wide count */
};

struct mxg_fleet_peer {
	char host[MXG_FLEET_HOST_MAX + 1];
	uint64_t last_ms;		/* its last event (stream time) */
	uint64_t applied, refused;
};

struct mxg_fleet_stats {
	bool connected;			/* the publisher's connection works */
	char server[256];		/* where it is connected (or tried last) */
	uint64_t state_since;		/* unix s of the last connect or loss */
	uint64_t sent, dropped, queued, resent, failures_counted;
	uint64_t received, applied, refused[MXG_FLEET_N_REFUSALS];
	uint64_t lag_ms;		/* newest stream entry - last applied */
	uint64_t reconnects;
	struct mxg_fleet_id applied_id;
	unsigned int n_peers;
	struct mxg_fleet_peer peers[MXG_FLEET_PEERS];
};

/*
 * Start both threads. They connect on their own (a Redis that is down at
 * start is no error). Returns NULL with err filled on a bad address or
 * no memory.
 */
struct mxg_fleet *mxg_fleet_start(const struct mxg_fleet_conf *c, char *err,
				  size_t errlen);
/* Stop the threads (a send in progress gets its timeout) and free. */
void mxg_fleet_stop(struct mxg_fleet *f);

/* Readable (an eventfd) when mxg_fleet_take() has something. */
int mxg_fleet_fd(const struct mxg_fleet *f);
/* Take up to max received items; returns how many. */
unsigned int mxg_fleet_take(struct mxg_fleet *f, struct mxg_fleet_in *out,
			    unsigned int max);

/*
 * What the event loop made of a received event: applied (or already in
 * force), or refused (r, a refusal). The stream id is then kept as the
 * place to resume from.
 */
void mxg_fleet_done(struct mxg_fleet *f, const struct mxg_fleet_in *in, int r);

/* Queue a local ban or unban (origin is filled in). 0, or -ENOSPC: dropped. */
int mxg_fleet_publish(struct mxg_fleet *f, const struct mxg_fleet_event *ev);

/*
 * Count attempts failures of addr and of its range fleet-wide; crossing
 * addr_limit or range_limit comes back as MXG_FLEET_IN_COUNT. 0 or -ENOSPC.
 */
int mxg_fleet_count(struct mxg_fleet *f, const struct mxg_addr *addr,
		    const struct mxg_cidr *range, unsigned int attempts,
		    unsigned int addr_limit, unsigned int range_limit);

void mxg_fleet_get_stats(struct mxg_fleet *f, struct mxg_fleet_stats *st);

/* The status file's content, and reading it back (mxguard fleet status). */
void mxg_fleet_stats_write(const struct mxg_fleet_stats *st,
			   const struct mxg_fleet_conf *c, uint64_t now_s, FILE *out);

/* Split "HOST:PORT" ("[v6]:PORT" too); 0 or -EINVAL. */
int mxg_fleet_hostport(const char *s, char *host, size_t hostlen, int *port);

#endif
