// SPDX-License-Identifier: GPL-2.0
/*
 * Operator commands on the pinned maps: ban, unban, list, stats, detach.
 * They open the maps by path, as bpftool does, and need no running daemon.
 */
#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "commands.h"
#include "config.h"
#include "denylist.h"
#include "loader.h"
#include "maps.h"

/* --for: a ban's length, as import's TTL column reads it. */
int cli_parse_ban_for(const char *arg, void *dst, char *why, size_t len)
{
	int ret = mxg_ban_duration(arg, dst);

	if (ret == -ERANGE)
		snprintf(why, len, "longer than the longest ban, %s; leave --for out for a permanent ban",
			 MXG_BAN_MAX_STR);
	else if (ret)
		snprintf(why, len, "not a duration (e.g. 90s, 10m, 1h, 2d, 1w)");
	return ret;
}

/* --reason: one line of printable text, kept with the entry. */
static int parse_reason(const char *arg, void *dst, char *why, size_t len)
{
	int bad = mxg_note_bad_char(arg);

	if (bad >= 0) {
		snprintf(why, len, "control character 0x%02x at offset %d: the reason must be one line of printable text",
			 (unsigned char)arg[bad], bad);
		return -EINVAL;
	}
	if (strlen(arg) > MXG_NOTE_MAX) {
		snprintf(why, len, "at most %zu characters", MXG_NOTE_MAX);
		return -EINVAL;
	}
	*(const char **)dst = arg;
	return 0;
}

/* Is c every address of its family? Then say what acting on it would do. */
static const char *everything(const struct mxg_cidr *c)
{
	if (c->prefixlen)
		return NULL;
	return c->addr.family == 4 ? "every IPv4 address" : "every IPv6 address";
}

struct ban_args {
	uint64_t for_ns;
	const char *note;
	bool force;
};

static const struct cli_opt ban_opts[] = {
	{ "for", 'f', CLI_PARSE, "DURATION", "ban for this long, at most " MXG_BAN_MAX_STR
	  "; without it the ban is permanent", .off = offsetof(struct ban_args, for_ns),
	  .parse = cli_parse_ban_for },
	{ "reason", 'r', CLI_PARSE, "TEXT", "kept with the entry and shown by list: one line of printable text",
	  .off = offsetof(struct ban_args, note), .parse = parse_reason },
	{ "force", 0, CLI_FLAG, NULL, "needed to ban 0.0.0.0/0 or ::/0",
	  .off = offsetof(struct ban_args, force) },
	{ 0 }
};

const struct cli_command cli_ban = {
	.name = "ban", .fn = cmd_ban,
	.summary = "denylist an address or range: ban CIDR [--for D] [--reason T]",
	.operands = "CIDR",
	.about = "Denylist an address or range; without --for the ban is permanent.\n"
		 "A ban already there for at least as long is kept: unban it first to\n"
		 "shorten it.",
	.opts = ban_opts, .min_operands = 1, .max_operands = 1,
	.missing = "expected one CIDR",
};

int cmd_ban(int argc, char **argv)
{
	struct ban_args a = { 0 };
	struct cli_ctx ctx;
	const char *all;
	char buf[MXG_CIDR_STRLEN], dur[64];
	uint64_t now;
	struct mxg_maps m;
	struct mxg_cidr c;
	int ret;

	ret = cli_parse(&cli_ban, argc, argv, &a, &ctx);
	if (ret != CLI_GO)
		return ret;
	ret = cli_cidr("ban", ctx.argv[0], &c);
	if (ret)
		return ret;
	all = everything(&c);
	if (all && !a.force) {
		cli_err("ban", "%s would drop SMTP from %s (with deny_scope = all, every packet); add --force if that is what you want",
			ctx.argv[0], all);
		return EXIT_USAGE;
	}
	ret = cli_open_maps("ban", ctx.pin_dir, &m);
	if (ret)
		return ret;

	now = mxg_boot_ns();
	ret = mxg_denylist_apply(&m, &c, a.for_ns ? now + a.for_ns : 0,
				 MXG_REASON_MANUAL, 1, now, a.note);
	mxg_maps_close(&m);
	if (ret < 0) {
		cli_err("ban", "cannot add %s to the denylist: %s", ctx.argv[0],
			strerror(-ret));
		return EXIT_RUNTIME;
	}
	mxg_cidr_str(&c, buf, sizeof(buf));
	if (ret == MXG_APPLY_COVERED)
		printf("%s is already banned for at least as long (mxguard list); unban it first to shorten a ban\n",
		       buf);
	else
		printf("banned %s %s%s\n", buf, a.for_ns ? "for " : "",
		       a.for_ns ? human_duration(a.for_ns, dur, sizeof(dur)) : "permanently");
	return EXIT_OK;
}

struct unban_args {
	bool missing_ok;
};

static const struct cli_opt unban_opts[] = {
	{ "missing-ok", 'm', CLI_FLAG, NULL,
	  "a range that is not there (expired and pruned) is not an error",
	  .off = offsetof(struct unban_args, missing_ok) },
	{ 0 }
};

const struct cli_command cli_unban = {
	.name = "unban", .fn = cmd_unban,
	.summary = "remove a denylist entry: unban CIDR",
	.operands = "CIDR",
	.about = "Remove the denylist entry for exactly this range.",
	.opts = unban_opts, .min_operands = 1, .max_operands = 1,
	.missing = "expected one CIDR",
};

int cmd_unban(int argc, char **argv)
{
	struct unban_args a = { 0 };
	struct cli_ctx ctx;
	char buf[MXG_CIDR_STRLEN];
	struct mxg_deny old;
	struct mxg_maps m;
	struct mxg_cidr c;
	int ret;

	ret = cli_parse(&cli_unban, argc, argv, &a, &ctx);
	if (ret != CLI_GO)
		return ret;
	ret = cli_cidr("unban", ctx.argv[0], &c);
	if (ret)
		return ret;
	ret = cli_open_maps("unban", ctx.pin_dir, &m);
	if (ret)
		return ret;
	if (mxg_deny_get(&m, &c, &old) || mxg_deny_del(&m, &c)) {
		mxg_maps_close(&m);
		if (a.missing_ok) {
			printf("%s was not banned\n", mxg_cidr_str(&c, buf, sizeof(buf)));
			return EXIT_OK;
		}
		cli_err("unban", "%s is not in the denylist (mxguard list shows what is)",
			mxg_cidr_str(&c, buf, sizeof(buf)));
		return EXIT_RUNTIME;
	}
	mxg_maps_close(&m);
	printf("unbanned %s\n", mxg_cidr_str(&c, buf, sizeof(buf)));
	return EXIT_OK;
}

struct list_ctx {
	bool json;
	bool expired;
	uint64_t now;
	unsigned int shown;
};

static int list_one(const struct mxg_cidr *c, const struct mxg_deny *v, void *arg)
{
	struct list_ctx *l = arg;
	char buf[MXG_CIDR_STRLEN], left[64], age[64], note[sizeof(v->note) + 1];
	bool is_expired = v->expires_ns && v->expires_ns <= l->now;

	if (is_expired && !l->expired)
		return 0;
	l->shown++;
	snprintf(note, sizeof(note), "%.*s", (int)sizeof(v->note), v->note);
	if (l->json) {
		printf("{\"cidr\":\"%s\",\"reason\":\"%s\",\"permanent\":%s,"
		       "\"expires_in_s\":%lld,\"age_s\":%llu,\"hits\":%llu,"
		       "\"bans\":%u,\"expired\":%s,\"note\":",
		       mxg_cidr_str(c, buf, sizeof(buf)), mxg_reason_str(v->reason),
		       v->expires_ns ? "false" : "true",
		       !v->expires_ns ? 0LL : v->expires_ns >= l->now ?
		       (long long)((v->expires_ns - l->now) / MXG_SEC_NS) :
		       -(long long)((l->now - v->expires_ns) / MXG_SEC_NS),
		       (unsigned long long)((l->now - v->added_ns) / MXG_SEC_NS),
		       (unsigned long long)v->hits, v->ban_count,
		       is_expired ? "true" : "false");
		json_str(stdout, note);
		printf("}\n");
		return 0;
	}
	if (l->shown == 1)
		printf("%-43s %-7s %-10s %-10s %10s %4s  %s\n", "RANGE", "REASON",
		       "EXPIRES", "AGE", "HITS", "BANS", "NOTE");
	if (!v->expires_ns)
		snprintf(left, sizeof(left), "never");
	else if (is_expired)
		snprintf(left, sizeof(left), "expired");
	else
		human_duration(v->expires_ns - l->now, left, sizeof(left));
	/* Ages round down, time left rounds up. */
	human_duration(l->now > v->added_ns ?
		       (l->now - v->added_ns) / MXG_SEC_NS * MXG_SEC_NS : 0,
		       age, sizeof(age));
	printf("%-43s %-7s %-10s %-10s %10llu %4u  %s\n", mxg_cidr_str(c, buf, sizeof(buf)),
	       mxg_reason_str(v->reason), left, age,
	       (unsigned long long)v->hits, v->ban_count, note);
	return 0;
}

static const struct cli_opt list_opts[] = {
	{ "json", 'j', CLI_FLAG, NULL, "one JSON object per line",
	  .off = offsetof(struct list_ctx, json) },
	{ "expired", 'e', CLI_FLAG, NULL, "also the entries that have run out (not yet pruned)",
	  .off = offsetof(struct list_ctx, expired) },
	{ 0 }
};

const struct cli_command cli_list = {
	.name = "list", .fn = cmd_list,
	.summary = "show the denylist: list [--json] [--expired]",
	.about = "Show the denylist: range, reason, time left, age, hits, bans, note.",
	.opts = list_opts,
};

int cmd_list(int argc, char **argv)
{
	struct list_ctx l = { 0 };
	struct cli_ctx ctx;
	struct mxg_maps m;
	int ret;

	ret = cli_parse(&cli_list, argc, argv, &l, &ctx);
	if (ret != CLI_GO)
		return ret;
	ret = cli_open_maps("list", ctx.pin_dir, &m);
	if (ret)
		return ret;
	l.now = mxg_boot_ns();
	mxg_deny_each(&m, list_one, &l);
	mxg_maps_close(&m);
	if (!l.json && !l.shown)
		printf("the denylist is empty\n");
	return EXIT_OK;
}

static void stats_print(const struct mxg_stats *s, const struct mxg_stats *prev,
			double secs, bool json)
{
	unsigned int i;

	if (json)
		putchar('{');
	for (i = 0; i < mxg_n_stat_fields; i++) {
		size_t off = mxg_stat_fields[i].off;
		unsigned long long v = *(const __u64 *)((const char *)s + off);
		unsigned long long p = prev ? *(const __u64 *)((const char *)prev + off) : 0;
		double rate = prev && secs > 0 ? (double)(v - p) / secs : 0;

		if (json) {
			printf("%s\"%s\":%llu", i ? "," : "", mxg_stat_fields[i].name, v);
			if (prev)
				printf(",\"%s_per_s\":%.1f", mxg_stat_fields[i].name, rate);
		} else if (prev) {
			printf("%-14s %14llu %12.1f/s  %s\n", mxg_stat_fields[i].name, v,
			       rate, mxg_stat_fields[i].help);
		} else {
			printf("%-14s %14llu  %s\n", mxg_stat_fields[i].name, v,
			       mxg_stat_fields[i].help);
		}
	}
	if (json)
		printf("}\n");
	fflush(stdout);
}

struct stats_args {
	bool json;
	uint64_t interval_ns;	/* --watch; 0: one reading */
	unsigned long count;	/* 0: until Ctrl-C */
};

static const struct cli_opt stats_opts[] = {
	{ "json", 'j', CLI_FLAG, NULL, "one JSON object per reading",
	  .off = offsetof(struct stats_args, json) },
	{ "watch", 'w', CLI_DURATION, "INTERVAL",
	  "refresh every INTERVAL (default 1s, at least 100ms) with per-second rates",
	  .off = offsetof(struct stats_args, interval_ns), .min = 100 * MXG_MSEC_NS, .bare = "1s" },
	{ "count", 'n', CLI_UINT, "N", "with --watch: stop after N readings",
	  .off = offsetof(struct stats_args, count), .min = 1 },
	{ 0 }
};

const struct cli_command cli_stats = {
	.name = "stats", .fn = cmd_stats,
	.summary = "the XDP counters: stats [--json] [--watch]",
	.about = "The XDP program's counters, summed over CPUs; with --watch, N times\n"
		 "or until Ctrl-C.",
	.opts = stats_opts,
};

int cmd_stats(int argc, char **argv)
{
	struct stats_args a = { 0 };
	struct cli_ctx ctx;
	unsigned long shown;
	struct mxg_stats s, prev;
	struct mxg_maps m;
	int ret;

	ret = cli_parse(&cli_stats, argc, argv, &a, &ctx);
	if (ret != CLI_GO)
		return ret;
	ret = cli_open_maps("stats", ctx.pin_dir, &m);
	if (ret)
		return ret;
	ret = mxg_stats_read(&m, &s);
	if (ret) {
		cli_err("stats", "cannot read the stats map: %s", strerror(-ret));
		mxg_maps_close(&m);
		return EXIT_RUNTIME;
	}
	if (!a.interval_ns) {
		stats_print(&s, NULL, 0, a.json);
		mxg_maps_close(&m);
		return EXIT_OK;
	}
	for (shown = 0; !a.count || shown < a.count; shown++) {
		struct timespec ts = {
			.tv_sec = (time_t)(a.interval_ns / MXG_SEC_NS),
			.tv_nsec = (long)(a.interval_ns % MXG_SEC_NS),
		};

		prev = s;
		nanosleep(&ts, NULL);
		if (mxg_stats_read(&m, &s))
			break;
		if (!a.json && isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		stats_print(&s, &prev, (double)a.interval_ns / 1e9, a.json);
		if (!a.json && !isatty(STDOUT_FILENO))
			putchar('\n');
	}
	mxg_maps_close(&m);
	return EXIT_OK;
}

const struct cli_command cli_detach = {
	.name = "detach", .fn = cmd_detach,
	.summary = "remove the XDP program, its links and pinned maps",
	.about = "Remove the XDP program from every interface, and every pinned map:\n"
		 "all bans and counters are gone afterwards. Where it shares an interface\n"
		 "through libxdp's dispatcher, only mxguard leaves it.",
};

int cmd_detach(int argc, char **argv)
{
	char err[PATH_MAX + 256];
	const char *pin_dir;
	struct cli_ctx ctx;
	int ret;

	ret = cli_parse(&cli_detach, argc, argv, NULL, &ctx);
	if (ret != CLI_GO)
		return ret;
	pin_dir = ctx.pin_dir;
	if (access(pin_dir, F_OK)) {
		cli_err("detach", "%s: nothing to detach (%s)", pin_dir, strerror(errno));
		return EXIT_RUNTIME;
	}
	if (mxg_daemon_alive(pin_dir)) {
		cli_err("detach", "a daemon is running on %s: stop it first (or run it with --detach-on-exit)",
			pin_dir);
		return EXIT_RUNTIME;
	}
	if (mxg_detach_all(pin_dir, err, sizeof(err))) {
		cli_err("detach", "%s", err);
		return EXIT_RUNTIME;
	}
	printf("detached: removed the XDP links and maps under %s\n", pin_dir);
	return EXIT_OK;
}
