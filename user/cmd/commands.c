// SPDX-License-Identifier: GPL-2.0
/*
 * The commands of the mxguard binary, in the order mxguard --help lists
 * them. Each declares its options in its own file (struct cli_command).
 */
#include "cli.h"
#include "commands.h"

const struct cli_command *const cli_commands[] = {
	&cli_run, &cli_status, &cli_stats, &cli_top, &cli_ban, &cli_unban,
	&cli_list, &cli_allow, &cli_import, &cli_export, &cli_evidence,
	&cli_scan, &cli_replay, &cli_probe, &cli_reload, &cli_check_config,
	&cli_detach, &cli_fleet, &cli_completion,
	&cli_accounts,
};

const unsigned int cli_n_commands = sizeof(cli_commands) / sizeof(cli_commands[0]);
