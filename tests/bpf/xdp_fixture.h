/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by tests/bpf/test_xdp.c and tests/bpf/bench_xdp.c: load the XDP
 * skeleton with its maps pinned in a private bpffs directory, write the
 * config and ports maps as the daemon would, craft packets, run them through
 * BPF_PROG_TEST_RUN and sum the per-CPU statistics.
 *
 * Everything is static inline so each program includes it once and no
 * object file is shared between a test and a benchmark.
 */
#ifndef MXG_TESTS_XDP_FIXTURE_H
#define MXG_TESTS_XDP_FIXTURE_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mxguard.h"
#include "mxguard.skel.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

/* TCP flag bits in byte 13 of the header. */
#define TF_FIN 0x01
#define TF_SYN 0x02
#define TF_RST 0x04
#define TF_ACK 0x10

/* Where to cut a crafted frame: inside the named header. */
enum cut {
	CUT_NONE = 0,
	CUT_ETH,	/* inside the Ethernet header */
	CUT_VLAN,	/* inside the first VLAN tag */
	CUT_IP,		/* inside the fixed IPv4/IPv6 header */
	CUT_IPOPT,	/* inside the IPv4 options (needs ihl > 5) */
	CUT_V6EXT,	/* one byte into the first IPv6 extension header */
	CUT_V6EXT_BODY,	/* inside the body of the IPv6 destination options header */
	CUT_TCP,	/* inside the TCP header */
};

/* A frame to craft; zero fields take the usual values. */
struct pkt_spec {
	int family;		/* 4, 6; 0 = ARP request */
	const char *src;	/* source address */
	int vlan;		/* 0 none, 1 = 802.1Q, 2 = 802.1ad outer + 802.1Q inner */
	int proto;		/* 0 = IPPROTO_TCP, or IPPROTO_UDP, IPPROTO_ICMP */
	uint16_t dport;
	uint8_t tcp_flags;	/* TF_* */
	int ihl;		/* IPv4 header length in words; 0 = 5 */
	bool v6_ext_chain;	/* hop-by-hop + routing + dest opts + fragment(first) */
	bool v6_frag;		/* a bare IPv6 fragment header with frag_off below */
	uint16_t frag;		/* v4: frag_off (flags | offset), v6: offset << 3 | M */
	int l4_len;		/* bytes of the layer-4 header carried, lengths to match: 0 all, -1 none */
	uint8_t pad;		/* zero bytes after the packet, outside its IP length (Ethernet padding) */
	enum cut cut;
};

#define PKT_MAX 512

struct frame {
	uint8_t d[PKT_MAX];
	uint32_t len;
};

static inline void put(struct frame *f, const void *p, size_t n)
{
	memcpy(f->d + f->len, p, n);
	f->len += n;
}

/* Build the frame described by s; returns 0 or -EINVAL (bad address or cut). */
static inline int pkt_build(const struct pkt_spec *s, struct frame *f)
{
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	uint32_t off_vlan = 0, off_ip, off_ext = 0, off_dst_body = 0, off_l4;
	int proto = s->proto ? s->proto : IPPROTO_TCP;
	uint16_t inner = s->family == 6 ? ETH_P_IPV6 :
			 s->family == 4 ? ETH_P_IP : ETH_P_ARP;
	struct ethhdr eth;
	uint16_t tag[2];
	uint8_t l4[20];
	uint32_t l4_len;

	memset(f, 0, sizeof(*f));
	memcpy(eth.h_dest, dmac, 6);
	memcpy(eth.h_source, smac, 6);
	eth.h_proto = htons(s->vlan == 2 ? ETH_P_8021AD :
			    s->vlan == 1 ? ETH_P_8021Q : inner);
	put(f, &eth, sizeof(eth));
	if (s->vlan) {
		off_vlan = f->len;
		tag[0] = htons(100);
		tag[1] = htons(s->vlan == 2 ? ETH_P_8021Q : inner);
		put(f, tag, sizeof(tag));
	}
	if (s->vlan == 2) {
		tag[0] = htons(200);
		tag[1] = htons(inner);
		put(f, tag, sizeof(tag));
	}
	off_ip = f->len;

	if (!s->family) {
		/* ARP request for 198.18.0.1 from 198.18.0.2. */
		static const uint8_t arp[28] = {
			0, 1, 8, 0, 6, 4, 0, 1,
			0x02, 0, 0, 0, 0, 0x02, 198, 18, 0, 2,
			0, 0, 0, 0, 0, 0, 198, 18, 0, 1,
		};
		put(f, arp, sizeof(arp));
		return 0;
	}

	/* The layer-4 header, written as payload even in a non-first fragment. */
	memset(l4, 0, sizeof(l4));
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = (struct tcphdr *)l4;

		th->source = htons(40000);
		th->dest = htons(s->dport);
		th->seq = htonl(1);
		th->doff = 5;
		l4[13] = s->tcp_flags;
		th->window = htons(64240);
		l4_len = sizeof(*th);
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *uh = (struct udphdr *)l4;

		uh->source = htons(40000);
		uh->dest = htons(s->dport);
		uh->len = htons(8);
		l4_len = 8;
	} else {
		l4[0] = s->family == 6 ? 128 : 8;	/* echo request */
		l4_len = 8;
	}
	/* A fragment may carry only the start of the header (RFC 1858 tiny fragments). */
	if (s->l4_len < 0)
		l4_len = 0;
	else if (s->l4_len && (uint32_t)s->l4_len < l4_len)
		l4_len = s->l4_len;

	if (s->family == 4) {
		struct iphdr ip = {};
		int ihl = s->ihl ? s->ihl : 5;
		int opt_words = ihl > 5 ? ihl - 5 : 0;
		uint8_t opts[40];

		ip.version = 4;
		ip.ihl = ihl;
		ip.tot_len = htons(20 + opt_words * 4 + l4_len);
		ip.id = htons(1);
		ip.frag_off = htons(s->frag);
		ip.ttl = 64;
		ip.protocol = proto;
		if (inet_pton(AF_INET, s->src, &ip.saddr) != 1)
			return -EINVAL;
		inet_pton(AF_INET, "198.18.0.1", &ip.daddr);
		put(f, &ip, sizeof(ip));
		memset(opts, 1, sizeof(opts));	/* NOPs */
		if (opt_words)
			opts[opt_words * 4 - 1] = 0;	/* end of list */
		put(f, opts, opt_words * 4);
	} else {
		struct ipv6hdr ip6 = {};
		uint8_t ext[48];
		uint32_t ext_len = 0;

		ip6.version = 6;
		ip6.hop_limit = 64;
		if (inet_pton(AF_INET6, s->src, &ip6.saddr) != 1)
			return -EINVAL;
		inet_pton(AF_INET6, "2001:db8::25", &ip6.daddr);
		memset(ext, 0, sizeof(ext));
		if (s->v6_ext_chain) {
			/* hop-by-hop, 8 bytes: PadN of 4 */
			ext[0] = IPPROTO_ROUTING; ext[1] = 0;
			ext[2] = 1; ext[3] = 4;
			/* routing, 8 bytes: type 253 (experimental), segments left 0 */
			ext[8] = IPPROTO_DSTOPTS; ext[9] = 0;
			ext[10] = 253; ext[11] = 0;
			/* destination options, 16 bytes: PadN of 12 */
			ext[16] = IPPROTO_FRAGMENT; ext[17] = 1;
			ext[18] = 1; ext[19] = 12;
			/* fragment, 8 bytes: offset 0, M set */
			ext[32] = proto; ext[33] = 0;
			ext[34] = 0; ext[35] = 1;
			ext[36] = 0; ext[37] = 0; ext[38] = 0x12; ext[39] = 0x34;
			ext_len = 40;
			ip6.nexthdr = IPPROTO_HOPOPTS;
			off_dst_body = 16 + 2;
		} else if (s->v6_frag) {
			ext[0] = proto; ext[1] = 0;
			ext[2] = s->frag >> 8; ext[3] = s->frag & 0xff;
			ext[4] = 0; ext[5] = 0; ext[6] = 0x56; ext[7] = 0x78;
			ext_len = 8;
			ip6.nexthdr = IPPROTO_FRAGMENT;
		} else {
			ip6.nexthdr = proto == IPPROTO_ICMP ? IPPROTO_ICMPV6 : proto;
		}
		ip6.payload_len = htons(ext_len + l4_len);
		put(f, &ip6, sizeof(ip6));
		off_ext = f->len;
		off_dst_body += off_ext;
		put(f, ext, ext_len);
	}
	off_l4 = f->len;
	put(f, l4, l4_len);

	switch (s->cut) {
	case CUT_NONE:
		break;
	case CUT_ETH:
		f->len = 10;
		break;
	case CUT_VLAN:
		if (!s->vlan)
			return -EINVAL;
		f->len = off_vlan + 2;
		break;
	case CUT_IP:
		f->len = off_ip + 10;
		break;
	case CUT_IPOPT:
		if (s->family != 4 || s->ihl <= 5)
			return -EINVAL;
		f->len = off_ip + 20 + 2;
		break;
	case CUT_V6EXT:
		if (!s->v6_ext_chain && !s->v6_frag)
			return -EINVAL;
		f->len = off_ext + 1;
		break;
	case CUT_V6EXT_BODY:
		if (!s->v6_ext_chain)
			return -EINVAL;
		f->len = off_dst_body + 4;
		break;
	case CUT_TCP:
		f->len = off_l4 + 10;
		break;
	}
	if (s->pad) {
		if (f->len + s->pad > PKT_MAX)
			return -EINVAL;
		f->len += s->pad;	/* zeroed by the memset above */
	}
	return 0;
}

/* A loaded skeleton whose maps are pinned under its own directory. */
struct fixture {
	struct mxguard_bpf *skel;
	char pin_dir[128];
	int prog_fd;
};

/* Pin directory of the fixture in use, removed by the signal handler too. */
static char fixture_live_dir[128];

static inline void fixture_rmdir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	d = opendir(dir);
	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

static inline void fixture_on_signal(int sig)
{
	if (fixture_live_dir[0])
		fixture_rmdir(fixture_live_dir);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Is /sys/fs/bpf a bpffs? Pins anywhere else would fail. */
static inline int bpffs_ready(void)
{
	struct statfs sf;

	if (statfs("/sys/fs/bpf", &sf))
		return -errno;
	return sf.f_type == 0xcafe4a11 /* BPF_FS_MAGIC */ ? 0 : -ENOENT;
}

/* Is bpffs at /sys/fs/bpf, mounting it if it is not? */
static inline bool bpffs_mounted(void)
{
	if (!bpffs_ready())
		return true;
	mkdir("/sys/fs/bpf", 0755);
	return !mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL) && !bpffs_ready();
}

static inline int set_config(struct fixture *fx, uint32_t flags,
			     uint32_t prefix_v4, uint32_t prefix_v6)
{
	struct mxg_config c = { .flags = flags, .prefix_v4 = prefix_v4,
				.prefix_v6 = prefix_v6 };
	uint32_t zero = 0;

	return bpf_map_update_elem(bpf_map__fd(fx->skel->maps.config), &zero, &c, BPF_ANY);
}

static inline int set_port(struct fixture *fx, uint16_t port, uint32_t rate, uint32_t burst)
{
	struct mxg_port_limit l = { .rate = rate, .burst = burst };
	__u32 key = port;

	/* As user/kernel/maps.c does: the ports entry, then the index. */
	return bpf_map_update_elem(bpf_map__fd(fx->skel->maps.ports), &port, &l, BPF_ANY) ?:
	       bpf_map_update_elem(bpf_map__fd(fx->skel->maps.port_index), &key, &l, BPF_ANY);
}

static inline void fixture_close(struct fixture *fx)
{
	struct bpf_map *m;

	if (fx->skel) {
		bpf_object__for_each_map(m, fx->skel->obj)
			if (bpf_map__is_pinned(m))
				bpf_map__unpin(m, NULL);
		mxguard_bpf__destroy(fx->skel);
		fx->skel = NULL;
	}
	if (fx->pin_dir[0]) {
		fixture_rmdir(fx->pin_dir);
		fx->pin_dir[0] = 0;
	}
	fixture_live_dir[0] = 0;
}

/*
 * Load a fresh program with empty maps pinned in a directory of its own, and
 * write config (no flags, /24, /64) and ports (25: 50/s burst 500; 465 and
 * 587: 5/s burst 50) as the daemon does. Returns 0 or a negative errno.
 */
static inline int fixture_open(struct fixture *fx)
{
	static unsigned int seq;
	int err;

	memset(fx, 0, sizeof(*fx));
	if (bpffs_ready())
		return -ENOENT;
	snprintf(fx->pin_dir, sizeof(fx->pin_dir), "/sys/fs/bpf/mxg-test-%d-%u",
		 (int)getpid(), seq++);
	if (mkdir(fx->pin_dir, 0700)) {
		err = -errno;
		fprintf(stderr, "  cannot create %s: %s\n", fx->pin_dir, strerror(errno));
		fx->pin_dir[0] = 0;
		return err;
	}
	snprintf(fixture_live_dir, sizeof(fixture_live_dir), "%s", fx->pin_dir);
	signal(SIGINT, fixture_on_signal);
	signal(SIGTERM, fixture_on_signal);

	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = fx->pin_dir);
	fx->skel = mxguard_bpf__open_opts(&oo);
	if (!fx->skel) {
		err = -errno;
		fprintf(stderr, "  cannot open the XDP skeleton: %s\n", strerror(errno));
		goto fail;
	}
	err = mxguard_bpf__load(fx->skel);
	if (err) {
		fprintf(stderr, "  cannot load the XDP program: %s\n", strerror(-err));
		goto fail;
	}
	fx->prog_fd = bpf_program__fd(fx->skel->progs.mxguard_xdp);
	err = set_config(fx, 0, MXG_PREFIX_V4_DEFAULT, MXG_PREFIX_V6_DEFAULT);
	err = err ?: set_port(fx, 25, 50, 500);
	err = err ?: set_port(fx, 465, 5, 50);
	err = err ?: set_port(fx, 587, 5, 50);
	if (err) {
		err = -errno;
		fprintf(stderr, "  cannot write config/ports: %s\n", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	fixture_close(fx);
	return err;
}

static inline int64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Add a deny (or allow) range "ADDR/LEN" with the given expiry. */
static inline int list_add(struct fixture *fx, bool deny, const char *cidr, uint64_t expires_ns)
{
	char buf[64], *slash;
	struct mxg_lpm_v6 k6 = {};
	struct mxg_lpm_v4 k4 = {};
	struct mxg_deny dv = { .expires_ns = expires_ns, .reason = MXG_REASON_MANUAL,
			       .ban_count = 1 };
	struct mxg_allow av = {};
	struct bpf_map *m;
	void *key;
	int plen = -1;

	snprintf(buf, sizeof(buf), "%s", cidr);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = 0;
		plen = atoi(slash + 1);
	}
	dv.added_ns = av.added_ns = boot_ns();
	if (inet_pton(AF_INET, buf, k4.addr) == 1) {
		k4.prefixlen = plen < 0 ? 32 : plen;
		dv.prefixlen = k4.prefixlen;
		key = &k4;
		m = deny ? fx->skel->maps.deny_v4 : fx->skel->maps.allow_v4;
	} else if (inet_pton(AF_INET6, buf, k6.addr) == 1) {
		k6.prefixlen = plen < 0 ? 128 : plen;
		dv.prefixlen = k6.prefixlen;
		key = &k6;
		m = deny ? fx->skel->maps.deny_v6 : fx->skel->maps.allow_v6;
	} else {
		return -EINVAL;
	}
	if (bpf_map_update_elem(bpf_map__fd(m), key, deny ? (void *)&dv : (void *)&av, BPF_ANY))
		return -errno;
	return 0;
}

/* Sum the per-CPU stats record. */
static inline int stats_read(struct fixture *fx, struct mxg_stats *out)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t vsz = (sizeof(struct mxg_stats) + 7) & ~(size_t)7;
	uint32_t zero = 0;
	__u64 *sum = (__u64 *)out;	/* the fields' own type: no aliasing games */
	uint8_t *vals;
	int c;
	size_t i;

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc(ncpu, vsz);
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(fx->skel->maps.stats), &zero, vals)) {
		free(vals);
		return -errno;
	}
	memset(out, 0, sizeof(*out));
	for (c = 0; c < ncpu; c++) {
		const __u64 *v = (const __u64 *)(vals + c * vsz);

		for (i = 0; i < sizeof(*out) / 8; i++)
			sum[i] += v[i];
	}
	free(vals);
	return 0;
}

static inline uint64_t stat_at(const struct mxg_stats *s, size_t off)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)s + off, sizeof(v));
	return v;
}

/* Run one frame `repeat` times; returns 0 and the verdict, or a negative errno. */
static inline int run_frame(int prog_fd, const struct frame *f, unsigned int repeat,
			    uint32_t *retval, uint32_t *duration)
{
	LIBBPF_OPTS(bpf_test_run_opts, o,
		    .data_in = f->d,
		    .data_size_in = f->len,
		    .repeat = repeat);
	int err;

	err = bpf_prog_test_run_opts(prog_fd, &o);
	if (err)
		return err < 0 ? err : -err;
	if (retval)
		*retval = o.retval;
	if (duration)
		*duration = o.duration;
	return 0;
}

/* Run a SYN from src to port `repeat` times; returns the verdict or -1. */
static inline int syn_from_n(struct fixture *fx, const char *src, uint16_t port,
			     unsigned int repeat)
{
	struct pkt_spec s = { .family = strchr(src, ':') ? 6 : 4, .src = src,
			      .dport = port, .tcp_flags = TF_SYN };
	struct frame f;
	uint32_t v;

	if (pkt_build(&s, &f) || run_frame(fx->prog_fd, &f, repeat, &v, NULL))
		return -1;
	return v;
}

static inline int syn_from(struct fixture *fx, const char *src, uint16_t port)
{
	return syn_from_n(fx, src, port, 1);
}

#endif
