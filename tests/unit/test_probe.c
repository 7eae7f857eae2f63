// SPDX-License-Identifier: GPL-2.0
/*
 * The pure parts of `mxguard probe`: the EHLO reply parser, the reply
 * framing used by the I/O loop, the verdict, and the command's usage exits.
 * The conversation itself is tested against a live server in
 * tests/live/test_probe.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "commands.h"
#include "smtp_probe.h"
#include "test.h"

static char mechs[SMTP_MECHS_MAX * SMTP_MECH_LEN];

static const char *mechs_of(const struct smtp_caps *c)
{
	return smtp_mechs_str(c, mechs, sizeof(mechs));
}

static bool has_ext(const struct smtp_caps *c, const char *name)
{
	unsigned int i;

	for (i = 0; i < c->n_exts; i++)
		if (!strcmp(c->exts[i], name))
			return true;
	return false;
}

static bool ehlo_with_several_auth_mechanisms_lists_them_in_order(void)
{
	struct smtp_caps c;
	bool ok = true;

	ok &= ASSERT_EQ(smtp_parse_ehlo("250-mx.example.org Hello [192.0.2.7]\r\n"
					"250-PIPELINING\r\n"
					"250-SIZE 10240000\r\n"
					"250-STARTTLS\r\n"
					"250-AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256\r\n"
					"250-ENHANCEDSTATUSCODES\r\n"
					"250 8BITMIME\r\n", &c), 0, "parse");
	ok &= ASSERT_EQ(c.code, 250, "code");
	ok &= ASSERT_TRUE(c.complete, "complete");
	ok &= ASSERT_EQ(c.lines, 7, "lines");
	ok &= ASSERT_STREQ(c.domain, "mx.example.org", "domain");
	ok &= ASSERT_TRUE(c.auth && !c.auth_legacy, "auth, not legacy");
	ok &= ASSERT_STREQ(mechs_of(&c), "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256", "mechs");
	ok &= ASSERT_TRUE(c.starttls, "starttls");
	ok &= ASSERT_TRUE(c.size_set, "size set");
	ok &= ASSERT_EQ(c.size, 10240000, "size");
	ok &= ASSERT_TRUE(has_ext(&c, "PIPELINING") && has_ext(&c, "8BITMIME") &&
			  has_ext(&c, "ENHANCEDSTATUSCODES") && has_ext(&c, "AUTH"), "exts");
	ok &= ASSERT_TRUE(!c.truncated, "not truncated");
	return ok;
}

static bool legacy_auth_equals_form_is_read_and_merged(void)
{
	struct smtp_caps c;
	bool ok = true;

	/* Old Outlook-era servers send both forms; the mechanisms count once. */
	ok &= ASSERT_EQ(smtp_parse_ehlo("250-mx.test\r\n"
					"250-AUTH LOGIN PLAIN\r\n"
					"250-AUTH=LOGIN PLAIN XOAUTH2\r\n"
					"250 HELP\r\n", &c), 0, "parse");
	ok &= ASSERT_TRUE(c.auth && c.auth_legacy, "legacy seen");
	ok &= ASSERT_STREQ(mechs_of(&c), "LOGIN PLAIN XOAUTH2", "merged mechs");
	ok &= ASSERT_EQ(c.n_exts, 2, "AUTH once in the extension list, plus HELP");

	ok &= ASSERT_EQ(smtp_parse_ehlo("250-mx.test\n250 AUTH=PLAIN\n", &c), 0, "only legacy");
	ok &= ASSERT_STREQ(mechs_of(&c), "PLAIN", "legacy alone");

	/* "=" after another keyword is not an extension we know. */
	ok &= ASSERT_EQ(smtp_parse_ehlo("250-mx.test\n250 SIZE=10\n", &c), 0, "SIZE=");
	ok &= ASSERT_TRUE(!c.size_set && !c.n_exts, "SIZE= ignored");
	return ok;
}

static bool lowercase_keywords_and_mechanisms_are_upper_cased(void)
{
	struct smtp_caps c;
	bool ok = true;

	ok &= ASSERT_EQ(smtp_parse_ehlo("250-mx.test\r\n250-starttls\r\n"
					"250-auth plain Login\r\n250 size\r\n", &c), 0, "parse");
	ok &= ASSERT_TRUE(c.starttls, "starttls");
	ok &= ASSERT_STREQ(mechs_of(&c), "PLAIN LOGIN", "mechs");
	ok &= ASSERT_TRUE(c.size_set && c.size == 0, "SIZE without a limit");
	ok &= ASSERT_TRUE(has_ext(&c, "STARTTLS") && has_ext(&c, "SIZE"), "exts upper");
	return ok;
}

static bool continuation_lines_with_lf_crlf_and_spacing(void)
{
	struct smtp_caps c;
	bool ok = true;

	/* Bare LF and CRLF mixed; tabs and repeated spaces between mechanisms. */
	ok &= ASSERT_EQ(smtp_parse_ehlo("250-mx.test\n250-AUTH  PLAIN\tLOGIN \r\n"
					"250-STARTTLS\n250 OK", &c), 0, "parse");
	ok &= ASSERT_TRUE(c.complete, "final line without a line end counts");
	ok &= ASSERT_STREQ(mechs_of(&c), "PLAIN LOGIN", "mechs");
	ok &= ASSERT_TRUE(c.starttls, "starttls");

	/* A one-line reply; "250" alone ends a reply too. */
	ok &= ASSERT_EQ(smtp_parse_ehlo("250 mx.test\r\n", &c), 0, "one line");
	ok &= ASSERT_TRUE(c.complete && !c.auth && c.lines == 1, "nothing advertised");
	ok &= ASSERT_EQ(smtp_parse_ehlo("250-mx.test\r\n250-AUTH PLAIN\r\n250\r\n", &c), 0,
			"bare 250");
	ok &= ASSERT_STREQ(mechs_of(&c), "PLAIN", "mechs before bare 250");

	/* Lines after the final line belong to the next reply. */
	ok &= ASSERT_EQ(smtp_parse_ehlo("250 mx.test\r\n250 AUTH PLAIN\r\n", &c), 0, "two");
	ok &= ASSERT_TRUE(!c.auth && c.lines == 1, "stops at the final line");
	return ok;
}

static bool missing_final_line_is_incomplete_but_keeps_what_was_read(void)
{
	struct smtp_caps c;
	bool ok = true;

	ok &= ASSERT_EQ(smtp_parse_ehlo("250-mx.test\r\n250-AUTH PLAIN\r\n", &c), -EAGAIN,
			"no final line");
	ok &= ASSERT_TRUE(!c.complete, "not complete");
	ok &= ASSERT_STREQ(mechs_of(&c), "PLAIN", "partial mechs");
	ok &= ASSERT_EQ(smtp_parse_ehlo("", &c), -EAGAIN, "empty");
	ok &= ASSERT_EQ(c.lines, 0, "no lines");
	return ok;
}

static bool malformed_lines_and_mixed_codes_are_rejected(void)
{
	struct smtp_caps c;
	bool ok = true;

	ok &= ASSERT_EQ(smtp_parse_ehlo("250-mx.test\r\n251 AUTH PLAIN\r\n", &c), -EBADMSG,
			"codes differ");
	ok &= ASSERT_EQ(smtp_parse_ehlo("hello\r\n", &c), -EBADMSG, "no code");
	ok &= ASSERT_EQ(smtp_parse_ehlo("25\r\n", &c), -EBADMSG, "short code");
	ok &= ASSERT_EQ(smtp_parse_ehlo("250_mx.test\r\n", &c), -EBADMSG, "bad separator");
	ok &= ASSERT_EQ(smtp_parse_ehlo("250-mx.test\r\n\r\n250 OK\r\n", &c), -EBADMSG,
			"empty line");
	return ok;
}

static bool error_reply_is_parsed_with_its_code_and_no_extensions(void)
{
	struct smtp_caps c;
	bool ok = true;

	ok &= ASSERT_EQ(smtp_parse_ehlo("502-5.5.2 not here\r\n502 5.5.2 AUTH PLAIN\r\n", &c),
			0, "parse");
	ok &= ASSERT_EQ(c.code, 502, "code");
	ok &= ASSERT_TRUE(!c.auth && !c.n_exts, "text of an error is not an extension");
	return ok;
}

static bool overly_long_lines_are_read_without_overflow(void)
{
	size_t big = 100000, i;
	struct smtp_caps c;
	char *text, *p;
	bool ok = true;

	text = malloc(3 * big + 1000);
	if (!ASSERT_TRUE(text != NULL, "malloc"))
		return false;

	/* A 100 kB first line, a 100 kB mechanism name, then normal lines. */
	p = text;
	p += sprintf(p, "250-");
	memset(p, 'a', big);
	p += big;
	p += sprintf(p, "\r\n250-AUTH PLAIN ");
	memset(p, 'X', big);
	p += big;
	p += sprintf(p, " LOGIN\r\n250-X-");
	memset(p, 'Y', big);
	p += big;
	sprintf(p, "\r\n250 STARTTLS\r\n");
	ok &= ASSERT_EQ(smtp_parse_ehlo(text, &c), 0, "parse");
	ok &= ASSERT_EQ(strlen(c.domain), SMTP_TEXT_LEN - 1, "domain cut to its buffer");
	ok &= ASSERT_STREQ(mechs_of(&c), "PLAIN LOGIN", "the long name is skipped");
	ok &= ASSERT_TRUE(c.truncated, "truncated");
	ok &= ASSERT_TRUE(c.starttls, "lines after the long ones still read");
	ok &= ASSERT_TRUE(!has_ext(&c, "X-YYY"), "long keyword skipped");

	/* More mechanisms than we keep: the first SMTP_MECHS_MAX stay. */
	p = text + sprintf(text, "250-mx.test\r\n250 AUTH");
	for (i = 0; i < 40; i++)
		p += sprintf(p, " M%zu", i);
	sprintf(p, "\r\n");
	ok &= ASSERT_EQ(smtp_parse_ehlo(text, &c), 0, "many mechs");
	ok &= ASSERT_EQ(c.n_mechs, SMTP_MECHS_MAX, "capped");
	ok &= ASSERT_STREQ(c.mechs[SMTP_MECHS_MAX - 1], "M15", "order kept");
	ok &= ASSERT_TRUE(c.truncated, "truncated");
	free(text);
	return ok;
}

static bool names_with_control_characters_are_not_kept(void)
{
	struct smtp_caps c;
	bool ok = true;

	/* The server controls these bytes and we print them: no escapes. */
	ok &= ASSERT_EQ(smtp_parse_ehlo("250-mx\033[31m.test\r\n"
					"250-AUTH PLAIN \033[2JEVIL LO;GIN GSSAPI\r\n"
					"250 OK\r\n", &c), 0, "parse");
	ok &= ASSERT_STREQ(mechs_of(&c), "PLAIN GSSAPI", "only clean names");
	ok &= ASSERT_TRUE(!strchr(c.domain, '\033'), "domain has no escape");
	return ok;
}

static bool reply_end_frames_replies_for_the_reader(void)
{
	const char *two = "220-mx.test\r\n220 ready\r\n250 next";
	int code = 0;
	bool ok = true;

	ok &= ASSERT_EQ(smtp_reply_end(two, strlen(two), &code), 24, "end of first reply");
	ok &= ASSERT_EQ(code, 220, "code");
	ok &= ASSERT_EQ(smtp_reply_end("220-mx.test\r\n22", 15, &code), 0, "incomplete");
	ok &= ASSERT_EQ(smtp_reply_end("220 ready\r", 10, &code), 0, "CR without LF");
	ok &= ASSERT_EQ(smtp_reply_end("", 0, &code), 0, "empty");
	ok &= ASSERT_EQ(smtp_reply_end("\x16\x03\x01\x02", 4, &code), -EBADMSG,
			"TLS bytes fail before any line end");
	ok &= ASSERT_EQ(smtp_reply_end("220-a\r\n250 b\r\n", 14, &code), -EBADMSG,
			"codes differ");
	ok &= ASSERT_EQ(smtp_reply_end("220 ok\n", 7, &code), 7, "bare LF");
	return ok;
}

static void result(struct smtp_port_result *r, uint16_t port, enum smtp_role role)
{
	memset(r, 0, sizeof(*r));
	r->port = port;
	r->role = role;
	r->state = SMTP_STATE_CONNECTED;
	r->banner_code = 220;
}

static bool has_finding(const struct smtp_port_result *r, enum smtp_severity sev,
			const char *text)
{
	struct smtp_finding f[SMTP_FINDINGS_MAX];
	unsigned int i, n = smtp_judge(r, f, SMTP_FINDINGS_MAX);

	for (i = 0; i < n; i++)
		if (f[i].sev == sev && !strcmp(f[i].text, text))
			return true;
	fprintf(stderr, "  want [%s] \"%s\"; have:\n", smtp_severity_str(sev), text);
	for (i = 0; i < n; i++)
		fprintf(stderr, "    [%s] %s\n", smtp_severity_str(f[i].sev), f[i].text);
	return false;
}

static bool verdicts_name_cleartext_auth_mx_auth_and_the_good_case(void)
{
	struct smtp_port_result r;
	bool ok = true;

	result(&r, 25, SMTP_ROLE_MX);
	r.have_pre = r.have_post = true;
	r.tls = SMTP_TLS_STARTTLS;
	r.tls_ok = true;
	smtp_parse_ehlo("250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n", &r.pre);
	smtp_parse_ehlo("250-mx\r\n250 AUTH PLAIN\r\n", &r.post);
	ok &= ASSERT_TRUE(has_finding(&r, SMTP_SEV_BAD,
		"AUTH PLAIN offered before STARTTLS — passwords in cleartext"), "cleartext");
	ok &= ASSERT_TRUE(has_finding(&r, SMTP_SEV_WARN,
		"AUTH offered on the MX port — brute-force target; "
		"consider offering AUTH only on 587/465"), "mx port");

	result(&r, 587, SMTP_ROLE_SUBMISSION);
	r.have_pre = r.have_post = true;
	r.tls = SMTP_TLS_STARTTLS;
	r.tls_ok = true;
	snprintf(r.tls_version, sizeof(r.tls_version), "TLSv1.3");
	smtp_parse_ehlo("250-mx\r\n250 STARTTLS\r\n", &r.pre);
	smtp_parse_ehlo("250-mx\r\n250 AUTH PLAIN LOGIN\r\n", &r.post);
	ok &= ASSERT_TRUE(has_finding(&r, SMTP_SEV_OK,
		"AUTH PLAIN LOGIN offered only after STARTTLS — ok"), "submission ok");

	/* Challenge-response only: still flagged, with the right words. */
	result(&r, 587, SMTP_ROLE_SUBMISSION);
	r.have_pre = true;
	smtp_parse_ehlo("250-mx\r\n250 AUTH CRAM-MD5\r\n", &r.pre);
	ok &= ASSERT_TRUE(has_finding(&r, SMTP_SEV_BAD,
		"AUTH CRAM-MD5 offered without TLS (no STARTTLS) — login exchange in cleartext"),
		"no starttls");
	ok &= ASSERT_TRUE(has_finding(&r, SMTP_SEV_WARN,
		"no STARTTLS — submission in cleartext"), "submission without tls");

	result(&r, 465, SMTP_ROLE_SMTPS);
	r.have_post = true;
	r.tls = SMTP_TLS_IMPLICIT;
	r.tls_ok = true;
	snprintf(r.tls_version, sizeof(r.tls_version), "TLSv1");
	smtp_parse_ehlo("250-mx\r\n250 AUTH LOGIN\r\n", &r.post);
	ok &= ASSERT_TRUE(has_finding(&r, SMTP_SEV_OK,
		"AUTH LOGIN offered over implicit TLS — ok"), "smtps ok");
	ok &= ASSERT_TRUE(has_finding(&r, SMTP_SEV_WARN,
		"TLSv1 negotiated — outdated protocol"), "old tls");

	result(&r, 25, SMTP_ROLE_MX);
	r.have_pre = r.have_post = true;
	smtp_parse_ehlo("250-mx\r\n250 STARTTLS\r\n", &r.pre);
	smtp_parse_ehlo("250 mx\r\n", &r.post);
	ok &= ASSERT_TRUE(has_finding(&r, SMTP_SEV_OK, "no AUTH offered — ok"), "mx ok");

	result(&r, 465, SMTP_ROLE_SMTPS);
	r.state = SMTP_STATE_REFUSED;
	ok &= ASSERT_TRUE(has_finding(&r, SMTP_SEV_NOTE, "connection refused"), "refused");
	return ok;
}

/* A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

	if (fd < 0)
		return 0;
	if (!bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int run_probe(const char *const *args)
{
	char *argv[16];
	int argc = 0, ret, devnull, saved;

	while (args[argc] && argc < 15) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	optind = 0;	/* getopt_long restarts for each run */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, STDOUT_FILENO);
	ret = cmd_probe(argc, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(devnull);
	return ret;
}

static bool probe_exit_statuses_for_usage_and_unreachable_ports(void)
{
	char port[16];
	bool ok = true;

	snprintf(port, sizeof(port), "%d", closed_port());
	ok &= ASSERT_EQ(run_probe((const char *[]){ "probe", NULL }), EXIT_USAGE, "no host");
	ok &= ASSERT_EQ(run_probe((const char *[]){ "probe", "127.0.0.1", "99999", NULL }),
			EXIT_USAGE, "bad port");
	ok &= ASSERT_EQ(run_probe((const char *[]){ "probe", "127.0.0.1", "25/relay", NULL }),
			EXIT_USAGE, "bad role");
	ok &= ASSERT_EQ(run_probe((const char *[]){ "probe", "--bogus", "127.0.0.1", NULL }),
			EXIT_USAGE, "unknown option");
	ok &= ASSERT_EQ(run_probe((const char *[]){ "probe", "127.0.0.1", "--timeout", "0",
						    NULL }), EXIT_USAGE, "zero timeout");
	ok &= ASSERT_EQ(run_probe((const char *[]){ "probe", "127.0.0.1", "465",
						    "--starttls-only", NULL }),
			EXIT_USAGE, "nothing left to probe");
	ok &= ASSERT_EQ(run_probe((const char *[]){ "probe", "-h", NULL }), EXIT_OK, "help");
	ok &= ASSERT_EQ(run_probe((const char *[]){ "probe", "--timeout", "2", "127.0.0.1",
						    port, NULL }), EXIT_RUNTIME, "refused");
	ok &= ASSERT_EQ(run_probe((const char *[]){ "probe", "[::1", NULL }), EXIT_USAGE,
			"unclosed bracket");
	return ok;
}

int main(void)
{
	TEST_RUN(ehlo_with_several_auth_mechanisms_lists_them_in_order);
	TEST_RUN(legacy_auth_equals_form_is_read_and_merged);
	TEST_RUN(lowercase_keywords_and_mechanisms_are_upper_cased);
	TEST_RUN(continuation_lines_with_lf_crlf_and_spacing);
	TEST_RUN(missing_final_line_is_incomplete_but_keeps_what_was_read);
	TEST_RUN(malformed_lines_and_mixed_codes_are_rejected);
	TEST_RUN(error_reply_is_parsed_with_its_code_and_no_extensions);
	TEST_RUN(overly_long_lines_are_read_without_overflow);
	TEST_RUN(names_with_control_characters_are_not_kept);
	TEST_RUN(reply_end_frames_replies_for_the_reader);
	TEST_RUN(verdicts_name_cleartext_auth_mx_auth_and_the_good_case);
	TEST_RUN(probe_exit_statuses_for_usage_and_unreachable_ports);
	return test_summary();
}
