// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "denylist.h"

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

int mxg_denylist_apply(const struct mxg_maps *m, const struct mxg_cidr *c,
		       uint64_t expires_ns, uint32_t reason,
		       unsigned int ban_count, uint64_t now_ns, const char *note)
{
	struct mxg_deny cover, old, v = {
		.expires_ns = expires_ns,
		.added_ns = now_ns,
		.reason = reason,
		.ban_count = ban_count ? ban_count : 1,
	};
	int ret, result = MXG_APPLY_ADDED;

	if (note)
		snprintf(v.note, sizeof(v.note), "%s", note);
	if (mxg_deny_match(m, c, &cover) == 0 && active(&cover, now_ns) &&
	    lasts_as_long(cover.expires_ns, expires_ns))
		return MXG_APPLY_COVERED;

	if (mxg_deny_get(m, c, &old) == 0) {
		v.hits = old.hits;
		if (old.ban_count >= v.ban_count)
			v.ban_count = old.ban_count + 1;
		result = MXG_APPLY_EXTENDED;
	}
	ret = mxg_deny_put(m, c, &v);
	return ret ? ret : result;
}

struct save_ctx {
	FILE *f;
	uint64_t boot_now;
	time_t wall_now;
	int n;
};

static int save_one(const struct mxg_cidr *c, const struct mxg_deny *v, void *arg)
{
	struct save_ctx *s = arg;
	char buf[MXG_CIDR_STRLEN];
	long long expires = 0, added;

	if (!active(v, s->boot_now))
		return 0;
	if (v->expires_ns)
		expires = (long long)s->wall_now +
			  (long long)((v->expires_ns - s->boot_now + 999999999ULL) /
				      1000000000ULL);
	added = (long long)s->wall_now -
		(long long)((s->boot_now - v->added_ns) / 1000000000ULL);
	if (v->added_ns > s->boot_now)
		added = (long long)s->wall_now;
	fprintf(s->f, "%s %lld %lld %s %u %llu%s%.*s\n",
		mxg_cidr_str(c, buf, sizeof(buf)), expires, added,
		mxg_reason_str(v->reason), v->ban_count,
		(unsigned long long)v->hits, v->note[0] ? " " : "",
		(int)sizeof(v->note), v->note);
	s->n++;
	return 0;
}

int mxg_state_save(const struct mxg_maps *m, const char *path)
{
	struct save_ctx s = { .boot_now = mxg_boot_ns(), .wall_now = time(NULL) };
	char tmp[4200];
	int fd, ret;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	s.f = fdopen(fd, "w");
	if (!s.f) {
		ret = -errno;
		close(fd);
		unlink(tmp);
		return ret;
	}
	fprintf(s.f, "# mxguard bans v1: CIDR EXPIRES ADDED REASON BAN_COUNT HITS (unix seconds, 0 = permanent)\n");
	mxg_deny_each(m, save_one, &s);
	if (fflush(s.f) || fsync(fileno(s.f))) {
		ret = -errno;
		fclose(s.f);
		unlink(tmp);
		return ret;
	}
	if (fclose(s.f)) {
		ret = -errno;
		unlink(tmp);
		return ret;
	}
	if (rename(tmp, path)) {
		ret = -errno;
		unlink(tmp);
		return ret;
	}
	return s.n;
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

int mxg_state_restore(const struct mxg_maps *m, const char *path,
		      unsigned int *restored, unsigned int *expired,
		      char *err, size_t errlen)
{
	uint64_t boot_now = mxg_boot_ns();
	time_t wall_now = time(NULL);
	char line[512], cidr[64], reason[16];
	unsigned int lineno = 0, count;
	unsigned long long hits;
	long long exp, added;
	struct mxg_cidr c;
	FILE *f;
	int ret = 0;

	*restored = *expired = 0;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct mxg_deny old, v = { 0 };
		uint64_t left, age;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		int used = 0;

		if (sscanf(line, "%63s %lld %lld %15s %u %llu%n", cidr, &exp, &added,
			   reason, &count, &hits, &used) != 6 || mxg_cidr_parse(cidr, &c) ||
		    !reason_from_str(reason) || exp < 0) {
			snprintf(err, errlen, "%s:%u: not a ban record", path, lineno);
			ret = -EINVAL;
			break;
		}
		if (exp && exp <= wall_now) {
			(*expired)++;
			continue;
		}
		left = exp ? (uint64_t)(exp - wall_now) * 1000000000ULL : 0;
		v.expires_ns = exp ? boot_now + left : 0;
		/* Before the boot, as far as CLOCK_BOOTTIME can say: at 0. */
		age = wall_now > added ? (uint64_t)(wall_now - added) * 1000000000ULL : 0;
		v.added_ns = age < boot_now ? boot_now - age : 0;
		v.reason = reason_from_str(reason);
		v.ban_count = count;
		{
			char *note = line + used;

			note += strspn(note, " ");
			note[strcspn(note, "\n")] = '\0';
			snprintf(v.note, sizeof(v.note), "%s", note);
		}
		v.hits = hits;
		if (mxg_deny_get(m, &c, &old) == 0 &&
		    (!old.expires_ns || (v.expires_ns && old.expires_ns >= v.expires_ns)))
			continue;	/* the maps already hold it for as long */
		if (mxg_deny_put(m, &c, &v)) {
			ret = -errno;
			snprintf(err, errlen, "%s:%u: cannot restore %s: %s", path,
				 lineno, cidr, strerror(errno));
			break;
		}
		(*restored)++;
	}
	fclose(f);
	return ret;
}
