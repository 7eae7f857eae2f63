/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The attacked-accounts report, shared by `mxguard accounts` (the daemon's
 * accounts.state) and `mxguard scan --accounts` (offline logs).
 */
#ifndef MXG_ACCOUNTS_VIEW_H
#define MXG_ACCOUNTS_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "accounts.h"

struct accounts_view {
	bool json;
	int64_t since;		/* only accounts seen at or after (unix s); 0: all */
	unsigned long max;	/* at most this many rows; 0: all */
	const char *roles;	/* role_accounts */
};

/*
 * Print the accounts of a, compromised first, then by failures: a table
 * (names escaped, mxg_acct_escape) and the role accounts that exist, or
 * one JSON object per account. 0, or -ENOMEM.
 */
int accounts_view_print(const struct mxg_accounts *a,
			const struct accounts_view *v, FILE *f);

#endif
