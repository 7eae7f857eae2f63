// SPDX-License-Identifier: GPL-2.0
/*
 * mxguard run: the command line of the daemon (user/daemon/daemon.c). Its
 * flags are config keys, applied over the file in command line order, by
 * the one config pipeline, at start and again on every reload.
 */
#include <limits.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "daemon.h"
#include "log.h"

struct run_args {
	const char *conf_path;
};

/* Every flag but -c is a config key, applied after the file in order. */
static const struct cli_opt run_opts[] = {
	{ "config", 'c', CLI_STRING, "FILE", "the config file (default " MXG_CONF_DEFAULT
	  ", optional)", .off = offsetof(struct run_args, conf_path) },
	{ "interface", 'i', CLI_CONF, "IFACE", "attach to IFACE (default: the interface of "
	  "the default route)", .key = "interface", .repeat = true },
	{ "log", 0, CLI_CONF, "FILE", "follow this mail log; SERVER:FILE (exim:, haraka:, ...) for a file only that server writes", .key = "log", .repeat = true },
	{ "journal", 0, CLI_CONF, NULL, "follow the systemd journal", .key = "journal",
	  .value = "yes" },
	{ "monitor", 0, CLI_CONF, NULL, "count, drop nothing", .key = "monitor", .value = "yes" },
	{ "state-dir", 0, CLI_CONF, "DIR", "bans.state and evidence (default "
	  MXG_STATE_DIR_DEFAULT ")", .key = "state_dir" },
	{ "xdp-mode", 0, CLI_CONF, "auto|native|generic", "how to attach (default auto)",
	  .key = "xdp_mode" },
	{ "detach-on-exit", 0, CLI_CONF, NULL, "remove the program and maps when stopped",
	  .key = "detach_on_exit", .value = "yes" },
	{ "option", 'o', CLI_CONF_KV, "key=value", "set a config key, over the file",
	  .repeat = true },
	{ "verbose", 'v', CLI_CONF, NULL, "log every event", .key = "verbose", .value = "yes" },
	{ 0 }
};

const struct cli_command cli_run = {
	.name = "run", .fn = cmd_run,
	.summary = "load and attach the XDP program, follow the mail logs, ban offenders",
	.about = "Load the XDP program, attach it to each IFACE, and keep it fed. Flags\n"
		 "and -o override the config file, in command line order. SIGHUP reloads\n"
		 "the config.",
	.opts = run_opts,
};

/* What the daemon needs to build its config again on reload. */
struct run_config {
	const char *conf_path;	/* NULL: the default path, optional */
	const struct mxg_config_arg *args;	/* flags and -o, in order */
	unsigned int n_args;
};

/*
 * The options through the one config pipeline (config.h): defaults, the
 * file, then flags and -o in command line order, then the checks.
 */
static int run_config(struct mxg_options *o, bool reload, char *err,
		      size_t errlen, void *arg)
{
	const struct run_config *rc = arg;
	bool no_file;

	if (mxg_config_build(o, rc->conf_path, rc->args, rc->n_args, &no_file,
			     err, errlen)) {
		/* On reload the daemon says it, in its log. */
		if (!reload)
			cli_err("run", "%s", err);
		return -EINVAL;
	}
	if (no_file && !reload)
		mxg_info("no %s, using the built-in defaults", MXG_CONF_DEFAULT);
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = { 0 };
	struct run_config rc;
	struct cli_ctx ctx;
	int ret;

	ret = cli_parse(&cli_run, argc, argv, &a, &ctx);
	if (ret != CLI_GO)
		return ret;
	/* ctx lives as long as the daemon: reloads apply the same flags. */
	rc.conf_path = a.conf_path;
	rc.args = ctx.conf;
	rc.n_args = ctx.n_conf;
	return mxg_daemon_run(run_config, &rc);
}
