// SPDX-License-Identifier: GPL-2.0
/* Evidence files: the lines behind each ban, saved and read back (evidence.h). */
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
