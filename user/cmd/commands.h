/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Subcommands of the mxguard binary; each takes argv from its own name on
 * and declares its options in a struct cli_command (cli.h, commands.c).
 */
#ifndef MXG_COMMANDS_H
#define MXG_COMMANDS_H

#include "exitcode.h"

int cmd_run(int argc, char **argv);
int cmd_ban(int argc, char **argv);
int cmd_unban(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_allow(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_evidence(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_fleet(int argc, char **argv);

struct cli_command;
extern const struct cli_command cli_run, cli_ban, cli_unban, cli_list, cli_stats,
	cli_detach, cli_scan, cli_status, cli_top, cli_allow, cli_import, cli_export,
	cli_evidence, cli_reload, cli_check_config, cli_replay, cli_probe;
extern const struct cli_command cli_fleet;

/* The attacked accounts (cmd_accounts.c). */
int cmd_accounts(int argc, char **argv);
extern const struct cli_command cli_accounts;

#endif
