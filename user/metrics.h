/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus text exposition over a minimal HTTP/1.0 server, driven by the
 * daemon's epoll loop: non-blocking sockets, a bounded number of clients,
 * a bounded request size, no threads. Any GET gets the metrics.
 */
#ifndef MXG_METRICS_H
#define MXG_METRICS_H

#include <stdbool.h>
#include <stdio.h>

#define MXG_METRICS_MAX_CLIENTS 16
#define MXG_METRICS_REQ_MAX 4096

struct mxg_metrics;

/* Writes the metrics text for one scrape. */
typedef void (*mxg_metrics_fn)(FILE *out, void *arg);

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

/* The epoll set the metrics fds are registered in (call once, first). */
int mxg_metrics_attach(struct mxg_metrics *mx, int epfd);

#endif
