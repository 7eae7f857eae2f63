/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The accounts state file (accounts.state in the state dir): what the
 * daemon's accounts store holds, written whole by the daemon's writer
 * thread and read back at start, and by `mxguard accounts`. One account a
 * line in the format of mxg_acct_state_line (accounts.h), after the
 * MXG_ACCT_STATE_HEADER line.
 */
#ifndef MXG_ACCOUNTS_FILE_H
#define MXG_ACCOUNTS_FILE_H

#include <stddef.h>

#include "accounts.h"

/* Every account of a as the file's content (malloc'd). 0 or -ENOMEM. */
int mxg_accounts_render(const struct mxg_accounts *a, char **data,
			size_t *len);

/* The same from n accounts copied out of a store (mxg_accounts_copy). */
int mxg_accounts_render_list(const struct mxg_account *v, unsigned int n,
			     char **data, size_t *len);

/*
 * Read path into a. A line that cannot be read is told to report as
 * "path:line: why" and skipped (*skipped counts them). Returns the number
 * of accounts restored, or a negative errno (-ENOENT: no file yet,
 * -EINVAL: not an accounts file).
 */
int mxg_accounts_load(struct mxg_accounts *a, const char *path,
		      void (*report)(const char *msg, void *arg), void *arg,
		      unsigned int *skipped);

#endif
