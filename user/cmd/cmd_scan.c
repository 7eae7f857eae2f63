// SPDX-License-Identifier: GPL-2.0
/*
 * mxguard scan [--json] [--pattern RE]... FILE...
 *
 * Offline detection over log files, like fail2ban-regex: every AUTH failure
 * the parsers recognise, one line (or JSON object) each. Plain and gzip
 * files alike (user/logs/readfile.c reads both).
 */
#include <errno.h>
#include <getopt.h>
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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mxguard scan [--json] [--pattern REGEX]... [--probes] [SERVER:]FILE...\n"
		"\n"
		"Report every SMTP/IMAP AUTH failure found in log files (plain or .gz).\n"
		"Syslog-style files are read line by line by the parser of the program\n"
		"each line names; a file one server writes itself is named with it:\n"
		"exim:/var/log/exim4/mainlog, haraka:FILE, exchange:FILE, domino:FILE\n"
		"(Exim's and Haraka's default paths are known without it).\n"
		"\n"
		"  --json            one JSON object per failure, one a line\n"
		"  --pattern 'PROG: REGEX'  also match a fail2ban-style PCRE2 pattern on\n"
		"                    the lines of program PROG, from the start of their\n"
		"                    message, with <HOST> for the address and optional\n"
		"                    (?<user>...); may be repeated\n"
		"  --probes          also report hostile probes (lost connection after\n"
		"                    AUTH, non-SMTP commands, postscreen pregreet)\n"
		"  -h, --help        this help\n"
		"\n"
		"Exit status: 0 ok, 1 a file could not be read, 2 bad usage.\n");
}

int cmd_scan(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",	no_argument,		NULL, 'j' },
		{ "pattern",	required_argument,	NULL, 'p' },
		{ "probes",	no_argument,		NULL, 'P' },
		/* Taken by every command; scan reads files, not maps. */
		{ "pin-dir",	required_argument,	NULL, 'D' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct scan_out out = { 0 };
	unsigned long total = 0, lines, all = 0;
	struct mxg_parser *p;
	char err[512];
	int c, i, rc, status = EXIT_OK;
	bool probes = false;

	p = mxg_parser_new();
	if (!p) {
		fprintf(stderr, "mxguard scan: cannot create parser: %s\n",
			strerror(errno));
		return EXIT_RUNTIME;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			out.json = true;
			break;
		case 'p':
			if (mxg_parser_add_pattern(p, optarg, NULL, err,
						   sizeof(err))) {
				fprintf(stderr, "mxguard scan: --pattern: %s\n", err);
				status = EXIT_USAGE;
				goto out;
			}
			break;
		case 'P':
			probes = true;
			break;
		case 'D':
			break;
		case 'h':
			usage(stdout);
			goto out;
		case ':':
			fprintf(stderr, "mxguard scan: option '%s' needs an argument\n",
				argv[optind - 1]);
			status = EXIT_USAGE;
			goto out;
		default:
			fprintf(stderr, "mxguard scan: unknown option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			status = EXIT_USAGE;
			goto out;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "mxguard scan: no FILE given\n");
		usage(stderr);
		status = EXIT_USAGE;
		goto out;
	}
	if (probes)
		mxg_parser_set_flags(p, MXG_PARSE_HOSTILE);

	for (i = optind; i < argc; i++) {
		const char *path;
		int src = mxg_log_spec(p, argv[i], &path);

		if (src == -ENOENT) {
			fprintf(stderr, "mxguard scan: %s: no server or pattern program "
				"is named so before ':'\n", argv[i]);
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
