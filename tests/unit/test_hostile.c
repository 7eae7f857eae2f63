// SPDX-License-Identifier: GPL-2.0
/*
 * The attacker's tests for the log parsers: no text a client can get into
 * a log line makes mxguard report an address the client chose.
 *
 * Each carrier is a line a real server writes with a part the client
 * controls (Postfix's echo of a non-SMTP command, helo=<>, from=<>, to=<>;
 * Exim's rejected EHLO text and set_id; Dovecot's user=<> and
 * "(username: ...)"; Sendmail's user=, arg1= and from=; Haraka's sender;
 * nginx's login). Each payload is a failure line, or just the message, of
 * one server family, naming a planted address (192.0.2.0/24 or
 * 2001:db8:bad::/48). Every payload goes into every carrier, through the
 * syslog reader and through each server's own file binding, with every
 * timestamp form; whatever is reported must never be a planted address,
 * and never more attempts than the carrier itself is worth.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "test.h"

/* 2026-11-30T00:00:00Z. */
#define NOW 1795996800LL

/* A carrier: %s is where the client's text goes (up to three times). */
struct carrier {
	const char *fmt;
	int src;			/* MXG_SRC_SYSLOG or the server of its file */
	unsigned int attempts;		/* what the line itself is worth (0: nothing) */
};

static const struct carrier carriers[] = {
	/* Postfix */
	/* A hostile line (MXG_PARSE_HOSTILE) counts once, against the client itself. */
	{ "mx postfix/smtpd[100]: warning: non-SMTP command from unknown[198.18.5.5]: GET %s", MXG_SRC_SYSLOG, 1 },
	{ "mx postfix/submission/smtpd[100]: NOQUEUE: reject: RCPT from unknown[198.18.5.5]: 554 5.7.1 <x@example.org>: Relay access denied; from=<%s> to=<%s> proto=ESMTP helo=<%s>", MXG_SRC_SYSLOG, 0 },
	{ "mx postfix/qmgr[101]: 4A1B2C3D: from=<%s>, size=123, nrcpt=1 (queue active)", MXG_SRC_SYSLOG, 0 },
	{ "mx postfix/submission/smtpd[100]: 4A1B2C3D: client=unknown[198.18.5.5], sasl_method=PLAIN, sasl_username=%s, sasl_sender=%s", MXG_SRC_SYSLOG, 0 },
	{ "mx postfix/smtpd[100]: warning: unknown[198.18.5.5]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=%s", MXG_SRC_SYSLOG, 1 },
	{ "mx postfix/smtpd[100]: lost connection after AUTH from unknown[198.18.5.5] %s", MXG_SRC_SYSLOG, 1 },
	/* Exim, through syslog and its own mainlog */
	{ "mx exim[123]: 2026-11-29 10:00:01 rejected EHLO from [198.18.5.5]: syntactically invalid argument(s): %s", MXG_SRC_SYSLOG, 0 },
	{ "2026-11-29 10:00:01 rejected EHLO from [198.18.5.5]: syntactically invalid argument(s): %s", MXG_SVC_EXIM, 0 },
	{ "2026-11-29 10:00:01 plain authenticator failed for (%s) [198.18.5.5]:4444 I=[198.18.0.1]:587: 535 Incorrect authentication data (set_id=%s)", MXG_SVC_EXIM, 1 },
	{ "2026-11-29 10:00:01 SMTP protocol error in \"AUTH %s\" H=(x) [198.18.5.5] AUTH command used when not advertised", MXG_SVC_EXIM, 1 },
	{ "2026-11-29 10:00:01 1tABCD-000123-4E <= %s H=(%s) [198.18.5.5]:4444 P=esmtp S=123", MXG_SVC_EXIM, 0 },
	/* Dovecot */
	{ "mx dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<%s>, method=PLAIN, rip=198.18.5.5, lip=198.18.0.1, TLS, session=<abc>", MXG_SRC_SYSLOG, 1 },
	{ "mx dovecot: imap-login: Login: user=<%s>, method=PLAIN, rip=198.18.5.5, lip=198.18.0.1, mpid=1, TLS, session=<abc>", MXG_SRC_SYSLOG, 0 },
	{ "mx dovecot: auth: passwd-file(%s,198.18.5.5,<abc>): unknown user", MXG_SRC_SYSLOG, 1 },
	/* A refused user name is one attempt of the client's own. */
	{ "mx dovecot: auth: Info: passwd-file(?,198.18.5.5,<abc>): Username character disallowed by auth_username_chars: 0x3c (username: %s)", MXG_SRC_SYSLOG, 1 },
	{ "mx dovecot: auth: Info: login(?,198.18.5.5): Username character disallowed by auth_username_chars: 0x5b (username: %s)", MXG_SRC_SYSLOG, 1 },
	{ "mx dovecot: auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=%s rhost=198.18.5.5", MXG_SRC_SYSLOG, 1 },
	/* Sendmail */
	{ "mx sm-mta[200]: 4A1B2C: AUTH failure (LOGIN): authentication failure (-13) SASL(-13): authentication failure: checkpass failed, user=%s, relay=[198.18.5.5]", MXG_SRC_SYSLOG, 1 },
	{ "mx sm-mta[200]: 4A1B2C: ruleset=check_rcpt, arg1=<%s>, relay=[198.18.5.5], reject=550 5.7.1 <%s>... Relaying denied", MXG_SRC_SYSLOG, 0 },
	{ "mx sm-mta[200]: 4A1B2C: from=<%s>, size=1, class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=[198.18.5.5]", MXG_SRC_SYSLOG, 0 },
	/* Haraka, through syslog and its own log */
	{ "mx haraka[300]: [INFO] [0352218B-595C-4B97-B998-1C1C0DDC6803] [core] sender <%s> code=CONT msg=\"\"", MXG_SRC_SYSLOG, 0 },
	{ "[INFO] [0352218B-595C-4B97-B998-1C1C0DDC6803] [core] sender <%s> code=CONT msg=\"\"", MXG_SVC_HARAKA, 0 },
	/* nginx's mail proxy */
	{ "mx nginx: 2026/11/29 10:00:01 [info] 400#400: *1 client login failed: \"x\" while in http auth state, client: 198.18.5.5, server: 0.0.0.0:143, login: \"%s\"", MXG_SRC_SYSLOG, 1 },
	{ "2026/11/29 10:00:01 [info] 400#400: *1 client login failed: \"Authentication failed\" while in http auth state, client: 198.18.5.5, server: 0.0.0.0:143, login: \"%s\"", MXG_SVC_NGINX, 1 },
	/* Haraka 3.x: a session whose sender and HELO are the client's */
	{ "[NOTICE] [1352218B-595C-4B97-B998-1C1C0DDC6803] [core] disconnect ip=198.18.5.5 rdns=x helo=%s relay=N early=N esmtp=Y tls=N pipe=N errors=0 txns=1 rcpts=1/0/0 msgs=1/0/0 bytes=10 lr=\"250 2.0.0 Message Queued\" time=1", MXG_SVC_HARAKA, 0 },
	/* Zimbra: name=, ua= and the account are the client's */
	{ "2026-11-29 10:00:01,000 WARN  [qtp1-7:https://x/service/soap/] [name=%s;ip=198.18.5.5;ua=%s;] security - cmd=Auth; account=%s; protocol=soap; error=authentication failed for [a], invalid password;", MXG_SVC_ZIMBRA, 1 },
	/* vpopmail, Stalwart, Roundcube, SOGo, UW-IMAP */
	{ "mx vpopmail[1]: vchkpw-smtp: password fail %s:198.18.5.5", MXG_SRC_SYSLOG, 1 },
	{ "2026-11-29T10:00:01Z INFO Authentication failed (auth.failed) listenerId = \"smtp\", remoteIp = 198.18.5.5, accountName = \"%s\"", MXG_SVC_STALWART, 1 },
	{ "[29-Nov-2026 10:00:01 +0000]: <a1> Failed login for %s from 198.18.5.5 in session x (error: 0)", MXG_SVC_ROUNDCUBE, 1 },
	{ "[29-Nov-2026 10:00:01 +0000]: <a1> IMAP Error: Login failed for %s against localhost from 198.18.5.5. AUTHENTICATE PLAIN: failed. in x on line 1 (POST /?%s)", MXG_SVC_ROUNDCUBE, 1 },
	{ "mx sogod[1]: SOGoRootPage Login from '198.18.5.5' for user '%s' might not have worked - password policy: 65535", MXG_SRC_SYSLOG, 1 },
	{ "mx imapd[1]: AUTHENTICATE %s failure host=x [198.18.5.5]", MXG_SRC_SYSLOG, 1 },
	{ "mx imapd[1]: Login failed user=%s auth=%s host=x [198.18.5.5]", MXG_SRC_SYSLOG, 1 },
	{ "mx postfix-mailcow[1]: postfix/smtpd[2]: warning: unknown[198.18.5.5]: SASL LOGIN authentication failed: x, sasl_username=%s", MXG_SRC_SYSLOG, 1 },
	/* Logins (MXG_PARSE_LOGIN): the account and the client's text beside it */
	{ "2026/11/29 10:00:01 [info] 400#400: *2 client logged in, client: 198.18.5.5, server: 0.0.0.0:143, login: \"%s\", upstream: 10.0.0.2:143", MXG_SVC_NGINX, 0 },
	{ "2026-11-29 10:00:01 1tABCD-000123-4E <= %s H=(%s) [198.18.5.5]:4444 P=esmtpa A=plain:%s S=1", MXG_SVC_EXIM, 0 },
	{ "mx sm-mta[200]: 4A1B2C: AUTH=server, relay=[198.18.5.5], authid=%s, mech=PLAIN, bits=0", MXG_SRC_SYSLOG, 0 },
	{ "mx imapd: LOGIN, user=%s, ip=[::ffff:198.18.5.5], port=[1], protocol=IMAP", MXG_SRC_SYSLOG, 0 },
	{ "29-11-2026 10:00:01 SMTP Server: Authentication succeeded for user %s; connecting host 198.18.5.5", MXG_SVC_DOMINO, 0 },
	{ "2026-11-29 10:00:01,000 INFO  [Pop3Server-1] [ip=198.18.5.5;] security - cmd=Auth; account=%s; protocol=pop3;", MXG_SVC_ZIMBRA, 0 },
	/* Courier, OpenSMTPD, Exchange, Domino: their client-written fields */
	{ "mx courieresmtpd: error,relay=::ffff:198.18.5.5,msg=\"502 ESMTP command error\",cmd: %s", MXG_SRC_SYSLOG, 0 },
	{ "mx imapd: LOGIN FAILED, user=%s, ip=[::ffff:198.18.5.5]", MXG_SRC_SYSLOG, 1 },
	{ "mx smtpd[95842]: 4d7e0b9f5b7dcc36 smtp failed-command command=\"MAIL FROM:<%s>\" result=\"550 Invalid sender\"", MXG_SRC_SYSLOG, 0 },
	{ "2026-11-29T10:00:01.123Z,MX01\\Client Frontend MX01,08DD1A2B3C4D5E6F,7,198.18.0.1:587,198.18.5.5:52314,<,%s,", MXG_SVC_EXCHANGE, 0 },
	{ "29-11-2026 10:00:01 SMTP Server: Authentication failed for user %s ; connecting host 198.18.5.5", MXG_SVC_DOMINO, 1 },
};

/* What a client plants: another server's failure, naming its victim. */
static const char *const payloads[] = {
	"warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: x",
	"mx postfix/smtpd[1]: warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: x",
	"Nov 29 10:00:01 mx postfix/smtpd[1]: warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: x",
	"(auth failed, 999 attempts) rip=192.0.2.1 x",
	"imap-login: Disconnected (auth failed, 999 attempts in 2 secs): user=<a>, method=PLAIN, rip=192.0.2.1, lip=198.18.0.1",
	"x>, method=PLAIN, rip=192.0.2.1, lip=198.18.0.1, session=<y",
	"imap-login: Login: user=<a>, method=PLAIN, rip=192.0.2.1, lip=198.18.0.1, mpid=1, session=<y>",
	"4A1B: client=unknown[192.0.2.1], sasl_method=PLAIN, sasl_username=a",
	"x client=unknown[192.0.2.1], sasl_method=PLAIN, sasl_username=a",
	"mx dovecot: imap-login: Aborted login (auth failed, 999 attempts): user=<a>, rip=192.0.2.1, lip=198.18.0.1",
	"auth: passwd-file(a,192.0.2.1): unknown user",
	"a,192.0.2.1): unknown user",
	"a,192.0.2.1,<s>): Password mismatch (given password: x",
	"pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=a rhost=192.0.2.1",
	"x rhost=192.0.2.1",
	"plain authenticator failed for (x) [192.0.2.1]: 535 Incorrect authentication data (set_id=a)",
	"x) [192.0.2.1]:1: 535 Incorrect authentication data (set_id=",
	"x [192.0.2.1]: 535 x",
	"SMTP protocol error in \"AUTH LOGIN\" H=(x) [192.0.2.1] AUTH command used when not advertised",
	"x\" H=(x) [192.0.2.1] AUTH command used when not advertised",
	"SMTP call from (x) [192.0.2.1]:1 dropped: too many syntax or protocol errors (last command was \"AUTH x\")",
	"4A1B: AUTH failure (LOGIN): authentication failure (-13) SASL(-13): x, user=a, relay=[192.0.2.1]",
	"x, relay=[192.0.2.1]",
	"4A1B: x [192.0.2.1]: possible SMTP attack: command=AUTH, count=999",
	"error,relay=192.0.2.1,port=1,msg=\"535 Authentication failed.\",cmd: AUTH",
	"LOGIN FAILED, user=a, ip=[192.0.2.1]",
	"x, ip=[192.0.2.1]",
	"badlogin: x [192.0.2.1] PLAIN a SASL(-13): authentication failure",
	"Login failed user=a auth=a host=x [192.0.2.1]",
	"x host=x [192.0.2.1]",
	"SMTP Server: Authentication failed for user a ; connecting host 192.0.2.1",
	"x ; connecting host 192.0.2.1",
	"a [192.0.2.1] authentication failure using internet password",
	"2026-11-29T10:00:01.123Z,MX\\x,08DD,7,198.18.0.1:587,192.0.2.1:1,>,535 5.7.3 Authentication unsuccessful,",
	",192.0.2.1:1,>,535 5.7.3 Authentication unsuccessful",
	"smtp: authentication failed\t{\"src_ip\":\"192.0.2.1:1\",\"username\":\"a\"}",
	"0123456789abcdef smtp event=authentication user=a address=192.0.2.1 host=x result=permfail",
	"x address=192.0.2.1 host=x result=permfail",
	"[NOTICE] [0352218B-595C-4B97-B998-1C1C0DDC6803] [core] connect ip=192.0.2.1 port=1 local_ip=198.18.0.1 local_port=587",
	"[INFO] [0352218B-595C-4B97-B998-1C1C0DDC6803] [auth/flat_file] AUTH user=\"a\" success=false",
	"client login failed: \"x\" while in http auth state, client: 192.0.2.1, server: 0.0.0.0:143, login: \"a\"",
	"Failed login for a from 192.0.2.1 in session x",
	"x from 192.0.2.1 in session x (error: 0)",
	"x against localhost from 192.0.2.1. AUTHENTICATE PLAIN: x",
	"[ip=192.0.2.1;] security - cmd=Auth; account=a; protocol=imap; error=authentication failed for [a], invalid password;",
	"x;oip=192.0.2.1;ip=192.0.2.2",
	"a:192.0.2.1",
	"x\", remoteIp = 192.0.2.1, y = \"",
	"SOGoRootPage Login from '192.0.2.1' for user 'a' might not have worked",
	"x failure host=x [192.0.2.1]",
	"x\" while in http auth state, client: 192.0.2.1, server: x",
	"[NOTICE] [0352218B-595C-4B97-B998-1C1C0DDC6803] [auth/flat_file] delaying for 1 seconds",
	"x lr=\"535 5.7.8 Authentication failed\" ip=192.0.2.1",
	"auth(a,192.0.2.1,sasl:plain)<s>: Info: sql: Password mismatch",
	"a,192.0.2.1,sasl:plain)<s>: Info: sql: unknown user",
	"vchkpw-smtp: password fail a:192.0.2.1",
	"warning: unknown[2001:db8:bad::1]: SASL PLAIN authentication failed: x",
	"(auth failed, 999 attempts) rip=2001:db8:bad::1 x",
	"x, relay=[IPv6:2001:db8:bad::1]",
	"x [2001:db8:bad::1]: 535 x",
};

/* Planted addresses: 192.0.2.0/24 and 2001:db8:bad::/48. */
static bool planted(const struct mxg_addr *a)
{
	static const unsigned char v6[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad };

	if (a->family == 4)
		return a->a[0] == 192 && a->a[1] == 0 && a->a[2] == 2;
	return !memcmp(a->a, v6, sizeof(v6));
}

/* Time heads the line can carry: every form a syslog or journal writes. */
static const char *const heads[] = {
	"Nov 29 10:00:01 ",
	"2026-11-29T10:00:01.123456+00:00 ",
	"<22>",
	"",
};

/*
 * Drive one carrier with one payload: the whole text as one line, which is
 * what the server wrote. Returns false (and says why) on a planted report.
 */
static bool one(struct mxg_parser *p, const struct carrier *c,
		const char *head, const char *payload, unsigned long *lines)
{
	char line[4096], body[3072], abuf[MXG_ADDR_STRLEN];
	struct mxg_auth_event ev;
	int got;

	snprintf(body, sizeof(body), c->fmt, payload, payload, payload);
	if (c->src == MXG_SRC_SYSLOG)
		snprintf(line, sizeof(line), "%s%s", head, body);
	else
		snprintf(line, sizeof(line), "%s", body);
	(*lines)++;
	memset(&ev, 0, sizeof(ev));
	got = mxg_parse_source(p, c->src, line, strlen(line), NOW, &ev);
	if (!got)
		return true;
	/* A login counts no failure, but must name the real client too. */
	if (planted(&ev.addr) ||
	    (ev.kind != MXG_EV_LOGIN && ev.attempts > c->attempts)) {
		fprintf(stderr, "  planted: %s %s attempts %u (carrier allows %u)\n    %s\n",
			ev.label, mxg_addr_str(&ev.addr, abuf, sizeof(abuf)),
			ev.attempts, c->attempts, line);
		return false;
	}
	return true;
}

static bool client_text_never_names_the_victim(void)
{
	struct mxg_parser *p = mxg_parser_new();
	unsigned long lines = 0, bad = 0;
	size_t ci, pi, hi;

	if (!ASSERT_TRUE(p != NULL, "mxg_parser_new"))
		return false;
	mxg_parser_set_flags(p, MXG_PARSE_HOSTILE | MXG_PARSE_LOGIN);
	for (ci = 0; ci < sizeof(carriers) / sizeof(carriers[0]); ci++)
		for (pi = 0; pi < sizeof(payloads) / sizeof(payloads[0]); pi++)
			for (hi = 0; hi < sizeof(heads) / sizeof(heads[0]); hi++)
				if (!one(p, &carriers[ci], heads[hi], payloads[pi], &lines))
					bad++;
	mxg_parser_free(p);
	fprintf(stderr, "  %lu lines tried, %lu reported a planted address\n",
		lines, bad);
	return bad == 0;
}

/*
 * The same payloads read through every server's own file binding: a file
 * bound to one server never lets another server's text in, and a line
 * that is nothing but the client's text names nobody.
 */
static bool bare_client_text_in_a_bound_file_names_nobody(void)
{
	struct mxg_parser *p = mxg_parser_new();
	struct mxg_auth_event ev;
	char abuf[MXG_ADDR_STRLEN], line[1024];
	unsigned long bad = 0;
	size_t pi;
	int src;

	if (!ASSERT_TRUE(p != NULL, "mxg_parser_new"))
		return false;
	mxg_parser_set_flags(p, MXG_PARSE_HOSTILE | MXG_PARSE_LOGIN);
	/* A log line that is the client's text after the server's own head. */
	for (pi = 0; pi < sizeof(payloads) / sizeof(payloads[0]); pi++) {
		for (src = 0; src < MXG_SVC_CUSTOM; src++) {
			snprintf(line, sizeof(line), "mx postfix/smtpd[1]: warning: non-SMTP command from unknown[198.18.5.5]: %s",
				 payloads[pi]);
			if (mxg_parse_source(p, src, line, strlen(line), NOW, &ev) &&
			    planted(&ev.addr)) {
				fprintf(stderr, "  planted through %s: %s\n    %s\n",
					mxg_service_name(src),
					mxg_addr_str(&ev.addr, abuf, sizeof(abuf)), line);
				bad++;
			}
		}
	}
	mxg_parser_free(p);
	return bad == 0;
}

/* A local user's syslog line names its tag; another program's tag is not Postfix. */
static bool only_the_writers_parser_reads_a_line(void)
{
	static const char *const lines[] = {
		/* Dovecot's text under Postfix's tag and the other way round. */
		"Nov 29 10:00:01 mx postfix/smtpd[1]: imap-login: Disconnected (auth failed, 9 attempts in 2 secs): user=<a>, method=PLAIN, rip=198.18.7.7, lip=198.18.0.1",
		"Nov 29 10:00:01 mx dovecot: warning: unknown[198.18.7.7]: SASL LOGIN authentication failed: x",
		/* An unknown program writing any server's failure. */
		"Nov 29 10:00:01 mx myscript[1]: warning: unknown[198.18.7.7]: SASL LOGIN authentication failed: x",
		"Nov 29 10:00:01 mx logger: auth: passwd-file(a,198.18.7.7): unknown user",
		/* The marker later in the message, not at its start. */
		"Nov 29 10:00:01 mx postfix/smtpd[1]: connect from x warning: unknown[198.18.7.7]: SASL LOGIN authentication failed: x",
		"Nov 29 10:00:01 mx exim[1]: x plain authenticator failed for (x) [198.18.7.7]: 535 Incorrect authentication data",
		"Nov 29 10:00:01 mx sm-mta[1]: x y: AUTH failure (LOGIN): x, relay=[198.18.7.7]",
	};
	struct mxg_parser *p = mxg_parser_new();
	struct mxg_auth_event ev;
	bool ok = true;
	size_t i;

	if (!ASSERT_TRUE(p != NULL, "mxg_parser_new"))
		return false;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		ok &= ASSERT_EQ(mxg_parse_line(p, lines[i], strlen(lines[i]), NOW, &ev),
				0, lines[i]);
	mxg_parser_free(p);
	return ok;
}

/* Attempt counts come from the server's own field, not the client's text. */
static bool attempt_count_comes_from_the_servers_field(void)
{
	static const char line[] =
		"Nov 29 10:00:01 mx dovecot: imap-login: Disconnected (auth failed, 2 attempts in 4 secs): user=<(auth failed, 999 attempts)>, method=PLAIN, rip=198.18.7.8, lip=198.18.0.1";
	struct mxg_parser *p = mxg_parser_new();
	struct mxg_auth_event ev;
	bool ok;

	if (!ASSERT_TRUE(p != NULL, "mxg_parser_new"))
		return false;
	ok = ASSERT_EQ(mxg_parse_line(p, line, sizeof(line) - 1, NOW, &ev), 1, "match");
	ok &= ASSERT_EQ(ev.attempts, 2u, "Dovecot's count");
	mxg_parser_free(p);
	return ok;
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	TEST_RUN(client_text_never_names_the_victim);
	TEST_RUN(bare_client_text_in_a_bound_file_names_nobody);
	TEST_RUN(only_the_writers_parser_reads_a_line);
	TEST_RUN(attempt_count_comes_from_the_servers_field);
	return test_summary();
}
