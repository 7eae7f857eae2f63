// SPDX-License-Identifier: GPL-2.0
/*
 * mxguard scan [--json] [--pattern RE]... FILE...
 *
 * Offline detection over log files, like fail2ban-regex: every AUTH failure
 * the parsers recognise, one line (or JSON object) each. Plain and gzip
 * files alike (user/logs/readfile.c reads both).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "logtime.h"
#include "parse.h"
#include "readfile.h"

struct scan_out {
	bool json;
	unsigned long matched[MXG_SVC_COUNT];
};

static int print_event(const struct mxg_auth_event *ev, const char *line,
		       size_t len, const char *file, unsigned long lineno,
		       void *arg)
{
	struct scan_out *o = arg;
	char abuf[MXG_ADDR_STRLEN], tbuf[32];

	o->matched[ev->service]++;
	mxg_addr_str(&ev->addr, abuf, sizeof(abuf));
	if (!o->json) {
		printf("%s:%lu %s %s %s %s %u%s\n", file, lineno,
		       ev->time ? mxg_time_iso(ev->time, tbuf, sizeof(tbuf)) : "-",
		       ev->label, abuf, ev->user[0] ? ev->user : "-",
		       ev->attempts, ev->kind == MXG_EV_HOSTILE ? " probe" : "");
		return 0;
	}
	fputs("{\"file\":", stdout);
	json_str(stdout, file);
	printf(",\"line\":%lu,\"time\":", lineno);
	if (ev->time)
		printf("\"%s\"", mxg_time_iso(ev->time, tbuf, sizeof(tbuf)));
	else
		fputs("null", stdout);
	fputs(",\"service\":", stdout);
	json_str(stdout, ev->label);
	printf(",\"addr\":\"%s\"", abuf);
	if (ev->user[0]) {
		fputs(",\"user\":", stdout);
		json_str(stdout, ev->user);
	}
	printf(",\"attempts\":%u", ev->attempts);
	if (ev->kind == MXG_EV_HOSTILE)
		fputs(",\"kind\":\"probe\"", stdout);
	fputs("}\n", stdout);
	return 0;
}

struct scan_args {
	bool json;
	struct mxg_parser *p;
	bool probes;
};

/* --pattern: compiled into the parser now, so a bad one names itself. */
static int parse_pattern(const char *arg, void *dst, char *why, size_t len)
{
	return mxg_parser_add_pattern(*(struct mxg_parser **)dst, arg, NULL, why, len);
}

static const struct cli_opt scan_opts[] = {
	{ "json", 0, CLI_FLAG, NULL, "one JSON object per failure, one a line",
	  .off = offsetof(struct scan_args, json) },
	{ "pattern", 0, CLI_PARSE, "'PROG: REGEX'",
	  "also match a fail2ban-style PCRE2 pattern on the lines of program PROG, "
	  "from the start of their message, with <HOST> for the address and "
	  "optional (?<user>...)", .off = offsetof(struct scan_args, p),
	  .parse = parse_pattern, .repeat = true },
	{ "probes", 0, CLI_FLAG, NULL, "also report hostile probes (lost connection after "
	  "AUTH, non-SMTP commands, postscreen pregreet)", .off = offsetof(struct scan_args, probes) },
	{ 0 }
};

const struct cli_command cli_scan = {
	.name = "scan", .fn = cmd_scan,
	.summary = "find AUTH failures in log files: scan [--json] FILE...",
	.operands = "[SERVER:]FILE...",
	.about = "Report every SMTP/IMAP AUTH failure found in log files (plain or .gz).\n"
		 "Syslog-style files are read line by line by the parser of the program\n"
		 "each line names; a file one server writes itself is named with it:\n"
		 "exim:/var/log/exim4/mainlog, haraka:FILE, exchange:FILE, domino:FILE,\n"
		 "nginx:FILE, zimbra:FILE, stalwart:FILE, roundcube:FILE, sogo:FILE\n"
		 "(the default paths of Exim, Haraka, nginx, Zimbra, Roundcube and SOGo\n"
		 "are known without it).\n"
		 "Exit status: 0 ok, 1 a file could not be read, 2 bad usage.",
	.opts = scan_opts, .min_operands = 1, .max_operands = CLI_ANY,
	.missing = "no FILE given",
	.no_maps = true,
};

int cmd_scan(int argc, char **argv)
{
	struct scan_args a = { 0 };
	struct scan_out out = { 0 };
	struct cli_ctx ctx;
	unsigned long total = 0, lines, all = 0;
	struct mxg_parser *p;
	int i, rc, status = EXIT_OK;

	p = mxg_parser_new();
	if (!p) {
		fprintf(stderr, "mxguard scan: cannot create parser: %s\n",
			strerror(errno));
		return EXIT_RUNTIME;
	}
	a.p = p;
	rc = cli_parse(&cli_scan, argc, argv, &a, &ctx);
	if (rc != CLI_GO) {
		status = rc;
		goto out;
	}
	out.json = a.json;
	if (a.probes)
		mxg_parser_set_flags(p, MXG_PARSE_HOSTILE);

	for (i = 0; i < ctx.argc; i++) {
		const char *path;
		int src = mxg_log_spec(p, ctx.argv[i], &path);

		if (src == -ENOENT) {
			fprintf(stderr, "mxguard scan: %s: no server or pattern program "
				"is named so before ':'\n", ctx.argv[i]);
			status = EXIT_USAGE;
			goto out;
		}
		rc = mxg_scan_file(p, src, path, print_event, &out, &lines);
		total += lines;
		if (rc < 0) {
			fflush(stdout);
			fprintf(stderr, "mxguard scan: cannot open %s: %s\n",
				path, strerror(-rc));
			status = EXIT_RUNTIME;
		}
	}
	fflush(stdout);
	for (i = 0; i < MXG_SVC_COUNT; i++)
		all += out.matched[i];
	fprintf(stderr, "%lu lines read, %lu matched", total, all);
	for (i = 0; i < MXG_SVC_COUNT; i++)
		if (out.matched[i])
			fprintf(stderr, ", %s %lu", mxg_service_name(i),
				out.matched[i]);
	fputc('\n', stderr);
out:
	mxg_parser_free(p);
	return status;
}
