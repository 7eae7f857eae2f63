/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the subcommands: option tables, output, JSON. */
#ifndef MXG_CLI_H
#define MXG_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "duration.h"

/* Print "mxguard CMD: ..." to stderr. */
void cli_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse a CIDR argument, printing why it is refused. 0 or EXIT_USAGE. */
int cli_cidr(const char *cmd, const char *arg, struct mxg_cidr *c);

/* After the options, no argument at all. 0 or EXIT_USAGE. */
int cli_no_args(const char *cmd, int argc, char **argv);

/* After the options, exactly one CIDR argument. 0 or EXIT_USAGE. */
int cli_one_cidr(const char *cmd, int argc, char **argv, struct mxg_cidr *c);

/*
 * Write s as a JSON string (with quotes), valid JSON for any bytes: control
 * characters are escaped, and each byte that is not part of a well-formed
 * UTF-8 sequence (RFC 3629) becomes \ufffd, one per byte.
 */
void json_str(FILE *f, const char *s);

struct mxg_maps;

/* Open the pinned maps, printing why not. 0 or EXIT_RUNTIME. */
int cli_open_maps(const char *cmd, const char *pin_dir, struct mxg_maps *m);

/* Unknown option / missing argument message for getopt_long loops. */
int cli_bad_option(const char *cmd, int c, char **argv);

#endif
