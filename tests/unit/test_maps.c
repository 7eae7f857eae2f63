// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel layer's one list of maps (MXG_MAPS in user/kernel/maps.h)
 * against the compiled program, and what is made from it: the pins a
 * load leaves, opening them, the config writes, and detach. The list check
 * needs no privilege; the rest loads the program with its maps pinned in a
 * directory of its own under /sys/fs/bpf (root), removed even on failure.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "loader.h"
#include "maps.h"
#include "mxguard.skel.h"
#include "test.h"

static char pin_dir[64];
static struct mxguard_bpf *skel;

static void rm_pin_dir(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (skel)
		mxg_bpf_unload(skel);
	skel = NULL;
	if (!pin_dir[0])
		return;
	d = opendir(pin_dir);
	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(pin_dir);
}

static void on_signal(int sig)
{
	rm_pin_dir();
	_exit(128 + sig);
}

/* Load the program with its maps pinned under a fresh pin_dir. */
static bool load(void)
{
	char err[512];

	rm_pin_dir();
	if (mxg_pin_dir_prepare(pin_dir, err, sizeof(err))) {
		fprintf(stderr, "  %s\n", err);
		return false;
	}
	skel = mxg_bpf_load(pin_dir, err, sizeof(err));
	if (!skel) {
		fprintf(stderr, "  %s\n", err);
		return false;
	}
	return true;
}

static struct mxg_cidr C(const char *s)
{
	struct mxg_cidr c;

	if (mxg_cidr_parse(s, &c))
		abort();
	return c;
}

static bool every_map_of_the_program_is_in_the_map_list_with_its_key_size(void)
{
	struct mxguard_bpf *o = mxguard_bpf__open();
	const struct bpf_map *map;
	unsigned int i, n = 0;
	bool ok = true;

	if (!ASSERT_TRUE(o != NULL, "open the skeleton"))
		return false;
	bpf_object__for_each_map(map, o->obj) {
		if (bpf_map__is_internal(map))
			continue;	/* .rodata and friends are not pinned */
		n++;
		for (i = 0; i < MXG_N_MAPS; i++)
			if (!strcmp(mxg_map_list[i].name, bpf_map__name(map)))
				break;
		if (!ASSERT_TRUE(i < MXG_N_MAPS, bpf_map__name(map))) {
			ok = false;
			continue;
		}
		ok &= ASSERT_EQ(bpf_map__key_size(map), mxg_map_list[i].key_size,
				bpf_map__name(map));
	}
	ok &= ASSERT_EQ(n, MXG_N_MAPS, "maps in the program and in the list");
	mxguard_bpf__destroy(o);
	return ok;
}

static bool load_pins_every_listed_map_and_open_adopts_them(void)
{
	char path[PATH_MAX], err[512];
	struct mxg_maps m;
	unsigned int i;
	bool ok = true;

	if (!load())
		return false;
	for (i = 0; i < MXG_N_MAPS; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, mxg_map_list[i].name);
		ok &= ASSERT_EQ(access(path, F_OK), 0, path);
	}
	ok &= ASSERT_TRUE(mxg_maps_pinned(pin_dir), "mxg_maps_pinned");
	ok &= ASSERT_EQ(mxg_maps_open(&m, pin_dir, err, sizeof(err)), 0, err);
	for (i = 0; ok && i < MXG_N_MAPS; i++)
		ok &= ASSERT_TRUE(mxg_map_fd_of(&m, i) >= 0, mxg_map_list[i].name);
	if (ok)
		mxg_maps_close(&m);
	rm_pin_dir();
	return ok;
}

static bool open_without_one_pin_fails_and_names_it(void)
{
	char path[PATH_MAX], err[512] = "";
	struct mxg_maps m;
	bool ok = true;

	if (!load())
		return false;
	snprintf(path, sizeof(path), "%s/rate_v6", pin_dir);
	unlink(path);
	ok &= ASSERT_TRUE(!mxg_maps_pinned(pin_dir), "mxg_maps_pinned with one missing");
	ok &= ASSERT_EQ(mxg_maps_open(&m, pin_dir, err, sizeof(err)), -ENOENT, "open");
	ok &= ASSERT_TRUE(strstr(err, path) != NULL, err);
	rm_pin_dir();
	return ok;
}

static bool has_allow(const struct mxg_maps *m, const char *cidr, uint8_t source)
{
	struct mxg_cidr c = C(cidr);
	struct mxg_lpm_v4 k;
	struct mxg_allow v;

	/* An exact lookup: a trie lookup with the full key answers for that key. */
	k.prefixlen = c.prefixlen;
	memcpy(k.addr, c.addr.a, 4);
	if (bpf_map_lookup_elem(m->allow_v4, &k, &v))
		return false;
	return v.source == source;
}

static bool configure_prunes_ports_and_their_index_and_config_allow_entries_and_keeps_manual_ones(void)
{
	struct mxg_cidr allow[2] = { C("198.18.1.0/24"), C("198.18.2.0/24") };
	struct mxg_xdp_settings s = {
		.cfg = { .flags = MXG_F_MONITOR, .prefix_v4 = 24, .prefix_v6 = 64 },
		.n_ports = 2, .port = { 25, 587 },
		.limit = { { .rate = 50, .burst = 500 }, { .rate = 5, .burst = 50 } },
		.n_allow = 2, .allow = allow,
	};
	struct mxg_allow manual = { .source = MXG_ALLOW_MANUAL };
	struct mxg_port_limit lim;
	struct mxg_config cfg;
	struct mxg_maps m;
	struct mxg_cidr mc = C("198.18.3.0/24");
	char err[512] = "";
	__u16 port;
	__u32 key;
	bool ok = true;

	if (!load())
		return false;
	mxg_bpf_maps(skel, &m);
	ok &= ASSERT_EQ(mxg_bpf_configure(&m, &s, err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(mxg_allow_put(&m, &mc, &manual), 0, "manual allow");
	/* The next config: port 587 and the second range are gone. */
	s.cfg.flags = MXG_F_DENY_ALL;
	s.cfg.prefix_v4 = 22;
	s.n_ports = 1;
	s.n_allow = 1;
	ok &= ASSERT_EQ(mxg_bpf_configure(&m, &s, err, sizeof(err)), 0, err);

	ok &= ASSERT_EQ(mxg_config_read(&m, &cfg), 0, "config read");
	ok &= ASSERT_EQ(cfg.flags, MXG_F_DENY_ALL, "flags") &&
	      ASSERT_EQ(cfg.prefix_v4, 22, "prefix_v4") && ASSERT_EQ(cfg.prefix_v6, 64, "prefix_v6");
	port = 25;
	ok &= ASSERT_EQ(bpf_map_lookup_elem(m.ports, &port, &lim), 0, "port 25 kept") &&
	      ASSERT_EQ(lim.rate, 50, "25 rate") && ASSERT_EQ(lim.burst, 500, "25 burst");
	port = 587;
	ok &= ASSERT_TRUE(bpf_map_lookup_elem(m.ports, &port, &lim) && errno == ENOENT,
			  "port 587 removed");
	/* What the program reads: the index follows ports both ways. */
	key = 25;
	ok &= ASSERT_EQ(bpf_map_lookup_elem(m.port_index, &key, &lim), 0, "index of 25") &&
	      ASSERT_EQ(lim.rate, 50, "index 25 rate") && ASSERT_EQ(lim.burst, 500, "index 25 burst");
	key = 587;
	ok &= ASSERT_EQ(bpf_map_lookup_elem(m.port_index, &key, &lim), 0, "index of 587") &&
	      ASSERT_EQ(lim.rate, 0, "587 no longer protected in the index");
	/* An index entry an older run left without a ports entry is cleared too. */
	key = 2525;
	lim.rate = 9;
	lim.burst = 9;
	ok &= ASSERT_EQ(bpf_map_update_elem(m.port_index, &key, &lim, BPF_ANY), 0, "stray index entry");
	ok &= ASSERT_EQ(mxg_bpf_configure(&m, &s, err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(bpf_map_lookup_elem(m.port_index, &key, &lim), 0, "index of 2525") &&
	      ASSERT_EQ(lim.rate, 0, "stray index entry cleared");
	ok &= ASSERT_TRUE(has_allow(&m, "198.18.1.0/24", MXG_ALLOW_CONFIG), "config allow kept");
	ok &= ASSERT_TRUE(!has_allow(&m, "198.18.2.0/24", MXG_ALLOW_CONFIG), "old config allow removed");
	ok &= ASSERT_TRUE(has_allow(&m, "198.18.3.0/24", MXG_ALLOW_MANUAL), "manual allow kept");
	rm_pin_dir();
	return ok;
}

static bool detach_removes_links_listed_maps_and_older_pins_then_the_dir(void)
{
	char path[PATH_MAX], err[512] = "";
	int fd;
	bool ok = true;

	if (!load())
		return false;
	/* A map an older mxguard pinned under a name the list no longer has. */
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_old", 4, 4, 1, NULL);
	snprintf(path, sizeof(path), "%s/old_map", pin_dir);
	ok &= ASSERT_TRUE(fd >= 0 && !bpf_obj_pin(fd, path), "pin an old map");
	if (fd >= 0)
		close(fd);
	ok &= ASSERT_EQ(mxg_detach_all(pin_dir, err, sizeof(err)), 0, err);
	ok &= ASSERT_TRUE(access(pin_dir, F_OK) && errno == ENOENT, "pin dir removed");
	rm_pin_dir();
	return ok;
}

int main(void)
{
	char err[512];

	TEST_RUN(every_map_of_the_program_is_in_the_map_list_with_its_key_size);

	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/mxg-tmaps-%d", (int)getpid());
	if (geteuid() || mxg_pin_dir_prepare(pin_dir, err, sizeof(err))) {
		printf("SKIP test_maps (pinned maps): needs root and a bpf filesystem\n");
		pin_dir[0] = '\0';
		test_skipped++;
		return test_summary();
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	TEST_RUN(load_pins_every_listed_map_and_open_adopts_them);
	TEST_RUN(open_without_one_pin_fails_and_names_it);
	TEST_RUN(configure_prunes_ports_and_their_index_and_config_allow_entries_and_keeps_manual_ones);
	TEST_RUN(detach_removes_links_listed_maps_and_older_pins_then_the_dir);
	rm_pin_dir();
	return test_summary();
}
