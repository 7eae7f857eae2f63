// SPDX-License-Identifier: GPL-2.0
/*
 * The log-line parser (user/detect/parse.h). Each input is given twice: whole, as
 * one line, to a parser that also has a custom pattern; then split on '\n'
 * and fed line by line to a fresh parser, so the session table (OpenSMTPD,
 * Haraka) sees sequences. A reported event must be well formed, and
 * the evidence redactor (mxg_evidence_redact), which stores these lines,
 * must stay inside its buffer.
 */
#include "evidence_ring.h"
#include "fuzz.h"
#include "parse.h"

/* 2026-11-30T00:00:00Z, the corpus tests' "now". */
#define FUZZ_NOW 1795996800LL

static struct mxg_parser *custom;

/* The one place that creates a parser: the lead's API change lands here. */
static struct mxg_parser *new_parser(void)
{
	struct mxg_parser *p = mxg_parser_new();

	if (!p) {
		perror("mxg_parser_new");
		abort();
	}
	return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	setenv("TZ", "UTC", 1);
	custom = new_parser();
	mxg_parser_set_flags(custom, MXG_PARSE_HOSTILE);
	if (mxg_parser_add_pattern(custom,
				   "fuzz: login failed for (?<user>\\S+) from <HOST>",
				   "fuzz", err, sizeof(err))) {
		fprintf(stderr, "custom pattern: %s\n", err);
		abort();
	}
	return 0;
}

static void check_event(const struct mxg_auth_event *ev)
{
	FUZZ_CHECK(ev->addr.family == 4 || ev->addr.family == 6, "family %u",
		   ev->addr.family);
	FUZZ_CHECK((unsigned)ev->service < MXG_SVC_COUNT, "service %d", ev->service);
	FUZZ_CHECK(ev->kind == MXG_EV_AUTH || ev->kind == MXG_EV_HOSTILE, "kind %d",
		   ev->kind);
	FUZZ_CHECK(memchr(ev->user, '\0', sizeof(ev->user)), "user not terminated");
	FUZZ_CHECK(ev->attempts >= 1, "attempts %u", ev->attempts);
	FUZZ_CHECK(ev->label, "no label");
}

/*
 * Each line through the syslog reader and through one server's file
 * binding, picked by the line's length, so every family's matcher is
 * reached without its program tag too.
 */
static void feed(struct mxg_parser *p, const uint8_t *line, size_t len)
{
	struct mxg_auth_event ev;
	char *copy;

	/* An exact-size copy: the parser must not read past len. */
	copy = malloc(len ? len : 1);
	if (!copy)
		abort();
	memcpy(copy, line, len);
	memset(&ev, 0, sizeof(ev));
	if (mxg_parse_line(p, copy, len, FUZZ_NOW, &ev) == 1)
		check_event(&ev);
	memset(&ev, 0, sizeof(ev));
	if (mxg_parse_source(p, (int)(len % MXG_SVC_CUSTOM), copy, len,
			     FUZZ_NOW, &ev) == 1)
		check_event(&ev);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *s = data, *e = data + size, *nl;
	struct mxg_parser *p;
	char out[512];
	size_t n;

	if (size > 16384)
		return 0;
	feed(custom, data, size);

	n = mxg_evidence_redact((const char *)data, size, out, sizeof(out));
	FUZZ_CHECK(n < sizeof(out) && memchr(out, '\0', sizeof(out)),
		   "redacted length %zu", n);

	p = new_parser();
	mxg_parser_set_flags(p, MXG_PARSE_HOSTILE);
	while (s < e) {
		nl = memchr(s, '\n', (size_t)(e - s));
		if (!nl)
			nl = e;
		feed(p, s, (size_t)(nl - s));
		s = nl + 1;
	}
	mxg_parser_free(p);
	return 0;
}
