// SPDX-License-Identifier: GPL-2.0
/*
 * Operator commands on the pinned maps: ban, unban, list, stats, detach.
 * They open the maps by path, as bpftool does, and need no running daemon.
 */
#include <errno.h>
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

static const char *pin_dir_or_default(const char *p)
{
	return p ? p : MXG_PIN_DIR_DEFAULT;
}

/* Is c every address of its family? Then say what acting on it would do. */
static const char *everything(const struct mxg_cidr *c)
{
	if (c->prefixlen)
		return NULL;
	return c->addr.family == 4 ? "every IPv4 address" : "every IPv6 address";
}

int cmd_ban(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "for", required_argument, NULL, 'f' },
		{ "reason", required_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'F' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *pin_dir = NULL, *all;
	char buf[MXG_CIDR_STRLEN], dur[64];
	uint64_t for_ns = 0, now;
	const char *note = NULL;
	struct mxg_maps m;
	struct mxg_cidr c;
	bool force = false;
	int opt, ret, bad;

	while ((opt = getopt_long(argc, argv, "f:r:p:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			bad = mxg_note_bad_char(optarg);
			if (bad >= 0) {
				cli_err("ban", "--reason: control character 0x%02x at offset %d: the reason must be one line of printable text",
					(unsigned char)optarg[bad], bad);
				return EXIT_USAGE;
			}
			if (strlen(optarg) > MXG_NOTE_MAX) {
				cli_err("ban", "--reason \"%s\": at most %zu characters", optarg,
					MXG_NOTE_MAX);
				return EXIT_USAGE;
			}
			note = optarg;
			break;
		case 'f':
			ret = mxg_ban_duration(optarg, &for_ns);
			if (ret == -ERANGE) {
				cli_err("ban", "--for %s: longer than the longest ban, %s; leave --for out for a permanent ban",
					optarg, MXG_BAN_MAX_STR);
				return EXIT_USAGE;
			}
			if (ret) {
				cli_err("ban", "--for %s: not a duration (e.g. 90s, 10m, 1h, 2d, 1w)",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'F':
			force = true;
			break;
		case 'p':
			pin_dir = optarg;
			break;
		case 'h':
			printf("usage: mxguard ban CIDR [--for DURATION] [--reason TEXT] [--force] [--pin-dir DIR]\n"
			       "Denylist an address or range; without --for the ban is permanent\n"
			       "(--for at most %s). TEXT (up to %zu printable characters) is kept\n"
			       "with the entry and shown by list. 0.0.0.0/0 and ::/0 need --force.\n",
			       MXG_BAN_MAX_STR, MXG_NOTE_MAX);
			return EXIT_OK;
		default:
			return cli_bad_option("ban", opt, argv);
		}
	}
	ret = cli_one_cidr("ban", argc, argv, &c);
	if (ret)
		return ret;
	all = everything(&c);
	if (all && !force) {
		cli_err("ban", "%s would drop SMTP from %s (with deny_scope = all, every packet); add --force if that is what you want",
			argv[optind], all);
		return EXIT_USAGE;
	}
	ret = cli_open_maps("ban", pin_dir_or_default(pin_dir), &m);
	if (ret)
		return ret;

	now = mxg_boot_ns();
	ret = mxg_denylist_apply(&m, &c, for_ns ? now + for_ns : 0,
				 MXG_REASON_MANUAL, 1, now, note);
	mxg_maps_close(&m);
	if (ret < 0) {
		cli_err("ban", "cannot add %s to the denylist: %s", argv[optind],
			strerror(-ret));
		return EXIT_RUNTIME;
	}
	mxg_cidr_str(&c, buf, sizeof(buf));
	if (ret == MXG_APPLY_COVERED)
		printf("%s is already banned for at least as long (mxguard list); unban it first to shorten a ban\n",
		       buf);
	else
		printf("banned %s %s%s\n", buf, for_ns ? "for " : "",
		       for_ns ? human_duration(for_ns, dur, sizeof(dur)) : "permanently");
	return EXIT_OK;
}

int cmd_unban(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "missing-ok", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *pin_dir = NULL;
	char buf[MXG_CIDR_STRLEN];
	struct mxg_deny old;
	struct mxg_maps m;
	struct mxg_cidr c;
	bool missing_ok = false;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "p:mh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			pin_dir = optarg;
			break;
		case 'm':
			missing_ok = true;
			break;
		case 'h':
			printf("usage: mxguard unban CIDR [--missing-ok] [--pin-dir DIR]\n"
			       "Remove the denylist entry for exactly this range. --missing-ok: a\n"
			       "range that is not there (expired and pruned) is not an error.\n");
			return EXIT_OK;
		default:
			return cli_bad_option("unban", opt, argv);
		}
	}
	ret = cli_one_cidr("unban", argc, argv, &c);
	if (ret)
		return ret;
	ret = cli_open_maps("unban", pin_dir_or_default(pin_dir), &m);
	if (ret)
		return ret;
	if (mxg_deny_get(&m, &c, &old) || mxg_deny_del(&m, &c)) {
		mxg_maps_close(&m);
		if (missing_ok) {
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

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "expired", no_argument, NULL, 'e' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct list_ctx l = { 0 };
	const char *pin_dir = NULL;
	struct mxg_maps m;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "jep:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			l.json = true;
			break;
		case 'e':
			l.expired = true;
			break;
		case 'p':
			pin_dir = optarg;
			break;
		case 'h':
			printf("usage: mxguard list [--json] [--expired] [--pin-dir DIR]\n"
			       "Show the denylist; --json prints one object per line.\n");
			return EXIT_OK;
		default:
			return cli_bad_option("list", opt, argv);
		}
	}
	if (cli_no_args("list", argc, argv))
		return EXIT_USAGE;
	ret = cli_open_maps("list", pin_dir_or_default(pin_dir), &m);
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

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "watch", optional_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'n' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *pin_dir = NULL;
	uint64_t interval_ns = 0;
	unsigned long count = 0, shown;
	struct mxg_stats s, prev;
	struct mxg_maps m;
	bool json = false;
	char *end;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "jw::n:p:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'w':
			interval_ns = MXG_SEC_NS;
			if (optarg && (mxg_parse_duration(optarg, &interval_ns) ||
				       interval_ns < 100000000ULL)) {
				cli_err("stats", "--watch=%s: expected a duration of at least 100ms", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			count = strtoul(optarg, &end, 10);
			if (*end || !count) {
				cli_err("stats", "--count %s: expected a positive number", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'p':
			pin_dir = optarg;
			break;
		case 'h':
			printf("usage: mxguard stats [--json] [--watch[=INTERVAL] [--count N]] [--pin-dir DIR]\n"
			       "The XDP program's counters, summed over CPUs. --watch refreshes every\n"
			       "INTERVAL (default 1s) with per-second rates, N times or until Ctrl-C.\n");
			return EXIT_OK;
		default:
			return cli_bad_option("stats", opt, argv);
		}
	}
	if (cli_no_args("stats", argc, argv))
		return EXIT_USAGE;
	ret = cli_open_maps("stats", pin_dir_or_default(pin_dir), &m);
	if (ret)
		return ret;
	ret = mxg_stats_read(&m, &s);
	if (ret) {
		cli_err("stats", "cannot read the stats map: %s", strerror(-ret));
		mxg_maps_close(&m);
		return EXIT_RUNTIME;
	}
	if (!interval_ns) {
		stats_print(&s, NULL, 0, json);
		mxg_maps_close(&m);
		return EXIT_OK;
	}
	for (shown = 0; !count || shown < count; shown++) {
		struct timespec ts = {
			.tv_sec = (time_t)(interval_ns / MXG_SEC_NS),
			.tv_nsec = (long)(interval_ns % MXG_SEC_NS),
		};

		prev = s;
		nanosleep(&ts, NULL);
		if (mxg_stats_read(&m, &s))
			break;
		if (!json && isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		stats_print(&s, &prev, (double)interval_ns / 1e9, json);
		if (!json && !isatty(STDOUT_FILENO))
			putchar('\n');
	}
	mxg_maps_close(&m);
	return EXIT_OK;
}

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *pin_dir = MXG_PIN_DIR_DEFAULT;
	char err[PATH_MAX + 256];
	int opt;

	while ((opt = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			pin_dir = optarg;
			break;
		case 'h':
			printf("usage: mxguard detach [--pin-dir DIR]\n"
			       "Remove the XDP program from every interface, and every pinned map:\n"
			       "all bans and counters are gone afterwards.\n");
			return EXIT_OK;
		default:
			return cli_bad_option("detach", opt, argv);
		}
	}
	if (cli_no_args("detach", argc, argv))
		return EXIT_USAGE;
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
