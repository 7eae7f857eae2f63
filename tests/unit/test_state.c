// SPDX-License-Identifier: GPL-2.0
/*
 * The bans state file: what mxg_state_save writes and mxg_state_restore
 * reads back, on real (unpinned) LPM tries made here, in a temp dir.
 * Needs CAP_BPF to create the tries; SKIPs without.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "addr.h"
#include "clock.h"
#include "denylist.h"
#include "maps.h"
#include "test.h"

static struct mxg_maps m;
static char dir[64];
static char path[128];
static char reports[4096];

static struct mxg_cidr C(const char *s)
{
	struct mxg_cidr c;

	if (mxg_cidr_parse(s, &c))
		abort();
	return c;
}

static int maps_new(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	mxg_maps_init(&m);
	m.deny_v4 = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_deny_v4",
				   sizeof(struct mxg_lpm_v4), sizeof(struct mxg_deny),
				   1024, &o);
	m.deny_v6 = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_deny_v6",
				   sizeof(struct mxg_lpm_v6), sizeof(struct mxg_deny),
				   1024, &o);
	if (m.deny_v4 < 0 || m.deny_v6 < 0) {
		mxg_maps_close(&m);
		return -errno;
	}
	return 0;
}

/* Fresh tries and an empty temp dir for each test. */
static bool setup(void)
{
	mxg_maps_close(&m);
	if (maps_new())
		return false;
	snprintf(dir, sizeof(dir), "/tmp/mxg-state-XXXXXX");
	if (!mkdtemp(dir))
		return false;
	snprintf(path, sizeof(path), "%s/bans.state", dir);
	reports[0] = '\0';
	return true;
}

static void teardown(void)
{
	struct dirent *de;
	char p[512];
	DIR *d = opendir(dir);

	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.' && (!de->d_name[1] ||
			    (de->d_name[1] == '.' && !de->d_name[2])))
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
	mxg_maps_close(&m);
}

static bool write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	if (!f)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

static char *read_file(const char *p)
{
	static char buf[8192];
	size_t n;
	FILE *f = fopen(p, "r");

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void report(const char *msg, void *ctx)
{
	size_t used = strlen(reports);

	snprintf(reports + used, sizeof(reports) - used, "%s\n", msg);
}

static bool banned(const char *cidr)
{
	struct mxg_cidr c = C(cidr);
	struct mxg_deny v;

	return mxg_deny_get(&m, &c, &v) == 0;
}

/* A file with rec, a bad line, rec: what restore does with it. */
static int restore_three(struct mxg_restore_stats *st)
{
	char text[1024];
	long long later = (long long)time(NULL) + 3600;

	snprintf(text, sizeof(text),
		 "# mxguard bans v1: CIDR EXPIRES ADDED REASON BAN_COUNT HITS\n"
		 "198.18.1.0/24 %lld 1700000000 manual 1 0 first\n"
		 "second half of a note with a newline\n"
		 "198.18.2.0/24 0 1700000000 log 2 5\n", later);
	if (!write_file(path, text))
		return -EIO;
	return mxg_state_restore(&m, path, st, report, NULL);
}

static bool restore_skips_a_bad_record_and_keeps_the_rest(void)
{
	struct mxg_restore_stats st;
	bool ok;
	int ret;

	if (!setup())
		return false;
	ret = restore_three(&st);
	ok = ASSERT_EQ(ret, 0, "restore") &&
	     ASSERT_EQ(st.restored, 2, "restored") &&
	     ASSERT_EQ(st.bad, 1, "bad records") &&
	     ASSERT_TRUE(banned("198.18.1.0/24"), "the ban before the bad line") &&
	     ASSERT_TRUE(banned("198.18.2.0/24"), "the ban after the bad line");
	teardown();
	return ok;
}

static bool restore_reports_file_and_line_of_a_bad_record(void)
{
	struct mxg_restore_stats st;
	char want[256];
	bool ok;

	if (!setup())
		return false;
	restore_three(&st);
	snprintf(want, sizeof(want), "%s:3: ", path);
	ok = ASSERT_TRUE(strstr(reports, want) != NULL, reports);
	teardown();
	return ok;
}

static bool restore_keeps_a_copy_of_a_partly_read_state_file(void)
{
	struct mxg_restore_stats st;
	char before[8192], *after;
	bool ok;

	if (!setup())
		return false;
	restore_three(&st);
	snprintf(before, sizeof(before), "%s", read_file(path));
	after = st.kept[0] ? read_file(st.kept) : NULL;
	ok = ASSERT_TRUE(st.kept[0] != '\0', "a copy was kept") &&
	     ASSERT_TRUE(strncmp(st.kept, path, strlen(path)) == 0 &&
			 strstr(st.kept, ".bad-") != NULL, st.kept) &&
	     ASSERT_STREQ(after, before, "the copy holds the file as it was") &&
	     ASSERT_TRUE(strstr(reports, st.kept) != NULL, "the copy is named in the report");
	/* The next save replaces bans.state; the copy stays. */
	ok = ok && ASSERT_EQ(mxg_state_save(&m, path), 2, "save") &&
	     ASSERT_STREQ(read_file(st.kept), before, "the copy after a save");
	teardown();
	return ok;
}

static bool restore_of_a_clean_file_keeps_no_copy(void)
{
	struct mxg_restore_stats st;
	struct mxg_cidr c = C("198.18.3.0/24");
	bool ok;
	int ret;

	if (!setup())
		return false;
	ret = mxg_denylist_apply(&m, &c, 0, MXG_REASON_MANUAL, 1, mxg_boot_ns(), "x");
	ok = ASSERT_TRUE(ret >= 0, "apply") &&
	     ASSERT_EQ(mxg_state_save(&m, path), 1, "save");
	mxg_deny_del(&m, &c);
	ret = mxg_state_restore(&m, path, &st, report, NULL);
	ok = ok && ASSERT_EQ(ret, 0, "restore") && ASSERT_EQ(st.restored, 1, "restored") &&
	     ASSERT_EQ(st.bad, 0, "bad") && ASSERT_STREQ(st.kept, "", "no copy") &&
	     ASSERT_STREQ(reports, "", "nothing reported");
	teardown();
	return ok;
}

static bool state_save_never_writes_a_control_character_in_a_note(void)
{
	struct mxg_restore_stats st;
	struct mxg_cidr c = C("198.18.4.0/24");
	struct mxg_deny v = { .reason = MXG_REASON_MANUAL, .ban_count = 1 };
	const char *text;
	bool ok;

	if (!setup())
		return false;
	/* As an older ban --reason "a<newline>b" put it in the map. */
	memcpy(v.note, "evil\nline\tx", 12);
	mxg_deny_put(&m, &c, &v);
	ok = ASSERT_EQ(mxg_state_save(&m, path), 1, "save");
	text = read_file(path);
	ok = ok && ASSERT_TRUE(text && !strchr(text, '\t'), "no tab in the file") &&
	     ASSERT_TRUE(text && strstr(text, "evil?line?x\n") != NULL, text ? text : "");
	mxg_deny_del(&m, &c);
	ok = ok && ASSERT_EQ(mxg_state_restore(&m, path, &st, report, NULL), 0, "restore") &&
	     ASSERT_EQ(st.restored, 1, "restored") && ASSERT_EQ(st.bad, 0, "bad");
	teardown();
	return ok;
}

static bool restore_refuses_an_expiry_beyond_the_longest_ban(void)
{
	struct mxg_restore_stats st;
	bool ok;

	if (!setup())
		return false;
	write_file(path, "198.18.5.0/24 99999999999999 1700000000 manual 1 0\n"
			 "198.18.6.0/24 0 1700000000 manual 1 0\n");
	ok = ASSERT_EQ(mxg_state_restore(&m, path, &st, report, NULL), 0, "restore") &&
	     ASSERT_EQ(st.bad, 1, "bad") && ASSERT_EQ(st.restored, 1, "restored") &&
	     ASSERT_TRUE(!banned("198.18.5.0/24"), "no wrapped-around ban");
	teardown();
	return ok;
}

static bool restore_of_an_unreadable_file_says_so_and_reads_nothing(void)
{
	struct mxg_restore_stats st;
	bool ok;
	int ret;

	if (!setup())
		return false;
	mkdir(path, 0700);	/* a directory where the file should be */
	ret = mxg_state_restore(&m, path, &st, report, NULL);
	ok = ASSERT_TRUE(ret < 0 && ret != -ENOENT, "an error, not \"no file\"");
	rmdir(path);
	teardown();
	return ok;
}

/* The one rule ban, import and the daemon share (mxg_denylist_apply). */
static bool apply_never_shortens_and_extends_only_its_own_entry(void)
{
	struct mxg_cidr r24 = C("198.18.7.0/24"), h = C("198.18.7.9/32");
	uint64_t now = mxg_boot_ns(), hour = 3600ULL * 1000000000ULL;
	struct mxg_deny v;
	bool ok;

	if (!setup())
		return false;
	ok = ASSERT_EQ(mxg_denylist_apply(&m, &r24, now + hour, MXG_REASON_LOG, 1, now, NULL),
		       MXG_APPLY_ADDED, "a new /24") &&
	     ASSERT_EQ(mxg_denylist_apply(&m, &r24, now + 60 * 1000000000ULL, MXG_REASON_IMPORT, 1,
					  now, NULL), MXG_APPLY_COVERED, "a shorter ban of it") &&
	     ASSERT_EQ(mxg_denylist_apply(&m, &h, now + hour / 2, MXG_REASON_LOG, 1, now, NULL),
		       MXG_APPLY_COVERED, "a host inside it, for less") &&
	     ASSERT_EQ(mxg_denylist_apply(&m, &h, now + 2 * hour, MXG_REASON_LOG, 1, now, NULL),
		       MXG_APPLY_ADDED, "a host inside it, for longer: its own entry") &&
	     ASSERT_EQ(mxg_denylist_apply(&m, &r24, 0, MXG_REASON_MANUAL, 1, now, NULL),
		       MXG_APPLY_EXTENDED, "the /24 made permanent") &&
	     ASSERT_EQ(mxg_deny_get(&m, &r24, &v), 0, "get") &&
	     ASSERT_EQ(v.expires_ns, 0, "permanent") && ASSERT_EQ(v.ban_count, 2, "second ban") &&
	     ASSERT_EQ(mxg_denylist_apply(&m, &r24, now + hour, MXG_REASON_IMPORT, 1, now, NULL),
		       MXG_APPLY_COVERED, "a permanent ban is never shortened") &&
	     ASSERT_EQ(mxg_deny_get(&m, &r24, &v), 0, "get") && ASSERT_EQ(v.expires_ns, 0, "still permanent");
	teardown();
	return ok;
}

/* Every entry of both tries, as text, sorted by the trie's own order. */
static int dump_one(const struct mxg_cidr *c, const struct mxg_deny *v, void *arg)
{
	char buf[MXG_CIDR_STRLEN], *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 65536 - n, "%s %llu %u|", mxg_cidr_str(c, buf, sizeof(buf)),
		 (unsigned long long)v->expires_ns, v->ban_count);
	return 0;
}

/*
 * Import's bulk writer and mxg_denylist_apply, given the same seeded mix of
 * ranges (nested, repeated, longer and shorter, both families, some over
 * entries already there), decide alike and leave the same entries.
 */
static bool bulk_writer_decides_and_writes_as_apply_does(void)
{
	static char want[65536], got[65536];
	unsigned int covered = 0;
	uint64_t now = mxg_boot_ns(), hour = 3600ULL * 1000000000ULL, x = 12345;
	struct mxg_maps ref;
	struct mxg_bulk *b;
	int i, r1, r2, round;
	bool ok = true;

	for (round = 0; round < 2 && ok; round++) {
		if (!setup())
			return false;
		ref = m;
		mxg_maps_init(&m);
		if (maps_new()) {
			mxg_maps_close(&ref);
			return false;
		}
		/* the second round starts with an entry: the writer takes apply's path */
		if (round == 1) {
			struct mxg_cidr pre = C("198.18.3.0/24");

			mxg_denylist_apply(&ref, &pre, now + 5 * hour, MXG_REASON_MANUAL, 1, now, NULL);
			mxg_denylist_apply(&m, &pre, now + 5 * hour, MXG_REASON_MANUAL, 1, now, NULL);
		}
		b = mxg_bulk_new(&m);
		if (!ASSERT_TRUE(b != NULL, "writer"))
			return false;
		for (i = 0; i < 400 && ok; i++) {
			static const unsigned int lens[] = { 16, 20, 24, 28, 32 };
			char text[64];
			struct mxg_cidr c;
			uint64_t exp;

			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			if ((x >> 60) == 0)
				snprintf(text, sizeof(text), "2001:db8:%x::%x",
					 (unsigned int)(x >> 20) & 3, (unsigned int)(x >> 24) & 0xff);
			else
				snprintf(text, sizeof(text), "198.18.%u.%u",
					 (unsigned int)(x >> 24) & 7, (unsigned int)(x >> 32) & 255);
			if (!ASSERT_EQ(mxg_cidr_parse(text, &c), 0, text))
				return false;
			c.prefixlen = c.addr.family == 6 ? 48 + (unsigned int)(x >> 8) % 3 * 8 :
							    lens[(x >> 40) % 5];
			mxg_addr_mask(&c.addr, c.prefixlen);
			mxg_cidr_str(&c, text, sizeof(text));
			exp = (x >> 44) % 4 == 0 ? 0 : now + ((x >> 46) % 6 + 1) * hour;
			r1 = mxg_denylist_apply(&ref, &c, exp, MXG_REASON_IMPORT, 1, now, NULL);
			r2 = mxg_bulk_apply(b, &c, exp, MXG_REASON_IMPORT, now, NULL);
			ok &= ASSERT_EQ(r2, r1, text);
			covered += r1 == MXG_APPLY_COVERED;
		}
		mxg_bulk_free(b);
		want[0] = got[0] = '\0';
		mxg_deny_each(&ref, dump_one, want);
		mxg_deny_each(&m, dump_one, got);
		ok &= ASSERT_TRUE(strlen(want) > 100, "entries written");
		ok &= ASSERT_TRUE(covered > 20, "covers were found");
		ok &= ASSERT_STREQ(got, want, "the same entries");
		mxg_maps_close(&ref);
		teardown();
	}
	return ok;
}

int main(void)
{
	mxg_maps_init(&m);
	if (maps_new()) {
		printf("SKIP test_state: cannot create LPM tries (needs CAP_BPF): %s\n",
		       strerror(errno));
		printf("0 passed, 0 failed, 1 skipped\n");
		return 0;
	}
	TEST_RUN(restore_skips_a_bad_record_and_keeps_the_rest);
	TEST_RUN(restore_reports_file_and_line_of_a_bad_record);
	TEST_RUN(restore_keeps_a_copy_of_a_partly_read_state_file);
	TEST_RUN(restore_of_a_clean_file_keeps_no_copy);
	TEST_RUN(state_save_never_writes_a_control_character_in_a_note);
	TEST_RUN(restore_refuses_an_expiry_beyond_the_longest_ban);
	TEST_RUN(restore_of_an_unreadable_file_says_so_and_reads_nothing);
	TEST_RUN(apply_never_shortens_and_extends_only_its_own_entry);
	TEST_RUN(bulk_writer_decides_and_writes_as_apply_does);
	mxg_maps_close(&m);
	return test_summary();
}
