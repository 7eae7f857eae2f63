// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

bool mxg_log_verbose;
bool mxg_log_prio;

void mxg_log(int level, const char *fmt, ...)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
	};
	va_list ap;

	if (level >= 7 && !mxg_log_verbose)
		return;
	if (mxg_log_prio)
		fprintf(stderr, "<%d>", level);
	else if (level <= 4)
		fprintf(stderr, "mxguard: %s: ", names[level]);
	else
		fprintf(stderr, "mxguard: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
