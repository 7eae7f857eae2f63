// SPDX-License-Identifier: GPL-2.0
/*
 * mxguard probe HOST [PORT[/ROLE]]... [--json] [--timeout SECONDS] [--starttls-only]
 *
 * Which ports of a mail server advertise AUTH, with which mechanisms, and
 * whether before STARTTLS (passwords in cleartext) or on the MX port (a
 * brute-force target). It speaks EHLO, STARTTLS and QUIT; it never sends
 * AUTH. smtp_probe.c does the talking; this file the options and output.
 */
#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "smtp_probe.h"

#define PROBE_PORTS_MAX		32
#define PROBE_TIMEOUT_S		10.0
#define PROBE_TIMEOUT_S_STR	"10"	/* for the help */
#define PROBE_TIMEOUT_MAX_S	3600.0
#define EHLO_NAME_DEFAULT	"mxguard.probe"

struct probe_port {
	uint16_t port;
	enum smtp_role role;
};

static int parse_role(const char *s, enum smtp_role *role)
{
	if (!strcmp(s, "mx"))
		*role = SMTP_ROLE_MX;
	else if (!strcmp(s, "submission"))
		*role = SMTP_ROLE_SUBMISSION;
	else if (!strcmp(s, "smtps") || !strcmp(s, "tls"))
		*role = SMTP_ROLE_SMTPS;
	else
		return -EINVAL;
	return 0;
}

/* "587", "2525/submission", "20465/smtps". */
static int parse_port(const char *arg, struct probe_port *p)
{
	const char *slash = strchr(arg, '/');
	char num[16], *end;
	size_t len = slash ? (size_t)(slash - arg) : strlen(arg);
	unsigned long v;

	if (!len || len >= sizeof(num)) {
		cli_err("probe", "%s: not a port (1-65535)", arg);
		return EXIT_USAGE;
	}
	memcpy(num, arg, len);
	num[len] = '\0';
	errno = 0;
	v = strtoul(num, &end, 10);
	if (errno || *end || num[0] < '0' || num[0] > '9' || v < 1 || v > 65535) {
		cli_err("probe", "%s: not a port (1-65535)", arg);
		return EXIT_USAGE;
	}
	p->port = (uint16_t)v;
	p->role = v == 25 ? SMTP_ROLE_MX : v == 465 ? SMTP_ROLE_SMTPS : SMTP_ROLE_SUBMISSION;
	if (slash && parse_role(slash + 1, &p->role)) {
		cli_err("probe", "%s: unknown role \"%s\" (mx, submission, smtps)", arg,
			slash + 1);
		return EXIT_USAGE;
	}
	return 0;
}

/* --timeout: seconds, fractions allowed, into milliseconds. */
static int parse_timeout(const char *arg, void *dst, char *why, size_t len)
{
	int *ms = dst;
	char *end;
	double s;

	errno = 0;
	s = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(s) || s <= 0 || s > PROBE_TIMEOUT_MAX_S) {
		snprintf(why, len, "not a number of seconds (0 < S <= %g)", PROBE_TIMEOUT_MAX_S);
		return -EINVAL;
	}
	*ms = (int)(s * 1000 + 0.5);
	if (*ms < 1)
		*ms = 1;
	return 0;
}

/* Our FQDN if we have a usable one, else a fixed name: EHLO wants a domain. */
static const char *ehlo_name(char *buf, size_t size)
{
	const char *p;

	if (gethostname(buf, size) || !buf[0] || buf[0] == '.' || !strchr(buf, '.'))
		return EHLO_NAME_DEFAULT;
	buf[size - 1] = '\0';
	for (p = buf; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return EHLO_NAME_DEFAULT;
	return buf;
}

/* ---- text output -------------------------------------------------------- */

static const char *auth_cell(bool have, const struct smtp_caps *caps, char *buf, size_t size)
{
	if (!have)
		return "-";
	if (!caps->auth)
		return "no";
	if (!caps->n_mechs)
		return "yes (no mechanisms)";
	return smtp_mechs_str(caps, buf, size);
}

static void print_header(void)
{
	printf("%-6s %-11s %-11s %-44s %-18s %s\n", "PORT", "ROLE", "STATE", "TLS",
	       "AUTH BEFORE TLS", "AUTH AFTER TLS");
}

static void print_row(const struct smtp_port_result *r)
{
	char tls[160], pre[SMTP_MECHS_MAX * SMTP_MECH_LEN], post[sizeof(pre)];
	bool plain = r->role != SMTP_ROLE_SMTPS;

	if (r->state != SMTP_STATE_CONNECTED || (r->tls == SMTP_TLS_NONE && !r->have_pre))
		snprintf(tls, sizeof(tls), "-");
	else if (r->tls == SMTP_TLS_NONE)
		snprintf(tls, sizeof(tls), "none");
	else if (!r->tls_ok)
		snprintf(tls, sizeof(tls), "%s failed", smtp_tls_str(r->tls));
	else
		snprintf(tls, sizeof(tls), "%s %s %s", smtp_tls_str(r->tls), r->tls_version,
			 r->cipher);
	printf("%-6u %-11s %-11s %-44s %-18s %s\n", r->port, smtp_role_str(r->role),
	       smtp_state_str(r->state), tls,
	       plain ? auth_cell(r->have_pre, &r->pre, pre, sizeof(pre)) : "-",
	       auth_cell(r->have_post, &r->post, post, sizeof(post)));
	fflush(stdout);
}

static void print_exts(const struct smtp_port_result *r, const char *label,
		       const struct smtp_caps *caps)
{
	unsigned int i;

	printf("  %-5u %s:", r->port, label);
	for (i = 0; i < caps->n_exts; i++) {
		printf(" %s", caps->exts[i]);
		if (!strcmp(caps->exts[i], "SIZE") && caps->size)
			printf(" %llu", caps->size);
	}
	if (caps->truncated)
		printf(" (list cut)");
	printf("\n");
}

static void print_details(const struct smtp_port_result *res, size_t n)
{
	const struct smtp_port_result *r;
	bool any = false;
	size_t i;

	for (i = 0; i < n; i++) {
		r = &res[i];
		if (r->state != SMTP_STATE_CONNECTED)
			continue;
		if (!any)
			printf("\ndetails:\n");
		any = true;
		printf("  %-5u address: %s\n", r->port, r->addr);
		if (r->banner_code)
			printf("  %-5u banner: %d %s\n", r->port, r->banner_code, r->banner);
		if (r->have_pre)
			print_exts(r, "EHLO", &r->pre);
		if (r->have_post)
			print_exts(r, r->tls == SMTP_TLS_STARTTLS ? "EHLO after STARTTLS" :
				   "EHLO over TLS", &r->post);
		if (r->cert.present)
			printf("  %-5u certificate: %s, issuer %s, expires %s%s; %s%s\n", r->port,
			       r->cert.subject, r->cert.issuer,
			       r->cert.not_after[0] ? r->cert.not_after : "?",
			       r->cert.expired ? " (expired)" : "",
			       r->cert.verified ? "verifies" : "does not verify: ",
			       r->cert.verified ? "" : r->cert.verify_error);
	}
}

static void print_verdicts(const struct smtp_port_result *res, size_t n)
{
	static const char *const tag[] = { "ok  ", "note", "WARN", "BAD " };
	struct smtp_finding f[SMTP_FINDINGS_MAX];
	unsigned int j, nf;
	size_t i;

	printf("\nverdicts:\n");
	for (i = 0; i < n; i++) {
		nf = smtp_judge(&res[i], f, SMTP_FINDINGS_MAX);
		for (j = 0; j < nf; j++)
			printf("  %s %u: %s\n", tag[f[j].sev], res[i].port, f[j].text);
	}
}

/* ---- JSON output -------------------------------------------------------- */

static void json_names(const char names[][SMTP_MECH_LEN], unsigned int n)
{
	unsigned int i;

	putchar('[');
	for (i = 0; i < n; i++) {
		if (i)
			putchar(',');
		json_str(stdout, names[i]);
	}
	putchar(']');
}

static void json_opt_str(const char *key, const char *s)
{
	printf(",\"%s\":", key);
	if (s && *s)
		json_str(stdout, s);
	else
		fputs("null", stdout);
}

static void json_auth(const char *key, bool have, const struct smtp_caps *caps)
{
	printf(",\"%s\":", key);
	if (have)
		json_names(caps->mechs, caps->auth ? caps->n_mechs : 0);
	else
		fputs("null", stdout);
}

static void json_exts(const char *key, bool have, const struct smtp_caps *caps)
{
	printf(",\"%s\":", key);
	if (have)
		json_names(caps->exts, caps->n_exts);
	else
		fputs("null", stdout);
}

static void print_json(const char *host, const struct smtp_port_result *r)
{
	struct smtp_finding f[SMTP_FINDINGS_MAX];
	enum smtp_severity worst = SMTP_SEV_OK;
	unsigned int j, nf;

	nf = smtp_judge(r, f, SMTP_FINDINGS_MAX);
	for (j = 0; j < nf; j++)
		if (f[j].sev > worst)
			worst = f[j].sev;

	fputs("{\"host\":", stdout);
	json_str(stdout, host);
	printf(",\"port\":%u,\"role\":\"%s\"", r->port, smtp_role_str(r->role));
	json_opt_str("addr", r->addr);
	printf(",\"state\":\"%s\"", smtp_state_str(r->state));
	if (r->banner_code)
		printf(",\"banner_code\":%d", r->banner_code);
	else
		fputs(",\"banner_code\":null", stdout);
	json_opt_str("banner", r->banner);
	printf(",\"tls\":\"%s\",\"tls_ok\":%s", smtp_tls_str(r->tls),
	       r->tls_ok ? "true" : "false");
	json_opt_str("tls_version", r->tls_version);
	json_opt_str("cipher", r->cipher);
	fputs(",\"cert\":", stdout);
	if (r->cert.present) {
		fputs("{\"subject\":", stdout);
		json_str(stdout, r->cert.subject);
		fputs(",\"issuer\":", stdout);
		json_str(stdout, r->cert.issuer);
		json_opt_str("not_after", r->cert.not_after);
		printf(",\"expired\":%s,\"verified\":%s", r->cert.expired ? "true" : "false",
		       r->cert.verified ? "true" : "false");
		json_opt_str("verify_error", r->cert.verified ? NULL : r->cert.verify_error);
		putchar('}');
	} else {
		fputs("null", stdout);
	}
	if (r->have_pre)
		printf(",\"starttls_offered\":%s", r->pre.starttls ? "true" : "false");
	else
		fputs(",\"starttls_offered\":null", stdout);
	json_auth("auth_before_tls", r->have_pre, &r->pre);
	json_auth("auth_after_tls", r->have_post, &r->post);
	json_exts("ehlo_before_tls", r->have_pre, &r->pre);
	json_exts("ehlo_after_tls", r->have_post, &r->post);
	printf(",\"quit_sent\":%s", r->quit_sent ? "true" : "false");
	json_opt_str("error", r->error);
	printf(",\"verdict\":\"%s\",\"findings\":[", smtp_severity_str(worst));
	for (j = 0; j < nf; j++) {
		printf("%s{\"severity\":\"%s\",\"text\":", j ? "," : "",
		       smtp_severity_str(f[j].sev));
		json_str(stdout, f[j].text);
		putchar('}');
	}
	fputs("]}\n", stdout);
	fflush(stdout);
}

/* ---- the command -------------------------------------------------------- */

struct probe_args {
	bool json;
	int timeout_ms;
	bool starttls_only;
};

static const struct cli_opt probe_opts[] = {
	{ "json", 'j', CLI_FLAG, NULL, "one JSON object per port, one a line",
	  .off = offsetof(struct probe_args, json) },
	{ "timeout", 't', CLI_PARSE, "SECONDS", "limit for each step (connect, each reply, "
	  "TLS handshake); default " PROBE_TIMEOUT_S_STR, .off = offsetof(struct probe_args, timeout_ms),
	  .parse = parse_timeout },
	{ "starttls-only", 's', CLI_FLAG, NULL, "skip implicit-TLS (smtps) ports",
	  .off = offsetof(struct probe_args, starttls_only) },
	{ 0 }
};

const struct cli_command cli_probe = {
	.name = "probe", .fn = cmd_probe,
	.summary = "which ports of a mail server offer AUTH, and before TLS?",
	.operands = "HOST [PORT[/ROLE]]...",
	.about = "Audit a mail server for SMTP AUTH exposure: per port, which AUTH mechanisms\n"
		 "are advertised before and after TLS. Speaks EHLO, STARTTLS and QUIT only;\n"
		 "never sends credentials.\n\n"
		 "  HOST          name, IPv4 or IPv6 address ([2001:db8::1] works too)\n"
		 "  PORT[/ROLE]   default 25 587 465; ROLE says how to speak and judge:\n"
		 "                  mx          cleartext then STARTTLS; AUTH not wanted\n"
		 "                              (default for 25)\n"
		 "                  submission  cleartext then STARTTLS; AUTH only after\n"
		 "                              TLS (default for other ports)\n"
		 "                  smtps       implicit TLS (default for 465)\n\n"
		 "Certificates are not required to verify (this is an audit); whether they\n"
		 "verify against the system CAs is reported. Exit status: 0 probe done,\n"
		 "whatever the findings; 1 no port could be connected; 2 usage error.",
	.opts = probe_opts, .min_operands = 1, .max_operands = CLI_ANY,
	.missing = "expected a HOST",
	.no_maps = true,
};

int cmd_probe(int argc, char **argv)
{
	struct probe_args a = { .timeout_ms = (int)(PROBE_TIMEOUT_S * 1000) };
	struct cli_ctx ctx;
	struct probe_port ports[PROBE_PORTS_MAX];
	struct smtp_port_result *res;
	struct smtp_probe_opts po = { 0 };
	bool json, starttls_only;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	char host[256], name[256];
	size_t n = 0, i, j, connected = 0;
	const char *h;
	int k = 0, ret;

	ret = cli_parse(&cli_probe, argc, argv, &a, &ctx);
	if (ret != CLI_GO)
		return ret;
	json = a.json;
	starttls_only = a.starttls_only;
	po.timeout_ms = a.timeout_ms;
	argc = ctx.argc;
	argv = ctx.argv;
	h = argv[k++];
	if (h[0] == '[') {
		size_t len = strlen(h);

		if (len < 3 || h[len - 1] != ']' || len - 2 >= sizeof(host)) {
			cli_err("probe", "%s: not a host name or address", h);
			return EXIT_USAGE;
		}
		memcpy(host, h + 1, len - 2);
		host[len - 2] = '\0';
	} else if (!h[0] || strlen(h) >= sizeof(host)) {
		cli_err("probe", "\"%s\": not a host name or address", h);
		return EXIT_USAGE;
	} else {
		snprintf(host, sizeof(host), "%s", h);
	}

	for (; k < argc; k++) {
		struct probe_port p;

		if (n == PROBE_PORTS_MAX) {
			cli_err("probe", "at most %d ports", PROBE_PORTS_MAX);
			return EXIT_USAGE;
		}
		ret = parse_port(argv[k], &p);
		if (ret)
			return ret;
		for (j = 0; j < n && ports[j].port != p.port; j++)
			;
		if (j == n)
			ports[n++] = p;
	}
	if (!n) {
		ports[n++] = (struct probe_port){ 25, SMTP_ROLE_MX };
		ports[n++] = (struct probe_port){ 587, SMTP_ROLE_SUBMISSION };
		ports[n++] = (struct probe_port){ 465, SMTP_ROLE_SMTPS };
	}
	if (starttls_only) {
		for (i = j = 0; i < n; i++)
			if (ports[i].role != SMTP_ROLE_SMTPS)
				ports[j++] = ports[i];
		if (!j) {
			cli_err("probe", "--starttls-only leaves no port to probe "
				"(every port given is smtps)");
			return EXIT_USAGE;
		}
		n = j;
	}

	ret = getaddrinfo(host, NULL, &hints, &ai);
	if (ret) {
		cli_err("probe", "cannot resolve %s: %s", host,
			ret == EAI_SYSTEM ? strerror(errno) : gai_strerror(ret));
		return EXIT_RUNTIME;
	}
	res = calloc(n, sizeof(*res));
	if (!res) {
		freeaddrinfo(ai);
		cli_err("probe", "out of memory");
		return EXIT_RUNTIME;
	}
	/* A server closing mid-write must not kill us: TLS writes use write(2). */
	signal(SIGPIPE, SIG_IGN);
	po.host = host;
	po.ehlo_name = ehlo_name(name, sizeof(name));

	if (!json) {
		printf("probing %s, EHLO %s, %gs per step\n\n", host, po.ehlo_name,
		       po.timeout_ms / 1000.0);
		print_header();
	}
	for (i = 0; i < n; i++) {
		smtp_probe_port(ai, ports[i].port, ports[i].role, &po, &res[i]);
		if (res[i].state == SMTP_STATE_CONNECTED)
			connected++;
		if (json)
			print_json(host, &res[i]);
		else
			print_row(&res[i]);
	}
	if (!json) {
		print_details(res, n);
		print_verdicts(res, n);
	}
	freeaddrinfo(ai);
	free(res);
	if (!connected) {
		cli_err("probe", "could not connect to any port of %s", host);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}
