// SPDX-License-Identifier: GPL-2.0
/*
 * mxguard accounts [--json] [--since D] [-n N]
 *
 * The attacked account names as the daemon keeps them (accounts.state in
 * its state dir): failures, sources, successes, and the accounts a
 * guessing source then logged in to, flagged as likely compromised.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts_file.h"
#include "accounts_view.h"
#include "cli.h"
#include "commands.h"
#include "engine.h"
#include "logtime.h"

struct row_list {
	struct mxg_account *v;
	size_t n, cap;
	int64_t since;
};

static int collect(const struct mxg_account *acc, void *arg)
{
	struct row_list *l = arg;

	if (l->since && acc->last < l->since)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct mxg_account *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *acc;
	return 0;
}

/* Compromised first, then the most failures, then by name. */
static int by_concern(const void *x, const void *y)
{
	const struct mxg_account *a = x, *b = y;
	int c;

	if (!a->compromised != !b->compromised)
		return a->compromised ? -1 : 1;
	if (a->failures != b->failures)
		return a->failures > b->failures ? -1 : 1;
	c = memcmp(a->name, b->name, a->len < b->len ? a->len : b->len);
	return c ? c : (int)a->len - (int)b->len;
}

static void json_name(FILE *f, const struct mxg_account *acc)
{
	char name[MXG_ACCT_NAME_MAX + 1];

	memcpy(name, acc->name, acc->len);
	name[acc->len] = '\0';
	json_str(f, name);
}

static void json_time(FILE *f, const char *key, int64_t t)
{
	char buf[32];

	fprintf(f, ",\"%s\":", key);
	if (t)
		fprintf(f, "\"%s\"", mxg_time_iso(t, buf, sizeof(buf)));
	else
		fputs("null", f);
}

static void json_addr(FILE *f, const char *key, const struct mxg_addr *a, bool set)
{
	char buf[MXG_ADDR_STRLEN];

	fprintf(f, ",\"%s\":", key);
	if (set)
		fprintf(f, "\"%s\"", mxg_addr_str(a, buf, sizeof(buf)));
	else
		fputs("null", f);
}

static void print_json(FILE *f, const struct mxg_account *acc, bool role)
{
	fputs("{\"account\":", f);
	json_name(f, acc);
	fprintf(f, ",\"cut\":%s,\"failures\":%llu,\"sources\":%u,\"sources_approx\":%s,\"successes\":%llu",
		acc->cut ? "true" : "false", (unsigned long long)acc->failures,
		acc->sources, acc->sources_approx ? "true" : "false",
		(unsigned long long)acc->successes);
	json_time(f, "first", acc->first);
	json_time(f, "last", acc->last);
	json_time(f, "last_success", acc->last_success);
	json_addr(f, "last_success_addr", &acc->last_success_addr, acc->last_success);
	fprintf(f, ",\"compromised\":%s", acc->compromised ? "true" : "false");
	json_time(f, "compromised_at", acc->compromised);
	json_addr(f, "compromise_addr", &acc->compromise_addr, acc->compromised);
	fprintf(f, ",\"role\":%s,\"role_exists\":%s}\n", role ? "true" : "false",
		role && acc->successes ? "true" : "false");
}

int accounts_view_print(const struct mxg_accounts *a,
			const struct accounts_view *v, FILE *f)
{
	struct row_list l = { .since = v->since };
	char esc[MXG_ACCT_ESC_MAX], t[32], addr[MXG_ADDR_STRLEN], flags[160];
	unsigned long shown = 0, compromised = 0, exist = 0;
	size_t i;

	if (mxg_accounts_each(a, collect, &l)) {
		free(l.v);
		return -ENOMEM;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), by_concern);
	if (!v->json)
		fprintf(f, "%-24s %9s %8s %9s  %-20s  %s\n", "ACCOUNT", "FAILURES",
			"SOURCES", "SUCCESSES", "LAST SEEN", "FLAGS");
	for (i = 0; i < l.n; i++) {
		const struct mxg_account *acc = &l.v[i];
		bool role = mxg_acct_is_role(v->roles, acc->name, acc->len);

		compromised += acc->compromised != 0;
		exist += role && acc->successes;
		if (v->max && shown >= v->max)
			continue;
		shown++;
		if (v->json) {
			print_json(f, acc, role);
			continue;
		}
		flags[0] = '\0';
		if (acc->compromised)
			snprintf(flags, sizeof(flags), "COMPROMISED? login from %s at %s",
				 mxg_addr_str(&acc->compromise_addr, addr, sizeof(addr)),
				 mxg_time_iso(acc->compromised, t, sizeof(t)));
		if (role)
			snprintf(flags + strlen(flags), sizeof(flags) - strlen(flags),
				 "%srole%s", flags[0] ? ", " : "",
				 acc->successes ? " account that exists" : "");
		fprintf(f, "%-24s %9llu %7s%u %9llu  %-20s  %s\n",
			mxg_acct_escape(acc->name, acc->len, esc),
			(unsigned long long)acc->failures,
			acc->sources_approx ? "~" : "", acc->sources,
			(unsigned long long)acc->successes,
			mxg_time_iso(acc->last, t, sizeof(t)), flags);
	}
	if (!v->json) {
		fprintf(f, "\n%zu accounts, %lu likely compromised, %lu role accounts that exist\n",
			l.n, compromised, exist);
		if (compromised)
			fputs("A COMPROMISED? account had a login from a source that was guessing passwords\n"
			      "shortly before: change its password and check what it sent.\n", f);
		if (exist)
			fputs("Role accounts that exist are what guessers try first: disable logins to\n"
			      "them, or give them long random passwords.\n", f);
	}
	free(l.v);
	return 0;
}

struct accounts_args {
	bool json;
	uint64_t since_ns;
	unsigned long max;
	const char *conf;
};

static const struct cli_opt accounts_opts[] = {
	{ "json", 0, CLI_FLAG, NULL, "one JSON object per account, one a line",
	  .off = offsetof(struct accounts_args, json) },
	{ "since", 0, CLI_DURATION, "D", "only accounts seen within D (e.g. 1h, 2d)",
	  .off = offsetof(struct accounts_args, since_ns), .min = MXG_SEC_NS },
	{ "number", 'n', CLI_UINT, "N", "at most N accounts (default all)",
	  .off = offsetof(struct accounts_args, max) },
	{ "state-dir", 's', CLI_CONF, "DIR", "where the daemon keeps its state (default "
	  MXG_STATE_DIR_DEFAULT ")", .key = "state_dir" },
	{ "config", 'c', CLI_STRING, "FILE", "the config file, for state_dir and role_accounts "
	  "(default " MXG_CONF_DEFAULT ", optional)", .off = offsetof(struct accounts_args, conf) },
	{ "option", 'o', CLI_CONF_KV, "key=value", "set a config key, over the file",
	  .repeat = true },
	{ 0 }
};

const struct cli_command cli_accounts = {
	.name = "accounts", .fn = cmd_accounts,
	.summary = "the attacked account names, and the likely compromised ones",
	.about = "The account names AUTH failures and logins named, as the daemon keeps\n"
		 "them (accounts.state in its state dir): failures, distinct sources,\n"
		 "successes; accounts a guessing source then logged in to are flagged\n"
		 "COMPROMISED?, and role names (role_accounts) that exist are flagged.\n"
		 "Names are shown with every byte outside '!'..'~' and the backslash\n"
		 "as \\xNN. scan --accounts gives the same for offline logs.",
	.opts = accounts_opts,
	.no_maps = true,	/* the accounts live in the state dir */
};

int cmd_accounts(int argc, char **argv)
{
	struct accounts_args a = { 0 };
	struct accounts_view v = { 0 };
	struct mxg_accounts_config ac;
	struct mxg_accounts *store;
	struct mxg_options *o;
	struct cli_ctx ctx;
	char err[PATH_MAX + 512], path[PATH_MAX + 32];
	unsigned int skipped;
	bool no_file;
	int ret, status = EXIT_OK;

	ret = cli_parse(&cli_accounts, argc, argv, &a, &ctx);
	if (ret != CLI_GO)
		return ret;
	o = malloc(sizeof(*o));
	if (!o) {
		cli_err("accounts", "out of memory");
		return EXIT_RUNTIME;
	}
	ret = mxg_config_build(o, a.conf, ctx.conf, ctx.n_conf, &no_file, err, sizeof(err));
	if (ret) {
		cli_err("accounts", "%s", err);
		free(o);
		return EXIT_USAGE;
	}
	mxg_engine_accounts_config(o, &ac);
	/* The daemon's capacity (the default) bounds what the file holds. */
	ac.src_capacity = MXG_ACCT_CAPACITY_MIN;
	store = mxg_accounts_new(&ac);
	if (!store) {
		cli_err("accounts", "cannot create the store: %s", strerror(errno));
		free(o);
		return EXIT_RUNTIME;
	}
	snprintf(path, sizeof(path), "%s/accounts.state", o->state_dir);
	ret = mxg_accounts_load(store, path, NULL, NULL, &skipped);
	if (ret == -ENOENT) {
		cli_err("accounts", "no %s yet: the daemon has seen no AUTH failure or login with a user name (or runs with another --state-dir)",
			path);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (ret < 0) {
		cli_err("accounts", "cannot read %s: %s", path,
			ret == -EINVAL ? "not an accounts file" : strerror(-ret));
		status = EXIT_RUNTIME;
		goto out;
	}
	if (skipped)
		cli_err("accounts", "%s: %u records could not be read: skipped", path, skipped);
	v.json = a.json;
	v.max = a.max;
	v.roles = o->role_accounts;
	if (a.since_ns)
		v.since = (int64_t)time(NULL) - (int64_t)(a.since_ns / MXG_SEC_NS);
	if (accounts_view_print(store, &v, stdout)) {
		cli_err("accounts", "out of memory");
		status = EXIT_RUNTIME;
	}
out:
	mxg_accounts_free(store);
	free(o);
	return status;
}
