/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus text exposition over a minimal HTTP/1.0 server, driven by the
 * daemon's epoll loop: non-blocking sockets, a bounded number of clients,
 * a bounded request size, no threads. Any GET gets the metrics.
 *
 * Idle or slow clients cannot lock a scrape out: a new connection takes the
 * slot held longest when all are taken, a client that has not sent its
 * whole request within MXG_METRICS_IDLE_NS is closed by the daemon's timer,
 * and an answer gets MXG_METRICS_SEND_NS to go out.
 */
#ifndef MXG_METRICS_H
#define MXG_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "units.h"

#define MXG_METRICS_MAX_CLIENTS 16
#define MXG_METRICS_REQ_MAX 4096
#define MXG_METRICS_IDLE_NS (5 * MXG_SEC_NS)
#define MXG_METRICS_SEND_NS (2 * MXG_SEC_NS)

struct mxg_metrics;

/* Writes the metrics text for one scrape. */
typedef void (*mxg_metrics_fn)(FILE *out, void *arg);

/*
 * One series without labels: its HELP and TYPE lines ("counter" or
 * "gauge") and its value.
 */
void mxg_metric(FILE *f, const char *name, const char *type, const char *help,
		double v);
/* A labelled series: its HELP and TYPE lines once, then one line per label. */
void mxg_metric_head(FILE *f, const char *name, const char *type, const char *help);
void mxg_metric_label(FILE *f, const char *name, const char *label,
		      const char *value, double v);

/*
 * Listen on "HOST:PORT" ("127.0.0.1:9587", "[::1]:9587"). Returns NULL
 * with errno set, and err filled, on failure.
 */
struct mxg_metrics *mxg_metrics_new(const char *listen, mxg_metrics_fn fn,
				    void *arg, char *err, size_t errlen);
void mxg_metrics_free(struct mxg_metrics *mx);

/* Is fd one of ours (the listener or a client)? */
bool mxg_metrics_owns(const struct mxg_metrics *mx, int fd);

/* fd became readable: accept, or read and answer. */
void mxg_metrics_handle(struct mxg_metrics *mx, int fd);

/* Close clients that have been connected longer than MXG_METRICS_IDLE_NS. */
void mxg_metrics_expire(struct mxg_metrics *mx);

/* The epoll set the metrics fds are registered in (call once, first). */
int mxg_metrics_attach(struct mxg_metrics *mx, int epfd);

#endif
