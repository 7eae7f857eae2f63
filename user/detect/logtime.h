/* SPDX-License-Identifier: GPL-2.0 */
/* Timestamps at the start of log lines. Pure functions. */
#ifndef MXG_LOGTIME_H
#define MXG_LOGTIME_H

#include <stddef.h>
#include <stdint.h>

/*
 * The time a log line carries at its start, in unix seconds, or 0 when it
 * has none we know. Understood, each optionally after a syslog "<PRI>" and
 * RFC 5424 version, or Domino's "[pid:tid-thread]":
 *   RFC 3164        "Nov 29 10:00:01"             year from now, never more
 *                                                 than a day ahead
 *   RFC 3339/5424   "2026-11-29T10:00:01.123456+01:00", "...Z"
 *   short-iso       "2026-11-29T10:00:01+0100"
 *   Exim            "2026-11-29 10:00:01" and "... +0100"
 *   Domino          "29-11-2026 10:00:01", "29.11.2026 ...", "29/11/2026 ..."
 *                   (month first when the day would be over 12; AM/PM)
 *   short-unix      "1764410401.123456"
 * Times without a zone are the machine's local time; call tzset() once
 * before (mxg_parser_new does).
 */
int64_t mxg_logtime_parse(const char *line, size_t len, int64_t now);

/* Seconds since the epoch of a UTC calendar time (no libc, no tz). */
int64_t mxg_utc_seconds(int year, int mon, int mday, int hour, int min,
			int sec);

/* The same for a local time of this machine; DST gaps resolved forward. */
int64_t mxg_local_seconds(int year, int mon, int mday, int hour, int min,
			  int sec);

/* "2026-11-29T10:00:01Z" into buf (at least 21 bytes). */
const char *mxg_time_iso(int64_t t, char *buf, size_t size);

#endif
