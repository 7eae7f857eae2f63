// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic.h"
#include "cli.h"
#include "commands.h"
#include "maps.h"

void cli_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mxguard %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_cidr(const char *cmd, const char *arg, struct mxg_cidr *c)
{
	int ret = mxg_cidr_parse(arg, c);
	struct mxg_cidr m;
	char buf[MXG_CIDR_STRLEN];

	switch (ret) {
	case 0:
		return 0;
	case -EDOM:
		m = *c;
		mxg_addr_mask(&m.addr, m.prefixlen);
		cli_err(cmd, "%s: host bits set below /%u (did you mean %s?)", arg,
			c->prefixlen, mxg_cidr_str(&m, buf, sizeof(buf)));
		break;
	case -ERANGE:
		if (c->addr.family == 4 && strchr(arg, ':'))
			cli_err(cmd, "%s: an IPv4-mapped address takes a prefix length of 96-128 "
				"(::ffff:a.b.c.d/N is the IPv4 range a.b.c.d/N-96)", arg);
		else
			cli_err(cmd, "%s: bad prefix length (0-32 for IPv4, 0-128 for IPv6)", arg);
		break;
	default:
		cli_err(cmd, "%s: not an IPv4/IPv6 address or CIDR range", arg);
	}
	return EXIT_USAGE;
}

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no UTF-16 surrogates, nothing past U+10FFFF), or 0. Stops at the
 * first byte that does not fit, so it never reads past the NUL.
 */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* The second byte's range closes the overlong and out-of-range gaps. */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	fputc('"', f);
	while (*p) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*p < 0x20) {
				fprintf(f, "\\u%04x", *p);
				break;
			}
			n = utf8_len(p);
			if (!n) {
				/* Log text is not always UTF-8: keep the output JSON. */
				fputs("\\ufffd", f);
				break;
			}
			fwrite(p, 1, n, f);
			p += n;
			continue;
		}
		p++;
	}
	fputc('"', f);
}

int cli_open_maps(const char *cmd, const char *pin_dir, struct mxg_maps *m)
{
	char err[4352];
	struct stat st;

	/* Maps in a directory someone else controls are not ours to change or trust. */
	if (!stat(pin_dir, &st) &&
	    mxg_dir_check_private(pin_dir, "pin dir", true, true, err, sizeof(err))) {
		cli_err(cmd, "%s", err);
		return EXIT_RUNTIME;
	}
	if (mxg_maps_open(m, pin_dir, err, sizeof(err))) {
		cli_err(cmd, "%s", err);
		return EXIT_RUNTIME;
	}
	return 0;
}
