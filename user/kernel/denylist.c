// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/random.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "clock.h"
#include "denylist.h"
#include "duration.h"
#include "hash.h"

static bool active(const struct mxg_deny *v, uint64_t now)
{
	return !v->expires_ns || v->expires_ns > now;
}

/* Does a expire no earlier than b (0 = never)? */
static bool lasts_as_long(uint64_t a, uint64_t b)
{
	if (!a)
		return true;
	return b && a >= b;
}

int mxg_deny_decide(const struct mxg_cidr *c, const struct mxg_deny *cover,
		    uint64_t now_ns, struct mxg_deny *v)
{
	if (!v->ban_count)
		v->ban_count = 1;
	if (!cover)
		return MXG_APPLY_ADDED;
	if (active(cover, now_ns) && lasts_as_long(cover->expires_ns, v->expires_ns))
		return MXG_APPLY_COVERED;
	/*
	 * The longest match is c's own entry when there is one, and every
	 * entry records its own prefix length: one lookup instead of an
	 * exact-key search (import does a million).
	 */
	if (cover->prefixlen != c->prefixlen)
		return MXG_APPLY_ADDED;
	v->hits = cover->hits;
	if (cover->ban_count >= v->ban_count)
		v->ban_count = cover->ban_count + 1;
	return MXG_APPLY_EXTENDED;
}

int mxg_denylist_apply(const struct mxg_maps *m, const struct mxg_cidr *c,
		       uint64_t expires_ns, uint32_t reason,
		       unsigned int ban_count, uint64_t now_ns, const char *note)
{
	struct mxg_deny cover, v = {
		.expires_ns = expires_ns,
		.added_ns = now_ns,
		.reason = reason,
		.ban_count = ban_count,
	};
	int ret, result;

	if (note)
		snprintf(v.note, sizeof(v.note), "%s", note);
	result = mxg_deny_decide(c, mxg_deny_match(m, c, &cover) == 0 ? &cover : NULL,
				 now_ns, &v);
	if (result == MXG_APPLY_COVERED)
		return result;
	ret = mxg_deny_put(m, c, &v);
	return ret ? ret : result;
}

/* ---- bulk writer (import) --------------------------------------------- */

/* One range the writer wrote: a possible cover of later ones. */
struct bulk_slot {
	struct mxg_cidr c;
	uint64_t expires_ns;
	bool used;
};

struct mxg_bulk {
	const struct mxg_maps *m;
	bool empty[2];			/* [0] IPv4, [1] IPv6: trie empty at the start */
	bool lens[2][129];		/* prefix lengths of the ranges written */
	struct bulk_slot *slot;
	size_t cap, n;			/* cap a power of two, n <= cap / 2 */
	uint64_t seed;
};

struct mxg_bulk *mxg_bulk_new(const struct mxg_maps *m)
{
	struct mxg_bulk *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->m = m;
	b->empty[0] = mxg_deny_empty(m, 4);
	b->empty[1] = mxg_deny_empty(m, 6);
	if (getrandom(&b->seed, sizeof(b->seed), 0) != sizeof(b->seed))
		b->seed = 0x9e3779b97f4a7c15ULL;
	return b;
}

void mxg_bulk_free(struct mxg_bulk *b)
{
	if (b)
		free(b->slot);
	free(b);
}

static struct bulk_slot *bulk_find(const struct mxg_bulk *b, const struct mxg_cidr *c)
{
	size_t i;

	if (!b->cap)
		return NULL;
	for (i = mxg_cidr_hash(b->seed, c) & (b->cap - 1); b->slot[i].used;
	     i = (i + 1) & (b->cap - 1))
		if (b->slot[i].c.prefixlen == c->prefixlen &&
		    mxg_addr_equal(&b->slot[i].c.addr, &c->addr))
			return &b->slot[i];
	return NULL;
}

/* Remember a written range; false when out of memory (covers then come from the trie). */
static bool bulk_keep(struct mxg_bulk *b, const struct mxg_cidr *c, uint64_t expires_ns)
{
	struct bulk_slot *old = b->slot, *s;
	size_t i, cap = b->cap;

	if ((b->n + 1) * 2 > b->cap) {
		b->cap = cap ? cap * 2 : 1024;
		b->slot = calloc(b->cap, sizeof(*b->slot));
		if (!b->slot) {
			b->slot = old;
			b->cap = cap;
			return false;
		}
		b->n = 0;
		for (i = 0; i < cap; i++)
			if (old[i].used)
				bulk_keep(b, &old[i].c, old[i].expires_ns);
		free(old);
	}
	s = bulk_find(b, c);
	if (!s) {
		for (i = mxg_cidr_hash(b->seed, c) & (b->cap - 1); b->slot[i].used;
		     i = (i + 1) & (b->cap - 1))
			;
		s = &b->slot[i];
		s->used = true;
		s->c = *c;
		b->n++;
	}
	s->expires_ns = expires_ns;
	b->lens[c->addr.family == 6][c->prefixlen] = true;
	return true;
}

/* The longest range this writer wrote that covers c (c itself included). */
static bool bulk_cover(const struct mxg_bulk *b, const struct mxg_cidr *c,
		       struct mxg_deny *cover)
{
	const bool *lens = b->lens[c->addr.family == 6];
	struct bulk_slot *s;
	struct mxg_cidr w;
	int len;

	for (len = (int)c->prefixlen; len >= 0; len--) {
		if (!lens[len])
			continue;
		w = *c;
		w.prefixlen = (unsigned int)len;
		mxg_addr_mask(&w.addr, w.prefixlen);
		s = bulk_find(b, &w);
		if (s) {
			memset(cover, 0, sizeof(*cover));
			cover->expires_ns = s->expires_ns;
			cover->prefixlen = (uint32_t)len;
			cover->ban_count = 1;
			return true;
		}
	}
	return false;
}

int mxg_bulk_apply(struct mxg_bulk *b, const struct mxg_cidr *c,
		   uint64_t expires_ns, uint32_t reason, uint64_t now_ns,
		   const char *note)
{
	unsigned int max = c->addr.family == 6 ? 128 : 32;
	struct mxg_deny cover, v = {
		.expires_ns = expires_ns,
		.added_ns = now_ns,
		.reason = reason,
		.ban_count = 1,
	};
	int ret, result;

	if (!b->empty[c->addr.family == 6])
		return mxg_denylist_apply(b->m, c, expires_ns, reason, 1, now_ns, note);
	if (note)
		snprintf(v.note, sizeof(v.note), "%s", note);
	result = mxg_deny_decide(c, bulk_cover(b, c, &cover) ? &cover : NULL, now_ns, &v);
	if (result == MXG_APPLY_COVERED)
		return result;
	if (result != MXG_APPLY_ADDED)
		return mxg_denylist_apply(b->m, c, expires_ns, reason, 1, now_ns, note);
	ret = mxg_deny_add(b->m, c, &v);
	if (ret == -EEXIST)
		return mxg_denylist_apply(b->m, c, expires_ns, reason, 1, now_ns, note);
	if (ret)
		return ret;
	/* A full-length key covers only itself, which the trie answers (EEXIST). */
	if (c->prefixlen < max && !bulk_keep(b, c, expires_ns))
		b->empty[c->addr.family == 6] = false;
	return result;
}

int mxg_ban_duration(const char *s, uint64_t *ns)
{
	int ret = mxg_parse_duration(s, ns);

	if (ret == -ERANGE || (!ret && *ns > MXG_BAN_MAX_NS))
		return -ERANGE;
	if (ret || !*ns)
		return -EINVAL;
	return 0;
}

int mxg_note_bad_char(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return (int)(p - (const unsigned char *)s);
	return -1;
}

struct save_ctx {
	const struct mxg_maps *m_;
	FILE *f;
	uint64_t boot_now;
	time_t wall_now;
	int n;
};

static int save_one(const struct mxg_cidr *c, const struct mxg_deny *v, void *arg)
{
	struct save_ctx *s = arg;
	char buf[MXG_CIDR_STRLEN], note[sizeof(v->note) + 1];
	long long expires = 0, added;
	size_t i;

	if (!active(v, s->boot_now))
		return 0;
	if (v->expires_ns)
		expires = (long long)s->wall_now +
			  (long long)((v->expires_ns - s->boot_now + MXG_SEC_NS - 1) /
				      MXG_SEC_NS);
	added = (long long)s->wall_now -
		(long long)((s->boot_now - v->added_ns) / MXG_SEC_NS);
	if (v->added_ns > s->boot_now)
		added = (long long)s->wall_now;
	/*
	 * The CLI refuses control characters in a note; a map entry written
	 * by anything else must still not split its record in two.
	 */
	snprintf(note, sizeof(note), "%.*s", (int)sizeof(v->note), v->note);
	for (i = 0; note[i]; i++)
		if ((unsigned char)note[i] < 0x20 || note[i] == 0x7f)
			note[i] = '?';
	fprintf(s->f, "%s %lld %lld %s %u %llu%s%s\n",
		mxg_cidr_str(c, buf, sizeof(buf)), expires, added,
		mxg_reason_str(v->reason), v->ban_count,
		(unsigned long long)v->hits, note[0] ? " " : "", note);
	s->n++;
	return 0;
}

static int save_fill(FILE *f, void *arg)
{
	struct save_ctx *s = arg;

	s->f = f;
	fprintf(f, "# mxguard bans v1: CIDR EXPIRES ADDED REASON BAN_COUNT HITS (unix seconds, 0 = permanent)\n");
	return mxg_deny_each(s->m_, save_one, s) < 0 ? -EIO : 0;
}

int mxg_state_render(const struct mxg_maps *m, char **data, size_t *len)
{
	struct save_ctx s = { .m_ = m, .boot_now = mxg_boot_ns(), .wall_now = time(NULL) };

	return mxg_atomic_render(save_fill, &s, data, len);
}

int mxg_state_save(const struct mxg_maps *m, const char *path)
{
	struct save_ctx s = { .m_ = m, .boot_now = mxg_boot_ns(), .wall_now = time(NULL) };
	int ret = mxg_atomic_write(path, 0600, save_fill, &s);

	return ret ? ret : s.n;
}

static uint32_t reason_from_str(const char *s)
{
	static const uint32_t all[] = {
		MXG_REASON_MANUAL, MXG_REASON_LOG, MXG_REASON_RATE, MXG_REASON_IMPORT,
	};
	unsigned int i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(s, mxg_reason_str(all[i])))
			return all[i];
	return 0;
}

/*
 * One record into v (pure but for the clocks passed in). Returns 0, 1 when
 * the ban has run out, or -EINVAL with why set.
 */
static int parse_record(char *line, uint64_t boot_now, time_t wall_now,
			struct mxg_cidr *c, struct mxg_deny *v, const char **why)
{
	char cidr[64], reason[16], *note;
	unsigned long long hits;
	long long exp, added;
	unsigned int count;
	uint64_t left, age;
	int used = 0;

	memset(v, 0, sizeof(*v));
	if (sscanf(line, "%63s %lld %lld %15s %u %llu%n", cidr, &exp, &added,
		   reason, &count, &hits, &used) != 6) {
		*why = "not a ban record (CIDR EXPIRES ADDED REASON BAN_COUNT HITS [NOTE])";
		return -EINVAL;
	}
	if (mxg_cidr_parse(cidr, c)) {
		*why = "not a CIDR range with host bits clear";
		return -EINVAL;
	}
	v->reason = reason_from_str(reason);
	if (!v->reason) {
		*why = "unknown reason (manual, log, rate, import)";
		return -EINVAL;
	}
	if (exp < 0) {
		*why = "negative expiry";
		return -EINVAL;
	}
	if (added < 0) {
		*why = "negative time added";
		return -EINVAL;
	}
	if (exp && exp <= wall_now)
		return 1;
	left = exp ? (uint64_t)(exp - wall_now) : 0;
	if (left > MXG_BAN_MAX_NS / MXG_SEC_NS) {
		*why = "expiry beyond the longest ban, " MXG_BAN_MAX_STR;
		return -EINVAL;
	}
	left *= MXG_SEC_NS;
	v->expires_ns = exp ? boot_now + left : 0;
	/* Before the boot, as far as CLOCK_BOOTTIME can say: at 0. */
	age = wall_now > added && (uint64_t)(wall_now - added) < UINT64_MAX / MXG_SEC_NS ?
	      (uint64_t)(wall_now - added) * MXG_SEC_NS : 0;
	v->added_ns = age < boot_now ? boot_now - age : 0;
	v->ban_count = count;
	v->hits = hits;
	note = line + used;
	note += strspn(note, " ");
	note[strcspn(note, "\n")] = '\0';
	snprintf(v->note, sizeof(v->note), "%s", note);
	return 0;
}

static void say(mxg_restore_report_fn report, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(mxg_restore_report_fn report, void *ctx, const char *fmt, ...)
{
	char msg[4600];
	va_list ap;

	if (!report)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(msg, ctx);
}

/*
 * Keep the file as it is now under path.bad-TIME: a hard link, so the
 * rename of the next save leaves this inode, the unread bans, in place.
 */
static int keep_copy(const char *path, char *out, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];
	int i;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 0; i < 100; i++) {
		if (i)
			snprintf(out, size, "%s.bad-%s-%d", path, stamp, i);
		else
			snprintf(out, size, "%s.bad-%s", path, stamp);
		if (!link(path, out))
			return mxg_fsync_dir_of(path);
		if (errno != EEXIST)
			break;
	}
	out[0] = '\0';
	return -errno;
}

int mxg_state_restore(const struct mxg_maps *m, const char *path,
		      struct mxg_restore_stats *st,
		      mxg_restore_report_fn report, void *ctx)
{
	uint64_t boot_now = mxg_boot_ns();
	time_t wall_now = time(NULL);
	char *line = NULL, buf[MXG_CIDR_STRLEN];
	unsigned int lineno = 0;
	size_t cap = 0;
	ssize_t len;
	int ret = 0;
	FILE *f;

	memset(st, 0, sizeof(*st));
	f = fopen(path, "re");
	if (!f)
		return -errno;
	errno = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		struct mxg_deny old, v;
		struct mxg_cidr c;
		const char *why = "";
		int r;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (strlen(line) != (size_t)len) {
			r = -EINVAL;
			why = "NUL byte in the record";
		} else {
			r = parse_record(line, boot_now, wall_now, &c, &v, &why);
		}
		if (r < 0) {
			st->bad++;
			say(report, ctx, "%s:%u: %s: skipped", path, lineno, why);
			continue;
		}
		if (r > 0) {
			st->expired++;
			continue;
		}
		if (mxg_deny_get(m, &c, &old) == 0 &&
		    (!old.expires_ns || (v.expires_ns && old.expires_ns >= v.expires_ns))) {
			st->held++;	/* the maps already hold it for as long */
			continue;
		}
		r = mxg_deny_put(m, &c, &v);
		if (r) {
			st->failed++;
			say(report, ctx, "%s:%u: cannot restore %s: %s", path, lineno,
			    mxg_cidr_str(&c, buf, sizeof(buf)), strerror(-r));
			continue;
		}
		st->restored++;
	}
	if (ferror(f)) {
		/* A file we cannot read at all (EISDIR, EIO): nothing to keep a copy of. */
		ret = errno ? -errno : -EIO;
		if (!lineno) {
			free(line);
			fclose(f);
			return ret;
		}
		st->failed++;
		say(report, ctx, "%s:%u: read error: %s", path, lineno + 1, strerror(-ret));
		ret = 0;
	}
	free(line);
	fclose(f);
	if (st->bad || st->failed) {
		int r = keep_copy(path, st->kept, sizeof(st->kept));

		if (r) {
			say(report, ctx, "cannot keep a copy of %s: %s", path, strerror(-r));
			return r;
		}
		say(report, ctx, "%u records of %s were not restored; the file as it was is kept as %s",
		    st->bad + st->failed, path, st->kept);
	}
	return ret;
}
