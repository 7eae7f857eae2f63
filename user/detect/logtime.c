// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "logtime.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* n digits at s (bounds checked by the caller), or -1. */
static int digits(const char *s, const char *e, int n)
{
	int v = 0;

	if (e - s < n)
		return -1;
	while (n--) {
		if (!is_digit(*s))
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t mxg_utc_seconds(int year, int mon, int mday, int hour, int min,
			int sec)
{
	return days_from_civil(year, mon, mday) * 86400 + hour * 3600 +
	       min * 60 + sec;
}

static long local_offset(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	/* localtime_r, unlike localtime and mktime, does not re-run tzset. */
	if (!localtime_r(&tt, &tm))
		return 0;
	return tm.tm_gmtoff;
}

int64_t mxg_local_seconds(int year, int mon, int mday, int hour, int min,
			  int sec)
{
	int64_t guess = mxg_utc_seconds(year, mon, mday, hour, min, sec);
	long off1 = local_offset(guess);
	long off2 = local_offset(guess - off1);

	/*
	 * Two passes settle every instant except the hour a DST change skips
	 * or repeats; there the first offset wins, which is off by at most
	 * that hour and never hurts a ban decision.
	 */
	return guess - off2;
}

static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

static int month_of(const char *s, const char *e)
{
	int i;

	if (e - s < 3)
		return -1;
	for (i = 0; i < 12; i++)
		if (!memcmp(s, months + 3 * i, 3))
			return i + 1;
	return -1;
}

static bool valid(int mon, int mday, int hour, int min, int sec)
{
	return mon >= 1 && mon <= 12 && mday >= 1 && mday <= 31 &&
	       hour >= 0 && hour <= 23 && min >= 0 && min <= 59 &&
	       sec >= 0 && sec <= 60;
}

/* "HH:MM:SS" at s; returns the end or NULL. */
static const char *clock_at(const char *s, const char *e, int *h, int *m,
			    int *sec)
{
	if (e - s < 8 || s[2] != ':' || s[5] != ':')
		return NULL;
	*h = digits(s, e, 2);
	*m = digits(s + 3, e, 2);
	*sec = digits(s + 6, e, 2);
	if (*h < 0 || *m < 0 || *sec < 0)
		return NULL;
	s += 8;
	/* Fractions are dropped: bans work in seconds. */
	if (s < e && (*s == '.' || *s == ',')) {
		s++;
		while (s < e && is_digit(*s))
			s++;
	}
	return s;
}

/* "Z", "+01:00", "+0100", "-05"; sets *off (seconds east); NULL if none. */
static const char *zone_at(const char *s, const char *e, long *off)
{
	int hh, mm = 0, sign;

	if (s < e && (*s == 'Z' || *s == 'z')) {
		*off = 0;
		return s + 1;
	}
	if (s >= e || (*s != '+' && *s != '-'))
		return NULL;
	sign = *s == '-' ? -1 : 1;
	hh = digits(s + 1, e, 2);
	if (hh < 0 || hh > 23)
		return NULL;
	s += 3;
	if (s < e && *s == ':')
		s++;
	if (e - s >= 2 && is_digit(s[0]) && is_digit(s[1])) {
		mm = digits(s, e, 2);
		s += 2;
	}
	*off = sign * (hh * 3600L + mm * 60L);
	return s;
}

static int64_t iso_time(const char *s, const char *e)
{
	int y, mo, d, h, mi, sec;
	const char *p;
	long off;

	y = digits(s, e, 4);
	if (y < 1970 || e - s < 19 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != ' ')) {
		/* nginx's error log: "2026/11/29 10:00:01", local time. */
		if (y < 1970 || e - s < 19 || s[4] != '/' || s[7] != '/' ||
		    s[10] != ' ')
			return 0;
		mo = digits(s + 5, e, 2);
		d = digits(s + 8, e, 2);
		p = clock_at(s + 11, e, &h, &mi, &sec);
		if (!p || !valid(mo, d, h, mi, sec))
			return 0;
		return mxg_local_seconds(y, mo, d, h, mi, sec);
	}
	mo = digits(s + 5, e, 2);
	d = digits(s + 8, e, 2);
	p = clock_at(s + 11, e, &h, &mi, &sec);
	if (!p || !valid(mo, d, h, mi, sec))
		return 0;
	if (zone_at(p, e, &off))
		return mxg_utc_seconds(y, mo, d, h, mi, sec) - off;
	/* Exim's "2026-11-29 10:00:01 +0100" puts a space before the zone. */
	if (e - p >= 6 && *p == ' ' && (p[1] == '+' || p[1] == '-') &&
	    is_digit(p[2]) && is_digit(p[5]) && zone_at(p + 1, e, &off))
		return mxg_utc_seconds(y, mo, d, h, mi, sec) - off;
	return mxg_local_seconds(y, mo, d, h, mi, sec);
}

static int64_t bsd_time(const char *s, const char *e, int64_t now)
{
	int mo, d, h, mi, sec, y;
	const char *p;
	time_t tt = (time_t)now;
	struct tm tm;
	int64_t t;

	mo = month_of(s, e);
	if (mo < 0 || e - s < 15 || s[3] != ' ')
		return 0;
	p = s + 4;
	if (*p == ' ')
		p++;
	if (p < e && is_digit(*p) && p + 1 < e && is_digit(p[1])) {
		d = digits(p, e, 2);
		p += 2;
	} else if (p < e && is_digit(*p)) {
		d = *p++ - '0';
	} else {
		return 0;
	}
	if (p >= e || *p++ != ' ')
		return 0;
	p = clock_at(p, e, &h, &mi, &sec);
	if (!p || !valid(mo, d, h, mi, sec))
		return 0;
	if (!localtime_r(&tt, &tm))
		return 0;
	y = tm.tm_year + 1900;
	t = mxg_local_seconds(y, mo, d, h, mi, sec);
	/* Logs come from the past: a date ahead of now is last year's. */
	if (t > now + 86400)
		t = mxg_local_seconds(y - 1, mo, d, h, mi, sec);
	return t;
}

static int64_t domino_time(const char *s, const char *e)
{
	int d, mo, y, h, mi, sec, t;
	const char *p;
	char sep;

	if (e - s < 19)
		return 0;
	sep = s[2];
	if ((sep != '-' && sep != '.' && sep != '/') || s[5] != sep ||
	    s[10] != ' ')
		return 0;
	d = digits(s, e, 2);
	mo = digits(s + 3, e, 2);
	y = digits(s + 6, e, 4);
	if (d < 0 || mo < 0 || y < 1970)
		return 0;
	p = clock_at(s + 11, e, &h, &mi, &sec);
	if (!p)
		return 0;
	/* Domino writes the server locale's order: day first unless it can't. */
	if (mo > 12 && d <= 12) {
		t = d;
		d = mo;
		mo = t;
	}
	if (e - p >= 3 && p[0] == ' ' && (p[1] == 'A' || p[1] == 'P') &&
	    p[2] == 'M') {
		if (h == 12)
			h = 0;
		if (p[1] == 'P')
			h += 12;
	}
	if (!valid(mo, d, h, mi, sec))
		return 0;
	return mxg_local_seconds(y, mo, d, h, mi, sec);
}

int64_t mxg_logtime_parse(const char *line, size_t len, int64_t now)
{
	const char *s = line, *e = line + len, *p;
	int64_t t;

	/* "<PRI>" and the RFC 5424 version digit. */
	if (s < e && *s == '<') {
		for (p = s + 1; p < e && p - s < 5 && is_digit(*p); p++)
			;
		if (p < e && *p == '>') {
			s = p + 1;
			if (e - s >= 2 && is_digit(s[0]) && s[1] == ' ')
				s += 2;
		}
	}
	/* Domino's "[0A1B:000C-0D0E] " thread tag. */
	if (s < e && *s == '[') {
		p = memchr(s, ']', (size_t)(e - s));
		if (p && p - s < 48 && p + 1 < e && p[1] == ' ')
			s = p + 2;
	}
	while (s < e && *s == ' ')
		s++;
	if (e - s < 8)
		return 0;
	if (is_digit(s[0])) {
		if (s[4] == '-' || s[4] == '/')
			return iso_time(s, e);
		t = domino_time(s, e);
		if (t)
			return t;
		/*
		 * journalctl -o short-unix: "1764410401.123456". Exactly ten
		 * digits; measure the run before adding it up, as a longer
		 * one from an attacker would overflow.
		 */
		for (p = s; p < e && is_digit(*p); p++)
			;
		if (p - s != 10 || (p != e && *p != '.' && *p != ' '))
			return 0;
		for (t = 0; s < p; s++)
			t = t * 10 + (*s - '0');
		return t;
	}
	/* journalctl -o short-full: "Sun 2026-11-29 10:00:01 CET". */
	if (e - s > 4 && s[3] == ' ' && is_digit(s[4]) && month_of(s, e) < 0)
		return iso_time(s + 4, e);
	return bsd_time(s, e, now);
}

const char *mxg_time_iso(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "?");
	return buf;
}
