/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An SMTP AUTH audit of one server port: connect, read the banner, EHLO,
 * STARTTLS (or implicit TLS), EHLO again, QUIT. It records which AUTH
 * mechanisms are advertised before and after TLS, and never sends AUTH.
 *
 * The reply parser and the verdict are pure functions of their input, so the
 * unit tests drive them without a network.
 */
#ifndef MXG_SMTP_PROBE_H
#define MXG_SMTP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct addrinfo;

#define SMTP_MECHS_MAX		16	/* AUTH mechanisms kept per reply */
#define SMTP_MECH_LEN		32	/* SASL names are at most 20 (RFC 4422) */
#define SMTP_EXTS_MAX		32	/* EHLO keywords kept per reply */
#define SMTP_EXT_LEN		32
#define SMTP_TEXT_LEN		128	/* banner / error texts we show */
#define SMTP_REPLY_MAX		65536	/* a longer reply ends the probe */

/* What one EHLO reply advertises. Names are upper case and deduplicated. */
struct smtp_caps {
	int code;			/* reply code, e.g. 250 */
	unsigned int lines;		/* reply lines read */
	bool complete;			/* the final "250 " line was seen */
	bool truncated;			/* a name or list was too long to keep */
	char domain[SMTP_TEXT_LEN];	/* first word of the first line */
	bool starttls;
	bool auth;			/* AUTH advertised, in either form */
	bool auth_legacy;		/* the pre-RFC "AUTH=" form was seen */
	bool size_set;
	unsigned long long size;	/* SIZE limit, 0 = none given */
	unsigned int n_mechs;
	char mechs[SMTP_MECHS_MAX][SMTP_MECH_LEN];
	unsigned int n_exts;
	char exts[SMTP_EXTS_MAX][SMTP_EXT_LEN];
};

/*
 * Parse a whole EHLO reply (CRLF or LF line ends; NUL-terminated).
 * Returns 0 once the final line is read (whatever the code: check
 * caps->code), -EAGAIN when the final line is missing (caps holds what the
 * lines so far said), -EBADMSG when a line is not "DDD[- ]text" or the codes
 * of the lines differ. Lines of any length are read; names that do not fit
 * are skipped and set caps->truncated.
 */
int smtp_parse_ehlo(const char *text, struct smtp_caps *caps);

/*
 * Where the first complete reply in buf ends: the offset after its final
 * line, 0 if the final line has not arrived yet, -EBADMSG if a line is not
 * a reply line. *code gets the reply code.
 */
ssize_t smtp_reply_end(const char *buf, size_t len, int *code);

/* "PLAIN LOGIN" from caps->mechs, or "" when none. */
const char *smtp_mechs_str(const struct smtp_caps *caps, char *buf, size_t size);

/* How a port is spoken to, and which rules judge it. */
enum smtp_role {
	SMTP_ROLE_MX,		/* relay port: cleartext, then STARTTLS; AUTH not wanted */
	SMTP_ROLE_SUBMISSION,	/* cleartext, then STARTTLS; AUTH wanted after TLS */
	SMTP_ROLE_SMTPS,	/* implicit TLS from the first byte (RFC 8314) */
};

enum smtp_state {
	SMTP_STATE_CONNECTED,
	SMTP_STATE_REFUSED,
	SMTP_STATE_TIMEOUT,
	SMTP_STATE_UNREACHABLE,
	SMTP_STATE_ERROR,
};

enum smtp_tls {
	SMTP_TLS_NONE,
	SMTP_TLS_STARTTLS,
	SMTP_TLS_IMPLICIT,
};

struct smtp_cert {
	bool present;
	char subject[256];		/* RFC 2253 form */
	char issuer[256];
	char not_after[32];		/* ISO-8601 UTC */
	bool expired;
	bool verified;			/* chain and name check against system CAs */
	char verify_error[SMTP_TEXT_LEN];
};

struct smtp_port_result {
	uint16_t port;
	enum smtp_role role;
	enum smtp_state state;
	char addr[64];			/* the address connected to (or last tried) */
	int banner_code;
	char banner[SMTP_TEXT_LEN];	/* first banner line after the code */
	enum smtp_tls tls;		/* what was attempted */
	bool tls_ok;			/* ... and whether the handshake succeeded */
	char tls_version[32];
	char cipher[64];
	struct smtp_cert cert;
	bool have_pre, have_post;	/* EHLO answered before / after TLS */
	struct smtp_caps pre, post;
	bool quit_sent;
	char error[256];		/* where the probe stopped early, or "" */
};

struct smtp_probe_opts {
	int timeout_ms;			/* per step: connect, each reply, handshake */
	const char *ehlo_name;
	const char *host;		/* for SNI and the certificate name check */
};

/*
 * Probe one port of the addresses in ai (from getaddrinfo; the port in them
 * is replaced), trying them in order until one connects. Fills r; returns 0
 * when a connection was made, else a negative errno (r->state says why).
 */
int smtp_probe_port(const struct addrinfo *ai, uint16_t port, enum smtp_role role,
		    const struct smtp_probe_opts *o, struct smtp_port_result *r);

/* Severity of a finding; a port's verdict is the worst of its findings. */
enum smtp_severity {
	SMTP_SEV_OK,
	SMTP_SEV_NOTE,
	SMTP_SEV_WARN,
	SMTP_SEV_BAD,
};

#define SMTP_FINDINGS_MAX	8

struct smtp_finding {
	enum smtp_severity sev;
	char text[200];
};

/* Judge one probed port; returns the number of findings written (>= 1). */
unsigned int smtp_judge(const struct smtp_port_result *r, struct smtp_finding *f,
			unsigned int max);

const char *smtp_role_str(enum smtp_role role);
const char *smtp_state_str(enum smtp_state state);
const char *smtp_tls_str(enum smtp_tls tls);
const char *smtp_severity_str(enum smtp_severity sev);

#endif
