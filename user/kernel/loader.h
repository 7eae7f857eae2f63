/* SPDX-License-Identifier: GPL-2.0 */
/* Loading, pinning, attaching and detaching the XDP program. */
#ifndef MXG_LOADER_H
#define MXG_LOADER_H

#include <net/if.h>
#include <stdbool.h>

#include "maps.h"

enum mxg_xdp_mode {
	MXG_XDP_AUTO = 0,	/* native, generic with a warning if that fails */
	MXG_XDP_NATIVE,
	MXG_XDP_GENERIC,
};

struct mxguard_bpf;

/*
 * Make sure pin_dir exists on a bpf filesystem, mounting bpffs on
 * /sys/fs/bpf when it is not mounted.
 */
int mxg_pin_dir_prepare(const char *pin_dir, char *err, size_t errlen);

/*
 * Take the daemon lock for pin_dir (a flock on the directory). Returns the
 * fd holding it, -EBUSY when another daemon holds it.
 */
int mxg_lock(const char *pin_dir);

/* Is a daemon holding the lock of pin_dir? */
bool mxg_daemon_alive(const char *pin_dir);

/*
 * Open and load the program with its maps pinned under pin_dir; maps already
 * pinned there are adopted with their contents.
 */
struct mxguard_bpf *mxg_bpf_load(const char *pin_dir, char *err, size_t errlen);

/* The XDP program's fd, to attach it. */
int mxg_bpf_prog_fd(const struct mxguard_bpf *skel);

/* Close the program and the maps (their pins, and so the filtering, stay). */
void mxg_bpf_unload(struct mxguard_bpf *skel);

/* Fill mxg_maps from the loaded skeleton (fds stay owned by it). */
void mxg_bpf_maps(struct mxguard_bpf *skel, struct mxg_maps *m);

/* What the config puts into the maps (the daemon makes it from its options). */
struct mxg_xdp_settings {
	struct mxg_config cfg;		/* switches, rate-key prefix lengths */
	unsigned int n_ports;
	uint16_t port[MXG_MAX_PORTS];
	struct mxg_port_limit limit[MXG_MAX_PORTS];
	unsigned int n_allow;
	const struct mxg_cidr *allow;	/* the config's allowlist */
};

/*
 * Write the switches, ports and the config allowlist into the maps. Ports
 * not in s are removed; allowlist entries from an older config are
 * replaced, manual ones kept. Nothing else is touched: bans and buckets
 * survive.
 */
int mxg_bpf_configure(const struct mxg_maps *m, const struct mxg_xdp_settings *s,
		      char *err, size_t errlen);

/*
 * Attach to ifname. Where the kernel runs libxdp's dispatcher, a fresh
 * copy of the program (on the pinned maps) joins the interface's
 * dispatcher at its run priority; elsewhere prog_fd is attached through a
 * BPF link pinned as pin_dir/link_IFNAME, and the interface is ours alone.
 * What a previous run attached is adopted: a pinned link is switched to
 * prog_fd atomically, our program in a dispatcher is kept (or replaced,
 * new before old, when its code differs), so no packet goes unfiltered.
 * mode_out gets "native" or "generic".
 */
int mxg_xdp_attach(int prog_fd, const char *ifname, const char *pin_dir,
		   int mode, const char **mode_out, char *err, size_t errlen);

/* An interface the program is attached to. */
struct mxg_link_state {
	char ifname[IF_NAMESIZE];
	const char *mode;	/* "native", "generic", ... or "unknown" */
	const char *via;	/* "link" (ours alone), "dispatcher" (libxdp's,
				 * shared) or "libxdp" (libxdp, alone) */
	unsigned int prio;	/* run priority in the dispatcher */
	unsigned int others;	/* other programs in that dispatcher */
	unsigned int ahead;	/* of those, how many run before ours */
	bool present;		/* its interface still exists */
};

/*
 * The links pinned under pin_dir and the interfaces where libxdp holds
 * the program, at most max; returns how many.
 */
unsigned int mxg_links_list(const char *pin_dir, struct mxg_link_state *out,
			    unsigned int max);

/*
 * Take the program off every interface (out of libxdp's dispatchers, the
 * other programs there stay), remove every link and map pinned under
 * pin_dir, then the directory.
 */
int mxg_detach_all(const char *pin_dir, char *err, size_t errlen);

/* The interface of the IPv4 (else IPv6) default route; -ENOENT if none. */
int mxg_default_iface(char *name, size_t size);

#endif
