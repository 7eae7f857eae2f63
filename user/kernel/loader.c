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
#include <xdp/libxdp.h>

#include "atomic.h"
#include "clock.h"
#include "loader.h"
#include "log.h"
#include "mxguard.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define BPFFS_ROOT "/sys/fs/bpf"

/* The program's name in the kernel, as xdp-loader and bpftool show it. */
#define MXG_PROG_NAME "mxguard_xdp"

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

static int libxdp_quiet(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBXDP_DEBUG && !getenv("MXG_LIBBPF_DEBUG"))
		return 0;
	mxg_vlog(level == LIBXDP_WARN ? 4 : 6, fmt, ap);
	return 0;
}

static int libbpf_silent(enum libbpf_print_level level, const char *fmt,
			 va_list ap)
{
	return 0;
}

/* The id of the map pinned as pin_dir/stats: it tells our program apart. */
static __u32 our_map_id(const char *pin_dir)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/stats", pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

/* Is prog_id an mxguard program working on the map map_id (ours)? */
static bool prog_is_ours(__u32 prog_id, __u32 map_id)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), ids[64], i;
	bool ours = false;
	int fd;

	if (!prog_id || !map_id)
		return false;
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return false;
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    !strcmp(info.name, MXG_PROG_NAME)) {
		for (i = 0; i < info.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++)
			if (ids[i] == map_id)
				ours = true;
	}
	close(fd);
	return ours;
}

/*
 * Can this kernel run libxdp's dispatcher? The dispatcher holds each of
 * its programs as an freplace (BPF_PROG_TYPE_EXT) extension of itself, so
 * probe exactly that: load a second copy of our program as an extension
 * of the loaded one. Kernels built without trampolines, or that refuse
 * them (README: Sharing the interface), fail here. Asked once a run.
 */
static int dispatcher_ok = -1;
static char dispatcher_why[128];

static bool dispatcher_supported(int prog_fd, const char *pin_dir)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	libbpf_print_fn_t old;
	struct mxguard_bpf *p;
	int ret;

	if (getenv("LIBXDP_SKIP_DISPATCHER")) {
		snprintf(dispatcher_why, sizeof(dispatcher_why),
			 "LIBXDP_SKIP_DISPATCHER is set");
		return false;
	}
	if (dispatcher_ok >= 0)
		return dispatcher_ok;
	/* A refusal is the answer here, not a warning. */
	old = libbpf_set_print(libbpf_silent);
	p = mxguard_bpf__open_opts(&opts);
	if (!p) {
		ret = -errno;
	} else {
		bpf_program__set_type(p->progs.mxguard_xdp, BPF_PROG_TYPE_EXT);
		bpf_program__set_expected_attach_type(p->progs.mxguard_xdp, 0);
		ret = bpf_program__set_attach_target(p->progs.mxguard_xdp,
						     prog_fd, MXG_PROG_NAME);
		if (!ret)
			ret = mxguard_bpf__load(p);
		mxguard_bpf__destroy(p);
	}
	libbpf_set_print(old);
	dispatcher_ok = ret == 0;
	if (ret)
		snprintf(dispatcher_why, sizeof(dispatcher_why),
			 "the kernel refuses freplace programs: %s", strerror(-ret));
	return dispatcher_ok;
}

/* Is prog_id attached to ifindex through a BPF link (and not by netlink)? */
static bool held_by_link(int ifindex, __u32 prog_id)
{
	__u32 id = 0;
	bool held = false;

	while (!held && !bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		held = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
		       info.type == BPF_LINK_TYPE_XDP &&
		       (int)info.xdp.ifindex == ifindex && info.prog_id == prog_id;
		close(fd);
	}
	return held;
}

/*
 * Our program in libxdp's dispatcher on ifindex, or, in libxdp's terms,
 * a "legacy" attachment of ours that libxdp made by netlink, without a
 * dispatcher (where its dispatcher failed after our probe said yes). Returns its
 * id (0 when none) and whether it sits in a dispatcher, with its priority
 * how many other programs share the interface, and how many of
 * those run before it (and so may end the chain before it sees a packet).
 */
static __u32 find_in_dispatcher(int ifindex, __u32 map_id, bool *in_disp,
				unsigned int *prio, unsigned int *others,
				unsigned int *ahead)
{
	struct xdp_program *xp = NULL;
	struct xdp_multiprog *mp;
	__u32 id = 0;

	*in_disp = false;
	*prio = 0;
	*others = 0;
	*ahead = 0;
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp) || !mp)
		return 0;
	if (xdp_multiprog__is_legacy(mp)) {
		/* Not one held by a link: that is ours (pinned) or foreign. */
		xp = xdp_multiprog__main_prog(mp);
		if (prog_is_ours(xdp_program__id(xp), map_id) &&
		    !held_by_link(ifindex, xdp_program__id(xp)))
			id = xdp_program__id(xp);
	} else {
		while ((xp = xdp_multiprog__next_prog(xp, mp))) {
			if (!id && prog_is_ours(xdp_program__id(xp), map_id)) {
				id = xdp_program__id(xp);
				*prio = xdp_program__run_prio(xp);
				*in_disp = true;
			} else {
				/* libxdp lists them in the order they run. */
				(*others)++;
				if (!id)
					(*ahead)++;
			}
		}
	}
	xdp_multiprog__close(mp);
	return id;
}

unsigned int mxg_links_list(const char *pin_dir, struct mxg_link_state *out,
			    unsigned int max)
{
	char path[PATH_MAX];
	struct if_nameindex *ifs, *it;
	struct dirent *de;
	unsigned int n = 0, i;
	__u32 map_id;
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
		memset(&out[n], 0, sizeof(out[n]));
		snprintf(out[n].ifname, sizeof(out[n].ifname), "%s", de->d_name + 5);
		out[n].present = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
				 info.xdp.ifindex != 0;
		out[n].mode = out[n].present ? attached_mode((int)info.xdp.ifindex) : "unknown";
		out[n].via = "link";
		close(fd);
		n++;
	}
	closedir(d);

	/* Then the interfaces where libxdp holds our program (quietly). */
	libxdp_set_print(NULL);
	map_id = our_map_id(pin_dir);
	ifs = map_id ? if_nameindex() : NULL;
	for (it = ifs; it && it->if_index && n < max; it++) {
		bool in_disp;
		unsigned int prio, others, ahead;

		for (i = 0; i < n; i++)
			if (!strcmp(out[i].ifname, it->if_name))
				break;
		if (i < n || !find_in_dispatcher((int)it->if_index, map_id,
						 &in_disp, &prio, &others,
						 &ahead))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		snprintf(out[n].ifname, sizeof(out[n].ifname), "%s", it->if_name);
		out[n].present = true;
		out[n].mode = attached_mode((int)it->if_index);
		out[n].via = in_disp ? "dispatcher" : "libxdp";
		out[n].prio = prio;
		out[n].others = others;
		out[n].ahead = ahead;
		n++;
	}
	if (ifs)
		if_freenameindex(ifs);
	return n;
}

/* "xdp-filter's xdpfilt_alw_all (id 12)": what holds ifindex's hook now. */
static void describe_holder(int ifindex, char *buf, size_t size)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), id;
	int fd;

	snprintf(buf, size, "another XDP program");
	if (bpf_xdp_query(ifindex, 0, &q))
		return;
	id = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	fd = id ? bpf_prog_get_fd_by_id(id) : -1;
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		snprintf(buf, size, "the XDP program %s (id %u)",
			 info.name[0] ? info.name : "(no name)", id);
	close(fd);
}

/*
 * Attach a fresh copy of our program (its maps the pinned ones) through
 * libxdp, which puts it into the interface's dispatcher, making one when
 * there is none. The dispatcher and its links are pinned by libxdp under
 * /sys/fs/bpf/xdp, so they outlive us.
 */
static int dispatcher_attach(const char *pin_dir, int ifindex,
			     const char *ifname, int mode, char *err,
			     size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts, .prog_name = MXG_PROG_NAME);
	struct xdp_program *xp;
	struct mxguard_bpf *p;
	enum xdp_attach_mode xmode;
	char holder[96];
	int ret;

	p = mxguard_bpf__open_opts(&opts);
	if (!p) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the XDP object: %s", strerror(-ret));
		return ret;
	}
	xopts.obj = p->obj;
	xp = xdp_program__create(&xopts);
	if (!xp) {
		ret = -errno;
		snprintf(err, errlen, "libxdp cannot take the program: %s",
			 strerror(-ret));
		mxguard_bpf__destroy(p);
		return ret;
	}
	xmode = mode == MXG_XDP_GENERIC ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	ret = xdp_program__attach(xp, ifindex, xmode, 0);
	if (ret && mode == MXG_XDP_AUTO && ret != -EBUSY && ret != -EEXIST) {
		mxg_warn("native XDP on %s failed (%s); falling back to generic mode, which is slower",
			 ifname, strerror(-ret));
		/* A failed load leaves the object unusable: start afresh. */
		xdp_program__close(xp);
		mxguard_bpf__destroy(p);
		return dispatcher_attach(pin_dir, ifindex, ifname,
					 MXG_XDP_GENERIC, err, errlen);
	}
	if (ret) {
		describe_holder(ifindex, holder, sizeof(holder));
		if (ret == -EBUSY || ret == -EEXIST)
			snprintf(err, errlen,
				 "cannot attach XDP to %s: %s holds it outside a libxdp dispatcher, or in another mode (see `xdp-loader status %s`)",
				 ifname, holder, ifname);
		else
			snprintf(err, errlen, "cannot attach XDP to %s through libxdp: %s",
				 ifname, strerror(-ret));
	}
	xdp_program__close(xp);
	mxguard_bpf__destroy(p);
	return ret;
}

/*
 * Adopt our program found in the dispatcher on ifindex: keep it when it
 * is the same code as ours, else put ours in first and then take the old
 * one out, so the interface is never unprotected (for that moment both
 * run, on the same maps).
 */
static int dispatcher_adopt(int prog_fd, const char *pin_dir, int ifindex,
			    const char *ifname, __u32 old_id, int mode,
			    char *err, size_t errlen)
{
	struct bpf_prog_info a = { 0 }, b = { 0 };
	__u32 la = sizeof(a), lb = sizeof(b);
	struct xdp_program *old;
	int fd, ret;

	fd = bpf_prog_get_fd_by_id(old_id);
	if (fd < 0)
		return -errno;
	ret = bpf_obj_get_info_by_fd(fd, &a, &la);
	close(fd);
	if (!ret && !bpf_obj_get_info_by_fd(prog_fd, &b, &lb) &&
	    !memcmp(a.tag, b.tag, sizeof(a.tag))) {
		mxg_info("adopted mxguard's program (id %u) in the XDP dispatcher on %s",
			 old_id, ifname);
		return 0;
	}
	ret = dispatcher_attach(pin_dir, ifindex, ifname, mode, err, errlen);
	if (ret)
		return ret;
	old = xdp_program__from_id(old_id);
	if (libxdp_get_error(old) || !old)
		return 0;
	ret = xdp_program__detach(old, ifindex, XDP_MODE_UNSPEC, 0);
	if (ret)
		mxg_warn("the earlier mxguard program (id %u) is still in the dispatcher on %s: %s",
			 old_id, ifname, strerror(-ret));
	else
		mxg_info("replaced mxguard's program (id %u) in the XDP dispatcher on %s",
			 old_id, ifname);
	xdp_program__close(old);
	return 0;
}

static int link_attach(int prog_fd, int ifindex, const char *ifname,
		       const char *path, int mode, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, lopts);
	char holder[96];
	int fd, ret;

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
		if (ret == -EBUSY || ret == -EEXIST) {
			describe_holder(ifindex, holder, sizeof(holder));
			snprintf(err, errlen,
				 "cannot attach XDP to %s: %s holds it, and libxdp's dispatcher that would share it cannot run here (%s); see `xdp-loader status %s`",
				 ifname, holder, dispatcher_why, ifname);
		} else {
			snprintf(err, errlen, "cannot attach XDP to %s: %s", ifname,
				 strerror(-ret));
		}
		return ret;
	}
	if (bpf_obj_pin(fd, path)) {
		ret = -errno;
		snprintf(err, errlen, "cannot pin XDP link as %s: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	close(fd);
	return 0;
}

int mxg_xdp_attach(int prog_fd, const char *ifname, const char *pin_dir,
		   int mode, const char **mode_out, char *err, size_t errlen)
{
	char path[PATH_MAX];
	unsigned int prio, others, ahead;
	bool in_disp;
	__u32 id;
	int ifindex, ret;

	libxdp_set_print(libxdp_quiet);
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
	/* Ours already there: a link of ours, or our program under libxdp. */
	ret = link_adopt(path, ifindex, prog_fd);
	if (ret < 0) {
		snprintf(err, errlen, "cannot open XDP link %s: %s", path, strerror(-ret));
		return ret;
	}
	if (ret == 1) {
		*mode_out = attached_mode(ifindex);
		return 0;
	}
	id = find_in_dispatcher(ifindex, our_map_id(pin_dir), &in_disp, &prio,
				&others, &ahead);
	if (id && !in_disp) {
		/* Attached by libxdp without a dispatcher: it keeps filtering. */
		mxg_info("adopted mxguard's program (id %u) attached alone to %s",
			 id, ifname);
		*mode_out = attached_mode(ifindex);
		return 0;
	}
	if (id) {
		ret = dispatcher_adopt(prog_fd, pin_dir, ifindex, ifname, id,
				       mode, err, errlen);
	} else if (dispatcher_supported(prog_fd, pin_dir)) {
		ret = dispatcher_attach(pin_dir, ifindex, ifname, mode, err,
					errlen);
	} else {
		static bool told;

		if (!told)
			mxg_info("libxdp's dispatcher cannot run here (%s): mxguard holds the XDP hook alone, through a pinned link",
				 dispatcher_why);
		told = true;
		ret = link_attach(prog_fd, ifindex, ifname, path, mode, err,
				  errlen);
	}
	if (ret)
		return ret;
	if (find_in_dispatcher(ifindex, our_map_id(pin_dir), &in_disp, &prio,
			       &others, &ahead) && ahead)
		mxg_warn("%u program%s in the XDP dispatcher on %s run%s before mxguard and can end the chain before it sees a packet (xdp-loader status %s)",
			 ahead, ahead == 1 ? "" : "s", ifname,
			 ahead == 1 ? "s" : "", ifname);
	*mode_out = attached_mode(ifindex);
	return 0;
}

/*
 * Take our program off every interface where libxdp holds it; one that
 * libxdp attached alone only when alone is true (no link of ours was just
 * unpinned: a link's program stays attached for a moment after its pin
 * goes, and netlink must not be asked to remove it).
 */
static void dispatcher_detach_all(const char *pin_dir, bool alone, int *ret,
				  char *err, size_t errlen)
{
	struct if_nameindex *ifs, *it;
	__u32 map_id = our_map_id(pin_dir);

	ifs = map_id ? if_nameindex() : NULL;
	for (it = ifs; it && it->if_index; it++) {
		struct xdp_multiprog *mp;
		struct xdp_program *xp;
		unsigned int prio, others, ahead;
		bool in_disp;
		__u32 id;
		int r;

		id = find_in_dispatcher((int)it->if_index, map_id, &in_disp,
					&prio, &others, &ahead);
		if (!id || (!in_disp && !alone))
			continue;
		if (in_disp) {
			xp = xdp_program__from_id(id);
			r = libxdp_get_error(xp) ? (int)libxdp_get_error(xp) :
			    xdp_program__detach(xp, (int)it->if_index,
						XDP_MODE_UNSPEC, 0);
			if (!libxdp_get_error(xp))
				xdp_program__close(xp);
		} else {
			mp = xdp_multiprog__get_from_ifindex((int)it->if_index);
			r = libxdp_get_error(mp) ? (int)libxdp_get_error(mp) :
			    xdp_multiprog__detach(mp);
			if (!libxdp_get_error(mp))
				xdp_multiprog__close(mp);
		}
		if (r && !*ret) {
			*ret = r;
			snprintf(err, errlen, "cannot take mxguard off %s: %s",
				 it->if_name, strerror(-r));
		}
	}
	if (ifs)
		if_freenameindex(ifs);
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
	bool links = false;
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
	/*
	 * Links first, so the program stops filtering before its maps go.
	 * Then our program where libxdp holds it (only it leaves a shared
	 * dispatcher); after the links, so that libxdp does not take a
	 * program attached through our own link for one of its own.
	 */
	while ((de = readdir(d))) {
		if (!strncmp(de->d_name, "link_", 5)) {
			unpin(pin_dir, de->d_name, &ret, err, errlen);
			links = true;
		}
	}
	libxdp_set_print(libxdp_quiet);
	dispatcher_detach_all(pin_dir, !links, &ret, err, errlen);
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
