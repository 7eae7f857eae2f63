// SPDX-License-Identifier: GPL-2.0
/*
 * mxguard replay FILE...: old logs (plain or .gz) through the parser and
 * the policy, each line judged at the time it carries, to build the
 * denylist from history. Bans that would have run out by now are counted,
 * not written. Give the files oldest first (mail.log.2.gz mail.log.1
 * mail.log).
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "engine.h"
#include "log.h"
#include "maps.h"
#include "readfile.h"

static int replay_one(const struct mxg_auth_event *ev, const char *line,
		      size_t len, const char *file, unsigned long lineno, void *arg)
{
	mxg_engine_event(arg, ev, line, len);
	return 0;
}

struct replay_args {
	const char *conf;
};

static const struct cli_opt replay_opts[] = {
	{ "config", 'c', CLI_STRING, "FILE", "the config file (default " MXG_CONF_DEFAULT ", optional)",
	  .off = offsetof(struct replay_args, conf) },
	{ "option", 'o', CLI_CONF_KV, "key=value", "set a config key, over the file",
	  .repeat = true },
	{ "monitor", 'm', CLI_CONF, NULL, "only print what it would ban",
	  .key = "monitor", .value = "yes" },
	{ 0 }
};

const struct cli_command cli_replay = {
	.name = "replay", .fn = cmd_replay,
	.summary = "feed old logs through the policy to build the denylist",
	.operands = "LOG...",
	.about = "Feed old logs (plain or .gz, oldest first) through the ban policy with\n"
		 "their own timestamps and write the bans still running into the denylist.",
	.opts = replay_opts, .min_operands = 1, .max_operands = CLI_ANY,
	.missing = "expected at least one log file",
};

int cmd_replay(int argc, char **argv)
{
	struct replay_args a = { 0 };
	struct cli_ctx ctx;
	struct mxg_engine eng = { 0 };
	struct mxg_options o;
	struct mxg_maps m;
	char err[PATH_MAX + 512];
	unsigned long total = 0;
	unsigned int i;
	bool no_file;
	int ret, status = EXIT_OK;

	ret = cli_parse(&cli_replay, argc, argv, &a, &ctx);
	if (ret != CLI_GO)
		return ret;
	ret = mxg_config_build(&o, a.conf, ctx.conf, ctx.n_conf, &no_file, err, sizeof(err));
	if (ret) {
		cli_err("replay", "%s", err);
		return EXIT_USAGE;
	}
	if (!o.monitor && mxg_maps_open(&m, o.pin_dir, err, sizeof(err))) {
		cli_err("replay", "%s", err);
		return EXIT_RUNTIME;
	}
	eng.replay = true;
	ret = mxg_engine_init(&eng, &o, o.monitor ? NULL : &m, err, sizeof(err));
	if (ret) {
		cli_err("replay", "%s", err);
		status = ret == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
		goto out;
	}
	for (i = 0; i < (unsigned int)ctx.argc; i++) {
		unsigned long lines = 0;

		const char *path;
		int src = mxg_log_spec(eng.parser, ctx.argv[i], &path);

		if (src == -ENOENT) {
			cli_err("replay", "%s: no server or pattern program is named so before ':'",
				ctx.argv[i]);
			status = EXIT_USAGE;
			continue;
		}
		/* Every line goes to the engine, matched or not: it counts them. */
		ret = mxg_scan_file(eng.parser, src, path, replay_one, &eng, &lines);
		if (ret < 0) {
			cli_err("replay", "cannot read %s: %s", ctx.argv[i], strerror(-ret));
			status = EXIT_RUNTIME;
			continue;
		}
		total += lines;
		eng.lines += lines;
	}
	{
		unsigned long long failures = 0;

		for (i = 0; i < MXG_SVC_COUNT; i++)
			failures += eng.matched[i];
		fprintf(stderr, "replayed %lu lines, %llu failures; %llu bans written, %llu already over%s\n",
		total, failures,
		(unsigned long long)(eng.bans[MXG_REASON_LOG] + eng.bans[MXG_REASON_RATE]),
		(unsigned long long)eng.bans_run_out,
		o.monitor ? " (monitor: nothing written)" : "");
	}
out:
	mxg_engine_free(&eng);
	if (!o.monitor)
		mxg_maps_close(&m);
	return status;
}
