// SPDX-License-Identifier: GPL-2.0
/* Text helpers the family matchers share (text.h). */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "text.h"

const char *mxg_find(const char *s, const char *e, const char *lit, size_t n)
{
	if (s >= e)
		return NULL;
	return memmem(s, (size_t)(e - s), lit, n);
}

/* Scans backwards from e: a loop of rfinds over shrinking ends stays linear. */
const char *mxg_rfind(const char *s, const char *e, const char *lit, size_t n)
{
	const char *q;

	if (!n || e - s < (ptrdiff_t)n)
		return NULL;
	for (q = e - n; q >= s; q--) {
		q = memrchr(s, lit[0], (size_t)(q - s) + 1);
		if (!q)
			return NULL;
		if (!memcmp(q, lit, n))
			return q;
	}
	return NULL;
}

const char *mxg_find_ci(const char *s, const char *e, const char *lit,
			size_t n)
{
	char lo = (char)tolower((unsigned char)lit[0]);
	char up = (char)toupper((unsigned char)lit[0]);

	for (; e - s >= (ptrdiff_t)n; s++)
		if ((*s == lo || *s == up) && !strncasecmp(s, lit, n))
			return s;
	return NULL;
}

bool mxg_starts(const char *s, const char *e, const char *lit, size_t n)
{
	return e - s >= (ptrdiff_t)n && !memcmp(s, lit, n);
}

bool mxg_starts_ci(const char *s, const char *e, const char *lit, size_t n)
{
	return e - s >= (ptrdiff_t)n && !strncasecmp(s, lit, n);
}

int mxg_addr_span(const char *s, const char *e, struct mxg_addr *out)
{
	if (s >= e || e - s > 60 || memchr(s, ' ', (size_t)(e - s)))
		return -EINVAL;
	return mxg_addr_parse(s, (size_t)(e - s), out);
}

int mxg_addr_port_span(const char *s, const char *e, struct mxg_addr *out)
{
	const char *c;

	if (!mxg_addr_span(s, e, out))
		return 0;
	/* Drop ":port" (after "a.b.c.d" or "[v6]") and try again. */
	for (c = e; c > s && isdigit((unsigned char)c[-1]); c--)
		;
	if (c == e || c - 1 <= s || c[-1] != ':')
		return -EINVAL;
	if (c[-2] != ']' && !memchr(s, '.', (size_t)(c - 1 - s)))
		return -EINVAL;
	return mxg_addr_span(s, c - 1, out);
}

const char *mxg_addr_bracket_before(const char *s, const char *rb,
				    struct mxg_addr *out)
{
	const char *lb;

	for (lb = rb - 1; lb >= s && rb - lb <= 60; lb--) {
		if (*lb == '[')
			break;
		if (*lb == ']' || *lb == ' ')
			return NULL;
	}
	if (lb < s || *lb != '[')
		return NULL;
	if (mxg_addr_span(lb + 1, rb, out))
		return NULL;
	return lb;
}

static bool addr_private(const struct mxg_addr *a)
{
	const unsigned char *b = a->a;

	if (a->family == 4)
		return b[0] == 10 || b[0] == 127 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
		       (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254) ||
		       (b[0] == 100 && (b[1] & 0xc0) == 64);
	return (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||
	       (!memcmp(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15) && b[15] == 1);
}

int mxg_addr_list_client(const char *s, const char *e, struct mxg_addr *out)
{
	const char *c, *end = e;
	struct mxg_addr a;
	bool have = false;

	while (end > s) {
		while (end > s && (end[-1] == ' ' || end[-1] == ','))
			end--;
		for (c = end; c > s && c[-1] != ',' && c[-1] != ' '; c--)
			;
		if (c == end || mxg_addr_span(c, end, &a))
			return have ? 0 : -EINVAL;
		if (!have) {
			*out = a;
			have = true;
		}
		if (!addr_private(&a)) {
			*out = a;
			return 0;
		}
		end = c;
	}
	return have ? 0 : -EINVAL;
}

void mxg_user_copy(struct mxg_auth_event *ev, const char *s, const char *e)
{
	size_t i, n = s < e ? (size_t)(e - s) : 0;

	if (n >= sizeof(ev->user))
		n = sizeof(ev->user) - 1;
	/* Control bytes would end up in terminals and JSON consumers. */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		ev->user[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	ev->user[n] = '\0';
}

unsigned int mxg_uint(const char *s, const char *e, const char **endp)
{
	unsigned int v = 0;

	while (s < e && isdigit((unsigned char)*s)) {
		if (v < 1000000)
			v = v * 10 + (unsigned int)(*s - '0');
		s++;
	}
	if (endp)
		*endp = s;
	return v;
}

bool mxg_is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

const char *mxg_value_end(const char *v, const char *e)
{
	while (v < e && *v != ' ')
		v++;
	return v;
}
