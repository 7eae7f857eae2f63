// SPDX-License-Identifier: GPL-2.0
/*
 * The tools behind tests/bench/flood.sh: a SYN flood from many sources on
 * live frames, and the programs it is measured against.
 *
 *   bench_flood gen IFNAME DST_MAC MODE COUNT SECONDS [--base A.B.C.D]
 *               [--dport N] [--ack] [--drop] [--prog-id ID]...
 *       push COUNT frames (or stop after SECONDS) out of IFNAME with
 *       BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES. MODE is the source
 *       pattern: one (--base), many (65,536 sources of the --base /16, the
 *       /24 changing fastest), random (any IPv4 address), one24 (the hosts of
 *       the --base /24). Frames are 60-byte TCP SYNs to 198.18.0.1:--dport
 *       (25), or ACKs with --ack; --drop returns XDP_DROP: the generator's
 *       own cost, nothing leaves. With --prog-id, BPF run-time statistics
 *       are on for the run and the run count and run time of each program
 *       are reported (bpf_stats, as `bpftool prog show` gives them).
 *       Prints one line of key=value pairs.
 *   bench_flood pin PROG PATH [--base A.B.C.D]
 *       load one of flood.bpf.c's receiving programs (floor_drop,
 *       floor_pass, probe_lpm, probe_hash, probe_boot_ns, probe_coarse_ns,
 *       probe_jiffies) and pin it; the probes' tables hold the 256 /24s of
 *       the --base /16.
 *   bench_flood xdp-filter OBJECT PATH BASE N
 *       load xdp-filter's own object file (xdpfilt_alw_ip.o: default pass,
 *       listed addresses dropped), list the first N sources of "many" from
 *       the BASE /16 in its filter_ipv4 map as sources to drop, pin it.
 *
 * Not a test: it never fails on a timing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tests/bench/flood.skel.h"	/* in $(BUILD) */

#define FRAME_LEN 60		/* minimum Ethernet frame */
/* Runs per BPF_PROG_TEST_RUN call; the time cap is checked between calls. */
#define CHUNK (1 << 20)
#define MAX_PROGS 4
#define SRC_ONE 0		/* as in flood.bpf.c */
#define SRC_MANY 1
#define SRC_RANDOM 2
#define SRC_ONE24 3
#define XDPF_SRC 1		/* xdp-filter's MAP_FLAG_SRC */

static const uint8_t src_mac[6] = { 0x02, 0x18, 0x66, 0, 0, 0x02 };

/* One's-complement sum of big-endian 16-bit words. */
static uint32_t words(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	return sum;
}

/*
 * A TCP SYN (or ACK) 0.0.0.0:40000 -> 198.18.0.1:dport; the program puts
 * the source in and finishes both checksums from the sums taken here with
 * the source and the checksums zero.
 */
static void build_frame(uint8_t *f, const uint8_t dmac[6], uint16_t dport, int ack,
			uint32_t *ip_sum, uint32_t *tcp_sum)
{
	struct ethhdr *eth = (struct ethhdr *)f;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct tcphdr *th = (struct tcphdr *)(ip + 1);
	uint8_t pseudo[12] = { 0 };

	memset(f, 0, FRAME_LEN);
	memcpy(eth->h_dest, dmac, 6);
	memcpy(eth->h_source, src_mac, 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(40);
	ip->id = htons(0x1000);
	ip->frag_off = htons(0x4000);	/* DF */
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	inet_pton(AF_INET, "198.18.0.1", &ip->daddr);
	th->source = htons(40000);
	th->dest = htons(dport);
	th->seq = htonl(0x12345678);
	th->doff = 5;
	if (ack) {
		th->ack = 1;
		th->ack_seq = htonl(0x1000);
	} else {
		th->syn = 1;
	}
	th->window = htons(64240);
	*ip_sum = words(ip, sizeof(*ip));
	memcpy(pseudo + 4, &ip->daddr, 4);
	pseudo[9] = IPPROTO_TCP;
	pseudo[11] = sizeof(*th);
	*tcp_sum = words(pseudo, sizeof(pseudo)) + words(th, sizeof(*th));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

static int parse_base(const char *s, uint32_t *base)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*base = ntohl(a.s_addr);
	return 0;
}

/* Run count and run time of a program (kernel.bpf_stats). */
static int prog_stats(int fd, uint64_t *cnt, uint64_t *ns)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*cnt = info.run_cnt;
	*ns = info.run_time_ns;
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: bench_flood gen IFNAME DST_MAC one|many|random|one24 COUNT SECONDS\n"
		"                   [--base A.B.C.D] [--dport N] [--ack] [--drop] [--prog-id ID]...\n"
		"       bench_flood pin PROG PATH [--base A.B.C.D]\n"
		"       bench_flood xdp-filter OBJECT PATH BASE N\n");
	return 2;
}

static int gen(int argc, char **argv)
{
	uint64_t cnt0[MAX_PROGS], ns0[MAX_PROGS], cnt1, ns1, count, sent = 0;
	int prog_fd[MAX_PROGS], nprog = 0, ack = 0, stats_fd = -1, err = 0, i, fd;
	uint32_t base = 0xC6130000, ip_sum, tcp_sum, mode;	/* 198.19.0.0 */
	uint8_t frame[FRAME_LEN], dmac[6];
	unsigned int ifindex, dport = 25;
	struct flood_bpf *skel;
	double cap, t0, t1;
	struct xdp_md ctx;

	if (argc < 7 || parse_mac(argv[3], dmac))
		return usage();
	if (!strcmp(argv[4], "one"))
		mode = SRC_ONE;
	else if (!strcmp(argv[4], "many"))
		mode = SRC_MANY;
	else if (!strcmp(argv[4], "random"))
		mode = SRC_RANDOM;
	else if (!strcmp(argv[4], "one24"))
		mode = SRC_ONE24;
	else
		return usage();
	count = strtoull(argv[5], NULL, 0);
	cap = strtod(argv[6], NULL);
	skel = flood_bpf__open();
	if (!skel) {
		fprintf(stderr, "bench_flood: open: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->gen_action = XDP_TX;
	for (i = 7; i < argc; i++) {
		if (!strcmp(argv[i], "--ack")) {
			ack = 1;
		} else if (!strcmp(argv[i], "--drop")) {
			skel->rodata->gen_action = XDP_DROP;
		} else if (i + 1 < argc && !strcmp(argv[i], "--base")) {
			if (parse_base(argv[++i], &base))
				return usage();
		} else if (i + 1 < argc && !strcmp(argv[i], "--dport")) {
			dport = strtoul(argv[++i], NULL, 0);
		} else if (i + 1 < argc && !strcmp(argv[i], "--prog-id") && nprog < MAX_PROGS) {
			fd = bpf_prog_get_fd_by_id(strtoul(argv[++i], NULL, 0));
			if (fd < 0) {
				fprintf(stderr, "bench_flood: program %s: %s\n", argv[i], strerror(errno));
				return 1;
			}
			prog_fd[nprog++] = fd;
		} else {
			return usage();
		}
	}
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex) {
		fprintf(stderr, "bench_flood: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	build_frame(frame, dmac, dport, ack, &ip_sum, &tcp_sum);
	skel->rodata->gen_mode = mode;
	skel->rodata->gen_base = base;
	skel->rodata->gen_ip_sum = ip_sum;
	skel->rodata->gen_tcp_sum = tcp_sum;
	if (flood_bpf__load(skel)) {
		fprintf(stderr, "bench_flood: load: %s\n", strerror(errno));
		return 1;
	}
	if (nprog) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0) {
			fprintf(stderr, "bench_flood: BPF_ENABLE_STATS: %s\n", strerror(errno));
			return 1;
		}
	}
	for (i = 0; i < nprog; i++)
		prog_stats(prog_fd[i], &cnt0[i], &ns0[i]);

	memset(&ctx, 0, sizeof(ctx));
	ctx.data_end = FRAME_LEN;
	ctx.ingress_ifindex = ifindex;
	t0 = t1 = now();
	while (sent < count && t1 - t0 < cap) {
		uint64_t n = count - sent < CHUNK ? count - sent : CHUNK;
		LIBBPF_OPTS(bpf_test_run_opts, o,
			    .data_in = frame,
			    .data_size_in = FRAME_LEN,
			    .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx),
			    .repeat = (int)n,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

		err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.flood_gen), &o);
		t1 = now();
		if (err) {
			err = -errno;
			break;
		}
		sent += n;
	}
	if (err && !sent) {
		fprintf(stderr, "bench_flood: BPF_PROG_TEST_RUN (live frames) on %s: %s\n",
			argv[2], strerror(-err));
		return 1;
	}
	printf("packets=%llu seconds=%.6f", (unsigned long long)sent, t1 - t0);
	for (i = 0; i < nprog; i++) {
		if (prog_stats(prog_fd[i], &cnt1, &ns1))
			continue;
		printf(" runs%d=%llu run_ns%d=%llu", i, (unsigned long long)(cnt1 - cnt0[i]),
		       i, (unsigned long long)(ns1 - ns0[i]));
		close(prog_fd[i]);
	}
	printf("\n");
	if (stats_fd >= 0)
		close(stats_fd);
	flood_bpf__destroy(skel);
	return 0;
}

static int pin(int argc, char **argv)
{
	uint32_t base = 0xC6130000, i;
	struct flood_bpf *skel;
	struct bpf_program *p;
	struct probe_key {
		uint32_t prefixlen;
		uint32_t addr;
	} k;
	uint64_t one = 1;

	if (argc < 4)
		return usage();
	if (argc == 6 && !strcmp(argv[4], "--base") && parse_base(argv[5], &base))
		return usage();
	skel = flood_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "bench_flood: load: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < 256; i++) {
		k.prefixlen = 24;
		k.addr = htonl(base | i << 8);
		bpf_map__update_elem(skel->maps.probe_trie, &k, sizeof(k), &one, sizeof(one), 0);
		bpf_map__update_elem(skel->maps.probe_table, &k.addr, sizeof(k.addr), &one,
				     sizeof(one), 0);
	}
	p = bpf_object__find_program_by_name(skel->obj, argv[2]);
	if (!p || bpf_program__pin(p, argv[3])) {
		fprintf(stderr, "bench_flood: pin %s at %s: %s\n", argv[2], argv[3],
			p ? strerror(errno) : "no such program");
		flood_bpf__destroy(skel);
		return 1;
	}
	flood_bpf__destroy(skel);
	return 0;
}

static int xdp_filter(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *p;
	struct bpf_map *m, *any;
	uint32_t base, i, n, a, ncpu;
	uint64_t *v;
	int err;

	if (argc != 6 || parse_base(argv[4], &base))
		return usage();
	n = strtoul(argv[5], NULL, 0);
	obj = bpf_object__open_file(argv[2], NULL);
	if (!obj) {
		fprintf(stderr, "bench_flood: open %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	m = bpf_object__find_map_by_name(obj, "filter_ipv4");
	p = bpf_object__next_program(obj, NULL);
	if (!m || !p) {
		fprintf(stderr, "bench_flood: %s has no filter_ipv4 map or no program\n", argv[2]);
		return 1;
	}
	/* Its maps pin by name (at the root of bpffs here): keep them unpinned. */
	bpf_object__for_each_map(any, obj)
		bpf_map__set_pin_path(any, NULL);
	bpf_map__set_max_entries(m, n > 10000 ? n : 10000);
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "bench_flood: load %s: %s\n", argv[2], strerror(-err));
		return 1;
	}
	ncpu = libbpf_num_possible_cpus();
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return 1;
	for (i = 0; i < ncpu; i++)
		v[i] = XDPF_SRC;
	for (i = 0; i < n; i++) {
		a = htonl(base | (i & 0xff) << 8 | (i >> 8 & 0xff));
		if (bpf_map__update_elem(m, &a, sizeof(a), v, ncpu * sizeof(*v), 0)) {
			fprintf(stderr, "bench_flood: filter_ipv4: %s\n", strerror(errno));
			return 1;
		}
	}
	free(v);
	if (bpf_program__pin(p, argv[3])) {
		fprintf(stderr, "bench_flood: pin at %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	bpf_object__close(obj);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "gen"))
		return gen(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "pin"))
		return pin(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "xdp-filter"))
		return xdp_filter(argc, argv);
	return usage();
}
