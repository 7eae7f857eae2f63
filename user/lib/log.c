// SPDX-License-Identifier: GPL-2.0
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

bool mxg_log_verbose;
bool mxg_log_prio;

/*
 * Under systemd, stderr goes to journald, which says so in JOURNAL_STREAM.
 * Read before main(): a message logged before the daemon has parsed its
 * options must not go out without its priority.
 */
__attribute__((constructor)) static void log_init(void)
{
	mxg_log_prio = getenv("JOURNAL_STREAM") != NULL;
}

void mxg_vlog(int level, const char *fmt, va_list ap)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
	};
	char msg[PATH_MAX + 1024], prefix[32];
	char *line, *nl;

	if (level < 0)
		level = 0;
	if (level > 7)
		level = 7;
	if (level >= 7 && !mxg_log_verbose)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (mxg_log_prio)
		snprintf(prefix, sizeof(prefix), "<%d>", level);
	else if (level <= 4)
		snprintf(prefix, sizeof(prefix), "mxguard: %s: ", names[level]);
	else
		snprintf(prefix, sizeof(prefix), "mxguard: ");
	/*
	 * One fprintf per line: a line is never cut by another thread's.
	 * Each line of a multi-line message (libbpf's) gets the prefix, so
	 * journald files every one at its priority.
	 */
	line = msg;
	do {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		fprintf(stderr, "%s%s\n", prefix, line);
		line = nl ? nl + 1 : NULL;
	} while (line && *line);
}

void mxg_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mxg_vlog(level, fmt, ap);
	va_end(ap);
}
