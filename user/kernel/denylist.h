/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Writing bans into the denylist safely, and keeping them across reboots.
 *
 * The denylist is a longest-prefix-match trie: a packet is judged by the
 * most specific entry that covers it, or when that has expired by the
 * longest active entry wider than it (the XDP program looks further, so a
 * host ban that runs out inside a banned range does not let its host
 * through). The rule here: a new ban never shortens one already there (a
 * permanent manual ban is not turned into a one-hour ban by the log
 * policy), and is not written at all when a wider active entry already
 * covers it for longer.
 */
#ifndef MXG_DENYLIST_H
#define MXG_DENYLIST_H

#include <stdbool.h>
#include <stdint.h>

#include "maps.h"

enum mxg_apply_result {
	MXG_APPLY_ADDED = 0,	/* a new entry */
	MXG_APPLY_EXTENDED,	/* an entry for exactly this range was replaced */
	MXG_APPLY_COVERED,	/* an active entry already covers it for longer */
};

/*
 * The rule above as a pure decision, apart from the maps: v is the new
 * entry for c (expires_ns, ban_count: the caller's count, 0 taken as 1),
 * cover the longest entry that covers c (NULL: none). Returns
 * MXG_APPLY_COVERED when v must not be written (an active entry lasts as
 * long), MXG_APPLY_EXTENDED when v replaces c's own entry (v then keeps
 * its hits and counts one offence more than it), else MXG_APPLY_ADDED.
 */
int mxg_deny_decide(const struct mxg_cidr *c, const struct mxg_deny *cover,
		    uint64_t now_ns, struct mxg_deny *v);

/*
 * Ban c until expires_ns (CLOCK_BOOTTIME; 0 = permanent) for reason.
 * ban_count is the offence number the caller counted (1 for a first ban).
 * Returns enum mxg_apply_result, or a negative errno.
 */
int mxg_denylist_apply(const struct mxg_maps *m, const struct mxg_cidr *c,
		       uint64_t expires_ns, uint32_t reason,
		       unsigned int ban_count, uint64_t now_ns, const char *note);

/*
 * mxg_denylist_apply for many bans at once (import): the same rule, but
 * while a family's trie held nothing when the writer began, the covering
 * entry is looked for among the ranges this writer wrote, in its own
 * table, instead of with an LPM lookup in the kernel (a third of an
 * import's time, measured with perf). A new entry is written only if its
 * key is still absent (BPF_NOEXIST); a key someone else wrote meanwhile,
 * and every ban of a family whose trie was not empty, take
 * mxg_denylist_apply. A ban made meanwhile by someone else that covers a
 * range of the import is not seen: the range then gets its own entry,
 * which changes no verdict.
 */
struct mxg_bulk;
struct mxg_bulk *mxg_bulk_new(const struct mxg_maps *m);
int mxg_bulk_apply(struct mxg_bulk *b, const struct mxg_cidr *c,
		   uint64_t expires_ns, uint32_t reason, uint64_t now_ns,
		   const char *note);
void mxg_bulk_free(struct mxg_bulk *b);

/*
 * The longest ban that has an end: 100 years (36500d). A longer --for or
 * TTL is refused rather than let now + duration come near where the
 * 64-bit nanosecond clock, or its signed difference, wraps around.
 */
#define MXG_BAN_MAX_NS (36500ULL * 86400ULL * MXG_SEC_NS)
#define MXG_BAN_MAX_STR "36500d (100 years)"

/*
 * Parse the length of a ban (ban --for, an import TTL): a duration from
 * 1ms to MXG_BAN_MAX_NS. Returns 0, -EINVAL for what is not a positive
 * duration, -ERANGE for one longer than the longest ban.
 */
int mxg_ban_duration(const char *s, uint64_t *ns);

/* Longest note (reason text) kept with a ban, without the NUL. */
#define MXG_NOTE_MAX (sizeof(((struct mxg_deny *)0)->note) - 1)

/*
 * Is s fit to be a note: no control character (a newline would split the
 * state file's one-ban-a-line record)? Returns the offending character's
 * offset, or -1 when s is fine.
 */
int mxg_note_bad_char(const char *s);

/*
 * Save every active ban to path (atomically: a temporary file, fsync,
 * rename, fsync of the directory), with wall-clock expiry so a reboot,
 * which resets CLOCK_BOOTTIME, does not change when a ban ends. Control
 * characters in a note are written as '?'. Returns the number of bans
 * saved or a negative errno.
 *
 * Format, one ban a line after a "# mxguard bans v1" header:
 *     CIDR EXPIRES ADDED REASON BAN_COUNT HITS [NOTE]
 * EXPIRES and ADDED are unix seconds (EXPIRES 0 = permanent), REASON a
 * name (manual, log, rate, import), NOTE the rest of the line.
 */
int mxg_state_save(const struct mxg_maps *m, const char *path);

/* The same content in memory (*data malloc'd), for a writer elsewhere. */
int mxg_state_render(const struct mxg_maps *m, char **data, size_t *len);

struct mxg_restore_stats {
	unsigned int restored;	/* bans put back */
	unsigned int expired;	/* ran out while nothing held them */
	unsigned int held;	/* the maps already held them as long */
	unsigned int bad;	/* records that could not be read: skipped */
	unsigned int failed;	/* records the maps would not take */
	char kept[4200];	/* copy of a file not fully restored, or "" */
};

/* Receives "path:line: why" for each record skipped, and the copy kept. */
typedef void (*mxg_restore_report_fn)(const char *msg, void *ctx);

/*
 * Put the bans of a state file back with the time they have left; expired
 * ones are skipped, bans already in the maps are kept (never shortened).
 * A record that cannot be read is reported and skipped, and the rest
 * restored. When anything was not restored (bad records, map errors), the
 * file as it was is kept beside it as path.bad-YYYYmmddTHHMMSSZ (a hard
 * link, so the next save cannot lose it), named in st->kept and reported.
 * Returns 0, -ENOENT when there is no file, or another negative errno
 * when the file cannot be read at all (nothing restored, no copy: the
 * caller must then not overwrite path).
 */
int mxg_state_restore(const struct mxg_maps *m, const char *path,
		      struct mxg_restore_stats *st,
		      mxg_restore_report_fn report, void *ctx);

#endif
