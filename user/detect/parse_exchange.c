// SPDX-License-Identifier: GPL-2.0
/*
 * Microsoft Exchange SMTP receive protocol log (CSV):
 *   date-time,connector-id,session-id,sequence-number,local-endpoint,
 *   remote-endpoint,event,data,context
 *   2026-11-29T10:00:01.123Z,MX\Default Frontend MX,08DD...,7,
 *       10.0.0.1:587,198.18.1.2:52314,>,535 5.7.3 Authentication unsuccessful,
 * Fields are split honouring CSV quotes; remote-endpoint is Exchange's own.
 * The event ">" is what the server sent, "<" what the client sent: a 535
 * counts only as Exchange's own reply, never as text a client sent.
 *
 * maddy:
 *   smtp: authentication failed	{"reason":"...","src_ip":"198.18.1.2:52314",
 *       "username":"bob"}
 * The JSON object is walked key by key, so a user name holding
 * "src_ip":"..." stays inside its (escaped) string.
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

#define CSV_FIELDS 8

/* Split the first CSV_FIELDS fields; quotes kept in the spans. */
static int csv_split(const char *s, const char *e, const char *f[][2])
{
	int n = 0;
	bool quoted = false;
	const char *p, *start = s;

	for (p = s; p <= e && n < CSV_FIELDS; p++) {
		if (p < e && *p == '"') {
			quoted = !quoted;
		} else if (p == e || (*p == ',' && !quoted)) {
			f[n][0] = start;
			f[n][1] = p;
			n++;
			start = p + 1;
		}
	}
	return n;
}

int mxg_match_exchange(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *f[CSV_FIELDS][2];
	const char *d;

	if (s >= e || *s < '0' || *s > '9' ||
	    !MXG_FIND(s, e, ",>,") || !MXG_FIND(s, e, "535 "))
		return 0;
	if (csv_split(s, e, f) < CSV_FIELDS)
		return 0;
	if (f[6][1] - f[6][0] != 1 || f[6][0][0] != '>')
		return 0;
	d = f[7][0];
	if (d < f[7][1] && *d == '"')
		d++;
	if (!MXG_STARTS(d, f[7][1], "535 "))
		return 0;
	return !mxg_addr_port_span(f[5][0], f[5][1], &ev->addr);
}

/* End of the JSON string whose opening quote is at p, or NULL. */
static const char *json_string_end(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p;
	}
	return NULL;
}

/* Past the JSON value at p (string, number, literal, object, array). */
static const char *json_skip(const char *p, const char *e)
{
	int depth = 0;

	for (; p < e; p++) {
		if (*p == '"') {
			p = json_string_end(p, e);
			if (!p)
				return NULL;
			if (!depth)
				return p + 1;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (!depth)
				return p;
			if (!--depth)
				return p + 1;
		} else if (*p == ',' && !depth) {
			return p;
		}
	}
	return p;
}

static void json_user(struct mxg_auth_event *ev, const char *p, const char *e)
{
	char buf[MXG_USER_MAX];
	size_t n = 0;

	for (; p < e && n < sizeof(buf) - 1; p++) {
		if (*p == '\\' && p + 1 < e) {
			p++;
			if (*p == 'u') {
				buf[n++] = '?';
				p += e - p > 4 ? 4 : e - p - 1;
				continue;
			}
			buf[n++] = *p == 'n' || *p == 't' || *p == 'r' ? '?' : *p;
			continue;
		}
		buf[n++] = *p;
	}
	mxg_user_copy(ev, buf, buf + n);
}

int mxg_match_maddy(const char *s, const char *e, struct mxg_auth_event *ev)
{
	const char *a, *p, *k, *ke, *v, *ve;
	bool have_addr = false;

	/* "MODULE: authentication failed\t{...}" from the message's start. */
	for (a = s; a < e && ((*a >= 'a' && *a <= 'z') || *a == '_' ||
			      *a == '.' || *a == '-' || (*a >= '0' && *a <= '9'));
	     a++)
		;
	if (a == s || !MXG_STARTS(a, e, ": authentication failed"))
		return 0;
	p = a + 23;
	while (p < e && (*p == '\t' || *p == ' '))
		p++;
	if (p >= e || *p != '{')
		return 0;
	for (p++; p < e;) {
		while (p < e && (*p == ' ' || *p == ','))
			p++;
		if (p >= e || *p != '"')
			break;
		k = p + 1;
		ke = json_string_end(p, e);
		if (!ke)
			return 0;
		p = ke + 1;
		while (p < e && (*p == ' ' || *p == ':'))
			p++;
		v = p;
		p = json_skip(p, e);
		if (!p)
			return 0;
		ve = p;
		if (v >= ve || *v != '"')
			continue;
		if (ke - k == 6 && !memcmp(k, "src_ip", 6))
			have_addr = !mxg_addr_port_span(v + 1, ve - 1, &ev->addr);
		else if (ke - k == 8 && !memcmp(k, "username", 8))
			json_user(ev, v + 1, ve - 1);
	}
	return have_addr;
}
