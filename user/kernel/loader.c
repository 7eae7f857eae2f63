// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "atomic.h"
#include "clock.h"
#include "loader.h"
#include "log.h"
#include "mxguard.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define BPFFS_ROOT "/sys/fs/bpf"

static bool on_bpffs(const char *path)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC;
}

int mxg_pin_dir_prepare(const char *pin_dir, char *err, size_t errlen)
{
	char parent[PATH_MAX];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", pin_dir);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent) {
		snprintf(err, errlen, "pin dir %s: must be a directory below a bpf filesystem", pin_dir);
		return -EINVAL;
	}
	*slash = '\0';
	/* Mount bpffs where systemd would have, when that is the parent. */
	if (!on_bpffs(parent) && !strcmp(parent, BPFFS_ROOT) &&
	    mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700") == 0)
		mxg_info("mounted bpffs on %s", BPFFS_ROOT);
	if (!on_bpffs(parent)) {
		snprintf(err, errlen, "pin dir %s: %s is not on a bpf filesystem (mount -t bpf bpf %s)",
			 pin_dir, parent, parent);
		return -ENOTDIR;
	}
	if (mkdir(pin_dir, 0700) && errno != EEXIST) {
		int ret = -errno;

		snprintf(err, errlen, "cannot create pin dir %s: %s", pin_dir,
			 strerror(errno));
		return ret;
	}
	/*
	 * bpffs may be mounted 1777: a directory another user made there first
	 * (or can write to) lets them unlink our link pin, which detaches
	 * the program, or plant maps of their own for us to adopt.
	 */
	return mxg_dir_check_private(pin_dir, "pin dir", false, true, err, errlen);
}

int mxg_lock(const char *pin_dir)
{
	int fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int ret = errno == EWOULDBLOCK ? -EBUSY : -errno;

		close(fd);
		return ret;
	}
	return fd;
}

bool mxg_daemon_alive(const char *pin_dir)
{
	int fd = mxg_lock(pin_dir);

	if (fd >= 0) {
		close(fd);
		return false;
	}
	return fd == -EBUSY;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG && !getenv("MXG_LIBBPF_DEBUG"))
		return 0;
	/* Through the daemon's one sink, at a priority journald understands. */
	mxg_vlog(level == LIBBPF_WARN ? 4 : 6, fmt, ap);
	return 0;
}

struct mxguard_bpf *mxg_bpf_load(const char *pin_dir, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	struct mxguard_bpf *skel;
	int ret;

	libbpf_set_print(libbpf_quiet);
	skel = mxguard_bpf__open_opts(&opts);
	if (!skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the XDP object: %s", strerror(-ret));
		errno = -ret;
		return NULL;
	}
	ret = mxguard_bpf__load(skel);
	if (ret) {
		snprintf(err, errlen,
			 "cannot load the XDP program with maps pinned in %s: %s%s",
			 pin_dir, strerror(-ret),
			 ret == -EINVAL ? " (maps pinned by an incompatible mxguard version? mxguard detach removes them)" : "");
		mxguard_bpf__destroy(skel);
		errno = -ret;
		return NULL;
	}
	return skel;
}

void mxg_bpf_maps(struct mxguard_bpf *skel, struct mxg_maps *m)
{
	/* A map of the list that the program lacks does not compile. */
#define MXG_MAP_SKEL_FD(name, key_size, fill) m->name = bpf_map__fd(skel->maps.name);
	MXG_MAPS(MXG_MAP_SKEL_FD)
#undef MXG_MAP_SKEL_FD
}

int mxg_bpf_prog_fd(const struct mxguard_bpf *skel)
{
	return bpf_program__fd(skel->progs.mxguard_xdp);
}

void mxg_bpf_unload(struct mxguard_bpf *skel)
{
	mxguard_bpf__destroy(skel);
}

struct allow_sync {
	const struct mxg_maps *m;
	const struct mxg_xdp_settings *s;
	int ret;
};

static bool in_allow(const struct mxg_xdp_settings *s, const struct mxg_cidr *c)
{
	unsigned int i;

	for (i = 0; i < s->n_allow; i++)
		if (s->allow[i].prefixlen == c->prefixlen &&
		    mxg_addr_equal(&s->allow[i].addr, &c->addr))
			return true;
	return false;
}

static int drop_stale_allow(const struct mxg_cidr *c, const struct mxg_allow *v,
			    void *arg)
{
	struct allow_sync *sync = arg;
	int ret;

	if (v->source == MXG_ALLOW_CONFIG && !in_allow(sync->s, c)) {
		ret = mxg_allow_del(sync->m, c);
		if (ret && ret != -ENOENT)
			sync->ret = ret;
	}
	return 0;
}

int mxg_bpf_configure(const struct mxg_maps *m, const struct mxg_xdp_settings *s,
		      char *err, size_t errlen)
{
	struct allow_sync sync = { .m = m, .s = s };
	unsigned int i;
	int ret;

	if (s->n_ports > MXG_MAX_PORTS) {
		snprintf(err, errlen, "%u ports: the ports map holds %u", s->n_ports,
			 MXG_MAX_PORTS);
		return -E2BIG;
	}
	for (i = 0; i < s->n_ports; i++) {
		ret = mxg_port_put(m, s->port[i], &s->limit[i]);
		if (ret) {
			snprintf(err, errlen, "cannot set port %u in the ports map: %s",
				 s->port[i], strerror(-ret));
			return ret;
		}
	}
	ret = mxg_ports_prune(m, s->port, s->n_ports);
	if (ret) {
		snprintf(err, errlen, "cannot remove a port no longer protected from the ports map: %s",
			 strerror(-ret));
		return ret;
	}

	for (i = 0; i < s->n_allow; i++) {
		struct mxg_allow v = {
			.added_ns = mxg_boot_ns(),
			.source = MXG_ALLOW_CONFIG,
		};

		ret = mxg_allow_put(m, &s->allow[i], &v);
		if (ret) {
			char c[MXG_CIDR_STRLEN];

			snprintf(err, errlen, "cannot allowlist %s: %s",
				 mxg_cidr_str(&s->allow[i], c, sizeof(c)),
				 strerror(-ret));
			return ret;
		}
	}
	mxg_allow_each(m, drop_stale_allow, &sync);

	/* The switches last: ports and allowlist are in place when they apply. */
	ret = mxg_config_write(m, &s->cfg);
	if (ret) {
		snprintf(err, errlen, "cannot write the config map: %s", strerror(-ret));
		return ret;
	}
	if (sync.ret)
		snprintf(err, errlen, "cannot remove an allowlist entry the config no longer has: %s",
			 strerror(-sync.ret));
	return sync.ret;
}

static int link_pin_path(char *buf, size_t size, const char *pin_dir,
			 const char *ifname)
{
	int n = snprintf(buf, size, "%s/link_%s", pin_dir, ifname);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Adopt a pinned link on ifindex: switch it to prog_fd. 1 adopted, 0 none. */
static int link_adopt(const char *path, int ifindex, int prog_fd)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	int fd, ret;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	memset(&info, 0, sizeof(info));
	ret = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (ret || info.type != BPF_LINK_TYPE_XDP ||
	    (int)info.xdp.ifindex != ifindex ||
	    bpf_link_update(fd, prog_fd, NULL)) {
		/* A link for a vanished or renumbered interface: replace it. */
		mxg_warn("dropping stale XDP link pin %s", path);
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	return 1;
}

static const char *attached_mode(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return "unknown";
	switch (q.attach_mode) {
	case XDP_ATTACHED_DRV:
		return "native";
	case XDP_ATTACHED_SKB:
		return "generic";
	case XDP_ATTACHED_HW:
		return "offload";
	case XDP_ATTACHED_MULTI:
		return "multi";
	}
	return "none";
}

unsigned int mxg_links_list(const char *pin_dir, struct mxg_link_state *out,
			    unsigned int max)
{
	char path[PATH_MAX];
	struct dirent *de;
	unsigned int n = 0;
	DIR *d = opendir(pin_dir);

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		struct bpf_link_info info = { 0 };
		__u32 len = sizeof(info);
		int fd;

		if (strncmp(de->d_name, "link_", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		snprintf(out[n].ifname, sizeof(out[n].ifname), "%s", de->d_name + 5);
		out[n].present = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
				 info.xdp.ifindex != 0;
		out[n].mode = out[n].present ? attached_mode((int)info.xdp.ifindex) : "unknown";
		close(fd);
		n++;
	}
	closedir(d);
	return n;
}

int mxg_xdp_attach(int prog_fd, const char *ifname, const char *pin_dir,
		   int mode, const char **mode_out, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, lopts);
	char path[PATH_MAX];
	int ifindex, fd, ret;

	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		snprintf(err, errlen, "interface %s: %s", ifname, strerror(errno));
		return -ENODEV;
	}
	ret = link_pin_path(path, sizeof(path), pin_dir, ifname);
	if (ret) {
		snprintf(err, errlen, "interface %s: pin path too long", ifname);
		return ret;
	}
	ret = link_adopt(path, ifindex, prog_fd);
	if (ret < 0) {
		snprintf(err, errlen, "cannot open XDP link %s: %s", path, strerror(-ret));
		return ret;
	}
	if (ret == 1) {
		*mode_out = attached_mode(ifindex);
		return 0;
	}

	lopts.flags = mode == MXG_XDP_GENERIC ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lopts);
	if (fd < 0 && mode == MXG_XDP_AUTO && errno != EBUSY && errno != EEXIST) {
		mxg_warn("native XDP on %s failed (%s); falling back to generic mode, which is slower",
			 ifname, strerror(errno));
		lopts.flags = XDP_FLAGS_SKB_MODE;
		fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lopts);
	}
	if (fd < 0) {
		ret = -errno;
		if (ret == -EBUSY || ret == -EEXIST)
			snprintf(err, errlen,
				 "cannot attach XDP to %s: another XDP program is attached (see `ip link show %s`; remove it with `ip link set dev %s xdp off`)",
				 ifname, ifname, ifname);
		else
			snprintf(err, errlen, "cannot attach XDP to %s: %s", ifname,
				 strerror(-ret));
		return ret;
	}
	if (bpf_obj_pin(fd, path)) {
		ret = -errno;
		snprintf(err, errlen, "cannot pin XDP link as %s: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	close(fd);
	*mode_out = attached_mode(ifindex);
	return 0;
}

/* Unlink pin_dir/name; the first failure other than ENOENT goes to err. */
static void unpin(const char *pin_dir, const char *name, int *ret, char *err,
		  size_t errlen)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	if (unlink(path) && errno != ENOENT && !*ret) {
		*ret = -errno;
		snprintf(err, errlen, "cannot remove %s: %s", path, strerror(errno));
	}
}

int mxg_detach_all(const char *pin_dir, char *err, size_t errlen)
{
	struct dirent *de;
	unsigned int i;
	int ret = 0;
	DIR *d;

	d = opendir(pin_dir);
	if (!d) {
		ret = -errno;
		snprintf(err, errlen, "cannot open pin dir %s: %s", pin_dir, strerror(errno));
		return ret;
	}
	/* Links first, so the program stops filtering before its maps go. */
	while ((de = readdir(d))) {
		if (!strncmp(de->d_name, "link_", 5))
			unpin(pin_dir, de->d_name, &ret, err, errlen);
	}
	for (i = 0; i < MXG_N_MAPS; i++)
		unpin(pin_dir, mxg_map_list[i].name, &ret, err, errlen);
	/* Then what is left: maps an older mxguard pinned under other names. */
	rewinddir(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] != '.')
			unpin(pin_dir, de->d_name, &ret, err, errlen);
	}
	closedir(d);
	if (!ret && rmdir(pin_dir)) {
		ret = -errno;
		snprintf(err, errlen, "cannot remove %s: %s", pin_dir, strerror(errno));
	}
	return ret;
}

int mxg_default_iface(char *name, size_t size)
{
	char line[512], ifn[64], dst[64];
	unsigned int flags;
	FILE *f;
	int ret = -ENOENT;

	f = fopen("/proc/net/route", "re");
	if (f) {
		/* Iface Destination Gateway Flags ... ; the default route has 00000000. */
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%63s %63s %*s %x", ifn, dst, &flags) == 3 &&
			    !strcmp(dst, "00000000") && (flags & 0x1)) {
				snprintf(name, size, "%s", ifn);
				ret = 0;
				break;
			}
		}
		fclose(f);
	}
	if (ret == 0)
		return 0;
	f = fopen("/proc/net/ipv6_route", "re");
	if (!f)
		return ret;
	/* dst dstlen src srclen nexthop metric refcnt use flags iface */
	while (fgets(line, sizeof(line), f)) {
		char d6[40], plen[4];

		if (sscanf(line, "%39s %3s %*s %*s %*s %*s %*s %*s %*s %63s",
			   d6, plen, ifn) == 3 &&
		    !strcmp(d6, "00000000000000000000000000000000") &&
		    !strcmp(plen, "00") && strcmp(ifn, "lo")) {
			snprintf(name, size, "%s", ifn);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}
