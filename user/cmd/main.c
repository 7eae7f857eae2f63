// SPDX-License-Identifier: GPL-2.0
/* mxguard: one binary, one subcommand per operator task (commands.c). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

int main(int argc, char **argv)
{
	unsigned int i;

	if (argc < 2) {
		cli_usage_all(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		cli_usage_all(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("mxguard %s\n", MXG_VERSION);
		return EXIT_OK;
	}
	for (i = 0; i < cli_n_commands; i++)
		if (!strcmp(argv[1], cli_commands[i]->name))
			return cli_commands[i]->fn(argc - 1, argv + 1);
	fprintf(stderr, "mxguard: unknown command \"%s\" (mxguard --help lists them)\n",
		argv[1]);
	return EXIT_USAGE;
}
