// SPDX-License-Identifier: GPL-2.0
/*
 * The bans.state reader (mxg_state_restore, user/kernel/denylist.c), through a
 * memfd since it takes a path. It writes what it reads into the deny maps,
 * so the harness makes two small private LPM tries of the real key and
 * value types (never the pinned ones) and empties them after each input.
 * Needs root (CAP_BPF); every restored entry must be a valid range.
 */
#include <errno.h>
#include <bpf/bpf.h>

#include "clock.h"
#include "fuzz.h"
#include "denylist.h"

static struct mxg_maps maps;

static int trie(size_t key_size)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	int fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "fuzz_deny", key_size,
				sizeof(struct mxg_deny), 256, &o);

	if (fd < 0) {
		fprintf(stderr, "fuzz_state: cannot create an LPM trie: %s (needs root)\n",
			strerror(errno));
		exit(1);
	}
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	mxg_maps_init(&maps);
	maps.deny_v4 = trie(sizeof(struct mxg_lpm_v4));
	maps.deny_v6 = trie(sizeof(struct mxg_lpm_v6));
	return 0;
}

/*
 * Check every entry of one trie and delete it; returns how many. A
 * restored ban was not expired when read (those are skipped), so it ends
 * after boot_before or never, and it was added no later than boot_after.
 */
static unsigned int drain(int fd, unsigned int max_len, uint64_t boot_before,
			  uint64_t boot_after)
{
	union { struct mxg_lpm_v4 v4; struct mxg_lpm_v6 v6; } key;
	struct mxg_deny v;
	unsigned int n = 0;

	while (bpf_map_get_next_key(fd, NULL, &key) == 0 && n < 1024) {
		uint32_t plen = key.v4.prefixlen;	/* first field of both */

		FUZZ_CHECK(plen <= max_len, "restored /%u", plen);
		FUZZ_CHECK(bpf_map_lookup_elem(fd, &key, &v) == 0, "lookup");
		FUZZ_CHECK(v.prefixlen == plen, "value says /%u, key /%u",
			   v.prefixlen, plen);
		FUZZ_CHECK(memchr(v.note, '\0', sizeof(v.note)), "note not terminated");
		FUZZ_CHECK(!v.expires_ns || v.expires_ns > boot_before,
			   "restored ban already expired: expires_ns %llu, now %llu",
			   (unsigned long long)v.expires_ns,
			   (unsigned long long)boot_before);
		FUZZ_CHECK(v.added_ns <= boot_after, "added_ns %llu in the future",
			   (unsigned long long)v.added_ns);
		FUZZ_CHECK(bpf_map_delete_elem(fd, &key) == 0, "delete");
		n++;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mxg_restore_stats st;
	uint64_t before, after;
	unsigned int n;
	char path[32];
	int fd, ret;

	if (size > 16384)
		return 0;
	fd = fuzz_file(data, size, path);
	/* A memfd path: the copy of a partly read file cannot be made there. */
	memset(&st, 0, sizeof(st));
	before = mxg_boot_ns();
	ret = mxg_state_restore(&maps, path, &st, NULL, NULL);
	after = mxg_boot_ns();
	close(fd);
	FUZZ_CHECK(ret <= 0, "returned %d", ret);
	n = drain(maps.deny_v4, 32, before, after);
	n += drain(maps.deny_v6, 128, before, after);
	FUZZ_CHECK(n <= st.restored, "%u entries in the maps, %u restored", n,
		   st.restored);
	return 0;
}
