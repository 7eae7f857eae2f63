// SPDX-License-Identifier: GPL-2.0
/*
 * Operator commands for an attack in progress: status, top, allow, import,
 * export, evidence, reload, check-config. Like ban/list they work on the
 * pinned maps directly; only reload needs the daemon.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "commands.h"
#include "config.h"
#include "denylist.h"
#include "evidence.h"
#include "loader.h"
#include "maps.h"

/* ---- status ------------------------------------------------------------ */

struct json_args {
	bool json;
};

struct status_args {
	bool json;
	const char *state_dir;
};

/* cmd_fleet.c: the fleet's line, when the daemon writes a fleet status. */
void cli_fleet_status_line(const char *state_dir, FILE *out);
void cli_fleet_status_json(const char *state_dir, FILE *out);

static const struct cli_opt status_opts[] = {
	{ "json", 'j', CLI_FLAG, NULL, "one JSON object", .off = offsetof(struct status_args, json) },
	{ "state-dir", 0, CLI_STRING, "DIR", "the daemon's state dir, for the fleet line (default " MXG_STATE_DIR_DEFAULT ")",
	  .off = offsetof(struct status_args, state_dir) },
	{ 0 }
};

const struct cli_command cli_status = {
	.name = "status", .fn = cmd_status,
	.summary = "where it is attached, mode, map fill, daemon alive",
	.about = "Where the program is attached, in which mode, how full its maps are,\n"
		 "and whether a daemon is running. Exit 1 when nothing is loaded.",
	.opts = status_opts,
};

int cmd_status(int argc, char **argv)
{
	struct status_args a = { .state_dir = MXG_STATE_DIR_DEFAULT };
	struct cli_ctx ctx;
	const char *pin_dir;
	struct mxg_link_state ifs[MXG_MAX_IFACES];
	struct mxg_config cfg = { 0 };
	struct mxg_maps m;
	struct mxg_fill fill[MXG_N_FILL];
	unsigned int n_if, i;
	bool json, alive;
	int ret;

	ret = cli_parse(&cli_status, argc, argv, &a, &ctx);
	if (ret != CLI_GO)
		return ret;
	pin_dir = ctx.pin_dir;
	json = a.json;
	if (access(pin_dir, F_OK)) {
		if (json) {
			printf("{\"loaded\":false,\"pin_dir\":");
			json_str(stdout, pin_dir);
			printf("}\n");
		} else
			printf("mxguard is not loaded: no %s (start it with mxguard run)\n", pin_dir);
		return EXIT_RUNTIME;
	}
	ret = cli_open_maps("status", pin_dir, &m);
	if (ret)
		return ret;
	alive = mxg_daemon_alive(pin_dir);
	n_if = mxg_links_list(pin_dir, ifs, MXG_MAX_IFACES);
	mxg_config_read(&m, &cfg);
	mxg_maps_fill(&m, fill);

	if (json) {
		printf("{\"loaded\":true,\"pin_dir\":");
		json_str(stdout, pin_dir);
		printf(",\"daemon\":%s,\"monitor\":%s,\"deny_scope\":\"%s\","
		       "\"prefix_v4\":%u,\"prefix_v6\":%u,\"interfaces\":[",
		       alive ? "true" : "false",
		       cfg.flags & MXG_F_MONITOR ? "true" : "false",
		       cfg.flags & MXG_F_DENY_ALL ? "all" : "smtp",
		       cfg.prefix_v4, cfg.prefix_v6);
		for (i = 0; i < n_if; i++) {
			printf("%s{\"name\":", i ? "," : "");
			json_str(stdout, ifs[i].ifname);
			printf(",\"mode\":\"%s\",\"via\":\"%s\",\"present\":%s",
			       ifs[i].mode, ifs[i].via,
			       ifs[i].present ? "true" : "false");
			if (!strcmp(ifs[i].via, "dispatcher"))
				printf(",\"priority\":%u,\"others\":%u,\"ahead\":%u",
				       ifs[i].prio, ifs[i].others, ifs[i].ahead);
			printf("}");
		}
		printf("],\"maps\":{");
		for (i = 0; i < MXG_N_FILL; i++)
			printf("%s\"%s\":{\"entries\":%lu,\"max\":%u}", i ? "," : "",
			       fill[i].name, fill[i].entries, fill[i].max);
		printf("},\"fleet\":");
		cli_fleet_status_json(a.state_dir, stdout);
		printf("}\n");
	} else {
		printf("pin dir:   %s\n", pin_dir);
		printf("daemon:    %s\n", alive ? "running" : "not running (the program keeps filtering)");
		printf("mode:      %s, deny scope %s, rate keys /%u and /%u\n",
		       cfg.flags & MXG_F_MONITOR ? "monitor (nothing dropped)" : "enforcing",
		       cfg.flags & MXG_F_DENY_ALL ? "all traffic" : "SMTP ports",
		       cfg.prefix_v4, cfg.prefix_v6);
		for (i = 0; i < n_if; i++) {
			printf("attached:  %s (%s XDP", ifs[i].ifname, ifs[i].mode);
			if (!strcmp(ifs[i].via, "dispatcher"))
				printf(", libxdp dispatcher, priority %u, %u other program%s, %u ahead of it",
				       ifs[i].prio, ifs[i].others,
				       ifs[i].others == 1 ? "" : "s", ifs[i].ahead);
			else if (!strcmp(ifs[i].via, "libxdp"))
				printf(", through libxdp");
			printf(")%s\n", ifs[i].present ? "" : " - interface gone");
		}
		if (!n_if)
			printf("attached:  nowhere\n");
		for (i = 0; i < MXG_N_FILL; i++)
			printf("%-10s %lu of %u\n", fill[i].name, fill[i].entries, fill[i].max);
		cli_fleet_status_line(a.state_dir, stdout);
	}
	mxg_maps_close(&m);
	return EXIT_OK;
}

/* ---- top --------------------------------------------------------------- */

struct top_row {
	struct mxg_cidr prefix;
	uint16_t port;
	uint64_t syns, drops;		/* totals */
	uint64_t d_syns, d_drops;	/* during the interval */
};

struct top_set {
	unsigned int n, cap;
	struct top_row *v;
};

static int top_add(struct top_set *s, const struct top_row *r)
{
	if (s->n == s->cap) {
		unsigned int cap = s->cap ? s->cap * 2 : 1024;
		struct top_row *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *r;
	return 0;
}

static int top_add_bucket(const struct mxg_cidr *prefix, uint16_t port,
			  const struct mxg_bucket *b, void *arg)
{
	struct top_row r = {
		.prefix = *prefix,
		.port = port,
		.syns = b->syns,
		.drops = b->drops,
	};

	return top_add(arg, &r);
}

static int top_read(const struct mxg_maps *m, const struct mxg_config *cfg,
		    struct top_set *s)
{
	s->n = 0;
	return mxg_rate_each(m, cfg->prefix_v4, cfg->prefix_v6, top_add_bucket, s);
}

static bool same_bucket(const struct top_row *a, const struct top_row *b)
{
	return a->port == b->port && mxg_addr_equal(&a->prefix.addr, &b->prefix.addr);
}

static int by_drops(const void *x, const void *y)
{
	const struct top_row *a = x, *b = y;

	if (a->d_drops != b->d_drops)
		return a->d_drops < b->d_drops ? 1 : -1;
	if (a->d_syns != b->d_syns)
		return a->d_syns < b->d_syns ? 1 : -1;
	if (a->drops != b->drops)
		return a->drops < b->drops ? 1 : -1;
	return a->syns < b->syns ? 1 : a->syns > b->syns ? -1 : 0;
}

struct top_args {
	bool json;
	unsigned long count;
	uint64_t interval_ns;
};

static const struct cli_opt top_opts[] = {
	{ "json", 'j', CLI_FLAG, NULL, "one JSON object per prefix and port",
	  .off = offsetof(struct top_args, json) },
	{ "count", 'n', CLI_UINT, "COUNT", "show the COUNT busiest (default 10)",
	  .off = offsetof(struct top_args, count), .min = 1, .max = 100000 },
	{ "interval", 'i', CLI_DURATION, "DURATION",
	  "time between the two readings (default 1s); 0: the totals since each bucket was made",
	  .off = offsetof(struct top_args, interval_ns), .max = 3600ULL * MXG_SEC_NS },
	{ 0 }
};

const struct cli_command cli_top = {
	.name = "top", .fn = cmd_top,
	.summary = "source prefixes with the most SYNs and drops now",
	.about = "The source prefixes with the most new connections and drops at the NIC:\n"
		 "two readings of the rate buckets DURATION apart, busiest first.",
	.opts = top_opts,
};

int cmd_top(int argc, char **argv)
{
	struct top_args a = { .count = 10, .interval_ns = MXG_SEC_NS };
	struct cli_ctx ctx;
	const char *pin_dir;
	struct top_set before = { 0 }, after = { 0 };
	struct mxg_config cfg = { 0 };
	uint64_t interval_ns;
	unsigned long count;
	struct mxg_maps m;
	bool json;
	unsigned int i, j;
	int ret;

	ret = cli_parse(&cli_top, argc, argv, &a, &ctx);
	if (ret != CLI_GO)
		return ret;
	pin_dir = ctx.pin_dir;
	json = a.json;
	count = a.count;
	interval_ns = a.interval_ns;
	ret = cli_open_maps("top", pin_dir, &m);
	if (ret)
		return ret;
	mxg_config_read(&m, &cfg);
	ret = top_read(&m, &cfg, &before);
	if (!ret && interval_ns) {
		struct timespec ts = {
			.tv_sec = (time_t)(interval_ns / MXG_SEC_NS),
			.tv_nsec = (long)(interval_ns % MXG_SEC_NS),
		};

		nanosleep(&ts, NULL);
		ret = top_read(&m, &cfg, &after);
	}
	mxg_maps_close(&m);
	if (ret) {
		cli_err("top", "cannot read the rate maps: %s", strerror(-ret));
		free(before.v);
		free(after.v);
		return EXIT_RUNTIME;
	}
	if (!interval_ns) {
		after = before;
		before = (struct top_set){ 0 };
	}
	/* Differences: a bucket absent before started from zero. */
	for (i = 0; i < after.n; i++) {
		struct top_row *r = &after.v[i];

		r->d_syns = r->syns;
		r->d_drops = r->drops;
		for (j = 0; j < before.n; j++) {
			if (!same_bucket(r, &before.v[j]))
				continue;
			r->d_syns = r->syns >= before.v[j].syns ? r->syns - before.v[j].syns : r->syns;
			r->d_drops = r->drops >= before.v[j].drops ? r->drops - before.v[j].drops : r->drops;
			break;
		}
	}
	qsort(after.v, after.n, sizeof(*after.v), by_drops);
	if (!json)
		printf("%-43s %5s %12s %12s %14s %14s\n", "PREFIX", "PORT",
		       interval_ns ? "SYN/s" : "SYNS", interval_ns ? "DROP/s" : "DROPS",
		       "SYNS TOTAL", "DROPS TOTAL");
	for (i = 0; i < after.n && i < count; i++) {
		struct top_row *r = &after.v[i];
		char buf[MXG_CIDR_STRLEN];
		double secs = interval_ns ? (double)interval_ns / 1e9 : 1.0;

		mxg_cidr_str(&r->prefix, buf, sizeof(buf));
		if (json)
			printf("{\"prefix\":\"%s\",\"port\":%u,\"syn_rate\":%.1f,\"drop_rate\":%.1f,"
			       "\"syns\":%llu,\"drops\":%llu}\n", buf, r->port,
			       (double)r->d_syns / secs, (double)r->d_drops / secs,
			       (unsigned long long)r->syns, (unsigned long long)r->drops);
		else
			printf("%-43s %5u %12.1f %12.1f %14llu %14llu\n", buf, r->port,
			       (double)r->d_syns / secs, (double)r->d_drops / secs,
			       (unsigned long long)r->syns, (unsigned long long)r->drops);
	}
	free(before.v);
	free(after.v);
	return EXIT_OK;
}

/* ---- allow ------------------------------------------------------------- */

static int allow_print(const struct mxg_cidr *c, const struct mxg_allow *v, void *arg)
{
	bool json = *(bool *)arg;
	char buf[MXG_CIDR_STRLEN];

	mxg_cidr_str(c, buf, sizeof(buf));
	if (json)
		printf("{\"cidr\":\"%s\",\"source\":\"%s\",\"hits\":%llu}\n", buf,
		       v->source == MXG_ALLOW_CONFIG ? "config" : "manual",
		       (unsigned long long)v->hits);
	else
		printf("%-43s %-7s %12llu\n", buf,
		       v->source == MXG_ALLOW_CONFIG ? "config" : "manual",
		       (unsigned long long)v->hits);
	return 0;
}

struct allow_args {
	bool json;
	bool force;
};

static const struct cli_opt allow_opts[] = {
	{ "json", 'j', CLI_FLAG, NULL, "list: one JSON object per range",
	  .off = offsetof(struct allow_args, json) },
	{ "force", 0, CLI_FLAG, NULL, "add: needed for 0.0.0.0/0 or ::/0",
	  .off = offsetof(struct allow_args, force) },
	{ 0 }
};

const struct cli_command cli_allow = {
	.name = "allow", .fn = cmd_allow,
	.summary = "the allowlist: allow add|del CIDR, allow list",
	.operands = "add CIDR | del CIDR | list",
	.about = "The allowlist always wins: its ranges are never dropped nor rate limited.\n"
		 "Entries from the config's allow key are replaced on reload; these are kept.",
	.opts = allow_opts, .min_operands = 1, .max_operands = 2,
	.missing = "expected add, del or list",
};

int cmd_allow(int argc, char **argv)
{
	struct allow_args a = { 0 };
	struct cli_ctx ctx;
	const char *pin_dir;
	char buf[MXG_CIDR_STRLEN];
	struct mxg_maps m;
	struct mxg_cidr c;
	bool json, force;
	const char *verb;
	int ret;

	ret = cli_parse(&cli_allow, argc, argv, &a, &ctx);
	if (ret != CLI_GO)
		return ret;
	pin_dir = ctx.pin_dir;
	json = a.json;
	force = a.force;
	argc = ctx.argc;
	argv = ctx.argv;
	verb = argv[0];
	if (!strcmp(verb, "list")) {
		if (argc != 1) {
			cli_err("allow", "list takes no argument");
			return EXIT_USAGE;
		}
		ret = cli_open_maps("allow", pin_dir, &m);
		if (ret)
			return ret;
		if (!json)
			printf("%-43s %-7s %12s\n", "RANGE", "SOURCE", "HITS");
		mxg_allow_each(&m, allow_print, &json);
		mxg_maps_close(&m);
		return EXIT_OK;
	}
	if (strcmp(verb, "add") && strcmp(verb, "del")) {
		cli_err("allow", "unknown action \"%s\": expected add, del or list", verb);
		return EXIT_USAGE;
	}
	if (argc != 2) {
		cli_err("allow", "%s takes one CIDR", verb);
		return EXIT_USAGE;
	}
	ret = cli_cidr("allow", argv[1], &c);
	if (ret)
		return ret;
	if (!strcmp(verb, "add") && !c.prefixlen && !force) {
		cli_err("allow", "%s would exempt every IPv%d address from bans and rate limits; add --force if that is what you want",
			argv[1], c.addr.family);
		return EXIT_USAGE;
	}
	ret = cli_open_maps("allow", pin_dir, &m);
	if (ret)
		return ret;
	mxg_cidr_str(&c, buf, sizeof(buf));
	if (!strcmp(verb, "add")) {
		struct mxg_allow v = { .added_ns = mxg_boot_ns(), .source = MXG_ALLOW_MANUAL };

		ret = mxg_allow_put(&m, &c, &v);
		if (!ret)
			printf("allowlisted %s\n", buf);
	} else {
		ret = mxg_allow_del(&m, &c);
		if (!ret)
			printf("removed %s from the allowlist\n", buf);
	}
	mxg_maps_close(&m);
	if (ret) {
		cli_err("allow", "%s %s: %s", verb, buf,
			ret == -ENOENT ? "not in the allowlist" : strerror(-ret));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* ---- import / export --------------------------------------------------- */

struct import_args {
	uint64_t for_ns;
	bool force;
};

static const struct cli_opt import_opts[] = {
	{ "for", 'f', CLI_PARSE, "DURATION", "the length of the bans whose line gives none (default: permanent)",
	  .off = offsetof(struct import_args, for_ns), .parse = cli_parse_ban_for },
	{ "force", 0, CLI_FLAG, NULL, "needed for lines with 0.0.0.0/0 or ::/0",
	  .off = offsetof(struct import_args, force) },
	{ 0 }
};

const struct cli_command cli_import = {
	.name = "import", .fn = cmd_import,
	.summary = "load bans from a file: CIDR [TTL [REASON]] a line",
	.operands = "FILE|-",
	.about = "One ban a line: CIDR [TTL [REASON...]]; TTL is a duration (1h, 2d, at most\n"
		 MXG_BAN_MAX_STR ") or \"permanent\" or \"-\" (then --for, or permanent); #\n"
		 "starts a comment. As with ban, a ban already there for at least as long\n"
		 "is kept. The whole file is checked first: one bad line and nothing is\n"
		 "imported. mxguard export writes this format.",
	.opts = import_opts, .min_operands = 1, .max_operands = 1,
	.missing = "expected one FILE (or - for stdin)",
};

int cmd_import(int argc, char **argv)
{
	struct import_args a = { 0 };
	struct mxg_bulk *bulk;
	struct cli_ctx ctx;
	const char *pin_dir, *path;
	uint64_t default_ns, now;
	unsigned long lineno = 0, added = 0, covered = 0;
	char *line = NULL;
	size_t cap = 0;
	struct mxg_maps m;
	bool force;
	FILE *f;
	int ret = 0, err;

	ret = cli_parse(&cli_import, argc, argv, &a, &ctx);
	if (ret != CLI_GO)
		return ret;
	ret = 0;
	pin_dir = ctx.pin_dir;
	default_ns = a.for_ns;
	force = a.force;
	path = ctx.argv[0];
	f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	if (!f) {
		cli_err("import", "cannot open %s: %s", path, strerror(errno));
		return EXIT_RUNTIME;
	}
	ret = cli_open_maps("import", pin_dir, &m);
	if (ret) {
		fclose(f);
		return ret;
	}
	bulk = mxg_bulk_new(&m);
	if (!bulk) {
		cli_err("import", "out of memory");
		mxg_maps_close(&m);
		fclose(f);
		return EXIT_RUNTIME;
	}
	/*
	 * Two passes over a seekable file: validate everything, then write,
	 * so a typo on line 900000 does not leave half a list behind. Stdin is
	 * checked line by line as it is written. Each ban goes through the
	 * same rule as mxguard ban: it never shortens one already there.
	 */
	now = mxg_boot_ns();
	for (int pass = (f == stdin ? 1 : 0); pass < 2 && !ret; pass++) {
		if (pass == 1 && f != stdin)
			rewind(f);
		lineno = 0;
		while (getline(&line, &cap, f) >= 0) {
			char *p = line, *cidr, *ttl, *note;
			struct mxg_cidr c;
			uint64_t ns = default_ns;
			int bad;

			lineno++;
			p[strcspn(p, "#\r\n")] = '\0';
			cidr = strtok(p, " \t");
			if (!cidr)
				continue;
			ttl = strtok(NULL, " \t");
			note = strtok(NULL, "");
			if (note)
				note += strspn(note, " \t");
			if (mxg_cidr_parse(cidr, &c)) {
				cli_err("import", "%s:%lu: \"%s\": not an address or CIDR range (with host bits clear)",
					path, lineno, cidr);
				ret = EXIT_USAGE;
				break;
			}
			if (!c.prefixlen && !force) {
				cli_err("import", "%s:%lu: %s would drop SMTP from every IPv%d address; add --force if that is what you want",
					path, lineno, cidr, c.addr.family);
				ret = EXIT_USAGE;
				break;
			}
			if (ttl && strcmp(ttl, "-") && strcmp(ttl, "permanent")) {
				err = mxg_ban_duration(ttl, &ns);
				if (err) {
					cli_err("import", "%s:%lu: \"%s\": %s", path, lineno, ttl,
						err == -ERANGE ?
						"longer than the longest ban, " MXG_BAN_MAX_STR :
						"not a duration (1h, 2d) nor \"permanent\"");
					ret = EXIT_USAGE;
					break;
				}
			}
			if (ttl && !strcmp(ttl, "permanent"))
				ns = 0;
			bad = note ? mxg_note_bad_char(note) : -1;
			if (bad >= 0) {
				cli_err("import", "%s:%lu: reason: control character 0x%02x: the reason must be printable text",
					path, lineno, (unsigned char)note[bad]);
				ret = EXIT_USAGE;
				break;
			}
			if (pass == 0)
				continue;
			err = mxg_bulk_apply(bulk, &c, ns ? now + ns : 0, MXG_REASON_IMPORT,
					     now, note);
			if (err < 0) {
				cli_err("import", "%s:%lu: cannot write the denylist: %s",
					path, lineno, strerror(-err));
				ret = EXIT_RUNTIME;
				break;
			}
			if (err == MXG_APPLY_COVERED)
				covered++;
			else
				added++;
		}
	}
	free(line);
	mxg_bulk_free(bulk);
	mxg_maps_close(&m);
	if (f != stdin)
		fclose(f);
	if (!ret && covered)
		printf("imported %lu bans from %s (%lu already banned for at least as long, kept)\n",
		       added, path, covered);
	else if (!ret)
		printf("imported %lu bans from %s\n", added, path);
	return ret;
}

static int export_one(const struct mxg_cidr *c, const struct mxg_deny *v, void *arg)
{
	uint64_t now = *(uint64_t *)arg;
	char buf[MXG_CIDR_STRLEN], ttl[64];

	if (v->expires_ns && v->expires_ns <= now)
		return 0;
	if (v->expires_ns)
		snprintf(ttl, sizeof(ttl), "%llus",
			 (unsigned long long)((v->expires_ns - now + MXG_SEC_NS - 1) / MXG_SEC_NS));
	else
		snprintf(ttl, sizeof(ttl), "permanent");
	printf("%s %s %.*s\n", mxg_cidr_str(c, buf, sizeof(buf)), ttl,
	       (int)sizeof(v->note), v->note[0] ? v->note : mxg_reason_str(v->reason));
	return 0;
}

const struct cli_command cli_export = {
	.name = "export", .fn = cmd_export,
	.summary = "print the active bans in import format",
	.about = "Print the active bans in the format mxguard import reads:\n"
		 "CIDR TTL REASON, TTL in seconds left or \"permanent\".",
};

int cmd_export(int argc, char **argv)
{
	struct cli_ctx ctx;
	const char *pin_dir;
	struct mxg_maps m;
	uint64_t now;
	int ret;

	ret = cli_parse(&cli_export, argc, argv, NULL, &ctx);
	if (ret != CLI_GO)
		return ret;
	pin_dir = ctx.pin_dir;
	ret = cli_open_maps("export", pin_dir, &m);
	if (ret)
		return ret;
	now = mxg_boot_ns();
	printf("# mxguard export: CIDR TTL REASON\n");
	mxg_deny_each(&m, export_one, &now);
	mxg_maps_close(&m);
	return EXIT_OK;
}

/* ---- evidence ---------------------------------------------------------- */

static int print_line(const char *line, void *ctx)
{
	puts(line);
	return 0;
}

struct evidence_args {
	const char *state_dir;
};

static const struct cli_opt evidence_opts[] = {
	{ "state-dir", 's', CLI_STRING, "DIR", "where the daemon keeps its state (default "
	  MXG_STATE_DIR_DEFAULT ")", .off = offsetof(struct evidence_args, state_dir) },
	{ 0 }
};

const struct cli_command cli_evidence = {
	.name = "evidence", .fn = cmd_evidence,
	.summary = "the log lines behind a ban, for an abuse report",
	.operands = "CIDR",
	.about = "The log lines behind a ban made from the logs, passwords removed,\n"
		 "ready to paste into a complaint to the network's abuse contact.",
	.opts = evidence_opts, .min_operands = 1, .max_operands = 1,
	.missing = "expected one CIDR",
	.no_maps = true,	/* evidence lives in the state dir, not in bpffs */
};

int cmd_evidence(int argc, char **argv)
{
	struct evidence_args a = { .state_dir = MXG_STATE_DIR_DEFAULT };
	struct cli_ctx ctx;
	const char *state_dir;
	struct mxg_evidence_header hdr;
	char name[MXG_CIDR_STRLEN + 8], path[PATH_MAX + 64], buf[MXG_CIDR_STRLEN];
	struct mxg_cidr c;
	int ret;

	ret = cli_parse(&cli_evidence, argc, argv, &a, &ctx);
	if (ret != CLI_GO)
		return ret;
	state_dir = a.state_dir;
	ret = cli_cidr("evidence", ctx.argv[0], &c);
	if (ret)
		return ret;
	mxg_evidence_filename(&c, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/evidence/%s", state_dir, name);
	ret = mxg_evidence_read(path, &hdr, NULL, NULL);
	if (ret == -ENOENT) {
		cli_err("evidence", "no evidence recorded for %s in %s/evidence (bans made by hand or imported carry none)",
			mxg_cidr_str(&c, buf, sizeof(buf)), state_dir);
		return EXIT_RUNTIME;
	}
	if (ret) {
		cli_err("evidence", "cannot read %s: %s", path, strerror(-ret));
		return EXIT_RUNTIME;
	}
	printf("Range:    %s\n", mxg_cidr_str(&hdr.cidr, buf, sizeof(buf)));
	printf("Reason:   %s, %u failures, offence %u\n", hdr.reason, hdr.failures,
	       hdr.ban_count);
	printf("Banned:   %s until %s\n", hdr.banned, hdr.expires);
	printf("Log lines (%u, times as logged, passwords removed):\n\n", hdr.lines);
	ret = mxg_evidence_read(path, &hdr, print_line, NULL);
	return ret ? EXIT_RUNTIME : EXIT_OK;
}

/* ---- reload ------------------------------------------------------------ */

/*
 * The daemon holding the flock on the pin dir, from /proc/locks:
 * "1: FLOCK  ADVISORY  WRITE 1234 00:1f:5678 0 EOF".
 */
static pid_t lock_holder(const char *pin_dir)
{
	char line[256];
	struct stat st;
	unsigned int maj, min;
	unsigned long ino;
	long pid;
	pid_t found = 0;
	FILE *f;

	if (stat(pin_dir, &st))
		return 0;
	f = fopen("/proc/locks", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "FLOCK"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %ld %x:%x:%lu", &pid, &maj, &min,
			   &ino) != 4)
			continue;
		if (ino == st.st_ino && maj == major(st.st_dev) &&
		    min == minor(st.st_dev)) {
			found = (pid_t)pid;
			break;
		}
	}
	fclose(f);
	return found;
}

const struct cli_command cli_reload = {
	.name = "reload", .fn = cmd_reload,
	.summary = "make the running daemon re-read its config",
	.about = "Make the running daemon re-read its config (as SIGHUP does); new limits,\n"
		 "ports and allowlist apply without detaching. A bad config is refused\n"
		 "and the old one stays (see the daemon's log).",
};

int cmd_reload(int argc, char **argv)
{
	struct cli_ctx ctx;
	const char *pin_dir;
	pid_t pid;
	int ret;

	ret = cli_parse(&cli_reload, argc, argv, NULL, &ctx);
	if (ret != CLI_GO)
		return ret;
	pin_dir = ctx.pin_dir;
	pid = lock_holder(pin_dir);
	if (!pid) {
		cli_err("reload", "no daemon is running on %s", pin_dir);
		return EXIT_RUNTIME;
	}
	if (kill(pid, SIGHUP)) {
		cli_err("reload", "cannot signal the daemon (pid %d): %s", (int)pid,
			strerror(errno));
		return EXIT_RUNTIME;
	}
	printf("asked the daemon (pid %d) to reload its config\n", (int)pid);
	return EXIT_OK;
}

/* ---- check-config ------------------------------------------------------ */

struct check_args {
	const char *path;
	bool reference;
	bool man;
};

static const struct cli_opt check_opts[] = {
	{ "config", 'c', CLI_STRING, "FILE", "the config file (default " MXG_CONF_DEFAULT ", optional)",
	  .off = offsetof(struct check_args, path) },
	{ "option", 'o', CLI_CONF_KV, "key=value", "set a config key, over the file",
	  .repeat = true },
	{ "reference", 0, CLI_FLAG, NULL, "print every key with its default, bounds and help",
	  .off = offsetof(struct check_args, reference) },
	{ "man", 0, CLI_FLAG, NULL, "with --reference: as mxguard.conf(5) roff",
	  .off = offsetof(struct check_args, man) },
	{ 0 }
};

const struct cli_command cli_check_config = {
	.name = "check-config", .fn = cmd_check_config,
	.summary = "validate and print the effective config",
	.about = "Validate the config and print the effective settings; errors are\n"
		 "reported as FILE:LINE: KEY: why, with exit status 2.",
	.opts = check_opts,
};

int cmd_check_config(int argc, char **argv)
{
	struct check_args a = { 0 };
	struct cli_ctx ctx;
	struct mxg_options o;
	char err[PATH_MAX + 512];
	bool no_file;
	int ret;

	ret = cli_parse(&cli_check_config, argc, argv, &a, &ctx);
	if (ret != CLI_GO)
		return ret;
	if (a.reference) {
		mxg_config_print_reference(stdout, a.man);
		return EXIT_OK;
	}
	ret = mxg_config_build(&o, a.path, ctx.conf, ctx.n_conf, &no_file, err, sizeof(err));
	if (ret) {
		cli_err("check-config", "%s", err);
		return EXIT_USAGE;
	}
	if (no_file)
		cli_err("check-config", "no %s: the built-in defaults apply", MXG_CONF_DEFAULT);
	mxg_config_print(&o, stdout);
	return EXIT_OK;
}
