// SPDX-License-Identifier: GPL-2.0
/*
 * Pathological lines per server family: a 1 MiB line built to make a
 * matcher search again and again (its own markers repeated, unclosed
 * brackets, parentheses), beside a normal failure line of the same family.
 * Prints ns per byte of each: a linear matcher costs about the same per
 * byte on both. Not a test: it never fails on a timing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse.h"

#define BIG (1u << 20)

struct family {
	const char *name;
	int src;
	const char *normal;
	const char *head;	/* the line starts so */
	const char *unit;	/* then this, repeated to 1 MiB */
};

static const struct family fams[] = {
	{ "postfix", MXG_SRC_SYSLOG,
	  "Nov 29 10:00:01 mx postfix/smtpd[1]: warning: unknown[198.18.1.2]: SASL LOGIN authentication failed: x, sasl_username=bob",
	  "Nov 29 10:00:01 mx postfix/smtpd[1]: warning: unknown[198.18.1.2]: SASL LOGIN authentication failed: ",
	  ", sasl_username=" },
	{ "dovecot login", MXG_SRC_SYSLOG,
	  "Nov 29 10:00:01 mx dovecot: imap-login: Disconnected (auth failed, 3 attempts in 12 secs): user=<bob>, method=PLAIN, rip=198.18.1.2, lip=10.0.0.1",
	  "Nov 29 10:00:01 mx dovecot: imap-login: Disconnected (auth failed, 3 attempts in 12 secs): user=<",
	  "rip=rip=" },
	{ "dovecot passdb", MXG_SRC_SYSLOG,
	  "Nov 29 10:00:01 mx dovecot: auth: passwd-file(bob,198.18.1.7): unknown user",
	  "Nov 29 10:00:01 mx dovecot: auth: passwd-file(",
	  ",<a>): unknown user" },
	{ "exim", MXG_SVC_EXIM,
	  "2026-11-29 10:00:01 login authenticator failed for (x) [198.18.5.5]:4444: 535 Incorrect authentication data (set_id=bob)",
	  "2026-11-29 10:00:01 login authenticator failed for (",
	  "[1.2.3.4" },
	{ "sendmail", MXG_SRC_SYSLOG,
	  "Nov 29 10:00:01 mx sm-mta[1]: q: AUTH failure (LOGIN): authentication failure (-13) SASL(-13): x, user=bob, relay=[198.18.2.1]",
	  "Nov 29 10:00:01 mx sm-mta[1]: q: AUTH failure (LOGIN): x, user=",
	  ", relay=[" },
	{ "courier", MXG_SRC_SYSLOG,
	  "Nov 29 10:00:01 mx imapd: LOGIN FAILED, user=bob, ip=[198.18.3.4]",
	  "Nov 29 10:00:01 mx imapd: LOGIN FAILED, user=",
	  ", ip=[" },
	{ "domino", MXG_SVC_DOMINO,
	  "29-11-2026 10:00:01 SMTP Server: Authentication failed for user bob ; connecting host 198.18.4.1",
	  "29-11-2026 10:00:01   http: ",
	  " authentication failure using internet passwor" },
	{ "opensmtpd", MXG_SRC_SYSLOG,
	  "Nov 29 10:00:11 mx smtpd[1]: 4444444444444444 smtp event=authentication user=test address=198.18.6.3 host=x result=permfail",
	  "Nov 29 10:00:11 mx smtpd[1]: 4444444444444444 smtp event=authentication user=",
	  " address= result=" },
	{ "exchange", MXG_SVC_EXCHANGE,
	  "2026-11-29T10:00:01.123Z,MX01\\Client Frontend MX01,08DD1A2B3C4D5E6F,7,10.0.0.1:587,198.18.8.1:52314,>,535 5.7.3 Authentication unsuccessful,",
	  "2026-11-29T10:00:01.123Z,",
	  "\",>,535 " },
	{ "maddy", MXG_SRC_SYSLOG,
	  "Nov 29 10:00:01 mx maddy[1]: smtp: authentication failed\t{\"src_ip\":\"198.18.9.1:1\",\"username\":\"bob\"}",
	  "Nov 29 10:00:01 mx maddy[1]: smtp: authentication failed\t{",
	  "[{\"a\":" },
	{ "dovecot 2.4", MXG_SVC_DOVECOT,
	  "auth(bob,198.18.1.7,sasl:plain)<Qb2>: Info: sql: Password mismatch",
	  "auth(",
	  "a,1.2.3.4,x)<a>: Info: sql: Password mismatch" },
	{ "dovecot summary", MXG_SRC_SYSLOG,
	  "Nov 29 10:00:01 mx dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<a>, rip=198.18.1.2, session=<x>",
	  "Nov 29 10:00:01 mx dovecot: imap-login: Disconnected ",
	  "((auth failed, 1 attempts" },
	{ "haraka", MXG_SVC_HARAKA,
	  "[NOTICE] [0352218B-595C-4B97-B998-1C1C0DDC6803] [core] disconnect ip=198.18.7.11 helo=x bytes=0 lr=\"535 5.7.8 Authentication failed\" time=1",
	  "[NOTICE] [0352218B-595C-4B97-B998-1C1C0DDC6803] [core] disconnect ip=198.18.7.11 helo=",
	  " bytes= lr=\"" },
	{ "nginx", MXG_SVC_NGINX,
	  "2026/11/29 10:00:01 [info] 1#1: *1 client login failed: \"x\" while in http auth state, client: 198.18.9.10, server: 0.0.0.0:143, login: \"bob\"",
	  "2026/11/29 10:00:01 [info] 1#1: *1 client login failed: \"",
	  "\" while in " },
	{ "zimbra", MXG_SVC_ZIMBRA,
	  "2026-11-29 10:00:01,087 WARN  [ImapServer-1] [ip=198.18.10.1;] security - cmd=Auth; account=bob; protocol=imap; error=authentication failed for [bob], invalid password;",
	  "2026-11-29 10:00:01,087 WARN  [ImapServer-1] [name=",
	  ";ip=;] x" },
	{ "vpopmail", MXG_SRC_SYSLOG,
	  "Nov 29 10:00:01 mx vpopmail[1]: vchkpw-smtp: password fail bob@example.org:198.18.11.1",
	  "Nov 29 10:00:01 mx vpopmail[1]: vchkpw-smtp: password fail ",
	  ":1:2" },
	{ "stalwart", MXG_SVC_STALWART,
	  "2026-11-29T10:00:01Z INFO Authentication failed (auth.failed) remoteIp = 198.18.12.1, accountName = \"bob\"",
	  "2026-11-29T10:00:01Z INFO Authentication failed (auth.failed) a = \"",
	  "\\\", b = " },
	{ "roundcube", MXG_SVC_ROUNDCUBE,
	  "[29-Nov-2026 10:00:01 +0000]: <a1> IMAP Error: Login failed for bob against localhost from 198.18.13.2. AUTHENTICATE PLAIN: failed.",
	  "[29-Nov-2026 10:00:01 +0000]: <a1> IMAP Error: Login failed for ",
	  " against x" },
	{ "domino failure", MXG_SVC_DOMINO,
	  "29-11-2026 10:03:02   POP3 Server: Authentication failure for bob, connecting host 198.18.4.31: Password did not verify",
	  "29-11-2026 10:03:02   POP3 Server: Authentication failure for ",
	  ", connecting host " },
	{ "exchange imap", MXG_SVC_EXCHANGE,
	  "2026-11-29T10:04:01.050Z,00000000000000A0,2,10.0.0.1:993,198.18.8.20:58423,bob,614,31,30,authenticate,PLAIN,\"ErrMsg=AuthFailed:LogonDenied\"",
	  "2026-11-29T10:04:01.050Z,00000000000000A0,2,10.0.0.1:993,198.18.8.20:58423,\"",
	  ",\"\"," },
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ns per byte of parsing line (len bytes), best of a few rounds. */
static double per_byte(struct mxg_parser *p, int src, const char *line,
		       size_t len, unsigned int reps)
{
	struct mxg_auth_event ev;
	double best = 1e18, t;
	unsigned int r, i;

	for (r = 0; r < 3; r++) {
		t = now_ns();
		for (i = 0; i < reps; i++)
			mxg_parse_source(p, src, line, len, 1795996800LL, &ev);
		t = (now_ns() - t) / reps;
		if (t < best)
			best = t;
	}
	return best / (double)len;
}

int main(void)
{
	struct mxg_parser *p = mxg_parser_new();
	char *big = malloc(BIG + 1);
	size_t i, n, h, u;

	if (!p || !big)
		return 1;
	printf("%-16s %14s %18s %8s\n", "family", "normal ns/B", "worst 1 MiB ns/B", "ratio");
	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		const struct family *f = &fams[i];
		double a, b;

		h = strlen(f->head);
		u = strlen(f->unit);
		memcpy(big, f->head, h);
		for (n = h; n + u <= BIG; n += u)
			memcpy(big + n, f->unit, u);
		a = per_byte(p, f->src, f->normal, strlen(f->normal), 200000);
		b = per_byte(p, f->src, big, n, 5);
		printf("%-16s %14.2f %18.2f %7.1fx\n", f->name, a, b, b / a);
	}
	free(big);
	mxg_parser_free(p);
	return 0;
}
