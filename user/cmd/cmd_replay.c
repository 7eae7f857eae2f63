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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "engine.h"
#include "log.h"
#include "maps.h"

static int replay_one(const struct mxg_auth_event *ev, const char *line,
		      size_t len, const char *file, unsigned long lineno, void *arg)
{
	mxg_engine_event(arg, ev, line, len);
	return 0;
}

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "option", required_argument, NULL, 'o' },
		{ "monitor", no_argument, NULL, 'm' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *conf = NULL;
	struct mxg_engine eng = { 0 };
	struct mxg_config_arg *args;
	struct mxg_options o;
	struct mxg_maps m;
	char err[PATH_MAX + 512];
	unsigned long total = 0;
	unsigned int i, n = 0;
	bool no_file;
	int opt, ret, status = EXIT_OK;

	args = calloc((size_t)argc, sizeof(*args));
	if (!args) {
		cli_err("replay", "out of memory");
		return EXIT_RUNTIME;
	}
	while ((opt = getopt_long(argc, argv, "c:o:mp:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf = optarg;
			break;
		case 'o':
			args[n++] = (struct mxg_config_arg){ NULL, optarg };
			break;
		case 'm':
			args[n++] = (struct mxg_config_arg){ "monitor", "yes" };
			break;
		case 'p':
			args[n++] = (struct mxg_config_arg){ "pin_dir", optarg };
			break;
		case 'h':
			free(args);
			printf("usage: mxguard replay [-c FILE] [-o key=value]... [--monitor] [--pin-dir DIR] LOG...\n"
			       "Feed old logs (plain or .gz, oldest first) through the ban policy with\n"
			       "their own timestamps and write the bans still running into the denylist.\n"
			       "--monitor only prints what it would ban.\n");
			return EXIT_OK;
		default:
			free(args);
			return cli_bad_option("replay", opt, argv);
		}
	}
	if (optind >= argc) {
		free(args);
		cli_err("replay", "expected at least one log file");
		return EXIT_USAGE;
	}
	ret = mxg_config_build(&o, conf, args, n, &no_file, err, sizeof(err));
	free(args);
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
	for (i = (unsigned int)optind; i < (unsigned int)argc; i++) {
		unsigned long lines = 0;

		const char *path;
		int src = mxg_log_spec(eng.parser, argv[i], &path);

		if (src == -ENOENT) {
			cli_err("replay", "%s: no server or pattern program is named so before ':'",
				argv[i]);
			status = EXIT_USAGE;
			continue;
		}
		/* Every line goes to the engine, matched or not: it counts them. */
		ret = mxg_scan_file(eng.parser, src, path, replay_one, &eng, &lines);
		if (ret < 0) {
			cli_err("replay", "cannot read %s: %s", argv[i], strerror(-ret));
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
