/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon behind `mxguard run`: loads and attaches the XDP program,
 * follows the logs, bans, saves, reloads on SIGHUP, until SIGTERM/SIGINT.
 * The command line is the cmd layer's business: it hands the daemon a way
 * to build the config, which the daemon calls at start and on each reload.
 */
#ifndef MXG_DAEMON_H
#define MXG_DAEMON_H

#include <stdbool.h>

#include "config.h"

/*
 * Fill o with the effective config (defaults, file, command line). reload
 * is true on SIGHUP. 0, or -EINVAL with why in err (file:line: key: why):
 * on reload the daemon says it, at start the caller has said it.
 */
typedef int (*mxg_daemon_config_fn)(struct mxg_options *o, bool reload,
				    char *err, size_t errlen, void *arg);

/* Run until told to stop. Returns an exit status (exitcode.h). */
int mxg_daemon_run(mxg_daemon_config_fn get_config, void *arg);

#endif
