// SPDX-License-Identifier: GPL-2.0
/*
 * Operator commands on the pinned maps: ban, unban, list, stats, detach.
 * They open the maps by path, as bpftool does, and need no running daemon.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "denylist.h"
#include "loader.h"
#include "maps.h"

static const char *pin_dir_or_default(const char *p)
{
	return p ? p : MXG_PIN_DIR_DEFAULT;
}

static int open_maps(const char *cmd, const char *pin_dir, struct mxg_maps *m)
{
	char err[PATH_MAX + 256];

	if (mxg_maps_open(m, pin_dir, err, sizeof(err))) {
		cli_err(cmd, "%s", err);
		return EXIT_RUNTIME;
	}
	return 0;
}

int cmd_ban(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "for", required_argument, NULL, 'f' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *pin_dir = NULL;
	char buf[MXG_CIDR_STRLEN], dur[64];
	uint64_t for_ns = 0, now;
	struct mxg_maps m;
	struct mxg_cidr c;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "f:p:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (mxg_parse_duration(optarg, &for_ns) || !for_ns) {
				cli_err("ban", "--for %s: not a duration (e.g. 90s, 10m, 1h, 2d, 1w)",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'p':
			pin_dir = optarg;
			break;
		case 'h':
			printf("usage: mxguard ban CIDR [--for DURATION] [--pin-dir DIR]\n"
			       "Denylist an address or range; without --for the ban is permanent.\n");
			return EXIT_OK;
		default:
			return cli_bad_option("ban", opt, argv);
		}
	}
	if (optind != argc - 1) {
		cli_err("ban", "expected one CIDR (mxguard ban -h)");
		return EXIT_USAGE;
	}
	ret = cli_cidr("ban", argv[optind], &c);
	if (ret)
		return ret;
	ret = open_maps("ban", pin_dir_or_default(pin_dir), &m);
	if (ret)
		return ret;

	now = mxg_boot_ns();
	ret = mxg_denylist_apply(&m, &c, for_ns ? now + for_ns : 0,
				 MXG_REASON_MANUAL, 1, now);
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
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *pin_dir = NULL;
	char buf[MXG_CIDR_STRLEN];
	struct mxg_deny old;
	struct mxg_maps m;
	struct mxg_cidr c;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			pin_dir = optarg;
			break;
		case 'h':
			printf("usage: mxguard unban CIDR [--pin-dir DIR]\n"
			       "Remove the denylist entry for exactly this range.\n");
			return EXIT_OK;
		default:
			return cli_bad_option("unban", opt, argv);
		}
	}
	if (optind != argc - 1) {
		cli_err("unban", "expected one CIDR (mxguard unban -h)");
		return EXIT_USAGE;
	}
	ret = cli_cidr("unban", argv[optind], &c);
	if (ret)
		return ret;
	ret = open_maps("unban", pin_dir_or_default(pin_dir), &m);
	if (ret)
		return ret;
	if (mxg_deny_get(&m, &c, &old) || mxg_deny_del(&m, &c)) {
		cli_err("unban", "%s is not in the denylist (mxguard list shows what is)",
			mxg_cidr_str(&c, buf, sizeof(buf)));
		mxg_maps_close(&m);
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
	char buf[MXG_CIDR_STRLEN], left[64], age[64];
	bool is_expired = v->expires_ns && v->expires_ns <= l->now;

	if (is_expired && !l->expired)
		return 0;
	l->shown++;
	if (l->json) {
		printf("{\"cidr\":\"%s\",\"reason\":\"%s\",\"permanent\":%s,"
		       "\"expires_in_s\":%lld,\"age_s\":%llu,\"hits\":%llu,"
		       "\"bans\":%u,\"expired\":%s}\n",
		       mxg_cidr_str(c, buf, sizeof(buf)), mxg_reason_str(v->reason),
		       v->expires_ns ? "false" : "true",
		       v->expires_ns ? ((long long)v->expires_ns - (long long)l->now) / 1000000000LL : 0,
		       (unsigned long long)((l->now - v->added_ns) / 1000000000ULL),
		       (unsigned long long)v->hits, v->ban_count,
		       is_expired ? "true" : "false");
		return 0;
	}
	if (l->shown == 1)
		printf("%-44s %-7s %-14s %-10s %12s %5s\n", "RANGE", "REASON",
		       "EXPIRES", "AGE", "HITS", "BANS");
	if (!v->expires_ns)
		snprintf(left, sizeof(left), "never");
	else if (is_expired)
		snprintf(left, sizeof(left), "expired");
	else
		human_duration(v->expires_ns - l->now, left, sizeof(left));
	human_duration(l->now > v->added_ns ? l->now - v->added_ns : 0, age, sizeof(age));
	printf("%-44s %-7s %-14s %-10s %12llu %5u\n", mxg_cidr_str(c, buf, sizeof(buf)),
	       mxg_reason_str(v->reason), left, age,
	       (unsigned long long)v->hits, v->ban_count);
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
	if (optind != argc) {
		cli_err("list", "unexpected argument \"%s\"", argv[optind]);
		return EXIT_USAGE;
	}
	ret = open_maps("list", pin_dir_or_default(pin_dir), &m);
	if (ret)
		return ret;
	l.now = mxg_boot_ns();
	mxg_deny_each(&m, list_one, &l);
	mxg_maps_close(&m);
	if (!l.json && !l.shown)
		printf("the denylist is empty\n");
	return EXIT_OK;
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *pin_dir = NULL;
	struct mxg_stats s;
	struct mxg_maps m;
	bool json = false;
	unsigned int i;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "jp:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'p':
			pin_dir = optarg;
			break;
		case 'h':
			printf("usage: mxguard stats [--json] [--pin-dir DIR]\n"
			       "Show the XDP program's counters, summed over CPUs.\n");
			return EXIT_OK;
		default:
			return cli_bad_option("stats", opt, argv);
		}
	}
	if (optind != argc) {
		cli_err("stats", "unexpected argument \"%s\"", argv[optind]);
		return EXIT_USAGE;
	}
	ret = open_maps("stats", pin_dir_or_default(pin_dir), &m);
	if (ret)
		return ret;
	ret = mxg_stats_read(&m, &s);
	mxg_maps_close(&m);
	if (ret) {
		cli_err("stats", "cannot read the stats map: %s", strerror(-ret));
		return EXIT_RUNTIME;
	}
	if (json)
		putchar('{');
	for (i = 0; i < mxg_n_stat_fields; i++) {
		unsigned long long v = *(const __u64 *)((const char *)&s +
							 mxg_stat_fields[i].off);

		if (json)
			printf("%s\"%s\":%llu", i ? "," : "", mxg_stat_fields[i].name, v);
		else
			printf("%-14s %14llu  %s\n", mxg_stat_fields[i].name, v,
			       mxg_stat_fields[i].help);
	}
	if (json)
		printf("}\n");
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
	if (optind != argc) {
		cli_err("detach", "unexpected argument \"%s\"", argv[optind]);
		return EXIT_USAGE;
	}
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
