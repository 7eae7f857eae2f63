/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's side of fleet mode: the fleet threads (user/fleet/) wired
 * to the engine. Local bans and unbans go out, failures are counted
 * fleet-wide, and peers' bans are checked against this host's own rules
 * and put into its maps, all on the event loop and none of it waiting on
 * Redis.
 */
#ifndef MXG_FLEETD_H
#define MXG_FLEETD_H

#include <stdio.h>

#include "config.h"
#include "engine.h"
#include "fleet.h"

struct mxg_fleetd;

/*
 * Start fleet mode when o configures it (NULL with *err empty when not).
 * The password is read from its file here. NULL with err filled on a
 * configuration error.
 */
struct mxg_fleetd *mxg_fleetd_start(const struct mxg_options *o,
				    struct mxg_engine *e, char *err,
				    size_t errlen);
void mxg_fleetd_stop(struct mxg_fleetd *fd);

/* The eventfd to watch, and what to do when it is readable. */
int mxg_fleetd_fd(const struct mxg_fleetd *fd);
void mxg_fleetd_process(struct mxg_fleetd *fd);

/* Its part of the Prometheus scrape (nothing when fd is NULL). */
void mxg_fleetd_metrics(struct mxg_fleetd *fd, FILE *f);

/* The state file mxguard fleet status and mxguard status read. */
#define MXG_FLEET_STATUS_FILE "fleet.status"

#endif
