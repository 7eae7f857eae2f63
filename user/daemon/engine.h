/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The detection engine: parser, ban policy and the denylist maps wired
 * together. The daemon feeds it live lines and XDP rate events; replay
 * feeds it old lines with their own timestamps.
 */
#ifndef MXG_ENGINE_H
#define MXG_ENGINE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "maps.h"
#include "parse.h"
#include "policy.h"

#define MXG_MAX_OWN_ADDRS 256

/*
 * Rate reports already fed to the policy, by bucket and stamp: an XDP event
 * and a later walk of the rate maps (after the ring lost events) may show
 * the same stamp of one bucket; it is counted once. Direct-mapped: a
 * collision only forgets an older stamp.
 */
#define MXG_RATE_SEEN 32768

struct mxg_rate_seen {
	uint64_t stamp_ns;		/* the bucket's last_event_ns; 0: free */
	struct mxg_cidr cidr;
	uint16_t port;
};

/* Refused bans remembered during one policy call (more are rare: lost). */
#define MXG_REFUSED_MAX 16

/* A full denylist is reported at most this often. */
#define MXG_REFUSED_WARN_NS (60 * MXG_SEC_NS)

/* Ban latency histogram bucket bounds (seconds), for metrics. */
#define MXG_LAT_BUCKETS 8
extern const double mxg_lat_bounds[MXG_LAT_BUCKETS];

/* A followed file and the source its lines are judged as. */
struct mxg_log_source {
	char path[PATH_MAX];
	int src;			/* MXG_SRC_SYSLOG, a service, a pattern */
};

struct mxg_engine {
	const struct mxg_maps *m;	/* NULL: decide only, write nothing */
	struct mxg_parser *parser;
	/* The config's logs, "[SOURCE:]PATH" resolved; other paths are syslog. */
	struct mxg_log_source sources[MXG_MAX_LOGS];
	unsigned int n_sources;
	struct mxg_policy *policy;
	/* The patterns compiled into parser, to recompile on reload only when changed. */
	unsigned int n_patterns;
	char patterns[MXG_MAX_PATTERNS][MXG_PATTERN_LEN];
	struct mxg_addr own[MXG_MAX_OWN_ADDRS];
	unsigned int n_own;
	/*
	 * Replay: judge each line at the time it carries rather than now;
	 * bans that have run out by now are counted, not written.
	 */
	bool replay;
	/*
	 * The policy's clock minus CLOCK_BOOTTIME: 0 live; for replay the
	 * policy runs on the wall clock, which reaches back before the boot.
	 */
	uint64_t clock_offset;
	/* Counters, for logs and metrics. */
	uint64_t lines;
	uint64_t matched[MXG_SVC_COUNT];
	uint64_t bans[MXG_REASON_IMPORT + 1];	/* by reason */
	uint64_t would_bans;			/* monitor mode */
	uint64_t bans_run_out;			/* replay: already over */
	uint64_t lat_count[MXG_LAT_BUCKETS + 1];
	double lat_sum;
	uint64_t bans_refused;			/* the denylist would not take them */
	uint64_t refused_warned_ns;		/* last "denylist is full" line, CLOCK_MONOTONIC */
	/*
	 * Bans the denylist refused during one policy call: the policy is told
	 * they are not in force once the call has returned (not from inside
	 * its callback), so it keeps counting those offenders.
	 */
	struct mxg_cidr refused[MXG_REFUSED_MAX];
	unsigned int n_refused;
	struct mxg_rate_seen *rate_seen;	/* MXG_RATE_SEEN, allocated on first use */
	bool dirty;				/* a ban was written */
	/* Set by the caller before feeding a line: when it was read. */
	uint64_t line_read_ns;
};

/* Compile patterns, build the policy, adopt the bans already in the maps. */
int mxg_engine_init(struct mxg_engine *e, const struct mxg_options *o,
		    const struct mxg_maps *m, char *err, size_t errlen);
/* Resolve the config's "[SOURCE:]PATH" logs (init does it); -EINVAL on an unknown source. */
int mxg_engine_sources(struct mxg_engine *e, const struct mxg_options *o,
		       char *err, size_t errlen);

/*
 * Apply a new config (reload): the policy's settings and, when they
 * changed, the custom patterns (a new parser, the log sources resolved
 * against it). All or nothing: on error the old config stays whole.
 */
int mxg_engine_reconfigure(struct mxg_engine *e, const struct mxg_options *o,
			   char *err, size_t errlen);
void mxg_engine_free(struct mxg_engine *e);

/*
 * One log line (an mxg_line_fn: arg is the engine). path picks how it is
 * read: a log bound to a server ("exim:/var/log/exim4/mainlog") by that
 * server's parser only, anything else (files, "journal") by its tag.
 */
void mxg_engine_line(const char *line, size_t len, const char *path, void *arg);

/* One parsed failure (replay hands over what mxg_scan_file found). */
void mxg_engine_event(struct mxg_engine *e, const struct mxg_auth_event *ev,
		      const char *line, size_t len);

/*
 * XDP reported cidr over its SYN rate on port; stamp_ns is the bucket's
 * last_event_ns of that report (the event's ts_ns). Returns true when it
 * was counted, false for a stamp already seen.
 */
bool mxg_engine_rate(struct mxg_engine *e, const struct mxg_cidr *cidr,
		     uint16_t port, uint64_t count, uint64_t stamp_ns);

/*
 * Forget bans an operator removed from the maps by hand: a map lookup per
 * running ban. mxg_engine_reconcile does it all at once; the daemon splits
 * it so the lookups (over 100 ms for 60,000 bans) run off its event loop:
 * begin lists the running bans (NULL without maps or memory), check looks
 * each up in the maps and touches nothing else (any thread), end notes
 * those still running and still missing as unbanned, and frees r.
 */
struct mxg_reconcile;
struct mxg_reconcile *mxg_reconcile_begin(const struct mxg_engine *e);
void mxg_reconcile_check(struct mxg_reconcile *r);
void mxg_reconcile_end(struct mxg_engine *e, struct mxg_reconcile *r);
void mxg_reconcile_free(struct mxg_reconcile *r);
void mxg_engine_reconcile(struct mxg_engine *e);

#endif
