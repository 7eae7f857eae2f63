// SPDX-License-Identifier: GPL-2.0
/* Evidence: redaction, the ring of recent lines, evidence files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "atomic.h"
#include "clock.h"
#include "evidence.h"
#include "logtime.h"
#include "maps.h"
#include "policy.h"

/* --- redaction ---------------------------------------------------------- */

struct out_buf {
	char *buf;
	size_t size;	/* room including the NUL */
	size_t len;
};

static void out_putc(struct out_buf *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len++] = c;
}

static void out_puts(struct out_buf *o, const char *s)
{
	while (*s)
		out_putc(o, *s++);
}

/* A byte safe to keep on one line of a text file. */
static char printable(unsigned char c)
{
	return (c < 0x20 || c == 0x7f) ? '?' : (char)c;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode s[0..n) (base64 alphabet only, padding stripped) on the fly, so a
 * blob of any length needs no buffer: count the NULs and say whether every
 * other byte is printable (or UTF-8). Returns false when n cannot be base64.
 */
static bool b64_scan(const char *s, size_t n, unsigned int *nuls, bool *text)
{
	unsigned int acc = 0, bits = 0;
	size_t i;

	*nuls = 0;
	*text = true;
	if (n % 4 == 1)
		return false;
	for (i = 0; i < n; i++) {
		acc = (acc << 6) | (unsigned int)b64_value((unsigned char)s[i]);
		bits += 6;
		if (bits >= 8) {
			unsigned char c = (unsigned char)(acc >> (bits - 8));

			bits -= 8;
			acc &= (1U << bits) - 1;
			if (c == 0)
				(*nuls)++;
			else if (c < 0x20 || c == 0x7f)
				*text = false;
		}
	}
	return true;
}

/*
 * Is the blob credentials? Anywhere: SASL PLAIN, "authzid\0authcid\0passwd"
 * (two NULs, text otherwise). After "authentication failed:", where Postfix
 * puts what the SASL layer returned, any blob with a NUL.
 */
static bool b64_is_secret(const char *s, size_t n, bool after_failed)
{
	unsigned int nuls;
	bool text;

	if (!b64_scan(s, n, &nuls, &text))
		return false;
	if (after_failed && nuls)
		return true;
	return nuls == 2 && text;
}

/* Length of a "password:" / "passwd=" marker at s[0..n), separator included; 0 if none. */
static size_t password_marker(const char *s, size_t n)
{
	static const char *const words[] = { "password", "passwd" };
	size_t w, k;

	if (s[0] != 'p' && s[0] != 'P')
		return 0;
	for (w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t wl = strlen(words[w]);

		if (n < wl || strncasecmp(s, words[w], wl))
			continue;
		k = wl;
		while (k < n && s[k] == ' ')
			k++;
		if (k < n && (s[k] == ':' || s[k] == '='))
			return k + 1;
	}
	return 0;
}

size_t mxg_evidence_redact(const char *in, size_t len, char *out,
			   size_t outlen)
{
	static const char failed[] = "authentication failed:";
	struct out_buf o = { .buf = out, .size = outlen, .len = 0 };
	size_t i = 0, failed_end = SIZE_MAX;
	int depth = 0;

	if (!outlen)
		return 0;
	if (!in)
		len = 0;
	while (len && (in[len - 1] == '\n' || in[len - 1] == '\r'))
		len--;
	for (i = 0; i + sizeof(failed) - 1 <= len; i++) {
		if ((in[i] == 'a' || in[i] == 'A') &&
		    !strncasecmp(in + i, failed, sizeof(failed) - 1)) {
			failed_end = i + sizeof(failed) - 1;
			break;
		}
	}
	i = 0;

	while (i < len) {
		size_t m = password_marker(in + i, len - i);

		if (m) {
			size_t k;

			for (k = 0; k < m; k++)
				out_putc(&o, printable((unsigned char)in[i + k]));
			if (i + m < len && in[i + m] == ' ')
				out_putc(&o, ' ');
			out_puts(&o, MXG_REDACTED);
			if (depth > 0 && in[len - 1] == ')' && i + m < len - 1)
				out_putc(&o, ')');
			break;
		}
		/* A base64 token starts here: check it as a whole. */
		if (b64_value((unsigned char)in[i]) >= 0 &&
		    (i == 0 || b64_value((unsigned char)in[i - 1]) < 0)) {
			size_t n = 0, pad = 0;

			while (i + n < len && b64_value((unsigned char)in[i + n]) >= 0)
				n++;
			while (i + n + pad < len && pad < 2 && in[i + n + pad] == '=')
				pad++;
			if (n >= 6 && b64_is_secret(in + i, n, i >= failed_end)) {
				out_puts(&o, MXG_REDACTED);
				i += n + pad;
				continue;
			}
		}
		if (in[i] == '(')
			depth++;
		else if (in[i] == ')' && depth > 0)
			depth--;
		out_putc(&o, printable((unsigned char)in[i]));
		i++;
	}
	o.buf[o.len] = '\0';
	return o.len;
}

/* --- the ring of recent lines -------------------------------------------- */

#define NO_SLOT UINT_MAX

/*
 * Lines are also chained by their address's group (the /24 of an IPv4
 * address, the /64 of an IPv6 one), newest first, so collecting the
 * evidence of a host or a range at least that narrow walks its own lines
 * only, not the whole ring: a ban costs the same with 16 or 16,384 lines
 * held. Wider ranges (rare, manual) still scan the ring.
 */
struct pool_meta {
	struct mxg_addr addr;
	uint64_t seq;		/* 0 = empty slot */
	unsigned int group;	/* chain it is on */
	unsigned int next, prev;	/* older, newer in the chain */
};

struct mxg_evidence_pool {
	unsigned int n;
	unsigned int head;	/* next slot written: the oldest line */
	uint64_t seq;
	struct pool_meta *meta;	/* scanned on collect: kept apart from the text */
	unsigned int *chain;	/* n chain heads (newest line), by group hash */
	char *text;		/* n * MXG_EVIDENCE_LINE_MAX */
};

/* The group of a (host or range) address: its first 3 or 8 bytes. */
static unsigned int group_of(const struct mxg_evidence_pool *pool,
			     const struct mxg_addr *a)
{
	unsigned int i, len = a->family == 4 ? 3 : 8;
	uint32_t h = 2166136261u ^ a->family;

	for (i = 0; i < len; i++)
		h = (h ^ a->a[i]) * 16777619u;
	return h % pool->n;
}

/* Is cidr inside one group, so that its lines are all on one chain? */
static bool narrow(const struct mxg_cidr *c)
{
	return c->prefixlen >= (c->addr.family == 4 ? 24 : 64);
}

struct mxg_evidence_pool *mxg_evidence_pool_new(unsigned int lines)
{
	struct mxg_evidence_pool *pool = calloc(1, sizeof(*pool));
	unsigned int i;

	if (!pool)
		return NULL;
	pool->n = lines;
	if (lines) {
		pool->meta = calloc(lines, sizeof(*pool->meta));
		pool->chain = malloc(sizeof(*pool->chain) * lines);
		pool->text = malloc((size_t)lines * MXG_EVIDENCE_LINE_MAX);
		if (!pool->meta || !pool->chain || !pool->text) {
			mxg_evidence_pool_free(pool);
			errno = ENOMEM;
			return NULL;
		}
		for (i = 0; i < lines; i++)
			pool->chain[i] = NO_SLOT;
	}
	return pool;
}

void mxg_evidence_pool_free(struct mxg_evidence_pool *pool)
{
	if (!pool)
		return;
	free(pool->meta);
	free(pool->chain);
	free(pool->text);
	free(pool);
}

static void unlink_slot(struct mxg_evidence_pool *pool, unsigned int slot)
{
	struct pool_meta *m = &pool->meta[slot];

	if (m->next != NO_SLOT)
		pool->meta[m->next].prev = m->prev;
	if (m->prev != NO_SLOT)
		pool->meta[m->prev].next = m->next;
	else
		pool->chain[m->group] = m->next;
	m->seq = 0;
}

void mxg_evidence_pool_add(struct mxg_evidence_pool *pool,
			   const struct mxg_addr *addr, const char *line,
			   size_t len)
{
	struct pool_meta *m;
	unsigned int slot;

	if (!pool || !pool->n || !line)
		return;
	slot = pool->head;
	m = &pool->meta[slot];
	if (m->seq)
		unlink_slot(pool, slot);
	m->addr = *addr;
	m->seq = ++pool->seq;
	m->group = group_of(pool, addr);
	m->prev = NO_SLOT;
	m->next = pool->chain[m->group];
	if (m->next != NO_SLOT)
		pool->meta[m->next].prev = slot;
	pool->chain[m->group] = slot;
	mxg_evidence_redact(line, len, pool->text + (size_t)slot * MXG_EVIDENCE_LINE_MAX,
			    MXG_EVIDENCE_LINE_MAX);
	pool->head = (slot + 1) % pool->n;
}

/* The slots of the last (at most max) lines inside cidr, newest first. */
static unsigned int pick_newest(const struct mxg_evidence_pool *pool,
				const struct mxg_cidr *cidr, unsigned int max,
				unsigned int *pick)
{
	unsigned int k, idx, found = 0;

	if (narrow(cidr)) {
		for (idx = pool->chain[group_of(pool, &cidr->addr)];
		     idx != NO_SLOT && found < max; idx = pool->meta[idx].next)
			if (mxg_cidr_contains(cidr, &pool->meta[idx].addr))
				pick[found++] = idx;
		return found;
	}
	for (k = 0; k < pool->n && found < max; k++) {
		idx = (pool->head + pool->n - 1 - k) % pool->n;
		if (pool->meta[idx].seq &&
		    mxg_cidr_contains(cidr, &pool->meta[idx].addr))
			pick[found++] = idx;
	}
	return found;
}

int mxg_evidence_pool_collect(const struct mxg_evidence_pool *pool,
			      const struct mxg_cidr *cidr, unsigned int max,
			      char **blob, unsigned int *n)
{
	unsigned int *pick, cnt, k;
	size_t total = 0, off = 0;
	char *b;

	*blob = NULL;
	*n = 0;
	if (!pool || !pool->n || !max)
		return 0;
	pick = malloc(sizeof(*pick) * max);
	if (!pick)
		return -ENOMEM;
	cnt = pick_newest(pool, cidr, max, pick);
	if (!cnt) {
		free(pick);
		return 0;
	}
	for (k = 0; k < cnt; k++)
		total += strlen(pool->text + (size_t)pick[k] * MXG_EVIDENCE_LINE_MAX) + 1;
	b = malloc(total);
	if (!b) {
		free(pick);
		return -ENOMEM;
	}
	/* Oldest first. */
	for (k = cnt; k-- > 0;) {
		const char *s = pool->text + (size_t)pick[k] * MXG_EVIDENCE_LINE_MAX;
		size_t l = strlen(s) + 1;

		memcpy(b + off, s, l);
		off += l;
	}
	free(pick);
	*blob = b;
	*n = cnt;
	return 0;
}

void mxg_evidence_pool_forget(struct mxg_evidence_pool *pool,
			      const struct mxg_cidr *cidr)
{
	unsigned int k, idx, next;

	if (!pool || !pool->n)
		return;
	if (narrow(cidr)) {
		for (idx = pool->chain[group_of(pool, &cidr->addr)]; idx != NO_SLOT;
		     idx = next) {
			next = pool->meta[idx].next;
			if (mxg_cidr_contains(cidr, &pool->meta[idx].addr))
				unlink_slot(pool, idx);
		}
		return;
	}
	for (k = 0; k < pool->n; k++)
		if (pool->meta[k].seq &&
		    mxg_cidr_contains(cidr, &pool->meta[k].addr))
			unlink_slot(pool, k);
}

/* --- files --------------------------------------------------------------- */

int mxg_evidence_filename(const struct mxg_cidr *cidr, char *buf, size_t size)
{
	char c[MXG_CIDR_STRLEN];
	char *slash;
	int n;

	mxg_cidr_str(cidr, c, sizeof(c));
	slash = strchr(c, '/');
	if (slash)
		*slash = '_';
	n = snprintf(buf, size, "%s.txt", c);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static const char *wall_str(uint64_t t_ns, uint64_t now_ns, time_t wall_now,
			    char *buf, size_t size)
{
	time_t t;

	if (t_ns >= now_ns)
		t = wall_now + (time_t)((t_ns - now_ns) / MXG_SEC_NS);
	else
		t = wall_now - (time_t)((now_ns - t_ns) / MXG_SEC_NS);
	return mxg_time_iso(t, buf, size);
}

static int write_line(const char *line, void *ctx)
{
	FILE *f = ctx;

	return fprintf(f, "%s\n", line) < 0 ? -EIO : 0;
}

int mxg_evidence_write(const struct mxg_policy *p, const struct mxg_cidr *cidr,
		       FILE *f, uint64_t now_ns, time_t wall_now)
{
	struct mxg_ban_info info;
	char c[MXG_CIDR_STRLEN], added[32], expires[32];
	int err;

	err = mxg_policy_ban_info(p, now_ns, cidr, &info);
	if (err)
		return err;
	if (info.expires_ns)
		wall_str(info.expires_ns, now_ns, wall_now, expires, sizeof(expires));
	else
		snprintf(expires, sizeof(expires), "never");
	fprintf(f, "# mxguard evidence v1\n"
		   "cidr: %s\n"
		   "reason: %s\n"
		   "ban_count: %u\n"
		   "failures: %u\n"
		   "banned: %s\n"
		   "expires: %s\n"
		   "lines: %u\n"
		   "\n",
		mxg_cidr_str(&info.cidr, c, sizeof(c)), mxg_reason_str((uint32_t)info.reason),
		info.ban_count, info.failures,
		wall_str(info.added_ns, now_ns, wall_now, added, sizeof(added)),
		expires, info.n_lines);
	err = mxg_policy_evidence(p, cidr, write_line, f);
	if (err)
		return err;
	return ferror(f) ? -EIO : 0;
}

struct save_ctx {
	struct mxg_policy *p;
	const char *dir;
	uint64_t now_ns;
	time_t wall_now;
	int written;
	int err;
};

struct write_ctx {
	struct save_ctx *s;
	const struct mxg_cidr *cidr;
};

static int write_fill(FILE *f, void *arg)
{
	struct write_ctx *w = arg;

	return mxg_evidence_write(w->s->p, w->cidr, f, w->s->now_ns, w->s->wall_now);
}

static int save_one(struct save_ctx *s, const struct mxg_cidr *cidr)
{
	struct write_ctx w = { .s = s, .cidr = cidr };
	char name[64], path[4096];
	int err;

	err = mxg_evidence_filename(cidr, name, sizeof(name));
	if (err)
		return err;
	if (snprintf(path, sizeof(path), "%s/%s", s->dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return mxg_atomic_write(path, 0640, write_fill, &w);
}

/* Records to save are listed first: the walk must not see them change. */
struct save_list {
	struct mxg_cidr *v;
	unsigned int n, cap;
};

static int collect_unsaved(const struct mxg_ban_info *info, void *ctx)
{
	struct save_list *l = ctx;

	/* Noted bans without lines (an adopted denylist) get no empty files. */
	if (!info->active || info->saved || !info->n_lines)
		return 0;
	if (l->n == l->cap) {
		unsigned int cap = l->cap ? l->cap * 2 : 64;
		struct mxg_cidr *v = realloc(l->v, sizeof(*v) * cap);

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = info->cidr;
	return 0;
}

int mxg_evidence_save(struct mxg_policy *p, const char *dir, uint64_t now_ns,
		      time_t wall_now)
{
	struct save_ctx s = { .p = p, .dir = dir, .now_ns = now_ns,
			      .wall_now = wall_now };
	struct save_list l = { 0 };
	unsigned int i;
	int err;

	err = mxg_policy_for_each_ban(p, now_ns, collect_unsaved, &l);
	if (err) {
		free(l.v);
		return err;
	}
	for (i = 0; i < l.n; i++) {
		err = save_one(&s, &l.v[i]);
		if (err) {
			if (!s.err)
				s.err = err;
			continue;
		}
		mxg_policy_mark_saved(p, &l.v[i]);
		s.written++;
	}
	free(l.v);
	return s.err ? s.err : s.written;
}

struct unsaved_ctx {
	struct save_ctx s;
	mxg_evidence_take_fn take;
	void *ctx;
	uint64_t stop_at;	/* CLOCK_MONOTONIC ns; 0: no limit */
	int err;
};

static int take_unsaved(const struct mxg_ban_info *info, void *arg)
{
	struct unsaved_ctx *u = arg;
	struct write_ctx w = { .s = &u->s, .cidr = &info->cidr };
	char name[64], *data;
	size_t len;
	int err;

	/* Noted bans without lines (an adopted denylist) get no empty files. */
	if (!info->active || !info->n_lines) {
		mxg_policy_mark_saved(u->s.p, &info->cidr);
		return 0;
	}
	err = mxg_evidence_filename(&info->cidr, name, sizeof(name));
	if (!err)
		err = mxg_atomic_render(write_fill, &w, &data, &len);
	/* The taker owns data from here on. */
	if (!err)
		err = u->take(name, data, len, u->ctx);
	if (err) {
		u->err = err;
		return 1;
	}
	mxg_policy_mark_saved(u->s.p, &info->cidr);
	u->s.written++;
	return u->stop_at && mxg_mono_ns() >= u->stop_at;
}

int mxg_evidence_each_unsaved(struct mxg_policy *p, uint64_t now_ns,
			      time_t wall_now, uint64_t budget_ns,
			      mxg_evidence_take_fn take, void *ctx)
{
	struct unsaved_ctx u = {
		.s = { .p = p, .now_ns = now_ns, .wall_now = wall_now },
		.take = take, .ctx = ctx,
		.stop_at = budget_ns ? mxg_mono_ns() + budget_ns : 0,
	};

	mxg_policy_for_each_unsaved(p, now_ns, UINT_MAX, take_unsaved, &u);
	return u.err ? u.err : u.s.written;
}

static void copy_field(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

int mxg_evidence_read(const char *path, struct mxg_evidence_header *hdr,
		      int (*fn)(const char *line, void *ctx), void *ctx)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool first = true, body = false, have_cidr = false;
	int err = 0;
	FILE *f;

	memset(hdr, 0, sizeof(*hdr));
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *v;

		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (first) {
			first = false;
			if (strcmp(line, "# mxguard evidence v1")) {
				err = -EINVAL;
				break;
			}
			continue;
		}
		if (body) {
			if (fn) {
				err = fn(line, ctx);
				if (err)
					break;
			}
			continue;
		}
		if (!*line) {
			body = true;
			continue;
		}
		v = strstr(line, ": ");
		if (!v) {
			err = -EINVAL;
			break;
		}
		*v = '\0';
		v += 2;
		if (!strcmp(line, "cidr")) {
			if (mxg_cidr_parse(v, &hdr->cidr)) {
				err = -EINVAL;
				break;
			}
			have_cidr = true;
		} else if (!strcmp(line, "reason")) {
			copy_field(hdr->reason, sizeof(hdr->reason), v);
		} else if (!strcmp(line, "ban_count")) {
			hdr->ban_count = (unsigned int)strtoul(v, NULL, 10);
		} else if (!strcmp(line, "failures")) {
			hdr->failures = (unsigned int)strtoul(v, NULL, 10);
		} else if (!strcmp(line, "banned")) {
			copy_field(hdr->banned, sizeof(hdr->banned), v);
		} else if (!strcmp(line, "expires")) {
			copy_field(hdr->expires, sizeof(hdr->expires), v);
		} else if (!strcmp(line, "lines")) {
			hdr->lines = (unsigned int)strtoul(v, NULL, 10);
		}
		/* Unknown keys are skipped: later versions may add some. */
	}
	if (!err && (first || !have_cidr || !body))
		err = -EINVAL;
	free(line);
	fclose(f);
	return err;
}
