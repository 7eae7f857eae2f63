// SPDX-License-Identifier: GPL-2.0
/*
 * Parser tests: the per-family corpora in tests/corpus/ (format in
 * tests/corpus/README), SSHGuard's mail corpus (tests/corpus/), timestamps, custom
 * patterns and the session table's bounds. Run from the repository root.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logtime.h"
#include "mxguard.h"
#include "parse.h"
#include "sessions.h"
#include "test.h"

/* 2026-11-30T00:00:00Z: the corpora's RFC 3164 dates are in 2026. */
#define NOW 1795996800LL

static char *chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static bool blank_or_comment(const char *s)
{
	return !*s || *s == '#';
}

/*
 * "[login ]SERVICE ADDR USER... ATTEMPTS [TIME]" against ev; false on
 * mismatch. "login " expects a successful login (MXG_EV_LOGIN), anything
 * else a failure.
 */
static bool check_expect(const char *file, unsigned long lineno,
			 const char *line, char *want, int got,
			 const struct mxg_auth_event *ev)
{
	char *svc, *addr, *user, *att, *tm = NULL, *sp;
	char abuf[MXG_ADDR_STRLEN], tbuf[32];
	struct mxg_addr wa;
	bool login = false;

	if (!strncmp(want, "login ", 6)) {
		login = true;
		want += 6;
	}
	if (!strcmp(want, "*")) {
		if (!got)
			return true;
		fprintf(stderr, "  %s:%lu: want no match, got %s %s user=\"%s\"\n    %s\n",
			file, lineno, ev->label,
			mxg_addr_str(&ev->addr, abuf, sizeof(abuf)), ev->user,
			line);
		return false;
	}
	svc = want;
	addr = strchr(svc, ' ');
	if (!addr)
		goto bad;
	*addr++ = '\0';
	user = strchr(addr, ' ');
	if (!user)
		goto bad;
	*user++ = '\0';
	sp = strrchr(user, ' ');
	if (!sp)
		goto bad;
	att = sp + 1;
	*sp = '\0';
	if (strchr(att, 'T') && att[strlen(att) - 1] == 'Z') {
		tm = att;
		sp = strrchr(user, ' ');
		if (!sp)
			goto bad;
		att = sp + 1;
		*sp = '\0';
	}
	if (!strcmp(user, "-"))
		user = "";
	if (mxg_addr_parse(addr, strlen(addr), &wa))
		goto bad;
	if (!got) {
		fprintf(stderr, "  %s:%lu: want %s %s, got no match\n    %s\n",
			file, lineno, svc, addr, line);
		return false;
	}
	if (login != (ev->kind == MXG_EV_LOGIN)) {
		fprintf(stderr, "  %s:%lu: want a %s, got a %s\n    %s\n",
			file, lineno, login ? "login" : "failure",
			ev->kind == MXG_EV_LOGIN ? "login" : "failure", line);
		return false;
	}
	if (strcmp(ev->label, svc) || !mxg_addr_equal(&ev->addr, &wa) ||
	    strcmp(ev->user, user) || ev->attempts != strtoul(att, NULL, 10) ||
	    (tm && strcmp(mxg_time_iso(ev->time, tbuf, sizeof(tbuf)), tm))) {
		fprintf(stderr, "  %s:%lu: want %s %s \"%s\" %s %s\n"
			"  %*s got %s %s \"%s\" %u %s\n    %s\n",
			file, lineno, svc, addr, user, att, tm ? tm : "",
			(int)strlen(file) + 4, "", ev->label,
			mxg_addr_str(&ev->addr, abuf, sizeof(abuf)), ev->user,
			ev->attempts, mxg_time_iso(ev->time, tbuf, sizeof(tbuf)),
			line);
		return false;
	}
	return true;
bad:
	fprintf(stderr, "  %s:%lu: bad expectation line\n", file, lineno);
	return false;
}

/* Per-service tallies over every corpus, printed at the end (recall). */
static struct {
	unsigned long want, found, logins, logins_found;
} tally[MXG_SVC_COUNT];
static unsigned long negatives, false_positives;

static void count_case(const char *want, int got, const struct mxg_auth_event *ev,
		       bool ok)
{
	bool login = !strncmp(want, "login ", 6);
	char svc[32];
	int i;

	if (login)
		want += 6;
	(void)ev;
	if (!strcmp(want, "*")) {
		negatives++;
		false_positives += got != 0;
		return;
	}
	if (sscanf(want, "%31s", svc) != 1)
		return;
	i = mxg_service_from_name(svc);
	if (i < 0)
		i = MXG_SVC_CUSTOM;
	if (login) {
		tally[i].logins++;
		tally[i].logins_found += ok;
	} else {
		tally[i].want++;
		tally[i].found += ok;
	}
}

/*
 * Run one corpus file; prints a count line and returns pass/fail. Each
 * line goes through two parsers: one asked for logins (MXG_PARSE_LOGIN),
 * whose answer is checked against the expectation, and one not, which
 * must say nothing of a login and the same as the first of anything else.
 */
static bool run_corpus(const char *name)
{
	char path[256], line[4096], want[4096], want0[4096], err[256];
	struct mxg_auth_event ev, ev0;
	struct mxg_parser *p, *p0;
	unsigned long lineno = 0, cases = 0, bad = 0, logline = 0;
	int got, got0, src = MXG_SRC_SYSLOG;
	bool ok;
	FILE *f;

	snprintf(path, sizeof(path), "tests/corpus/%s", name);
	f = fopen(path, "r");
	if (!ASSERT_TRUE(f != NULL, path))
		return false;
	p = mxg_parser_new();
	p0 = mxg_parser_new();
	if (!ASSERT_TRUE(p && p0, "mxg_parser_new")) {
		mxg_parser_free(p);
		fclose(f);
		return false;
	}
	mxg_parser_set_flags(p, MXG_PARSE_LOGIN);
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		chomp(line);
		if (blank_or_comment(line))
			continue;
		if (!strncmp(line, "%source ", 8)) {
			src = mxg_parser_source(p, line + 8, strlen(line + 8));
			if (src == -ENOENT) {
				fprintf(stderr, "  %s:%lu: unknown source %s\n",
					path, lineno, line + 8);
				bad++;
				src = MXG_SRC_SYSLOG;
			}
			continue;
		}
		if (!strncmp(line, "%pattern ", 9)) {
			char *svc = line + 9, *re = strchr(svc, ' ');

			if (!re)
				continue;
			*re++ = '\0';
			if (mxg_parser_add_pattern(p, re, svc, err, sizeof(err)) ||
			    mxg_parser_add_pattern(p0, re, svc, err, sizeof(err))) {
				fprintf(stderr, "  %s:%lu: %s\n", path, lineno, err);
				bad++;
			}
			continue;
		}
		logline = lineno;
		do {
			if (!fgets(want, sizeof(want), f)) {
				fprintf(stderr, "  %s:%lu: no expectation\n",
					path, logline);
				bad++;
				goto out;
			}
			lineno++;
			chomp(want);
		} while (blank_or_comment(want));
		got = mxg_parse_source(p, src, line, strlen(line), NOW, &ev);
		got0 = mxg_parse_source(p0, src, line, strlen(line), NOW, &ev0);
		cases++;
		if (got0 && ev0.kind == MXG_EV_LOGIN) {
			fprintf(stderr, "  %s:%lu: a login without MXG_PARSE_LOGIN\n",
				path, logline);
			bad++;
		} else if (got != got0 && !(got && ev.kind == MXG_EV_LOGIN)) {
			fprintf(stderr, "  %s:%lu: MXG_PARSE_LOGIN changed a failure\n",
				path, logline);
			bad++;
		}
		snprintf(want0, sizeof(want0), "%s", want);
		ok = check_expect(path, logline, line, want, got, &ev);
		count_case(want0, got, &ev, ok);
		if (!ok)
			bad++;
	}
out:
	fclose(f);
	mxg_parser_free(p);
	mxg_parser_free(p0);
	fprintf(stderr, "  %s: %lu cases, %lu failed\n", path, cases, bad);
	return bad == 0 && cases > 0;
}

static bool corpus_postfix(void)   { return run_corpus("postfix.txt"); }
static bool corpus_exim(void)      { return run_corpus("exim.txt"); }
static bool corpus_dovecot(void)   { return run_corpus("dovecot.txt"); }
static bool corpus_sendmail(void)  { return run_corpus("sendmail.txt"); }
static bool corpus_courier(void)   { return run_corpus("courier.txt"); }
static bool corpus_domino(void)    { return run_corpus("domino.txt"); }
static bool corpus_opensmtpd(void) { return run_corpus("opensmtpd.txt"); }
static bool corpus_haraka(void)    { return run_corpus("haraka.txt"); }
static bool corpus_exchange(void)  { return run_corpus("exchange.txt"); }
static bool corpus_maddy(void)     { return run_corpus("maddy.txt"); }
static bool corpus_custom(void)    { return run_corpus("custom.txt"); }
static bool corpus_nginx(void)     { return run_corpus("nginx.txt"); }
static bool corpus_zimbra(void)    { return run_corpus("zimbra.txt"); }
static bool corpus_vpopmail(void)  { return run_corpus("vpopmail.txt"); }
static bool corpus_stalwart(void)  { return run_corpus("stalwart.txt"); }
static bool corpus_webmail(void)   { return run_corpus("webmail.txt"); }
static bool corpus_imapd(void)     { return run_corpus("imapd.txt"); }
static bool corpus_mailcow(void)   { return run_corpus("mailcow.txt"); }

/*
 * Recall per server over the corpora above (run after them): failure
 * lines found of those expected, logins found, and lines that must not
 * match but did. A corpus failure already fails its own test; this prints
 * the figures the README quotes.
 */
static bool corpus_recall_per_server(void)
{
	unsigned long w = 0, f = 0;
	int i;

	fprintf(stderr, "  %-10s %18s %18s\n", "server", "failures found",
		"logins found");
	for (i = 0; i < MXG_SVC_COUNT; i++) {
		if (!tally[i].want && !tally[i].logins)
			continue;
		fprintf(stderr, "  %-10s %8lu of %-8lu %8lu of %-8lu\n",
			mxg_service_name(i), tally[i].found, tally[i].want,
			tally[i].logins_found, tally[i].logins);
		w += tally[i].want + tally[i].logins;
		f += tally[i].found + tally[i].logins_found;
	}
	fprintf(stderr, "  recall %lu of %lu; %lu of %lu negative lines matched\n",
		f, w, false_positives, negatives);
	return ASSERT_EQ(f, w, "every expected line found") &&
	       ASSERT_EQ(false_positives, 0ul, "no negative matched");
}

/* SSHGuard's service codes and whether mxguard targets the service. */
static const struct {
	int code;
	const char *name;
} sshguard_services[] = {
	{ 200, "uwimap" }, { 210, "dovecot" }, { 220, "cyrus" },
	{ 240, "exim" }, { 250, "sendmail" }, { 260, "postfix" },
	{ 270, "opensmtpd" }, { 280, "courier" },
};

static const char *sshguard_service(int code)
{
	size_t i;

	for (i = 0; i < sizeof(sshguard_services) / sizeof(sshguard_services[0]); i++)
		if (sshguard_services[i].code == code)
			return sshguard_services[i].name;
	return NULL;
}

/*
 * SSHGuard cases that are not a line any server writes: a log summary
 * (logwatch's ": 1 Time(s)" is after the server's text, so those still
 * match) and a relay's own rewrite of Exim's tag ("[exim]"). mxguard reads
 * the server's own lines; these are skipped, and listed here with why.
 */
static bool not_the_servers_format(const char *line)
{
	return strstr(line, " [exim] ") != NULL ||	/* not Exim's syslog tag */
	       strstr(line, " I=XYZ : ") != NULL;	/* a placeholder where Exim
							 * writes "I=[IP]:PORT" */
}

static bool sshguard_file(const char *path, unsigned long *checked)
{
	char line[4096], want[512], flag[16], abuf[MXG_ADDR_STRLEN];
	struct mxg_auth_event ev;
	struct mxg_parser *p;
	unsigned long lineno = 0, bad = 0, logline;
	FILE *f;
	int got;

	f = fopen(path, "r");
	if (!f)
		return false;
	p = mxg_parser_new();
	if (!p) {
		fclose(f);
		return false;
	}
	/* SSHGuard counts hostile lines as attacks too. */
	mxg_parser_set_flags(p, MXG_PARSE_HOSTILE);
	*checked = 0;
	while (fgets(line, sizeof(line), f)) {
		int code = 0;
		char addr[128] = "";
		const char *svc;
		struct mxg_addr wa;

		lineno++;
		chomp(line);
		if (blank_or_comment(line))
			continue;
		logline = lineno;
		if (!fgets(want, sizeof(want), f) || !fgets(flag, sizeof(flag), f))
			break;
		lineno += 2;
		chomp(want);
		chomp(flag);
		if (strcmp(want, "*")) {
			if (sscanf(want, "%d %127s", &code, addr) != 2)
				continue;
			svc = sshguard_service(code);
			/* Not a mail service (SSH banners, cucipop): not ours. */
			if (!svc || strcmp(flag, "M"))
				continue;
			if (not_the_servers_format(line))
				continue;
			(*checked)++;
			/*
			 * SSHGuard's lines are messages without their syslog
			 * head: read them as the file of the server that
			 * writes them, which is how mxguard binds a log.
			 */
			got = mxg_parse_source(p, mxg_parser_source(p, svc, strlen(svc)),
					       line, strlen(line), NOW, &ev);
			if (mxg_addr_parse(addr, strlen(addr), &wa) || !got ||
			    !mxg_addr_equal(&ev.addr, &wa)) {
				fprintf(stderr, "  %s:%lu: want %s %s, got %s\n    %s\n",
					path, logline, svc, addr,
					got ? mxg_addr_str(&ev.addr, abuf, sizeof(abuf)) :
					"no match", line);
				bad++;
			}
		} else if (!strcmp(flag, "M")) {
			int src;

			(*checked)++;
			/* No server's parser, and not the syslog reader, takes it. */
			got = mxg_parse_line(p, line, strlen(line), NOW, &ev);
			for (src = 0; !got && src < MXG_SVC_CUSTOM; src++)
				got = mxg_parse_source(p, src, line, strlen(line),
						       NOW, &ev);
			if (got) {
				fprintf(stderr, "  %s:%lu: want no match, got %s\n    %s\n",
					path, logline,
					mxg_addr_str(&ev.addr, abuf, sizeof(abuf)), line);
				bad++;
			}
		}
	}
	fclose(f);
	mxg_parser_free(p);
	fprintf(stderr, "  %s: %lu must-hold cases checked, %lu failed\n",
		path, *checked, bad);
	return bad == 0 && *checked > 0;
}

static bool corpus_sshguard_copy(void)
{
	unsigned long n;

	return sshguard_file("tests/corpus/sshguard-mail.txt", &n);
}

/* The same SSHGuard lines without MXG_PARSE_HOSTILE: hostile lines stay quiet. */
static bool hostile_lines_are_not_auth_failures(void)
{
	static const char *const lines[] = {
		"Dec 13 09:32:50 marcos postfix/smtpd[24754]: lost connection after AUTH from x.example[24.213.217.114]",
		"Jun 21 12:00:56 acme postfix/submission/smtpd[20201]: warning: non-SMTP command from unknown[1.2.3.4]: GET / HTTP/1.1",
		"Sep  6 11:47:43 poseidon postfix/postscreen[14766]: PREGREET 14 after 0.04 from [1.2.3.4]:55868: EHLO ylmf-pc\\r\\n",
		"Nov 29 10:00:01 mx sm-mta[1]: 4A1B: ruleset=check_rcpt, arg1=<a@b>, relay=[6.6.6.0], reject=550 5.7.1 <a@b>... Relaying denied. IP name lookup failed [6.6.6.0]",
	};
	struct mxg_parser *p = mxg_parser_new();
	struct mxg_auth_event ev;
	bool ok = true;
	size_t i;

	if (!ASSERT_TRUE(p != NULL, "mxg_parser_new"))
		return false;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		ok &= ASSERT_EQ(mxg_parse_line(p, lines[i], strlen(lines[i]),
					       NOW, &ev), 0, lines[i]);
	mxg_parser_set_flags(p, MXG_PARSE_HOSTILE);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		ok &= ASSERT_EQ(mxg_parse_line(p, lines[i], strlen(lines[i]),
					       NOW, &ev), 1, lines[i]);
		ok &= ASSERT_EQ(ev.kind, MXG_EV_HOSTILE, "kind is hostile");
	}
	mxg_parser_free(p);
	return ok;
}

/*
 * The parser's event kinds and the XDP program's (include/mxguard.h) are
 * in scope together in the daemon: no two may share a value.
 */
static bool log_and_xdp_event_kinds_share_no_value(void)
{
	static const int kinds[] = { MXG_EV_AUTH, MXG_EV_HOSTILE, MXG_EV_LOGIN,
				     MXG_EV_RATE, MXG_EV_DENY };
	size_t i, j;
	bool ok = true;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		for (j = i + 1; j < sizeof(kinds) / sizeof(kinds[0]); j++)
			ok &= ASSERT_TRUE(kinds[i] != kinds[j],
					  "two event kinds share a value");
	return ok;
}

static bool ts(const char *s, int64_t want)
{
	int64_t got = mxg_logtime_parse(s, strlen(s), NOW);

	return ASSERT_EQ(got, want, s);
}

static bool logtime_formats(void)
{
	int64_t t = mxg_utc_seconds(2026, 11, 29, 10, 0, 1);
	bool ok = true;

	ok &= ASSERT_EQ(t, 1795946401LL, "utc 2026-11-29T10:00:01");
	ok &= ASSERT_EQ(mxg_utc_seconds(1970, 1, 1, 0, 0, 0), 0, "epoch");
	ok &= ASSERT_EQ(mxg_utc_seconds(2000, 3, 1, 0, 0, 0), 951868800LL,
			"leap year 2000");
	ok &= ts("Nov 29 10:00:01 mx postfix/smtpd[1]: x", t);
	ok &= ts("Nov  9 10:00:01 mx x", t - 20 * 86400);
	ok &= ts("<34>Nov 29 10:00:01 mx x", t);
	ok &= ts("2026-11-29T10:00:01Z x", t);
	ok &= ts("2026-11-29T10:00:01.123456+01:00 x", t - 3600);
	ok &= ts("2026-11-29T10:00:01-05:30 x", t + 5 * 3600 + 1800);
	ok &= ts("2026-11-29T10:00:01+0100 x", t - 3600);
	ok &= ts("2026-11-29 10:00:01 x", t);
	ok &= ts("2026-11-29 10:00:01 +0100 x", t - 3600);
	ok &= ts("<35>1 2026-11-29T10:00:01.257387-05:00 h sshd 1 - - x",
		 t + 5 * 3600);
	ok &= ts("29-11-2026 10:00:01 SMTP Server: x", t);
	ok &= ts("29.11.2026 10:00:01 x", t);
	ok &= ts("29/11/2026 10:00:01 x", t);
	ok &= ts("11/29/2026 10:00:01 PM x", t + 12 * 3600);
	ok &= ts("[000738:000012-00007F1164B21700] 29-11-2026 10:00:01 x", t);
	ok &= ts("1795946401.123456 mx x", t);
	ok &= ts("Sun 2026-11-29 10:00:01 UTC x", t);
	/* A date more than a day ahead of now is last year's. */
	ok &= ts("Dec 25 10:00:01 x", mxg_utc_seconds(2025, 12, 25, 10, 0, 1));
	ok &= ts("Nov 30 12:00:00 x", mxg_utc_seconds(2026, 11, 30, 12, 0, 0));
	ok &= ts("warning: no time here", 0);
	ok &= ts("Foo 29 10:00:01 x", 0);
	ok &= ts("2026-13-29T10:00:01Z", 0);
	ok &= ts("", 0);
	return ok;
}

static bool logtime_local_zone(void)
{
	int64_t t = mxg_utc_seconds(2026, 7, 1, 12, 0, 0);
	bool ok = true;

	/* Central Europe in summer: UTC+2. */
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	ok &= ts("2026-07-01 12:00:00 x", t - 7200);
	ok &= ts("Jul  1 12:00:00 x", t - 7200);
	ok &= ts("2026-07-01T12:00:00Z x", t);
	ok &= ts("2026-01-01 12:00:00 x",
		 mxg_utc_seconds(2026, 1, 1, 12, 0, 0) - 3600);
	setenv("TZ", "UTC", 1);
	tzset();
	return ok;
}

static bool custom_pattern_errors(void)
{
	struct mxg_parser *p = mxg_parser_new();
	char err[256] = "";
	bool ok = true;

	if (!ASSERT_TRUE(p != NULL, "mxg_parser_new"))
		return false;
	ok &= ASSERT_EQ(mxg_parser_add_pattern(p, "myapp: failed from (<HOST>", "x",
					       err, sizeof(err)), -EINVAL,
			"unbalanced parenthesis");
	ok &= ASSERT_TRUE(strstr(err, "bad pattern") != NULL, err);
	ok &= ASSERT_EQ(mxg_parser_add_pattern(p, "myapp: failed from nowhere", "x",
					       err, sizeof(err)), -EINVAL,
			"no <HOST>");
	ok &= ASSERT_EQ(mxg_parser_add_pattern(p, "failed from <HOST>", NULL,
					       err, sizeof(err)), -EINVAL,
			"no program named");
	ok &= ASSERT_TRUE(strstr(err, "program") != NULL, err);
	ok &= ASSERT_EQ(mxg_parser_add_pattern(p, "myapp: failed from <HOST>", NULL,
					       err, sizeof(err)), 0, "good one");
	mxg_parser_free(p);
	return ok;
}

static bool session_table_stays_bounded(void)
{
	struct mxg_parser *p = mxg_parser_new();
	struct mxg_auth_event ev;
	char line[256];
	unsigned int i, hits = 0;
	bool ok = true;
	int n;

	if (!ASSERT_TRUE(p != NULL, "mxg_parser_new"))
		return false;
	/* Four times more sessions than slots: old ones are evicted, no growth. */
	for (i = 0; i < 4 * MXG_SESSION_SLOTS; i++) {
		n = snprintf(line, sizeof(line),
			     "mx smtpd[1]: %016x smtp connected address=198.18.%u.%u host=x",
			     i, (i >> 8) & 0xff, i & 0xff);
		mxg_parse_line(p, line, (size_t)n, NOW, &ev);
	}
	for (i = 0; i < 4 * MXG_SESSION_SLOTS; i++) {
		n = snprintf(line, sizeof(line),
			     "mx smtpd[1]: %016x smtp authentication user=x result=permfail", i);
		hits += (unsigned int)mxg_parse_line(p, line, (size_t)n, NOW, &ev);
	}
	ok &= ASSERT_TRUE(hits <= MXG_SESSION_SLOTS, "at most a table's worth");
	ok &= ASSERT_TRUE(hits >= MXG_SESSION_SLOTS / 2, "recent ones kept");
	/* The last session is certainly remembered, and expires after the TTL. */
	n = snprintf(line, sizeof(line), "mx smtpd[1]: %016x smtp connected address=198.18.0.1 host=x", 99999);
	mxg_parse_line(p, line, (size_t)n, NOW, &ev);
	n = snprintf(line, sizeof(line), "mx smtpd[1]: %016x smtp authentication user=x result=permfail", 99999);
	ok &= ASSERT_EQ(mxg_parse_line(p, line, (size_t)n, NOW + 10, &ev), 1, "kept");
	ok &= ASSERT_EQ(mxg_parse_line(p, line, (size_t)n,
				       NOW + MXG_SESSION_TTL + 60, &ev), 0, "expired");
	mxg_parser_free(p);
	return ok;
}

/*
 * One attempt told by several programs (sessions.h): the attempts are
 * what the busiest reporter told, SMTP's and the login processes' added,
 * and a quiet window starts a new run.
 */
static bool one_attempt_told_twice_counts_once(void)
{
	static struct mxg_pairs t;
	struct mxg_addr a = { .family = 4, .a = { 198, 18, 99, 1 } };
	struct mxg_addr b = { .family = 4, .a = { 198, 18, 99, 2 } };
	unsigned int n = 0;
	bool ok = true;

	memset(&t, 0, sizeof(t));
	/* Postfix's line and Dovecot's sessionless passdb line, twice. */
	n += mxg_pairs_report(&t, &a, MXG_REP_PASSDB, 1, 0, NOW);
	n += mxg_pairs_report(&t, &a, MXG_REP_MTA, 1, 0, NOW + 2);
	n += mxg_pairs_report(&t, &a, MXG_REP_PASSDB, 1, 0, NOW + 3);
	n += mxg_pairs_report(&t, &a, MXG_REP_MTA, 1, 0, NOW + 5);
	ok &= ASSERT_EQ(n, 2u, "two SMTP attempts, four lines");
	/* PAM's line tells them too: nothing new. */
	n += mxg_pairs_report(&t, &a, MXG_REP_PAM, 2, 0, NOW + 5);
	ok &= ASSERT_EQ(n, 2u, "PAM tells the same two");
	/* An IMAP session's passdb line adds to SMTP's, and PAM sees it. */
	n += mxg_pairs_report(&t, &a, MXG_REP_SESSION, 1, 0, NOW + 6);
	n += mxg_pairs_report(&t, &a, MXG_REP_PAM, 1, 0, NOW + 6);
	ok &= ASSERT_EQ(n, 3u, "an IMAP attempt beside them");
	/* Another address is another client. */
	ok &= ASSERT_EQ(mxg_pairs_report(&t, &b, MXG_REP_MTA, 1, 0, NOW + 6), 1u,
			"another address");
	/* After a quiet window the next line is a new attempt. */
	ok &= ASSERT_EQ(mxg_pairs_report(&t, &a, MXG_REP_PASSDB, 1, 0,
					 NOW + 6 + MXG_PAIR_WINDOW + 1), 1u,
			"a new run");
	/* A summary looks back over its session's length. */
	n = mxg_pairs_report(&t, &b, MXG_REP_PAM, 3, 0, NOW + 100);
	ok &= ASSERT_EQ(n, 3u, "PAM first");
	ok &= ASSERT_EQ(mxg_pairs_report(&t, &b, MXG_REP_SUMMARY, 3, 60,
					 NOW + 150), 0u,
			"a summary 50 s later, of a 60 s session, tells the same");
	return ok;
}

static bool dovecot_password_is_never_stored(void)
{
	static const char line[] =
		"Nov 29 10:00:14 mx dovecot: auth: sql(erin,198.18.1.13,<Ab>): Password mismatch (given password: hunter2)";
	struct mxg_parser *p = mxg_parser_new();
	struct mxg_auth_event ev;
	bool ok;

	if (!ASSERT_TRUE(p != NULL, "mxg_parser_new"))
		return false;
	memset(&ev, 0, sizeof(ev));
	ok = ASSERT_EQ(mxg_parse_line(p, line, sizeof(line) - 1, NOW, &ev), 1,
		       "match");
	ok &= ASSERT_TRUE(!memmem(&ev, sizeof(ev), "hunter2", 7),
			  "password not in the event");
	mxg_parser_free(p);
	return ok;
}

static bool lines_need_no_nul_and_crlf_is_ok(void)
{
	static const char buf[] =
		"mx postfix/smtpd[1]: warning: unknown[198.18.1.2]: SASL LOGIN authentication failed: x\r\nGARBAGE";
	struct mxg_parser *p = mxg_parser_new();
	struct mxg_auth_event ev;
	bool ok;

	if (!ASSERT_TRUE(p != NULL, "mxg_parser_new"))
		return false;
	ok = ASSERT_EQ(mxg_parse_line(p, buf, strchr(buf, '\n') - buf, NOW, &ev),
		       1, "CRLF line");
	ok &= ASSERT_EQ(mxg_parse_line(p, buf, 0, NOW, &ev), 0, "empty line");
	ok &= ASSERT_EQ(mxg_parse_line(p, buf, 30, NOW, &ev), 0, "cut line");
	mxg_parser_free(p);
	return ok;
}

static bool service_names_round_trip(void)
{
	bool ok = true;
	int i;

	for (i = 0; i < MXG_SVC_COUNT; i++)
		ok &= ASSERT_EQ(mxg_service_from_name(mxg_service_name(i)), i,
				mxg_service_name(i));
	ok &= ASSERT_STREQ(mxg_service_name(MXG_SVC_COUNT), "?", "out of range");
	return ok;
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	TEST_RUN(logtime_formats);
	TEST_RUN(logtime_local_zone);
	TEST_RUN(corpus_postfix);
	TEST_RUN(corpus_exim);
	TEST_RUN(corpus_dovecot);
	TEST_RUN(corpus_sendmail);
	TEST_RUN(corpus_courier);
	TEST_RUN(corpus_domino);
	TEST_RUN(corpus_opensmtpd);
	TEST_RUN(corpus_haraka);
	TEST_RUN(corpus_exchange);
	TEST_RUN(corpus_maddy);
	TEST_RUN(corpus_custom);
	TEST_RUN(corpus_nginx);
	TEST_RUN(corpus_zimbra);
	TEST_RUN(corpus_vpopmail);
	TEST_RUN(corpus_stalwart);
	TEST_RUN(corpus_webmail);
	TEST_RUN(corpus_imapd);
	TEST_RUN(corpus_mailcow);
	TEST_RUN(corpus_recall_per_server);
	TEST_RUN(corpus_sshguard_copy);
	TEST_RUN(hostile_lines_are_not_auth_failures);
	TEST_RUN(log_and_xdp_event_kinds_share_no_value);
	TEST_RUN(custom_pattern_errors);
	TEST_RUN(session_table_stays_bounded);
	TEST_RUN(one_attempt_told_twice_counts_once);
	TEST_RUN(dovecot_password_is_never_stored);
	TEST_RUN(lines_need_no_nul_and_crlf_is_ok);
	TEST_RUN(service_names_round_trip);
	return test_summary();
}
