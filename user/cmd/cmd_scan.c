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

#include "accounts_view.h"
#include "cli.h"
#include "commands.h"
#include "engine.h"
#include "logtime.h"
#include "parse.h"
#include "readfile.h"

struct scan_out {
	bool json;
	unsigned long matched[MXG_SVC_COUNT];
	/* --accounts: the store the events go to, instead of one line each. */
	struct mxg_accounts *accounts;
	int64_t last_time;		/* for lines that carry no time */
	unsigned long logins, alerts;
};

static void json_alert(const struct mxg_compromise *c, const char *service,
		       const char *file, unsigned long lineno)
{
	char name[MXG_ACCT_NAME_MAX + 1], buf[MXG_CIDR_STRLEN], t[32];
	unsigned int i;

	fputs("{\"alert\":\"compromise\",\"file\":", stdout);
	json_str(stdout, file);
	printf(",\"line\":%lu,\"account\":", lineno);
	memcpy(name, c->name, c->name_len);
	name[c->name_len] = '\0';
	json_str(stdout, name);
	printf(",\"addr\":\"%s\"", mxg_addr_str(&c->addr, buf, sizeof(buf)));
	printf(",\"source\":\"%s\",\"service\":", mxg_cidr_str(&c->source, buf, sizeof(buf)));
	json_str(stdout, service);
	printf(",\"failures\":%u,\"account_failures\":%u,\"accounts_tried\":%u",
	       c->failures, c->account_failures, c->accounts_tried);
	printf(",\"first_failure\":\"%s\"", mxg_time_iso(c->first, t, sizeof(t)));
	printf(",\"last_failure\":\"%s\",\"names_tried\":[", mxg_time_iso(c->last, t, sizeof(t)));
	for (i = 0; i < c->n_names; i++) {
		memcpy(name, c->names[i], c->names_len[i]);
		name[c->names_len[i]] = '\0';
		if (i)
			fputc(',', stdout);
		json_str(stdout, name);
	}
	fputs("]}\n", stdout);
}

/* --accounts: failures and logins into the store; an alert is said at once. */
static int account_event(struct scan_out *o, const struct mxg_auth_event *ev,
			 const char *file, unsigned long lineno)
{
	struct mxg_compromise c;
	char text[1024];
	int64_t t;

	if (ev->time > o->last_time)
		o->last_time = ev->time;
	t = ev->time ? ev->time : o->last_time;
	if (ev->kind == MXG_EV_AUTH) {
		o->matched[ev->service]++;
		mxg_accounts_failure(o->accounts, t, &ev->addr,
				     ev->user[0] ? ev->user : NULL, ev->attempts);
		return 0;
	}
	if (ev->kind != MXG_EV_LOGIN || !ev->user[0])
		return 0;
	o->logins++;
	if (mxg_accounts_success(o->accounts, t, &ev->addr, ev->user, &c) != 1)
		return 0;
	o->alerts++;
	if (o->json)
		json_alert(&c, ev->label, file, lineno);
	else
		printf("%s:%lu %s\n", file, lineno,
		       mxg_compromise_text(&c, ev->label, text, sizeof(text)));
	return 0;
}

static int print_event(const struct mxg_auth_event *ev, const char *line,
		       size_t len, const char *file, unsigned long lineno,
		       void *arg)
{
	struct scan_out *o = arg;
	char abuf[MXG_ADDR_STRLEN], tbuf[32];

	if (o->accounts)
		return account_event(o, ev, file, lineno);
	o->matched[ev->service]++;
	mxg_addr_str(&ev->addr, abuf, sizeof(abuf));
	if (!o->json) {
		printf("%s:%lu %s %s %s %s %u%s\n", file, lineno,
		       ev->time ? mxg_time_iso(ev->time, tbuf, sizeof(tbuf)) : "-",
		       ev->label, abuf, ev->user[0] ? ev->user : "-",
		       ev->attempts, ev->kind == MXG_EV_HOSTILE ? " hostile" : "");
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
		fputs(",\"kind\":\"hostile\"", stdout);
	fputs("}\n", stdout);
	return 0;
}

struct scan_args {
	bool json;
	struct mxg_parser *p;
	bool probes;
	bool accounts;
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
	{ "hostile", 0, CLI_FLAG, NULL, "also report other hostile lines, marked hostile (lost "
	  "connection after AUTH, non-SMTP commands, postscreen pregreet)",
	  .off = offsetof(struct scan_args, probes) },
	{ "probes", 0, CLI_FLAG, NULL, "the older name of --hostile",
	  .off = offsetof(struct scan_args, probes) },
	{ "accounts", 0, CLI_FLAG, NULL, "instead of each failure: the attacked accounts, "
	  "successful logins too, and the logins that look like a guessed password "
	  "(as mxguard accounts shows them)", .off = offsetof(struct scan_args, accounts) },
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
		 "With --accounts, the account names instead, with the logins from a\n"
		 "source that was guessing shortly before (the default compromise_*\n"
		 "settings), as `mxguard accounts` shows the daemon's.\n"
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
	struct mxg_options *defaults = NULL;
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
	if (a.accounts) {
		struct mxg_accounts_config ac;

		defaults = malloc(sizeof(*defaults));
		if (defaults) {
			mxg_config_defaults(defaults);
			mxg_engine_accounts_config(defaults, &ac);
			out.accounts = mxg_accounts_new(&ac);
		}
		if (!out.accounts) {
			fprintf(stderr, "mxguard scan: cannot create the accounts store: %s\n",
				strerror(errno));
			status = EXIT_RUNTIME;
			goto out;
		}
		mxg_parser_set_flags(p, (a.probes ? MXG_PARSE_HOSTILE : 0) | MXG_PARSE_LOGIN);
	}

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
	if (out.accounts) {
		struct accounts_view v = { .json = a.json, .roles = defaults->role_accounts };

		if (!a.json)
			printf("%s", out.alerts ? "\n" : "");
		accounts_view_print(out.accounts, &v, stdout);
	}
	fflush(stdout);
	for (i = 0; i < MXG_SVC_COUNT; i++)
		all += out.matched[i];
	fprintf(stderr, "%lu lines read, %lu matched", total, all);
	for (i = 0; i < MXG_SVC_COUNT; i++)
		if (out.matched[i])
			fprintf(stderr, ", %s %lu", mxg_service_name(i),
				out.matched[i]);
	if (out.accounts)
		fprintf(stderr, "; %lu logins, %lu likely guessed", out.logins, out.alerts);
	fputc('\n', stderr);
out:
	mxg_accounts_free(out.accounts);
	free(defaults);
	mxg_parser_free(p);
	return status;
}
