// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "mxguard.h"

#define SEC MXG_SEC_NS

int mxg_parse_duration(const char *s, uint64_t *ns)
{
	static const struct { const char *suf; uint64_t mult; } units[] = {
		{ "ms", MXG_MSEC_NS }, { "s", SEC }, { "m", 60 * SEC },
		{ "h", 3600 * SEC }, { "d", 86400 * SEC }, { "w", 7 * 86400 * SEC },
		{ "", SEC },
	};
	unsigned long long v;
	char *end;
	size_t i;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suf))
			continue;
		if (v > UINT64_MAX / units[i].mult)
			return -ERANGE;
		*ns = v * units[i].mult;
		return 0;
	}
	return -EINVAL;
}

const char *mxg_duration_str(uint64_t ns, char *buf, size_t size)
{
	static const struct { const char *suf; uint64_t mult; } units[] = {
		{ "w", 7 * 86400 * SEC }, { "d", 86400 * SEC }, { "h", 3600 * SEC },
		{ "m", 60 * SEC }, { "s", SEC }, { "ms", MXG_MSEC_NS },
	};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ns && ns % units[i].mult == 0) {
			snprintf(buf, size, "%llu%s",
				 (unsigned long long)(ns / units[i].mult),
				 units[i].suf);
			return buf;
		}
	}
	snprintf(buf, size, "%lluns", (unsigned long long)ns);
	return buf;
}

const char *human_duration(uint64_t ns, char *buf, size_t size)
{
	static const struct { const char *u; uint64_t s; } units[] = {
		{ "d", 86400 }, { "h", 3600 }, { "m", 60 }, { "s", 1 },
	};
	uint64_t secs = (ns + SEC - 1) / SEC;
	size_t i, used = 0;
	int parts = 0;

	buf[0] = '\0';
	for (i = 0; i < 4 && parts < 2; i++) {
		uint64_t n = secs / units[i].s;

		if (!n && !parts)
			continue;
		secs %= units[i].s;
		if (!n)
			break;
		used += (size_t)snprintf(buf + used, size - used, "%s%llu%s",
					 parts ? " " : "", (unsigned long long)n,
					 units[i].u);
		parts++;
	}
	if (!parts)
		snprintf(buf, size, "0s");
	return buf;
}
