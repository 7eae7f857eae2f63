// SPDX-License-Identifier: GPL-2.0
/*
 * mxguard fleet status: what the daemon's fleet threads last wrote to
 * STATE_DIR/fleet.status (once a second): the Redis connection, events
 * sent, queued, dropped, received, applied and refused, the stream lag,
 * and each peer with its last event. Also used by mxguard status.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "fleetd.h"

/* A status file older than this: the daemon (or its fleet thread) is gone. */
#define STALE_S 5

struct fleet_args {
	const char *state_dir;
	bool json;
};

static const struct cli_opt fleet_opts[] = {
	{ "state-dir", 0, CLI_STRING, "DIR", "the daemon's state dir (default " MXG_STATE_DIR_DEFAULT ")",
	  .off = offsetof(struct fleet_args, state_dir) },
	{ "json", 'j', CLI_FLAG, NULL, "one JSON object", .off = offsetof(struct fleet_args, json) },
	{ 0 }
};

const struct cli_command cli_fleet = {
	.name = "fleet", .fn = cmd_fleet,
	.summary = "fleet mode: Redis connection, events, peers",
	.operands = "status",
	.about = "Fleet mode as the running daemon last saw it: its Redis, events sent,\n"
		 "queued, dropped, received, applied and refused (by why), the stream\n"
		 "lag, and each peer with the time of its last event. Exit 1 when the\n"
		 "daemon runs no fleet mode (or has not written its status for 5 s).",
	.opts = fleet_opts,
	.min_operands = 1, .max_operands = 1,
	.missing = "which: status",
	.no_maps = true,
};

struct peer_line {
	char host[MXG_FLEET_HOST_MAX + 1];
	uint64_t last_ms, applied, refused;
};

struct fleet_status {
	char fleet[64], host[80], server[256], connected[8], applied_id[48];
	uint64_t updated, since, sent, queued, dropped, resent, received, applied;
	uint64_t lag_ms, failures_counted;
	uint64_t refused[MXG_FLEET_N_REFUSALS];
	unsigned int n_peers;
	struct peer_line peers[MXG_FLEET_PEERS];
};

/* STATE_DIR/fleet.status into s; 0, or -errno. */
int mxg_fleet_status_read(const char *state_dir, struct fleet_status *s);
int mxg_fleet_status_read(const char *state_dir, struct fleet_status *s)
{
	static const struct { const char *name; size_t off; } nums[] = {
		{ "updated", offsetof(struct fleet_status, updated) },
		{ "since", offsetof(struct fleet_status, since) },
		{ "sent", offsetof(struct fleet_status, sent) },
		{ "queued", offsetof(struct fleet_status, queued) },
		{ "dropped", offsetof(struct fleet_status, dropped) },
		{ "resent", offsetof(struct fleet_status, resent) },
		{ "received", offsetof(struct fleet_status, received) },
		{ "applied", offsetof(struct fleet_status, applied) },
		{ "lag_ms", offsetof(struct fleet_status, lag_ms) },
		{ "failures_counted", offsetof(struct fleet_status, failures_counted) },
	};
	char path[PATH_MAX + 32], line[512], w1[80], w2[256];
	unsigned long long a, b, c;
	unsigned int i;
	FILE *f;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "%s/%s", state_dir, MXG_FLEET_STATUS_FILE);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "peer %64s %llu %llu %llu", w1, &a, &b, &c) == 4) {
			if (s->n_peers < MXG_FLEET_PEERS) {
				struct peer_line *p = &s->peers[s->n_peers++];

				snprintf(p->host, sizeof(p->host), "%.64s", w1);
				p->last_ms = a;
				p->applied = b;
				p->refused = c;
			}
			continue;
		}
		if (sscanf(line, "refused %79s %llu", w1, &a) == 2) {
			for (i = 1; i < MXG_FLEET_N_REFUSALS; i++)
				if (!strcmp(w1, mxg_fleet_refusal_name((int)i)))
					s->refused[i] = a;
			continue;
		}
		if (sscanf(line, "%79s %255s", w1, w2) != 2)
			continue;
		if (!strcmp(w1, "fleet"))
			snprintf(s->fleet, sizeof(s->fleet), "%.63s", w2);
		else if (!strcmp(w1, "host"))
			snprintf(s->host, sizeof(s->host), "%.79s", w2);
		else if (!strcmp(w1, "server"))
			snprintf(s->server, sizeof(s->server), "%s", w2);
		else if (!strcmp(w1, "connected"))
			snprintf(s->connected, sizeof(s->connected), "%.7s", w2);
		else if (!strcmp(w1, "applied_id"))
			snprintf(s->applied_id, sizeof(s->applied_id), "%.47s", w2);
		for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
			if (!strcmp(w1, nums[i].name))
				*(uint64_t *)((char *)s + nums[i].off) = strtoull(w2, NULL, 10);
	}
	fclose(f);
	return 0;
}

static uint64_t refused_total(const struct fleet_status *s)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 1; i < MXG_FLEET_N_REFUSALS; i++)
		n += s->refused[i];
	return n;
}

/* One line for mxguard status; nothing when no fleet status is there. */
void cli_fleet_status_line(const char *state_dir, FILE *out);
void cli_fleet_status_line(const char *state_dir, FILE *out)
{
	struct fleet_status s;
	uint64_t now = (uint64_t)time(NULL);

	if (mxg_fleet_status_read(state_dir, &s))
		return;
	if (now > s.updated + STALE_S) {
		fprintf(out, "fleet:     %s as %s, not updated for %llus (daemon stopped?)\n",
			s.fleet, s.host, (unsigned long long)(now - s.updated));
		return;
	}
	fprintf(out, "fleet:     %s as %s, Redis %s %s, %u peers, sent %" PRIu64 ", applied %"
		PRIu64 ", refused %" PRIu64 ", queued %" PRIu64 ", dropped %" PRIu64 "\n",
		s.fleet, s.host, s.server, !strcmp(s.connected, "yes") ? "connected" : "DOWN",
		s.n_peers, s.sent, s.applied, refused_total(&s), s.queued, s.dropped);
}

/* The same for status --json: an object, or null without fleet mode. */
void cli_fleet_status_json(const char *state_dir, FILE *out);
void cli_fleet_status_json(const char *state_dir, FILE *out)
{
	struct fleet_status s;
	uint64_t now = (uint64_t)time(NULL);

	if (mxg_fleet_status_read(state_dir, &s)) {
		fputs("null", out);
		return;
	}
	fputs("{\"name\":", out);
	json_str(out, s.fleet);
	fputs(",\"host\":", out);
	json_str(out, s.host);
	fputs(",\"redis\":", out);
	json_str(out, s.server);
	fprintf(out, ",\"connected\":%s,\"stale\":%s,\"updated\":%" PRIu64
		",\"peers\":%u,\"sent\":%" PRIu64 ",\"applied\":%" PRIu64
		",\"refused\":%" PRIu64 ",\"queued\":%" PRIu64
		",\"dropped\":%" PRIu64 "}",
		!strcmp(s.connected, "yes") ? "true" : "false",
		now > s.updated + STALE_S ? "true" : "false", s.updated,
		s.n_peers, s.sent, s.applied, refused_total(&s), s.queued,
		s.dropped);
}

int cmd_fleet(int argc, char **argv)
{
	struct fleet_args a = { .state_dir = MXG_STATE_DIR_DEFAULT };
	struct fleet_status s;
	struct cli_ctx ctx;
	uint64_t now = (uint64_t)time(NULL), now_ms;
	struct timespec ts;
	unsigned int i;
	int ret;

	ret = cli_parse(&cli_fleet, argc, argv, &a, &ctx);
	if (ret != CLI_GO)
		return ret;
	if (strcmp(ctx.argv[0], "status")) {
		cli_err("fleet", "unknown subcommand \"%s\" (status)", ctx.argv[0]);
		return EXIT_USAGE;
	}
	ret = mxg_fleet_status_read(a.state_dir, &s);
	if (ret) {
		cli_err("fleet", "no fleet status in %s (%s): is a daemon running with a [fleet] redis or sentinel?",
			a.state_dir, strerror(-ret));
		return EXIT_RUNTIME;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (a.json) {
		printf("{\"fleet\":");
		json_str(stdout, s.fleet);
		printf(",\"host\":");
		json_str(stdout, s.host);
		printf(",\"server\":");
		json_str(stdout, s.server);
		printf(",\"connected\":%s,\"fresh\":%s,\"updated\":%" PRIu64 ",\"sent\":%" PRIu64
		       ",\"queued\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"resent\":%" PRIu64
		       ",\"received\":%" PRIu64 ",\"applied\":%" PRIu64 ",\"lag_ms\":%" PRIu64
		       ",\"failures_counted\":%" PRIu64 ",\"refused\":{",
		       !strcmp(s.connected, "yes") ? "true" : "false",
		       now <= s.updated + STALE_S ? "true" : "false", s.updated, s.sent,
		       s.queued, s.dropped, s.resent, s.received, s.applied, s.lag_ms,
		       s.failures_counted);
		for (i = 1; i < MXG_FLEET_N_REFUSALS; i++)
			printf("%s\"%s\":%" PRIu64, i > 1 ? "," : "",
			       mxg_fleet_refusal_name((int)i), s.refused[i]);
		printf("},\"peers\":[");
		for (i = 0; i < s.n_peers; i++) {
			printf("%s{\"host\":", i ? "," : "");
			json_str(stdout, s.peers[i].host);
			printf(",\"last_event_ms\":%" PRIu64 ",\"applied\":%" PRIu64
			       ",\"refused\":%" PRIu64 "}", s.peers[i].last_ms,
			       s.peers[i].applied, s.peers[i].refused);
		}
		printf("]}\n");
	} else {
		printf("fleet:     %s, this host %s\n", s.fleet, s.host);
		printf("redis:     %s, %s since %s", s.server,
		       !strcmp(s.connected, "yes") ? "connected" : "NOT CONNECTED",
		       s.since ? "" : "start");
		if (s.since) {
			time_t t = (time_t)s.since;
			char buf[32];

			strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", localtime(&t));
			printf("%s", buf);
		}
		printf("\n");
		if (now > s.updated + STALE_S)
			printf("status:    STALE: not updated for %llus (is the daemon running?)\n",
			       (unsigned long long)(now - s.updated));
		printf("sent:      %" PRIu64 " (queued %" PRIu64 ", dropped %" PRIu64
		       ", sent again after an outage %" PRIu64 ")\n",
		       s.sent, s.queued, s.dropped, s.resent);
		printf("received:  %" PRIu64 ", applied %" PRIu64 ", refused %" PRIu64, s.received,
		       s.applied, refused_total(&s));
		for (i = 1; i < MXG_FLEET_N_REFUSALS; i++)
			if (s.refused[i])
				printf(" (%s %" PRIu64 ")", mxg_fleet_refusal_name((int)i),
				       s.refused[i]);
		printf("\nstream:    last applied %s, lag %.3fs\n", s.applied_id,
		       (double)s.lag_ms / 1000.0);
		printf("counted:   %" PRIu64 " AUTH failures sent to the fleet-wide count\n",
		       s.failures_counted);
		printf("%-24s %14s %10s %10s\n", "PEER", "LAST EVENT", "APPLIED", "REFUSED");
		for (i = 0; i < s.n_peers; i++) {
			char ago[32];

			if (s.peers[i].last_ms && now_ms >= s.peers[i].last_ms)
				snprintf(ago, sizeof(ago), "%.1fs ago",
					 (double)(now_ms - s.peers[i].last_ms) / 1000.0);
			else
				snprintf(ago, sizeof(ago), "-");
			printf("%-24s %14s %10" PRIu64 " %10" PRIu64 "\n", s.peers[i].host, ago,
			       s.peers[i].applied, s.peers[i].refused);
		}
	}
	return now > s.updated + STALE_S ? EXIT_RUNTIME : EXIT_OK;
}
