// SPDX-License-Identifier: GPL-2.0
/* Fleet events: encode, decode, validate (wire.h). Pure. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mxguard.h"
#include "wire.h"

static const char *const refusals[MXG_FLEET_N_REFUSALS] = {
	"ok", "bad_format", "bad_cidr", "too_wide", "expired", "protected",
};

static const char *const reasons[] = {
	NULL, "manual", "log", "rate", "import",
};
#define N_REASONS (sizeof(reasons) / sizeof(reasons[0]))

const char *mxg_fleet_refusal_name(int r)
{
	return r >= 0 && r < MXG_FLEET_N_REFUSALS ? refusals[r] : "unknown";
}

const char *mxg_fleet_reason_name(uint32_t reason)
{
	return reason < N_REASONS ? reasons[reason] : NULL;
}

uint32_t mxg_fleet_reason_parse(const char *s, size_t len)
{
	uint32_t i;

	for (i = 1; i < N_REASONS; i++)
		if (strlen(reasons[i]) == len && !memcmp(reasons[i], s, len))
			return i;
	return 0;
}

static bool id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static bool id_ok(const char *s, size_t len, size_t max)
{
	size_t i;

	if (!len || len > max)
		return false;
	for (i = 0; i < len; i++)
		if (!id_char(s[i]))
			return false;
	return true;
}

bool mxg_fleet_id_ok(const char *s, size_t max)
{
	return id_ok(s, strlen(s), max);
}

static void put(struct mxg_fleet_fields *f, const char *name, const char *v)
{
	f->name[f->n] = name;
	f->value[f->n] = v;
	f->len[f->n] = strlen(v);
	f->n++;
}

void mxg_fleet_encode(const struct mxg_fleet_event *ev,
		      struct mxg_fleet_fields *f)
{
	f->n = 0;
	mxg_cidr_str(&ev->cidr, f->cidr, sizeof(f->cidr));
	put(f, "v", MXG_FLEET_VERSION);
	put(f, "op", ev->op == MXG_FLEET_BAN ? "ban" : "unban");
	put(f, "cidr", f->cidr);
	if (ev->op == MXG_FLEET_BAN) {
		snprintf(f->expires, sizeof(f->expires), "%" PRIu64, ev->expires_ms);
		snprintf(f->count, sizeof(f->count), "%" PRIu32, ev->count);
		put(f, "expires", f->expires);
		put(f, "reason", mxg_fleet_reason_name(ev->reason) ?: "log");
		put(f, "count", f->count);
	}
	put(f, "origin", ev->origin);
	put(f, "evidence", ev->evidence);
}

enum { F_V, F_OP, F_CIDR, F_EXPIRES, F_REASON, F_COUNT, F_ORIGIN, F_EVIDENCE, F_N };
static const char *const field_names[F_N] = {
	"v", "op", "cidr", "expires", "reason", "count", "origin", "evidence",
};

static int field_index(const char *name, size_t len)
{
	int i;

	for (i = 0; i < F_N; i++)
		if (strlen(field_names[i]) == len && !memcmp(field_names[i], name, len))
			return i;
	return -1;
}

/* Decimal digits only, no sign, no leading blanks; at most max. */
static int parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!len || len > 20)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Printable ASCII only: the summary lands in logs and terminals. */
static int printable(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return (int)i;
	return -1;
}

#define REFUSE(code, ...) do {				\
		snprintf(why, whylen, __VA_ARGS__);	\
		return (code);				\
	} while (0)

int mxg_fleet_decode(unsigned int n, const char *const *name,
		     const size_t *nlen, const char *const *value,
		     const size_t *vlen, struct mxg_fleet_event *ev,
		     char *why, size_t whylen)
{
	const char *val[F_N] = { 0 };
	size_t len[F_N] = { 0 };
	char buf[MXG_CIDR_STRLEN];
	uint64_t u;
	unsigned int i;
	int f, ret, bad;

	memset(ev, 0, sizeof(*ev));
	/* More than F_N fields holds an unknown or a repeated one: named below. */
	for (i = 0; i < n; i++) {
		f = field_index(name[i], nlen[i]);
		if (f < 0) {
			/* The name is attacker text: show a printable prefix only. */
			size_t show = nlen[i] > 32 ? 32 : nlen[i];

			bad = printable(name[i], show);
			if (bad >= 0)
				show = (size_t)bad;
			REFUSE(MXG_FLEET_BAD_FORMAT, "unknown field \"%.*s\"%s",
			       (int)show, name[i], show < nlen[i] ? "..." : "");
		}
		if (val[f])
			REFUSE(MXG_FLEET_BAD_FORMAT, "field %s given twice", field_names[f]);
		val[f] = value[i];
		len[f] = vlen[i];
	}
	if (!val[F_V] || len[F_V] != 1 || val[F_V][0] != MXG_FLEET_VERSION[0])
		REFUSE(MXG_FLEET_BAD_FORMAT, "no version %s field", MXG_FLEET_VERSION);
	if (val[F_OP] && len[F_OP] == 3 && !memcmp(val[F_OP], "ban", 3))
		ev->op = MXG_FLEET_BAN;
	else if (val[F_OP] && len[F_OP] == 5 && !memcmp(val[F_OP], "unban", 5))
		ev->op = MXG_FLEET_UNBAN;
	else
		REFUSE(MXG_FLEET_BAD_FORMAT, "op: not ban or unban");

	if (!val[F_ORIGIN] || !id_ok(val[F_ORIGIN], len[F_ORIGIN], MXG_FLEET_HOST_MAX))
		REFUSE(MXG_FLEET_BAD_FORMAT, "origin: missing, or not 1-%d of [A-Za-z0-9._-]",
		       MXG_FLEET_HOST_MAX);
	memcpy(ev->origin, val[F_ORIGIN], len[F_ORIGIN]);
	ev->origin[len[F_ORIGIN]] = '\0';

	if (!val[F_EVIDENCE])
		REFUSE(MXG_FLEET_BAD_FORMAT, "evidence: missing");
	if (len[F_EVIDENCE] > MXG_FLEET_EVIDENCE_MAX)
		REFUSE(MXG_FLEET_BAD_FORMAT, "evidence: %zu bytes, at most %d",
		       len[F_EVIDENCE], MXG_FLEET_EVIDENCE_MAX);
	bad = printable(val[F_EVIDENCE], len[F_EVIDENCE]);
	if (bad >= 0)
		REFUSE(MXG_FLEET_BAD_FORMAT, "evidence: control or non-ASCII byte at offset %d",
		       bad);
	memcpy(ev->evidence, val[F_EVIDENCE], len[F_EVIDENCE]);
	ev->evidence[len[F_EVIDENCE]] = '\0';

	if (!val[F_CIDR])
		REFUSE(MXG_FLEET_BAD_CIDR, "cidr: missing");
	if (len[F_CIDR] >= sizeof(buf) || memchr(val[F_CIDR], '\0', len[F_CIDR]))
		REFUSE(MXG_FLEET_BAD_CIDR, "cidr: not a CIDR range");
	memcpy(buf, val[F_CIDR], len[F_CIDR]);
	buf[len[F_CIDR]] = '\0';
	/* "1.2.3.4" alone is a /32: the sender always writes the length. */
	if (!strchr(buf, '/'))
		REFUSE(MXG_FLEET_BAD_CIDR, "cidr: %s has no prefix length", buf);
	ret = mxg_cidr_parse(buf, &ev->cidr);
	if (ret == -EDOM)
		REFUSE(MXG_FLEET_BAD_CIDR, "cidr: %s has host bits set", buf);
	if (ret || printable(buf, len[F_CIDR]) >= 0)
		REFUSE(MXG_FLEET_BAD_CIDR, "cidr: not a CIDR range");

	if (ev->op == MXG_FLEET_UNBAN) {
		if (val[F_EXPIRES] || val[F_REASON] || val[F_COUNT])
			REFUSE(MXG_FLEET_BAD_FORMAT, "unban: carries ban fields");
		return MXG_FLEET_OK;
	}
	if (!val[F_EXPIRES] || parse_u64(val[F_EXPIRES], len[F_EXPIRES],
					  UINT64_MAX / 1000000, &ev->expires_ms))
		REFUSE(MXG_FLEET_BAD_FORMAT, "expires: missing or not unix milliseconds");
	if (!val[F_REASON] ||
	    !(ev->reason = mxg_fleet_reason_parse(val[F_REASON], len[F_REASON])))
		REFUSE(MXG_FLEET_BAD_FORMAT, "reason: not manual, log, rate or import");
	if (!val[F_COUNT] || parse_u64(val[F_COUNT], len[F_COUNT], 65535, &u) || !u)
		REFUSE(MXG_FLEET_BAD_FORMAT, "count: missing or not 1..65535");
	ev->count = (uint32_t)u;
	return MXG_FLEET_OK;
}

/* Do a and b share any address (one inside the other)? */
static bool overlaps(const struct mxg_cidr *a, const struct mxg_cidr *b)
{
	if (a->addr.family != b->addr.family)
		return false;
	return mxg_cidr_within(a, b) || mxg_cidr_within(b, a);
}

static bool holds_addr(const struct mxg_cidr *c, const struct mxg_addr *a)
{
	return c->addr.family == a->family && mxg_cidr_contains(c, a);
}

int mxg_fleet_check(const struct mxg_fleet_event *ev,
		    const struct mxg_fleet_rules *r, uint64_t now_ms,
		    char *why, size_t whylen)
{
	static const struct mxg_cidr loop4 = { { 4, { 127 } }, 8 };
	static const struct mxg_cidr zero4 = { { 4, { 0 } }, 8 };
	static const struct mxg_cidr loop6 = { { 6, { [15] = 1 } }, 128 };
	static const struct mxg_cidr zero6 = { { 6, { 0 } }, 128 };
	const struct mxg_cidr *c = &ev->cidr;
	char buf[MXG_CIDR_STRLEN], other[MXG_CIDR_STRLEN];
	unsigned int floor, i;

	mxg_cidr_str(c, buf, sizeof(buf));
	if (ev->op != MXG_FLEET_BAN)
		return MXG_FLEET_OK;
	floor = c->addr.family == 4 ? r->floor_v4 : r->floor_v6;
	if (c->prefixlen < floor)
		REFUSE(MXG_FLEET_TOO_WIDE, "%s is wider than floor_v%d /%u", buf,
		       c->addr.family, floor);
	if (ev->expires_ms && ev->expires_ms <= now_ms)
		REFUSE(MXG_FLEET_EXPIRED, "%s expired %llu ms ago", buf,
		       (unsigned long long)(now_ms - ev->expires_ms));
	if (overlaps(c, &loop4) || overlaps(c, &zero4) || overlaps(c, &loop6) ||
	    overlaps(c, &zero6))
		REFUSE(MXG_FLEET_PROTECTED, "%s holds loopback or the unspecified address", buf);
	for (i = 0; i < r->n_allow; i++)
		if (overlaps(c, &r->allow[i]))
			REFUSE(MXG_FLEET_PROTECTED, "%s overlaps allow %s", buf,
			       mxg_cidr_str(&r->allow[i], other, sizeof(other)));
	for (i = 0; i < r->n_ignore; i++)
		if (overlaps(c, &r->ignore[i]))
			REFUSE(MXG_FLEET_PROTECTED, "%s overlaps ignoreip %s", buf,
			       mxg_cidr_str(&r->ignore[i], other, sizeof(other)));
	for (i = 0; i < r->n_own; i++)
		if (holds_addr(c, &r->own[i]))
			REFUSE(MXG_FLEET_PROTECTED, "%s holds this host's address %s", buf,
			       mxg_addr_str(&r->own[i], other, sizeof(other)));
	return MXG_FLEET_OK;
}

int mxg_fleet_id_parse(const char *s, size_t len, struct mxg_fleet_id *id)
{
	const char *dash = memchr(s, '-', len);

	if (!dash || parse_u64(s, (size_t)(dash - s), UINT64_MAX, &id->ms) ||
	    parse_u64(dash + 1, len - (size_t)(dash + 1 - s), UINT64_MAX, &id->seq))
		return -EINVAL;
	return 0;
}

void mxg_fleet_id_str(const struct mxg_fleet_id *id, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIu64 "-%" PRIu64, id->ms, id->seq);
}

int mxg_fleet_id_cmp(const struct mxg_fleet_id *a, const struct mxg_fleet_id *b)
{
	if (a->ms != b->ms)
		return a->ms < b->ms ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}
