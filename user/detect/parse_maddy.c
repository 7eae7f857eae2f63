// SPDX-License-Identifier: GPL-2.0
/*
 * maddy:
 *   smtp: authentication failed	{"reason":"...","src_ip":"198.18.1.2:52314",
 *       "username":"bob"}
 * The JSON object is walked key by key, so a user name holding
 * "src_ip":"..." stays inside its (escaped) string.
 */
#include <string.h>

#include "matchers.h"
#include "text.h"

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
