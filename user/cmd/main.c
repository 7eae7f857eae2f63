// SPDX-License-Identifier: GPL-2.0
/* mxguard: one binary, one subcommand per operator task. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "run", cmd_run, "load and attach the XDP program, follow the mail logs, ban offenders" },
	{ "status", cmd_status, "where it is attached, mode, map fill, daemon alive" },
	{ "stats", cmd_stats, "the XDP counters: stats [--json] [--watch]" },
	{ "top", cmd_top, "source prefixes with the most SYNs and drops now" },
	{ "ban", cmd_ban, "denylist an address or range: ban CIDR [--for D] [--reason T]" },
	{ "unban", cmd_unban, "remove a denylist entry: unban CIDR" },
	{ "list", cmd_list, "show the denylist: list [--json] [--expired]" },
	{ "allow", cmd_allow, "the allowlist: allow add|del CIDR, allow list" },
	{ "import", cmd_import, "load bans from a file: CIDR [TTL [REASON]] a line" },
	{ "export", cmd_export, "print the active bans in import format" },
	{ "evidence", cmd_evidence, "the log lines behind a ban, for an abuse report" },
	{ "scan", cmd_scan, "find AUTH failures in log files: scan [--json] FILE..." },
	{ "replay", cmd_replay, "feed old logs through the policy to build the denylist" },
	{ "probe", cmd_probe, "which ports of a mail server offer AUTH, and before TLS?" },
	{ "reload", cmd_reload, "make the running daemon re-read its config" },
	{ "check-config", cmd_check_config, "validate and print the effective config" },
	{ "detach", cmd_detach, "remove the XDP program, its links and pinned maps" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: mxguard COMMAND [OPTIONS]\n\n"
		"An XDP shield for SMTP servers against AUTH brute force and connection floods.\n\n"
		"Commands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nEvery command takes --pin-dir DIR (default /sys/fs/bpf/mxguard) and -h.\n"
		"Exit status: 0 ok, 1 runtime failure, 2 usage or configuration error.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("mxguard %s\n", MXG_VERSION);
		return EXIT_OK;
	}
	for (i = 0; i < N_COMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "mxguard: unknown command \"%s\" (mxguard --help lists them)\n",
		argv[1]);
	return EXIT_USAGE;
}
