/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The attacked accounts, and the compromise alert.
 *
 * A pure module like the policy: no clock, no I/O, no allocation after
 * mxg_accounts_new(). The caller passes "now" (unix seconds) with every
 * call. Two tables, each of a fixed capacity:
 *
 * - Accounts, by name: failures, distinct sources, first and last seen,
 *   successes, the last success and its source, and whether a login looked
 *   like a guessed password. A name is attacker-chosen text: it is kept as
 *   at most MXG_ACCT_NAME_MAX bytes (longer ones are cut, and marked so),
 *   compared as bytes, and only ever shown through mxg_acct_escape() or a
 *   JSON string writer. When the table is full, the entry that goes is the
 *   least valuable of the MXG_ACCT_EVICT_SAMPLE least recently used (fewest
 *   failures, never one that ever logged in while another can go): a
 *   spray of a million random names cannot push out "admin" with its
 *   thousands of failures. Evictions are counted.
 * - Failing sources, by host (/32, /128) and by range (prefix_v4/prefix_v6):
 *   the failures of the current run (a run ends when the source has been
 *   quiet for window), its first and last failure, and the accounts it
 *   tried: MXG_ACCT_TRIED exactly, with their failure counts, the rest in a
 *   small Bloom filter that only counts them as distinct (approximate).
 *
 * The alert: a success for account A from address X is a likely guessed
 * password when X's host or range failed within window before, and either
 * failed against A itself at least min_failures times, or tried at least
 * guess_accounts distinct accounts. One alert per account and source
 * range per window.
 *
 * Distinct sources per account are kept exactly up to MXG_ACCT_SRC_EXACT,
 * then estimated from a 256-bit linear-counting bitmap (good to about a
 * thousand sources; it says "more than" past that).
 */
#ifndef MXG_ACCOUNTS_H
#define MXG_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define MXG_ACCT_NAME_MAX	64	/* bytes of a name kept */
#define MXG_ACCT_SRC_EXACT	8	/* sources per account counted exactly */
#define MXG_ACCT_TRIED		8	/* accounts per source counted exactly */
#define MXG_ACCT_EVIDENCE_NAMES	4	/* names tried that the evidence lists */
#define MXG_ACCT_EVICT_SAMPLE	8	/* LRU entries weighed before evicting */
#define MXG_ACCT_CAPACITY_MIN	16
#define MXG_ACCT_CAPACITY_MAX	(1u << 22)
/* A name written by mxg_acct_escape(): 4 bytes per byte at worst, and a NUL. */
#define MXG_ACCT_ESC_MAX	(4 * MXG_ACCT_NAME_MAX + 1)

struct mxg_accounts_config {
	unsigned int capacity;		/* accounts kept; 32768 */
	unsigned int src_capacity;	/* failing hosts and ranges kept; 32768 */
	int64_t window;			/* seconds a source's failures count; 3600 */
	unsigned int min_failures;	/* failures against the account itself; 3 */
	unsigned int guess_accounts;	/* distinct accounts that make a guesser; 3 */
	unsigned int prefix_v4;		/* the range a host belongs to; 24 */
	unsigned int prefix_v6;		/* 64 */
	uint64_t hash_seed;		/* 0: pick a random one */
};

/* What one account looks like (mxg_accounts_each, mxg_accounts_get). */
struct mxg_account {
	char name[MXG_ACCT_NAME_MAX];	/* bytes, not NUL terminated */
	unsigned int len;
	bool cut;			/* the name was longer */
	uint64_t failures;
	uint64_t successes;
	unsigned int sources;		/* distinct failing or logging-in hosts */
	bool sources_approx;		/* an estimate past MXG_ACCT_SRC_EXACT */
	int64_t first, last;		/* first and last seen (failure or success) */
	int64_t last_success;		/* 0: never */
	struct mxg_addr last_success_addr;
	int64_t compromised;		/* the last alert; 0: none */
	struct mxg_addr compromise_addr;
	/* For the state file: the source set itself. */
	uint32_t src_exact[MXG_ACCT_SRC_EXACT];
	unsigned int n_src_exact;
	uint64_t src_bits[4];
};

/* The evidence behind one alert. */
struct mxg_compromise {
	const char *name;		/* the account, name_len bytes */
	unsigned int name_len;
	struct mxg_addr addr;		/* where the login came from */
	struct mxg_cidr source;		/* the host or range that failed */
	unsigned int failures;		/* by source, this run */
	unsigned int account_failures;	/* of those, against this account */
	unsigned int accounts_tried;	/* distinct accounts (approximate past MXG_ACCT_TRIED) */
	int64_t first, last;		/* source's first and last failure */
	unsigned int n_names;		/* names tried (up to MXG_ACCT_EVIDENCE_NAMES) */
	char names[MXG_ACCT_EVIDENCE_NAMES][MXG_ACCT_NAME_MAX];
	unsigned int names_len[MXG_ACCT_EVIDENCE_NAMES];
	bool guesser;			/* tried guess_accounts or more */
};

struct mxg_accounts_stats {
	unsigned int accounts;		/* in use */
	unsigned int sources;		/* failing sources in use */
	uint64_t evicted;		/* accounts pushed out by newer ones */
	uint64_t src_evicted;
	uint64_t failures, successes, alerts;
};

struct mxg_accounts;

void mxg_accounts_config_defaults(struct mxg_accounts_config *c);

/* 0, or -EINVAL with "key: why" in err. */
int mxg_accounts_config_check(const struct mxg_accounts_config *c, char *err,
			      size_t errlen);

/* All memory at once. NULL with errno (EINVAL, ENOMEM). */
struct mxg_accounts *mxg_accounts_new(const struct mxg_accounts_config *c);
void mxg_accounts_free(struct mxg_accounts *a);

/*
 * New window, thresholds and prefixes; capacities stay as they were.
 * 0 or -EINVAL.
 */
int mxg_accounts_reconfigure(struct mxg_accounts *a,
			     const struct mxg_accounts_config *c);

/*
 * A failed login (or several: attempts) to user from addr. user may be
 * NULL or "" (not logged): it counts for the source only.
 */
void mxg_accounts_failure(struct mxg_accounts *a, int64_t now,
			  const struct mxg_addr *addr, const char *user,
			  unsigned int attempts);

/*
 * A successful login. Returns 1 with out filled when it raises the alert
 * (out->name points into the store until its next call), else 0; -EINVAL
 * for a bad address or an empty user.
 */
int mxg_accounts_success(struct mxg_accounts *a, int64_t now,
			 const struct mxg_addr *addr, const char *user,
			 struct mxg_compromise *out);

/* The account called user[0..len), or -ENOENT. */
int mxg_accounts_get(const struct mxg_accounts *a, const char *user,
		     size_t len, struct mxg_account *out);

/* Call fn for each account, in no order; fn's non-zero return stops it. */
int mxg_accounts_each(const struct mxg_accounts *a,
		      int (*fn)(const struct mxg_account *acc, void *arg),
		      void *arg);

/*
 * Copy at most max accounts as they are held (sources not computed) into
 * out, for a writer in another thread (mxg_accounts_render_list). Returns
 * how many. A memcpy per account: cheap enough for the event loop.
 */
unsigned int mxg_accounts_copy(const struct mxg_accounts *a,
			       struct mxg_account *out, unsigned int max);

/* The capacity the store was made with. */
unsigned int mxg_accounts_capacity(const struct mxg_accounts *a);

void mxg_accounts_stats(const struct mxg_accounts *a,
			struct mxg_accounts_stats *st);

/*
 * Put an account back as the state file had it (mxg_acct_state_parse):
 * the newer of two with one name wins. 0, -ENOSPC when the table is full
 * of accounts worth more, -EINVAL.
 */
int mxg_accounts_restore(struct mxg_accounts *a, const struct mxg_account *acc);

/*
 * Write name[0..len) as printable ASCII into out (at least
 * MXG_ACCT_ESC_MAX bytes): every byte outside '!'..'~', and the backslash,
 * becomes \xNN, so the text holds no space, control character, terminal
 * escape or newline and reads back exactly (mxg_acct_unescape). Returns out.
 */
const char *mxg_acct_escape(const char *name, size_t len, char *out);

/* The reverse; -EINVAL for a bad escape or more than max bytes. */
int mxg_acct_unescape(const char *s, size_t slen, char *out, size_t max,
		      size_t *len);

/*
 * The state file: one account a line, fields separated by a space,
 * the name escaped:
 *   NAME CUT FAILURES SUCCESSES FIRST LAST LAST_SUCCESS LAST_SUCCESS_ADDR
 *   COMPROMISED COMPROMISE_ADDR SOURCE_HASHES SOURCE_BITS
 * (times in unix seconds, "-" for no address, hashes in hex joined by ',').
 * mxg_acct_state_line writes one (no newline) into buf and returns its
 * length (0 if it would not fit); mxg_acct_state_parse reads one back,
 * 0 or -EINVAL.
 */
#define MXG_ACCT_STATE_HEADER	"# mxguard accounts v1"
#define MXG_ACCT_STATE_LINE_MAX	1024
size_t mxg_acct_state_line(const struct mxg_account *acc, char *buf,
			   size_t size);
int mxg_acct_state_parse(const char *line, size_t len, struct mxg_account *acc);

/* Is name[0..len) one of the role names in list (words, case-insensitive)? */
bool mxg_acct_is_role(const char *list, const char *name, size_t len);

#endif
