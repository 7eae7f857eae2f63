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
 * Ban c until expires_ns (CLOCK_BOOTTIME; 0 = permanent) for reason.
 * ban_count is the offence number the caller counted (1 for a first ban).
 * Returns enum mxg_apply_result, or a negative errno.
 */
int mxg_denylist_apply(const struct mxg_maps *m, const struct mxg_cidr *c,
		       uint64_t expires_ns, uint32_t reason,
		       unsigned int ban_count, uint64_t now_ns, const char *note);

/*
 * Save every active ban to path (atomically: a temporary file, fsync,
 * rename), with wall-clock expiry so a reboot, which resets
 * CLOCK_BOOTTIME, does not change when a ban ends. Returns the number of
 * bans saved or a negative errno.
 *
 * Format, one ban a line after a "# mxguard bans v1" header:
 *     CIDR EXPIRES ADDED REASON BAN_COUNT HITS [NOTE]
 * EXPIRES and ADDED are unix seconds (EXPIRES 0 = permanent), REASON a
 * name (manual, log, rate, import), NOTE the rest of the line.
 */
int mxg_state_save(const struct mxg_maps *m, const char *path);

/*
 * Put the bans of a state file back with the time they have left; expired
 * ones are skipped, bans already in the maps are kept (never shortened).
 * *restored and *expired count the lines. Returns 0, -ENOENT when there
 * is no file, -EINVAL with "path:line: why" in err for a corrupt file
 * (entries before the bad line are restored).
 */
int mxg_state_restore(const struct mxg_maps *m, const char *path,
		      unsigned int *restored, unsigned int *expired,
		      char *err, size_t errlen);

#endif
