/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the subcommands: the option tables and their parser, output, JSON. */
#ifndef MXG_CLI_H
#define MXG_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "duration.h"
#include "config.h"

/* Print "mxguard CMD: ..." to stderr. */
void cli_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse a CIDR argument, printing why it is refused. 0 or EXIT_USAGE. */
int cli_cidr(const char *cmd, const char *arg, struct mxg_cidr *c);

/*
 * Write s as a JSON string (with quotes), valid JSON for any bytes: control
 * characters are escaped, and each byte that is not part of a well-formed
 * UTF-8 sequence (RFC 3629) becomes \ufffd, one per byte.
 */
void json_str(FILE *f, const char *s);

struct mxg_maps;

/* Open the pinned maps, printing why not. 0 or EXIT_RUNTIME. */
int cli_open_maps(const char *cmd, const char *pin_dir, struct mxg_maps *m);

/*
 * One option table per command (the idea of xdp-tools' params.h): each
 * command declares its options, and cli_parse() handles them all, with
 * --pin-dir and -h/--help for every command, one message for a bad option,
 * and the -h text made from the table.
 */
enum cli_type {
	CLI_FLAG,	/* no argument: sets the bool at .off */
	CLI_STRING,	/* the const char * at .off; the last one given wins */
	CLI_UINT,	/* the unsigned long at .off, from .min to .max (0: any) */
	CLI_DURATION,	/* the uint64_t ns at .off, from .min to .max (0: any) */
	CLI_PARSE,	/* .parse turns the argument into what is at .off */
	/*
	 * A config key (.key), applied after the config file in command line
	 * order (config.h: mxg_config_build); without .metavar a flag that
	 * sets the key to .value.
	 */
	CLI_CONF,
	CLI_CONF_KV,	/* -o key=value, the same way */
};

struct cli_opt {
	const char *name;	/* --name */
	char short_name;	/* -x, or 0 */
	enum cli_type type;
	const char *metavar;	/* the argument's name in the help; NULL: no argument */
	const char *help;
	size_t off;		/* where it goes in the command's argument struct */
	unsigned long long min, max;	/* CLI_UINT, CLI_DURATION */
	const char *key, *value;	/* CLI_CONF */
	/* An optional argument, only as --name=VALUE or -xVALUE: this when left out. */
	const char *bare;
	/* CLI_PARSE: 0, or -errno with why filled. */
	int (*parse)(const char *arg, void *dst, char *why, size_t len);
	bool repeat;		/* may be given more than once */
};

#define CLI_ANY		(~0u)	/* no upper bound on the operands */
#define CLI_MAX_CONF	256	/* config settings on one command line */

struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;	/* one line for mxguard --help */
	const char *operands;	/* after the options in the synopsis: "CIDR", "LOG..." */
	const char *about;	/* what it does, after the synopsis */
	const struct cli_opt *opts;	/* ends with { 0 }; NULL: none of its own */
	unsigned int min_operands, max_operands;
	const char *missing;	/* the message for too few operands */
	bool no_maps;		/* --pin-dir is taken, and unused */
	bool hidden;		/* not in mxguard --help nor completed as a command */
};

struct cli_ctx {
	const char *pin_dir;	/* --pin-dir, else MXG_PIN_DIR_DEFAULT */
	int argc;		/* the operands, the options taken out */
	char **argv;
	/* CLI_CONF and CLI_CONF_KV settings (and --pin-dir), in their order. */
	unsigned int n_conf;
	struct mxg_config_arg conf[CLI_MAX_CONF];
};

#define CLI_GO		(-1)	/* cli_parse: go on with the command */

/*
 * Parse argv (argv[0] the command's name) against cmd's table into args
 * and ctx. Options and operands may come in any order; "--" ends the
 * options; a long name may be shortened while it stays unique. Returns
 * CLI_GO, or the exit status: EXIT_OK after printing the help, EXIT_USAGE
 * after one message that names the command and the option as given.
 * Reorders argv: ctx->argv points into it.
 */
int cli_parse(const struct cli_command *cmd, int argc, char **argv, void *args,
	      struct cli_ctx *ctx);

/* CLI_PARSE for ban's and import's --for: a ban's length, at most the longest ban. */
int cli_parse_ban_for(const char *arg, void *dst, char *why, size_t len);

/* The -h text, made from cmd's table. */
void cli_usage(const struct cli_command *cmd, FILE *f);

/* Every command, in the order mxguard --help lists them (commands.c). */
extern const struct cli_command *const cli_commands[];
extern const unsigned int cli_n_commands;

/* mxguard --help: the commands and what they do. */
void cli_usage_all(FILE *f);

/*
 * The bash completion script, made from cli_commands and each command's
 * option table (the ones -h is made from), so the two cannot drift.
 * What an argument completes to comes from its metavar: FILE and LOG file
 * names, DIR directories, IFACE the interfaces, key=value the config
 * keys, "a|b|c" those words. 0, or -errno when writing to f failed.
 */
int cli_completion_bash(FILE *f);

/* mxguard completion bash: print that script (hidden from --help). */
extern const struct cli_command cli_completion;

#endif
