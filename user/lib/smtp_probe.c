// SPDX-License-Identifier: GPL-2.0
/*
 * The SMTP side of `mxguard probe`: the reply parser, the conversation with
 * one port (cleartext + STARTTLS, or implicit TLS) and the verdict.
 *
 * All I/O is non-blocking with poll(), each step bounded by its own
 * deadline, so a server that stops talking cannot hang the probe. OpenSSL
 * runs over the same fd; certificate verification is recorded, not
 * enforced: this is an audit, and nothing secret is ever sent.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "smtp_probe.h"

#define QUIT_TIMEOUT_MS	2000	/* a QUIT reply is a courtesy, not a finding */

/* ---- reply parsing (pure) ---------------------------------------------- */

/* Check one reply line [s, e) (line end removed): "DDD", "DDD text", "DDD-text". */
static int reply_line(const char *s, const char *e, int *code, bool *final)
{
	if (e - s < 3 || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]))
		return -EBADMSG;
	*code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	if (e - s == 3 || s[3] == ' ')
		*final = true;
	else if (s[3] == '-')
		*final = false;
	else
		return -EBADMSG;
	return 0;
}

/* Copy [s, e) for display: printable ASCII only, the rest as '?'. */
static void copy_printable(char *dst, size_t size, const char *s, const char *e)
{
	size_t n = 0;

	for (; s < e && n + 1 < size; s++)
		dst[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	dst[n] = '\0';
}

static bool name_has(char names[][SMTP_MECH_LEN], unsigned int n, const char *name)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

/*
 * Add the upper-cased token [s, e) to a list of names, once. Tokens that do
 * not fit, or hold characters a SASL/ESMTP name cannot have, are skipped:
 * the server controls them, and we print them.
 */
static void name_add(char names[][SMTP_MECH_LEN], unsigned int *n, unsigned int max,
		     const char *s, const char *e, bool underscore, bool *truncated)
{
	char up[SMTP_MECH_LEN];
	size_t i, len = (size_t)(e - s);

	if (!len)
		return;
	if (len >= SMTP_MECH_LEN) {
		*truncated = true;
		return;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c != '-' && !(underscore && c == '_'))
			return;
		up[i] = (char)toupper(c);
	}
	up[len] = '\0';
	if (name_has(names, *n, up))
		return;
	if (*n >= max) {
		*truncated = true;
		return;
	}
	memcpy(names[(*n)++], up, len + 1);
}

static bool token_is(const char *s, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - s) == n && !strncasecmp(s, word, n);
}

/* One extension line after "250-": "KEYWORD[ params]" or legacy "AUTH=mechs". */
static void parse_ext(struct smtp_caps *caps, const char *s, const char *e)
{
	const char *kw, *kw_end, *t;
	bool legacy;

	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	kw = s;
	while (s < e && (isalnum((unsigned char)*s) || *s == '-'))
		s++;
	kw_end = s;
	if (kw == kw_end || (s < e && *s != ' ' && *s != '\t' && *s != '='))
		return;
	legacy = s < e && *s == '=';
	if (legacy && !token_is(kw, kw_end, "AUTH"))
		return;
	_Static_assert(SMTP_EXT_LEN == SMTP_MECH_LEN, "name_add serves both lists");
	name_add(caps->exts, &caps->n_exts, SMTP_EXTS_MAX, kw, kw_end, false,
		 &caps->truncated);
	if (s < e)
		s++;

	if (token_is(kw, kw_end, "STARTTLS")) {
		caps->starttls = true;
	} else if (token_is(kw, kw_end, "SIZE")) {
		caps->size_set = true;
		while (s < e && *s == ' ')
			s++;
		for (; s < e && isdigit((unsigned char)*s); s++) {
			if (caps->size > (~0ULL - 9) / 10) {
				caps->size = ~0ULL;
				break;
			}
			caps->size = caps->size * 10 + (unsigned long long)(*s - '0');
		}
	} else if (token_is(kw, kw_end, "AUTH")) {
		caps->auth = true;
		caps->auth_legacy |= legacy;
		while (s < e) {
			while (s < e && (*s == ' ' || *s == '\t'))
				s++;
			for (t = s; t < e && *t != ' ' && *t != '\t'; t++)
				;
			name_add(caps->mechs, &caps->n_mechs, SMTP_MECHS_MAX, s, t, true,
				 &caps->truncated);
			s = t;
		}
	}
}

int smtp_parse_ehlo(const char *text, struct smtp_caps *caps)
{
	const char *s = text, *e, *nl, *body;
	bool final;
	int code, ret;

	memset(caps, 0, sizeof(*caps));
	while (*s) {
		nl = strchr(s, '\n');
		e = nl ? nl : s + strlen(s);
		if (e > s && e[-1] == '\r')
			e--;
		ret = reply_line(s, e, &code, &final);
		if (ret)
			return ret;
		if (caps->lines && code != caps->code)
			return -EBADMSG;
		caps->code = code;
		body = e - s > 3 ? s + 4 : e;
		if (!caps->lines) {
			const char *w = body;

			while (w < e && *w != ' ')
				w++;
			copy_printable(caps->domain, sizeof(caps->domain), body, w);
		} else if (code / 100 == 2) {
			parse_ext(caps, body, e);
		}
		caps->lines++;
		if (final) {
			caps->complete = true;
			return 0;
		}
		if (!nl)
			break;
		s = nl + 1;
	}
	return -EAGAIN;
}

ssize_t smtp_reply_end(const char *buf, size_t len, int *code)
{
	size_t off = 0;
	int first = -1, c;
	bool final;

	while (off < len) {
		const char *s = buf + off, *nl, *e;

		nl = memchr(s, '\n', len - off);
		if (!nl) {
			/* Fail early on what cannot become a reply line (say, TLS bytes). */
			size_t have = len - off, i;

			for (i = 0; i < have && i < 3; i++)
				if (!isdigit((unsigned char)s[i]))
					return -EBADMSG;
			if (have > 3 && s[3] != ' ' && s[3] != '-' && s[3] != '\r')
				return -EBADMSG;
			return 0;
		}
		e = nl;
		if (e > s && e[-1] == '\r')
			e--;
		if (reply_line(s, e, &c, &final) || (first >= 0 && c != first))
			return -EBADMSG;
		first = c;
		*code = c;
		off = (size_t)(nl + 1 - buf);
		if (final)
			return (ssize_t)off;
	}
	return 0;
}

const char *smtp_mechs_str(const struct smtp_caps *caps, char *buf, size_t size)
{
	size_t used = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < caps->n_mechs && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " " : "",
					 caps->mechs[i]);
	return buf;
}

/* ---- the verdict (pure) ------------------------------------------------- */

const char *smtp_role_str(enum smtp_role role)
{
	switch (role) {
	case SMTP_ROLE_MX:
		return "mx";
	case SMTP_ROLE_SUBMISSION:
		return "submission";
	case SMTP_ROLE_SMTPS:
		return "smtps";
	}
	return "?";
}

const char *smtp_state_str(enum smtp_state state)
{
	switch (state) {
	case SMTP_STATE_CONNECTED:
		return "connected";
	case SMTP_STATE_REFUSED:
		return "refused";
	case SMTP_STATE_TIMEOUT:
		return "timeout";
	case SMTP_STATE_UNREACHABLE:
		return "unreachable";
	case SMTP_STATE_ERROR:
		return "error";
	}
	return "?";
}

const char *smtp_tls_str(enum smtp_tls tls)
{
	switch (tls) {
	case SMTP_TLS_NONE:
		return "none";
	case SMTP_TLS_STARTTLS:
		return "starttls";
	case SMTP_TLS_IMPLICIT:
		return "implicit";
	}
	return "?";
}

const char *smtp_severity_str(enum smtp_severity sev)
{
	switch (sev) {
	case SMTP_SEV_OK:
		return "ok";
	case SMTP_SEV_NOTE:
		return "note";
	case SMTP_SEV_WARN:
		return "warn";
	case SMTP_SEV_BAD:
		return "bad";
	}
	return "?";
}

struct findings {
	struct smtp_finding *f;
	unsigned int n, max;
};

static void __attribute__((format(printf, 3, 4)))
add(struct findings *fs, enum smtp_severity sev, const char *fmt, ...)
{
	va_list ap;

	if (fs->n >= fs->max)
		return;
	fs->f[fs->n].sev = sev;
	va_start(ap, fmt);
	vsnprintf(fs->f[fs->n].text, sizeof(fs->f[fs->n].text), fmt, ap);
	va_end(ap);
	fs->n++;
}

/* Mechanisms that put the password (or a bearer token) itself on the wire. */
static bool mechs_reveal_password(const struct smtp_caps *caps)
{
	static const char *const clear[] = { "PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER" };
	unsigned int i, j;

	if (!caps->n_mechs)
		return true;	/* unknown: assume the worst */
	for (i = 0; i < caps->n_mechs; i++)
		for (j = 0; j < sizeof(clear) / sizeof(clear[0]); j++)
			if (!strcmp(caps->mechs[i], clear[j]))
				return true;
	return false;
}

static const char *auth_words(const struct smtp_caps *caps, char *buf, size_t size)
{
	char m[SMTP_MECHS_MAX * SMTP_MECH_LEN];

	if (!caps->n_mechs)
		snprintf(buf, size, "AUTH (no mechanisms listed)");
	else
		snprintf(buf, size, "AUTH %s", smtp_mechs_str(caps, m, sizeof(m)));
	return buf;
}

static bool old_tls(const char *version)
{
	return !strcmp(version, "SSLv3") || !strcmp(version, "TLSv1") ||
	       !strcmp(version, "TLSv1.1");
}

unsigned int smtp_judge(const struct smtp_port_result *r, struct smtp_finding *f,
			unsigned int max)
{
	struct findings fs = { .f = f, .max = max };
	bool pre_auth = r->have_pre && r->pre.auth;
	bool post_auth = r->have_post && r->post.auth;
	char words[SMTP_MECHS_MAX * SMTP_MECH_LEN + 64];

	switch (r->state) {
	case SMTP_STATE_CONNECTED:
		break;
	case SMTP_STATE_REFUSED:
		add(&fs, SMTP_SEV_NOTE, "connection refused");
		return fs.n;
	case SMTP_STATE_TIMEOUT:
		add(&fs, SMTP_SEV_NOTE, "connection timed out");
		return fs.n;
	case SMTP_STATE_UNREACHABLE:
		add(&fs, SMTP_SEV_NOTE, "no route to the server");
		return fs.n;
	case SMTP_STATE_ERROR:
		add(&fs, SMTP_SEV_NOTE, "cannot connect: %s", r->error);
		return fs.n;
	}

	if (r->role != SMTP_ROLE_SMTPS && pre_auth) {
		auth_words(&r->pre, words, sizeof(words));
		add(&fs, SMTP_SEV_BAD, "%s offered %s — %s", words,
		    r->pre.starttls ? "before STARTTLS" : "without TLS (no STARTTLS)",
		    mechs_reveal_password(&r->pre) ? "passwords in cleartext" :
						     "login exchange in cleartext");
	}
	if (r->role == SMTP_ROLE_MX && (pre_auth || post_auth))
		add(&fs, SMTP_SEV_WARN, "AUTH offered on the MX port — brute-force target; "
		    "consider offering AUTH only on 587/465");
	if (!pre_auth && post_auth && r->role == SMTP_ROLE_SUBMISSION)
		add(&fs, SMTP_SEV_OK, "%s offered only after STARTTLS — ok",
		    auth_words(&r->post, words, sizeof(words)));
	if (post_auth && r->role == SMTP_ROLE_SMTPS)
		add(&fs, SMTP_SEV_OK, "%s offered over implicit TLS — ok",
		    auth_words(&r->post, words, sizeof(words)));
	if (!pre_auth && !post_auth && (r->have_pre || r->have_post)) {
		if (r->role == SMTP_ROLE_MX)
			add(&fs, SMTP_SEV_OK, "no AUTH offered — ok");
		else
			add(&fs, SMTP_SEV_NOTE, "no AUTH offered%s",
			    r->have_post || r->role == SMTP_ROLE_SMTPS ? "" :
			    " (before TLS; after TLS not seen)");
	}
	if (r->role != SMTP_ROLE_SMTPS && r->have_pre && !r->pre.starttls) {
		if (r->role == SMTP_ROLE_MX)
			add(&fs, SMTP_SEV_NOTE, "no STARTTLS — incoming mail travels in cleartext");
		else
			add(&fs, SMTP_SEV_WARN, "no STARTTLS — submission in cleartext");
	}
	if (r->tls_ok && old_tls(r->tls_version))
		add(&fs, SMTP_SEV_WARN, "%s negotiated — outdated protocol", r->tls_version);
	if (r->tls_ok && r->cert.present && !r->cert.verified)
		add(&fs, r->cert.expired ? SMTP_SEV_WARN : SMTP_SEV_NOTE,
		    "certificate does not verify (system CAs): %s",
		    r->cert.verify_error);
	if (r->error[0])
		add(&fs, SMTP_SEV_WARN, "probe incomplete: %s", r->error);
	if (!fs.n)
		add(&fs, SMTP_SEV_NOTE, "nothing to report");
	return fs.n;
}

/* ---- I/O ---------------------------------------------------------------- */

struct conn {
	int fd;
	SSL *ssl;
	size_t len;			/* bytes in buf not yet consumed */
	char buf[SMTP_REPLY_MAX];
	char reply[SMTP_REPLY_MAX + 1];	/* the last complete reply, NUL-terminated */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 0 when fd is ready for events, -ETIMEDOUT past the deadline. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* What OpenSSL says went wrong, short: "wrong version number". */
static const char *tls_reason(char *buf, size_t size)
{
	unsigned long e = ERR_peek_last_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;

	if (why)
		snprintf(buf, size, "%s", why);
	else if (e)
		ERR_error_string_n(e, buf, size);
	else
		snprintf(buf, size, "%s", errno ? strerror(errno) : "connection closed");
	ERR_clear_error();
	return buf;
}

/*
 * Drive one OpenSSL call on the non-blocking fd: what to wait for next,
 * 1 for "done", 0 for EOF, or a negative errno.
 */
static int tls_want(SSL *ssl, int ret, short *events)
{
	switch (SSL_get_error(ssl, ret)) {
	case SSL_ERROR_NONE:
		return 1;
	case SSL_ERROR_WANT_READ:
		*events = POLLIN;
		return 2;
	case SSL_ERROR_WANT_WRITE:
		*events = POLLOUT;
		return 2;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (!ERR_peek_error())
			return errno && errno != EAGAIN ? -errno : 0;
		return -EPROTO;
	default:
		return -EPROTO;
	}
}

static ssize_t conn_read(struct conn *c, char *p, size_t size, int64_t deadline)
{
	short events = POLLIN;
	ssize_t n;
	int ret;

	for (;;) {
		if (c->ssl) {
			ERR_clear_error();
			errno = 0;
			n = SSL_read(c->ssl, p, (int)size);
			if (n > 0)
				return n;
			ret = tls_want(c->ssl, (int)n, &events);
			if (ret < 2)
				return ret;
		} else {
			n = recv(c->fd, p, size, 0);
			if (n >= 0)
				return n;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			events = POLLIN;
		}
		ret = wait_fd(c->fd, events, deadline);
		if (ret)
			return ret;
	}
}

static int conn_write(struct conn *c, const char *s, size_t len, int64_t deadline)
{
	short events = POLLOUT;
	ssize_t n;
	int ret;

	while (len) {
		if (c->ssl) {
			ERR_clear_error();
			errno = 0;
			n = SSL_write(c->ssl, s, (int)len);
			if (n <= 0) {
				ret = tls_want(c->ssl, (int)n, &events);
				if (ret < 2)
					return ret ? ret : -EPIPE;
				n = 0;
			}
		} else {
			n = send(c->fd, s, len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
					return -errno;
				n = 0;
			}
			events = POLLOUT;
		}
		s += n;
		len -= (size_t)n;
		if (len && (ret = wait_fd(c->fd, events, deadline)))
			return ret;
	}
	return 0;
}

/* Read one complete reply into c->reply. -ECONNABORTED on EOF. */
static int read_reply(struct conn *c, int timeout_ms, int *code)
{
	int64_t deadline = now_ms() + timeout_ms;
	ssize_t end, n;

	for (;;) {
		end = smtp_reply_end(c->buf, c->len, code);
		if (end < 0)
			return (int)end;
		if (end > 0) {
			memcpy(c->reply, c->buf, (size_t)end);
			c->reply[end] = '\0';
			c->len -= (size_t)end;
			memmove(c->buf, c->buf + end, c->len);
			return 0;
		}
		if (c->len == sizeof(c->buf))
			return -EMSGSIZE;
		n = conn_read(c, c->buf + c->len, sizeof(c->buf) - c->len, deadline);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -ECONNABORTED;
		c->len += (size_t)n;
	}
}

static int command(struct conn *c, const char *cmd, int timeout_ms, int *code)
{
	int ret = conn_write(c, cmd, strlen(cmd), now_ms() + timeout_ms);

	return ret ? ret : read_reply(c, timeout_ms, code);
}

/* "250 text" of the first line of the last reply, for messages. */
static const char *first_line(const struct conn *c, char *buf, size_t size)
{
	const char *e = strchr(c->reply, '\n');

	if (!e)
		e = c->reply + strlen(c->reply);
	if (e > c->reply && e[-1] == '\r')
		e--;
	copy_printable(buf, size, c->reply, e);
	return buf;
}

/* Say in r->error why waiting for `what` failed. */
static void step_failed(struct smtp_port_result *r, const char *what, int err,
			const struct smtp_probe_opts *o)
{
	char why[128];

	switch (err) {
	case -ETIMEDOUT:
		snprintf(r->error, sizeof(r->error), "timeout waiting for %s (%.3gs)", what,
			 o->timeout_ms / 1000.0);
		break;
	case -ECONNABORTED:
		snprintf(r->error, sizeof(r->error), "connection closed waiting for %s", what);
		break;
	case -EBADMSG:
		snprintf(r->error, sizeof(r->error), "%s is not an SMTP reply", what);
		break;
	case -EMSGSIZE:
		snprintf(r->error, sizeof(r->error), "%s is longer than %d bytes", what,
			 SMTP_REPLY_MAX);
		break;
	case -EPROTO:
		snprintf(r->error, sizeof(r->error), "TLS error waiting for %s: %s", what,
			 tls_reason(why, sizeof(why)));
		break;
	default:
		snprintf(r->error, sizeof(r->error), "%s: %s", what, strerror(-err));
	}
}

static enum smtp_state state_of(int err)
{
	switch (err) {
	case -ECONNREFUSED:
		return SMTP_STATE_REFUSED;
	case -ETIMEDOUT:
		return SMTP_STATE_TIMEOUT;
	case -ENETUNREACH:
	case -EHOSTUNREACH:
	case -EADDRNOTAVAIL:
	case -EAFNOSUPPORT:
		return SMTP_STATE_UNREACHABLE;
	default:
		return SMTP_STATE_ERROR;
	}
}

static int connect_one(const struct sockaddr *sa, socklen_t len, int timeout_ms, int *fdp)
{
	socklen_t elen = sizeof(int);
	int fd, ret, err = 0;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, sa, len)) {
		if (errno != EINPROGRESS) {
			ret = -errno;
			goto out_close;
		}
		ret = wait_fd(fd, POLLOUT, now_ms() + timeout_ms);
		if (ret)
			goto out_close;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen))
			err = errno;
		if (err) {
			ret = -err;
			goto out_close;
		}
	}
	*fdp = fd;
	return 0;
out_close:
	close(fd);
	return ret;
}

/* Try the addresses in order; r->state and r->addr tell how the last went. */
static int connect_any(const struct addrinfo *ai, uint16_t port, int timeout_ms,
		       struct smtp_port_result *r, int *fdp)
{
	struct sockaddr_storage ss;
	int ret = -EHOSTUNREACH;

	r->state = SMTP_STATE_UNREACHABLE;
	for (; ai; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(ss))
			continue;
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;

			in->sin_port = htons(port);
			inet_ntop(AF_INET, &in->sin_addr, r->addr, sizeof(r->addr));
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

			in6->sin6_port = htons(port);
			inet_ntop(AF_INET6, &in6->sin6_addr, r->addr, sizeof(r->addr));
		} else {
			continue;
		}
		ret = connect_one((struct sockaddr *)&ss, ai->ai_addrlen, timeout_ms, fdp);
		if (!ret) {
			r->state = SMTP_STATE_CONNECTED;
			return 0;
		}
		r->state = state_of(ret);
		/* The last address's failure is the one reported. */
		snprintf(r->error, sizeof(r->error), "%s",
			 r->state == SMTP_STATE_ERROR ? strerror(-ret) : "");
	}
	return ret;
}

static bool is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static SSL_CTX *tls_ctx_new(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return NULL;
	/*
	 * An audit connects to whatever the server speaks and reports it:
	 * old protocols and weak keys are findings, not reasons to stop. No
	 * secret is ever sent, so nothing depends on the channel's strength.
	 */
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, 0);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* Verification still runs and is recorded: against the system CAs. */
	SSL_CTX_set_default_verify_paths(ctx);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	return ctx;
}

static void name_str(X509_NAME *name, char *buf, size_t size)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char tmp[512];
	int n = 0;

	buf[0] = '\0';
	if (!bio)
		return;
	/* RFC 2253 escapes control and non-ASCII bytes: safe to print. */
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0)
		n = BIO_read(bio, tmp, sizeof(tmp) - 1);
	BIO_free(bio);
	if (n > 0)
		copy_printable(buf, size, tmp, tmp + n);
}

static void cert_info(SSL *ssl, struct smtp_cert *cert)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	X509 *x = SSL_get1_peer_certificate(ssl);
#else
	X509 *x = SSL_get_peer_certificate(ssl);
#endif
	const ASN1_TIME *na;
	struct tm tm;
	long v;

	if (!x)
		return;
	cert->present = true;
	name_str(X509_get_subject_name(x), cert->subject, sizeof(cert->subject));
	name_str(X509_get_issuer_name(x), cert->issuer, sizeof(cert->issuer));
	na = X509_get0_notAfter(x);
	if (na && ASN1_TIME_to_tm(na, &tm) == 1)
		strftime(cert->not_after, sizeof(cert->not_after), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cert->expired = na && X509_cmp_current_time(na) < 0;
	v = SSL_get_verify_result(ssl);
	cert->verified = v == X509_V_OK;
	if (!cert->verified)
		snprintf(cert->verify_error, sizeof(cert->verify_error), "%s",
			 X509_verify_cert_error_string(v));
	X509_free(x);
}

/* Handshake on c->fd; fills the TLS fields of r. */
static int tls_start(struct conn *c, SSL_CTX *ctx, const struct smtp_probe_opts *o,
		     struct smtp_port_result *r)
{
	int64_t deadline = now_ms() + o->timeout_ms;
	short events = POLLOUT;
	char why[128];
	int ret, n;

	c->ssl = SSL_new(ctx);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) {
		snprintf(r->error, sizeof(r->error), "cannot set up TLS: %s",
			 tls_reason(why, sizeof(why)));
		return -ENOMEM;
	}
	if (o->host && *o->host) {
		if (is_ip_literal(o->host)) {
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), o->host);
		} else {
			SSL_set_tlsext_host_name(c->ssl, o->host);
			SSL_set1_host(c->ssl, o->host);
		}
	}
	for (;;) {
		ERR_clear_error();
		errno = 0;
		n = SSL_connect(c->ssl);
		if (n == 1)
			break;
		ret = tls_want(c->ssl, n, &events);
		if (ret == 2)
			ret = wait_fd(c->fd, events, deadline);
		else if (ret >= 0)
			ret = -ECONNABORTED;
		if (ret) {
			if (ret == -ETIMEDOUT)
				snprintf(r->error, sizeof(r->error),
					 "timeout in the TLS handshake (%.3gs)",
					 o->timeout_ms / 1000.0);
			else if (ret == -ECONNABORTED)
				snprintf(r->error, sizeof(r->error),
					 "connection closed in the TLS handshake");
			else
				snprintf(r->error, sizeof(r->error), "TLS handshake failed: %s",
					 ret == -EPROTO ? tls_reason(why, sizeof(why)) :
							  strerror(-ret));
			return ret;
		}
	}
	r->tls_ok = true;
	snprintf(r->tls_version, sizeof(r->tls_version), "%s", SSL_get_version(c->ssl));
	snprintf(r->cipher, sizeof(r->cipher), "%s", SSL_get_cipher_name(c->ssl));
	cert_info(c->ssl, &r->cert);
	return 0;
}

static int ehlo(struct conn *c, const struct smtp_probe_opts *o, struct smtp_caps *caps,
		struct smtp_port_result *r, const char *when)
{
	char cmd[300], line[SMTP_TEXT_LEN], what[64];
	int code, ret;

	snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", o->ehlo_name);
	snprintf(what, sizeof(what), "the EHLO reply%s", when);
	ret = command(c, cmd, o->timeout_ms, &code);
	if (ret) {
		step_failed(r, what, ret, o);
		return ret;
	}
	smtp_parse_ehlo(c->reply, caps);
	if (caps->code != 250) {
		snprintf(r->error, sizeof(r->error), "EHLO%s refused: %s", when,
			 first_line(c, line, sizeof(line)));
		return -EPROTO;
	}
	return 0;
}

int smtp_probe_port(const struct addrinfo *ai, uint16_t port, enum smtp_role role,
		    const struct smtp_probe_opts *o, struct smtp_port_result *r)
{
	char line[SMTP_TEXT_LEN];
	SSL_CTX *ctx = NULL;
	struct conn *c;
	int fd = -1, code, ret, quit_ms;

	memset(r, 0, sizeof(*r));
	r->port = port;
	r->role = role;
	ret = connect_any(ai, port, o->timeout_ms, r, &fd);
	if (ret)
		return ret;

	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		close(fd);
		return 0;
	}
	c->fd = fd;
	ctx = tls_ctx_new();
	if (!ctx) {
		snprintf(r->error, sizeof(r->error), "cannot set up TLS: %s",
			 tls_reason(line, sizeof(line)));
		goto out_free;
	}
	if (role == SMTP_ROLE_SMTPS) {
		r->tls = SMTP_TLS_IMPLICIT;
		if (tls_start(c, ctx, o, r))
			goto out_free;
	}

	ret = read_reply(c, o->timeout_ms, &code);
	if (ret) {
		step_failed(r, "the banner", ret, o);
		/* Implicit-TLS servers wait for our ClientHello in silence. */
		if (ret == -ETIMEDOUT && role != SMTP_ROLE_SMTPS)
			snprintf(r->error + strlen(r->error), sizeof(r->error) - strlen(r->error),
				 "; if it speaks implicit TLS, probe %u/smtps", port);
		goto out_free;
	}
	r->banner_code = code;
	first_line(c, line, sizeof(line));
	/* "220 mx.example.org ESMTP": keep the text after the code. */
	snprintf(r->banner, sizeof(r->banner), "%s", strlen(line) > 4 ? line + 4 : "");
	if (code != 220) {
		snprintf(r->error, sizeof(r->error), "the server refused the session: %s", line);
		goto out_quit;
	}

	if (role == SMTP_ROLE_SMTPS) {
		if (ehlo(c, o, &r->post, r, ""))
			goto out_quit;
		r->have_post = true;
		goto out_quit;
	}
	if (ehlo(c, o, &r->pre, r, ""))
		goto out_quit;
	r->have_pre = true;
	if (!r->pre.starttls)
		goto out_quit;

	r->tls = SMTP_TLS_STARTTLS;
	ret = command(c, "STARTTLS\r\n", o->timeout_ms, &code);
	if (ret) {
		step_failed(r, "the STARTTLS reply", ret, o);
		goto out_free;
	}
	if (code != 220) {
		snprintf(r->error, sizeof(r->error), "STARTTLS refused: %s",
			 first_line(c, line, sizeof(line)));
		goto out_quit;
	}
	/* Anything sent in cleartext before the handshake is not the server's word. */
	c->len = 0;
	if (tls_start(c, ctx, o, r))
		goto out_free;
	if (ehlo(c, o, &r->post, r, " after STARTTLS"))
		goto out_quit;
	r->have_post = true;

out_quit:
	/* Best effort: the findings are made, the QUIT reply changes none. */
	quit_ms = o->timeout_ms < QUIT_TIMEOUT_MS ? o->timeout_ms : QUIT_TIMEOUT_MS;
	if (!conn_write(c, "QUIT\r\n", 6, now_ms() + quit_ms)) {
		r->quit_sent = true;
		read_reply(c, quit_ms, &code);
	}
out_free:
	if (c->ssl) {
		if (r->tls_ok)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(ctx);
	close(c->fd);
	free(c);
	return 0;
}
