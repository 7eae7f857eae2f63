// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"

struct client {
	int fd;			/* -1 when free */
	uint64_t since_ns;	/* accepted at, CLOCK_MONOTONIC */
	size_t len;
	char req[MXG_METRICS_REQ_MAX];
};

struct mxg_metrics {
	int lfd;
	int epfd;
	mxg_metrics_fn fn;
	void *arg;
	struct client c[MXG_METRICS_MAX_CLIENTS];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * MXG_SEC_NS + (uint64_t)ts.tv_nsec;
}

static int split_hostport(const char *s, char *host, size_t hsize, char *port,
			  size_t psize)
{
	const char *colon;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= hsize)
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = '\0';
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= hsize)
			return -EINVAL;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	if (!colon[1] || strlen(colon + 1) >= psize)
		return -EINVAL;
	strcpy(port, colon + 1);
	return 0;
}

struct mxg_metrics *mxg_metrics_new(const char *listen_on, mxg_metrics_fn fn,
				    void *arg, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char host[128], port[16];
	struct mxg_metrics *mx;
	int one = 1, ret, i;

	if (split_hostport(listen_on, host, sizeof(host), port, sizeof(port))) {
		snprintf(err, errlen, "metrics: \"%s\": expected HOST:PORT, e.g. 127.0.0.1:9587",
			 listen_on);
		errno = EINVAL;
		return NULL;
	}
	ret = getaddrinfo(host, port, &hints, &ai);
	if (ret) {
		snprintf(err, errlen, "metrics: \"%s\": %s", listen_on, gai_strerror(ret));
		errno = EINVAL;
		return NULL;
	}
	mx = calloc(1, sizeof(*mx));
	if (!mx) {
		freeaddrinfo(ai);
		return NULL;
	}
	mx->fn = fn;
	mx->arg = arg;
	mx->epfd = -1;
	for (i = 0; i < MXG_METRICS_MAX_CLIENTS; i++)
		mx->c[i].fd = -1;
	mx->lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (mx->lfd < 0 ||
	    setsockopt(mx->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(mx->lfd, ai->ai_addr, ai->ai_addrlen) || listen(mx->lfd, 16)) {
		ret = errno;
		snprintf(err, errlen, "metrics: cannot listen on %s: %s", listen_on,
			 strerror(errno));
		freeaddrinfo(ai);
		if (mx->lfd >= 0)
			close(mx->lfd);
		free(mx);
		errno = ret;
		return NULL;
	}
	freeaddrinfo(ai);
	return mx;
}

int mxg_metrics_attach(struct mxg_metrics *mx, int epfd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = mx->lfd };

	mx->epfd = epfd;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, mx->lfd, &ev) ? -errno : 0;
}

static void client_close(struct mxg_metrics *mx, struct client *c)
{
	if (mx->epfd >= 0)
		epoll_ctl(mx->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

void mxg_metrics_free(struct mxg_metrics *mx)
{
	int i;

	if (!mx)
		return;
	for (i = 0; i < MXG_METRICS_MAX_CLIENTS; i++)
		if (mx->c[i].fd >= 0)
			client_close(mx, &mx->c[i]);
	close(mx->lfd);
	free(mx);
}

bool mxg_metrics_owns(const struct mxg_metrics *mx, int fd)
{
	int i;

	if (!mx)
		return false;
	if (fd == mx->lfd)
		return true;
	for (i = 0; i < MXG_METRICS_MAX_CLIENTS; i++)
		if (mx->c[i].fd == fd)
			return true;
	return false;
}

/*
 * A blocking write with one deadline for the whole answer: a client that
 * reads a byte now and then must not hold the daemon's loop for longer.
 */
static void send_all(int fd, const char *p, size_t n, uint64_t deadline_ns)
{
	struct timeval tv = { .tv_usec = 200000 };
	int flags = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0 || mono_ns() > deadline_ns)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void answer(struct mxg_metrics *mx, struct client *c)
{
	static const char bad[] = "HTTP/1.0 405 Method Not Allowed\r\n"
				  "Content-Length: 0\r\nConnection: close\r\n\r\n";
	uint64_t deadline = mono_ns() + MXG_METRICS_SEND_NS;
	char *body = NULL, head[160];
	size_t blen = 0;
	FILE *f;

	if (strncmp(c->req, "GET ", 4)) {
		send_all(c->fd, bad, sizeof(bad) - 1, deadline);
		return;
	}
	f = open_memstream(&body, &blen);
	if (!f)
		return;
	mx->fn(f, mx->arg);
	fclose(f);
	snprintf(head, sizeof(head),
		 "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n", blen);
	send_all(c->fd, head, strlen(head), deadline);
	send_all(c->fd, body, blen, deadline);
	free(body);
}

/* Read what the client sent; answer and close once the request is whole. */
static void client_read(struct mxg_metrics *mx, struct client *c)
{
	ssize_t r;

	r = read(c->fd, c->req + c->len, sizeof(c->req) - 1 - c->len);
	if (r <= 0) {
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		client_close(mx, c);
		return;
	}
	c->len += (size_t)r;
	c->req[c->len] = '\0';
	if (!strstr(c->req, "\r\n\r\n") && !strstr(c->req, "\n\n")) {
		if (c->len == sizeof(c->req) - 1)
			client_close(mx, c);	/* oversized request */
		return;
	}
	answer(mx, c);
	client_close(mx, c);
}

/*
 * A free slot, or the one held longest: idle or slow clients cannot lock a
 * scrape out by taking every slot, they only push each other out.
 */
static struct client *client_slot(struct mxg_metrics *mx)
{
	struct client *oldest = &mx->c[0];
	int i;

	for (i = 0; i < MXG_METRICS_MAX_CLIENTS; i++) {
		if (mx->c[i].fd < 0)
			return &mx->c[i];
		if (mx->c[i].since_ns < oldest->since_ns)
			oldest = &mx->c[i];
	}
	client_close(mx, oldest);
	return oldest;
}

void mxg_metrics_handle(struct mxg_metrics *mx, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct client *c = NULL;
	int i, cfd;

	if (fd == mx->lfd) {
		while ((cfd = accept4(mx->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			c = client_slot(mx);
			c->fd = cfd;
			c->len = 0;
			c->since_ns = mono_ns();
			ev.data.fd = cfd;
			if (epoll_ctl(mx->epfd, EPOLL_CTL_ADD, cfd, &ev)) {
				client_close(mx, c);
				continue;
			}
			/* A scraper's request is usually there with the connection. */
			client_read(mx, c);
		}
		return;
	}
	for (i = 0; i < MXG_METRICS_MAX_CLIENTS; i++)
		if (mx->c[i].fd == fd)
			c = &mx->c[i];
	if (c)
		client_read(mx, c);
}

void mxg_metrics_expire(struct mxg_metrics *mx)
{
	uint64_t now = mono_ns();
	int i;

	if (!mx)
		return;
	for (i = 0; i < MXG_METRICS_MAX_CLIENTS; i++)
		if (mx->c[i].fd >= 0 && now - mx->c[i].since_ns > MXG_METRICS_IDLE_NS)
			client_close(mx, &mx->c[i]);
}

void mxg_metric_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void mxg_metric_label(FILE *f, const char *name, const char *label,
		      const char *value, double v)
{
	fprintf(f, "%s{%s=\"%s\"} %.15g\n", name, label, value, v);
}

void mxg_metric(FILE *f, const char *name, const char *type, const char *help,
		double v)
{
	mxg_metric_head(f, name, type, help);
	fprintf(f, "%s %.15g\n", name, v);
}
