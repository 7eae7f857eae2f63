// SPDX-License-Identifier: GPL-2.0
/*
 * Custom patterns, fail2ban style: "PROGRAM: REGEX", where <HOST> (or
 * <ADDR>) marks the client address, (?<user>...) or <F-USER>...</F-USER>
 * the user name. A pattern reads only the lines of its program, from the
 * start of their message (compiled anchored), so text a client gets into
 * another program's line, or later into the same line, is never tried.
 * Each is compiled once, JIT-compiled when the library can, and owns its
 * match data, so matching allocates nothing.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matchers.h"
#include "text.h"

struct mxg_custom {
	struct mxg_custom *next;
	pcre2_code *code;
	pcre2_match_data *md;
	bool jit;
	int host_group;
	int user_group;		/* 0 when the pattern has none */
	char prog[MXG_PROG_MAX + 1];
	char label[MXG_PROG_MAX + 1];
};

static bool prog_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
	       c == '/' || c == '@';
}

/* "PROGRAM: " at the start of pattern: the regex after it, or NULL. */
static const char *split_prog(const char *pattern, char *prog)
{
	const char *p = pattern;

	while (*p && prog_char(*p))
		p++;
	if (p == pattern || p - pattern > MXG_PROG_MAX || p[0] != ':' ||
	    p[1] != ' ')
		return NULL;
	memcpy(prog, pattern, (size_t)(p - pattern));
	prog[p - pattern] = '\0';
	for (p += 2; *p == ' '; p++)
		;
	return *p ? p : NULL;
}

/* An address-looking token; mxg_addr_parse decides whether it is one. */
#define HOST_RE "(?:::f{4,6}:)?(?<host>[0-9A-Fa-f.:]{2,45}(?:%[\\w.-]+)?)"

static const struct {
	const char *from, *to;
} subst[] = {
	{ "<HOST>", HOST_RE },
	{ "<ADDR>", HOST_RE },
	{ "<F-USER>", "(?<user>" },
	{ "</F-USER>", ")" },
};

/* The pattern with the placeholders expanded; NULL when out of memory. */
static char *expand(const char *pattern)
{
	size_t len = strlen(pattern), cap = len * 8 + 256, n = 0, i, k;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	for (i = 0; i < len;) {
		for (k = 0; k < sizeof(subst) / sizeof(subst[0]); k++) {
			size_t fl = strlen(subst[k].from);

			if (!strncmp(pattern + i, subst[k].from, fl))
				break;
		}
		if (k < sizeof(subst) / sizeof(subst[0])) {
			size_t tl = strlen(subst[k].to);

			if (n + tl + 1 > cap)
				goto out_overflow;
			memcpy(out + n, subst[k].to, tl);
			n += tl;
			i += strlen(subst[k].from);
		} else {
			if (n + 2 > cap)
				goto out_overflow;
			out[n++] = pattern[i++];
		}
	}
	out[n] = '\0';
	return out;

out_overflow:
	/* More placeholders than the generous estimate: refuse the pattern. */
	free(out);
	errno = E2BIG;
	return NULL;
}

int mxg_custom_add(struct mxg_custom **list, const char *pattern,
		   const char *label, char *err, size_t errlen)
{
	struct mxg_custom *c, **tail;
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	char *re;
	int rc;

	char prog[MXG_PROG_MAX + 1];
	const char *body = split_prog(pattern, prog);

	if (!body) {
		snprintf(err, errlen,
			 "bad pattern \"%s\": begin it with the program that writes "
			 "the lines, as in \"myapp: login failed from <HOST>\"",
			 pattern);
		return -EINVAL;
	}
	re = expand(body);
	if (!re) {
		snprintf(err, errlen, "pattern too long or out of memory");
		return -ENOMEM;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		free(re);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
				PCRE2_DUPNAMES | PCRE2_ANCHORED, &rc, &off, NULL);
	free(re);
	if (!c->code) {
		pcre2_get_error_message(rc, msg, sizeof(msg));
		snprintf(err, errlen, "bad pattern \"%s\": %s", pattern,
			 (char *)msg);
		free(c);
		return -EINVAL;
	}
	c->host_group = pcre2_substring_number_from_name(c->code,
							 (PCRE2_SPTR)"host");
	if (c->host_group < 0) {
		snprintf(err, errlen,
			 "bad pattern \"%s\": no <HOST> (or (?<host>...)) in it",
			 pattern);
		pcre2_code_free(c->code);
		free(c);
		return -EINVAL;
	}
	rc = pcre2_substring_number_from_name(c->code, (PCRE2_SPTR)"user");
	c->user_group = rc > 0 ? rc : 0;
	c->jit = pcre2_jit_compile(c->code, PCRE2_JIT_COMPLETE) == 0;
	c->md = pcre2_match_data_create_from_pattern(c->code, NULL);
	if (!c->md) {
		pcre2_code_free(c->code);
		free(c);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(c->prog, sizeof(c->prog), "%s", prog);
	snprintf(c->label, sizeof(c->label), "%s", label ? label : prog);
	for (tail = list; *tail; tail = &(*tail)->next)
		;
	*tail = c;
	return 0;
}

static bool group(struct mxg_custom *c, int n, const char *s,
		  const char **gs, const char **ge)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);

	if (n <= 0 || ov[2 * n] == PCRE2_UNSET)
		return false;
	*gs = s + ov[2 * n];
	*ge = s + ov[2 * n + 1];
	return true;
}

static int match_one(struct mxg_custom *c, const char *s, const char *e,
		     struct mxg_auth_event *ev)
{
	const char *gs, *ge;
	int rc;

	if (c->jit)
		rc = pcre2_jit_match(c->code, (PCRE2_SPTR)s, (size_t)(e - s), 0,
				     0, c->md, NULL);
	else
		rc = pcre2_match(c->code, (PCRE2_SPTR)s, (size_t)(e - s), 0, 0,
				 c->md, NULL);
	if (rc < 0)
		return 0;
	if (!group(c, c->host_group, s, &gs, &ge) ||
	    mxg_addr_port_span(gs, ge, &ev->addr))
		return 0;
	if (group(c, c->user_group, s, &gs, &ge))
		mxg_user_copy(ev, gs, ge);
	ev->label = c->label;
	return 1;
}

static bool prog_eq(const struct mxg_custom *c, const char *prog, size_t n)
{
	return strlen(c->prog) == n && !memcmp(c->prog, prog, n);
}

int mxg_custom_match(struct mxg_custom *list, const char *prog, size_t n,
		     const char *s, const char *e, struct mxg_auth_event *ev)
{
	struct mxg_custom *c;

	for (c = list; c; c = c->next)
		if (prog_eq(c, prog, n) && match_one(c, s, e, ev))
			return 1;
	return 0;
}

int mxg_custom_match_index(struct mxg_custom *list, int idx, const char *s,
			   const char *e, struct mxg_auth_event *ev)
{
	struct mxg_custom *c = list;

	while (c && idx-- > 0)
		c = c->next;
	if (!c)
		return 0;
	return mxg_custom_match(list, c->prog, strlen(c->prog), s, e, ev);
}

int mxg_custom_index(const struct mxg_custom *list, const char *name,
		     size_t n)
{
	const struct mxg_custom *c;
	int i = 0;

	for (c = list; c; c = c->next, i++)
		if (prog_eq(c, name, n))
			return i;
	return -ENOENT;
}

void mxg_custom_free(struct mxg_custom *list)
{
	struct mxg_custom *next;

	for (; list; list = next) {
		next = list->next;
		pcre2_match_data_free(list->md);
		pcre2_code_free(list->code);
		free(list);
	}
}
