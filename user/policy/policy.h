/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ban policy: AUTH failures and XDP rate events in, ban decisions out.
 *
 * A pure module: no BPF, no clock, no I/O. The caller passes "now" (CLOCK_BOOTTIME
 * nanoseconds, the clock of struct mxg_deny) with every call and writes the
 * decisions it is handed into the denylist map. Times that go backwards are
 * treated as the latest time seen.
 *
 * How it decides
 * --------------
 * - Per address: the last maxretry failure times are kept in a ring. When
 *   maxretry of them fall within findtime (t + findtime > now), the address
 *   (/32 or /128) is banned. "auth failed, 3 attempts" counts 3.
 * - Per range (range_v4 / range_v6, default /24 and /64): a host counts toward
 *   its range once it has range_min_failures failures within findtime or has
 *   an active ban. When range_hosts distinct hosts count, the range is banned
 *   instead of the host.
 * - IPv6 hosts have endless addresses, so failures are also counted per /64
 *   range directly: range_failures_v6 (default 5, as maxretry) failures within
 *   findtime, from at least two addresses of the range, ban the range. An
 *   attacker rotating addresses in a /64 is stopped after about maxretry
 *   attempts in total. IPv4 ranges are counted the same way with
 *   range_failures_v4 (default 15 = maxretry * range_hosts), which stops a
 *   /24 trying one password per address. The per-range count uses two
 *   findtime buckets, the older one weighted by how much of it is still in
 *   the window (exact for a burst, an estimate otherwise).
 * - XDP rate events: a range reported over its SYN rate in rate_events
 *   distinct seconds within findtime is banned (reason MXG_REASON_RATE).
 * - Repeat offenders: the n-th ban of the same range lasts
 *   bantime * 2^(n-1), at most bantime_max. The offence count is remembered
 *   for forgettime after the ban ends.
 * - Failures from an address inside an active ban (ours or noted with
 *   mxg_policy_note_ban) are ignored: log lines written before the ban took
 *   effect do not create duplicate bans.
 * - Never banned, nor any range overlapping them: 127.0.0.0/8, 0.0.0.0/8,
 *   ::1, ::, the host's own addresses, ignoreip. Nothing wider than
 *   floor_v4 / floor_v6 is ever emitted.
 * - Monitor mode: decisions are emitted with monitor = true ("would ban"),
 *   nothing is recorded as banned, counting goes on (the counters of the
 *   address or range are reset after each would-ban, so the log shows a
 *   would-ban every maxretry failures rather than on every line).
 *
 * Defaults (fail2ban spirit, tuned for SMTP AUTH)
 * -----------------------------------------------
 * maxretry 5, findtime 10 min: a person mistyping a password in a mail client
 * retries two or three times, then fixes it; bots try hundreds of passwords.
 * But mail clients retry with the *stored* password at every poll (every
 * 1-10 min, often from several devices), so a user whose password changed
 * produces a steady trickle of failures: 5 in 10 minutes bans them for an
 * hour, which is noticed and fixed. Offices and NATed sites put many such
 * users behind one address: list them in ignoreip rather than raising
 * maxretry for everybody.
 * bantime 1 h, doubling per repeat, bantime_max 1 week, forgettime 1 week:
 * a mistake costs an hour; a bot that comes back pays 2 h, 4 h, ... a week.
 * range_hosts 3 in a /24 or /64, with range_min_failures 2: three neighbours
 * each mistyping once never ban their network; three hosts each trying twice
 * do. range_failures_v4 15 (= maxretry * range_hosts) and range_failures_v6 5
 * (= maxretry): see above. floor /16 and /32: nothing automatic may block a
 * whole provider.
 * rate_events 3: XDP reports at most one event per range per second, so a
 * range over its SYN rate in 3 distinct seconds within findtime is a flood,
 * not a burst.
 *
 * Evidence lines go to a ring shared by all addresses; a ban copies the
 * lines of the addresses it covers (the last evidence_lines of them) out of
 * the ring. Under a flood of distinct addresses the ring may have recycled
 * a host's older lines by the time it is banned: evidence is then shorter.
 *
 * Memory is bounded: per-address and per-range counting lives in one hash
 * table of `capacity` entries, preallocated, the least recently used entry
 * evicted when full; ban records (active bans and remembered offences) are at
 * most max_bans; evidence lines are kept in a preallocated ring of
 * evidence_pool lines (see evidence.h) and copied into the ban record when a
 * ban is made (at most evidence_lines per ban). With the defaults the
 * preallocated part is about 27 MiB; ban records cost ~100 bytes plus their
 * evidence (at most 20 lines of at most 512 bytes) each.
 *
 * Not thread-safe: one thread (the daemon's event loop) calls everything.
 * Bans noted from outside (mxg_policy_note_ban) stop counting inside them and
 * set the base of the doubling, but a noted host ban does not by itself count
 * toward its range's range_hosts (only hosts seen failing do).
 */
#ifndef MXG_POLICY_H
#define MXG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "mxguard.h"
#include "addr.h"
#include "units.h"


/* Bounds checked by mxg_policy_config_check(). */
#define MXG_POLICY_MAXRETRY_MAX		100	/* ring slots per entry */
#define MXG_POLICY_RANGE_HOSTS_MAX	64
#define MXG_POLICY_RATE_EVENTS_MAX	100
#define MXG_POLICY_CAPACITY_MIN		16
#define MXG_POLICY_CAPACITY_MAX		(1U << 24)
#define MXG_POLICY_TIME_MAX		(365 * MXG_DAY_NS)
#define MXG_POLICY_EVIDENCE_LINES_MAX	1000
#define MXG_POLICY_EVIDENCE_POOL_MAX	(1U << 22)
#define MXG_POLICY_OWN_MAX		4096
#define MXG_POLICY_IGNORE_MAX		4096

struct mxg_policy_config {
	unsigned int maxretry;		/* failures within findtime that ban a host; 5 */
	uint64_t findtime_ns;		/* sliding window; 10 min */
	uint64_t bantime_ns;		/* first ban; 1 h */
	uint64_t bantime_max_ns;	/* cap of the doubling; 1 week */
	uint64_t forgettime_ns;		/* offence memory after a ban ends; 1 week */
	unsigned int range_v4;		/* escalation range for IPv4; 24 */
	unsigned int range_v6;		/* escalation range for IPv6; 64 */
	unsigned int range_hosts;	/* distinct hosts that ban their range; 3, 0 = never */
	unsigned int range_min_failures; /* failures for a host to count; 2 */
	unsigned int range_failures_v4;	/* failures in one IPv4 range that ban it; 15, 0 = never */
	unsigned int range_failures_v6;	/* failures in one IPv6 range that ban it; 5, 0 = never */
	unsigned int floor_v4;		/* widest automatic IPv4 ban; 16 */
	unsigned int floor_v6;		/* widest automatic IPv6 ban; 32 */
	unsigned int rate_events;	/* distinct seconds over rate that ban; 3, 0 = never */
	unsigned int capacity;		/* counting entries (hosts + ranges); 65536 */
	unsigned int max_bans;		/* ban records, active or remembered; 2^21 */
	unsigned int evidence_lines;	/* lines kept per ban; 20 */
	unsigned int evidence_pool;	/* recent lines kept (512 bytes each); 16384 */
	bool monitor;			/* emit would-bans only */
	uint64_t hash_seed;		/* 0 = pick a random one */
	/* Copied by mxg_policy_new() and mxg_policy_reconfigure(). */
	const struct mxg_cidr *ignoreip;
	unsigned int n_ignoreip;
	const struct mxg_addr *own;	/* the host's own addresses */
	unsigned int n_own;
};

/* A decision handed to the caller. */
struct mxg_ban {
	struct mxg_cidr cidr;
	uint64_t duration_ns;		/* never 0 (permanent) from the policy */
	uint64_t expires_ns;		/* now + duration_ns */
	unsigned int ban_count;		/* 1 for a first offence, 2, ... */
	int reason;			/* MXG_REASON_LOG or MXG_REASON_RATE */
	bool monitor;			/* a would-ban: nothing was recorded */
	unsigned int failures;		/* failures (or rate seconds) counted */
	unsigned int hosts;		/* distinct hosts counted (range bans) */
	const char *service;		/* of the last failure; NULL for rate */
	uint16_t port;			/* rate bans: the port of the last event */
};

/* Called once per decision, from inside the call that caused it. */
typedef void (*mxg_ban_fn)(const struct mxg_ban *ban, void *ctx);

/* What the policy remembers about a range: an active ban or an offence. */
struct mxg_ban_info {
	struct mxg_cidr cidr;
	uint64_t added_ns;
	uint64_t expires_ns;		/* 0 = permanent */
	unsigned int ban_count;
	int reason;			/* enum mxg_reason; 0 when noted from outside */
	unsigned int failures;
	bool active;			/* expires_ns == 0 || now < expires_ns */
	bool saved;			/* evidence written since last change */
	unsigned int n_lines;		/* evidence lines held */
};

struct mxg_policy;

/* Fill cfg with the defaults above (ignore/own lists empty). */
void mxg_policy_config_defaults(struct mxg_policy_config *cfg);

/*
 * Check every bound and cross-key rule. Returns 0, or -EINVAL with a message
 * in err that starts with the key: "maxretry: must be between 1 and 100".
 */
int mxg_policy_config_check(const struct mxg_policy_config *cfg, char *err,
			    size_t errlen);

/*
 * Allocate a policy (all tables preallocated). cfg must pass the check.
 * Returns NULL with errno EINVAL or ENOMEM.
 */
struct mxg_policy *mxg_policy_new(const struct mxg_policy_config *cfg,
				  mxg_ban_fn fn, void *ctx);
void mxg_policy_free(struct mxg_policy *p);

/*
 * Apply a new config (reload). Bans and offences are kept. When maxretry,
 * rate_events, range_hosts or capacity change, the counting table is rebuilt
 * and failures counted so far are forgotten. Returns 0 or -EINVAL / -ENOMEM
 * (the old config then stays in force).
 */
int mxg_policy_reconfigure(struct mxg_policy *p,
			   const struct mxg_policy_config *cfg);

/*
 * An AUTH failure from addr. attempts >= 1. line[0..len) is the raw log line
 * (may be NULL): it is redacted and kept as evidence. user may be NULL.
 * Returns the number of decisions emitted (0, 1; 2 if a host ban also
 * completes its range), or -EINVAL.
 */
int mxg_policy_failure(struct mxg_policy *p, uint64_t now_ns,
		       const struct mxg_addr *addr, const char *service,
		       const char *user, unsigned int attempts,
		       const char *line, size_t len);

/*
 * Ban addr now, without counting: a login the accounts store judged a
 * likely guessed password (ban_on_compromise). The same guards as any ban
 * from the logs: loopback, own addresses and ignoreip are never banned,
 * nor an address inside an active ban again; the ban time doubles for a
 * repeat offender. line[0..len) is kept as evidence. Returns the number of
 * decisions emitted (0, 1), or -EINVAL.
 */
int mxg_policy_ban_now(struct mxg_policy *p, uint64_t now_ns,
		       const struct mxg_addr *addr, const char *service,
		       const char *line, size_t len);

/*
 * XDP reported cidr over its SYN rate on port (count: drops so far).
 * Returns the number of decisions emitted (0, 1), or -EINVAL.
 */
int mxg_policy_rate(struct mxg_policy *p, uint64_t now_ns,
		    const struct mxg_cidr *cidr, uint16_t port, uint64_t count);

/*
 * A ban made elsewhere (manual ban, import, the pinned denylist adopted at
 * start-up): failures inside it are ignored while it lasts, and its
 * ban_count is the base of the next doubling. expires_ns 0 = permanent.
 * Returns 0, -EINVAL, or -ENOSPC when max_bans records are held.
 */
int mxg_policy_note_ban(struct mxg_policy *p, const struct mxg_cidr *cidr,
			uint64_t expires_ns, unsigned int ban_count);

/*
 * The range was unbanned: forget its ban record, its offences, its evidence
 * and the failures counted for it and every address inside it.
 * Returns 0, or -ENOENT when nothing was known about it (state is cleared
 * anyway).
 */
int mxg_policy_note_unban(struct mxg_policy *p, const struct mxg_cidr *cidr);

/* Expire idle counting state and forgotten offences. Call every few seconds. */
void mxg_policy_tick(struct mxg_policy *p, uint64_t now_ns);

/* Would addr never be banned (loopback, unspecified, own, ignoreip)? */
bool mxg_policy_ignored(const struct mxg_policy *p, const struct mxg_addr *addr);

/* Is addr inside an active ban the policy knows of? */
bool mxg_policy_is_banned(const struct mxg_policy *p, uint64_t now_ns,
			  const struct mxg_addr *addr);

/* Counting entries in use (<= capacity) and ban records held. */
unsigned int mxg_policy_entries(const struct mxg_policy *p);
unsigned int mxg_policy_bans(const struct mxg_policy *p);

/* Failures counted within findtime for addr (its own ring). */
unsigned int mxg_policy_failures(const struct mxg_policy *p, uint64_t now_ns,
				 const struct mxg_addr *addr);

/* The record for exactly cidr. Returns 0 or -ENOENT. */
int mxg_policy_ban_info(const struct mxg_policy *p, uint64_t now_ns,
			const struct mxg_cidr *cidr, struct mxg_ban_info *out);

/*
 * Call fn for every ban record (active and remembered), in no order. A
 * non-zero return from fn stops the walk and is returned.
 */
int mxg_policy_for_each_ban(const struct mxg_policy *p, uint64_t now_ns,
			    int (*fn)(const struct mxg_ban_info *info, void *ctx),
			    void *ctx);

/*
 * Call fn for each evidence line of the ban record of exactly cidr, oldest
 * first (lines are redacted, without newline). Returns 0, fn's non-zero
 * return, or -ENOENT.
 */
int mxg_policy_evidence(const struct mxg_policy *p, const struct mxg_cidr *cidr,
			int (*fn)(const char *line, void *ctx), void *ctx);

/* Mark the record's evidence as written (mxg_evidence_save does it). */
void mxg_policy_mark_saved(struct mxg_policy *p, const struct mxg_cidr *cidr);

/*
 * Call fn for at most max records whose evidence changed since it was
 * last marked saved, oldest change first, without walking the others.
 * fn may mark the record it is given saved. A non-zero return from fn
 * stops the walk and is returned.
 */
int mxg_policy_for_each_unsaved(struct mxg_policy *p, uint64_t now_ns,
				unsigned int max,
				int (*fn)(const struct mxg_ban_info *info, void *ctx),
				void *ctx);

#endif
