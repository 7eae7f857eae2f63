// SPDX-License-Identifier: GPL-2.0
/*
 * Traffic generator for tests/bench/drop.sh: a SYN flood to port 25 from
 * 198.18.66.0/24, pushed out of a veth with BPF_PROG_TEST_RUN in live-frame
 * mode (BPF_F_TEST_XDP_LIVE_FRAMES, the mechanism behind xdp-trafficgen).
 *
 * The kernel runs a tiny XDP program (raw instructions, below) on a page-pool
 * copy of the frame `repeat` times; XDP_TX in live mode becomes a redirect
 * out of ctx.ingress_ifindex, so every run puts one frame on the wire of that
 * veth, and the peer receives it through its NAPI poll (the peer needs an
 * XDP program, or GRO on, for its NAPI and its XDP ring to exist). Frames
 * are sent in batches of 64 inside local_bh_disable(); the local_bh_enable()
 * after each batch runs the peer's NAPI poll at once, on this CPU, in this
 * task. So the wall time of a run is generator + veth + the receiver's whole
 * disposal of the packet (XDP drop, or skb + netfilter drop, or TCP RST).
 *
 * The program varies the last octet of the source address per frame
 * (bpf_get_prandom_u32() & 0xff) and keeps both checksums valid without
 * recomputing them: the IPv4 ID and the TCP source port move down by the
 * amount the source address word moves up, so the one's-complement sums of
 * the IP header and of the TCP pseudo-header plus header stay the same.
 *
 *   bench_drop gen IFNAME DST_MAC COUNT SECONDS [tx|drop]
 *       push COUNT frames (stops early after SECONDS) out of IFNAME; with
 *       "drop" the program returns XDP_DROP instead: the generator's own cost.
 *       Prints one line of key=value pairs (packets, seconds, /proc/stat
 *       softirq and total ticks of the calling CPU, and of all CPUs).
 *   bench_drop pin-drop PATH
 *       load a two-instruction XDP_DROP program and pin it at PATH (for
 *       `ip link set dev X xdpdrv pinned PATH`): the floor of any XDP drop.
 *
 * Not a test: it never fails on a timing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
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

#define FRAME_LEN 60		/* minimum Ethernet frame, as a NIC delivers it */
#define OFF_IP ETH_HLEN
#define OFF_TCP (ETH_HLEN + 20)
#define BASE_ID 0x1000		/* IPv4 ID at source octet 0 */
#define BASE_SPORT 40255	/* TCP source port at source octet 0 */
#define CHUNK 262144		/* runs per BPF_PROG_TEST_RUN call */

static const uint8_t src_mac[6] = { 0x02, 0x18, 0x66, 0, 0, 0x02 };

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	return sum;
}

/* SYN 198.18.66.0:BASE_SPORT -> 198.18.0.1:25, padded to FRAME_LEN. */
static void build_frame(uint8_t *f, const uint8_t dmac[6])
{
	struct ethhdr *eth = (struct ethhdr *)f;
	struct iphdr *ip = (struct iphdr *)(f + OFF_IP);
	struct tcphdr *th = (struct tcphdr *)(f + OFF_TCP);
	uint8_t pseudo[12];
	uint32_t sum;

	memset(f, 0, FRAME_LEN);
	memcpy(eth->h_dest, dmac, 6);
	memcpy(eth->h_source, src_mac, 6);
	eth->h_proto = htons(ETH_P_IP);

	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(40);
	ip->id = htons(BASE_ID);
	ip->frag_off = htons(0x4000);	/* DF */
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	inet_pton(AF_INET, "198.18.66.0", &ip->saddr);
	inet_pton(AF_INET, "198.18.0.1", &ip->daddr);
	ip->check = htons(csum_fold(csum_add(0, ip, 20)));

	th->source = htons(BASE_SPORT);
	th->dest = htons(25);
	th->seq = htonl(0x12345678);
	th->doff = 5;
	th->syn = 1;
	th->window = htons(64240);
	memcpy(pseudo, &ip->saddr, 4);
	memcpy(pseudo + 4, &ip->daddr, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = 0;
	pseudo[11] = 20;
	sum = csum_add(0, pseudo, sizeof(pseudo));
	th->check = htons(csum_fold(csum_add(sum, th, 20)));
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

/*
 * x = prandom & 0xff; source = 198.18.66.x; id = BASE_ID - x;
 * sport = BASE_SPORT - x; return action.
 */
static int load_gen_prog(int action)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_prandom_u32),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_7, BPF_REG_0, 0, 0),
		INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_7, 0, 0, 0xff),
		INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_6, offsetof(struct xdp_md, data), 0),
		INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_6, offsetof(struct xdp_md, data_end), 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_2, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_4, 0, 0, OFF_TCP + 2),
		INSN(BPF_JMP | BPF_JGT | BPF_X, BPF_REG_4, BPF_REG_3, 9, 0),
		INSN(BPF_STX | BPF_MEM | BPF_B, BPF_REG_2, BPF_REG_7, OFF_IP + 15, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_5, 0, 0, BASE_ID),
		INSN(BPF_ALU64 | BPF_SUB | BPF_X, BPF_REG_5, BPF_REG_7, 0, 0),
		INSN(BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_5, 0, 0, 16),
		INSN(BPF_STX | BPF_MEM | BPF_H, BPF_REG_2, BPF_REG_5, OFF_IP + 4, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_5, 0, 0, BASE_SPORT),
		INSN(BPF_ALU64 | BPF_SUB | BPF_X, BPF_REG_5, BPF_REG_7, 0, 0),
		INSN(BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_5, 0, 0, 16),
		INSN(BPF_STX | BPF_MEM | BPF_H, BPF_REG_2, BPF_REG_5, OFF_TCP, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, action),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	static char log[8192];

	o.log_buf = log;
	o.log_size = sizeof(log);
	o.log_level = 1;
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "mxg_synflood", "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), &o);
	if (fd < 0)
		fprintf(stderr, "bench_drop: load: %s\n%s", strerror(errno), log);
	return fd;
}

static int load_drop_prog(void)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_DROP),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "mxg_drop", "GPL", insns, 2, NULL);
}

/* Softirq and total ticks of one CPU (cpu >= 0) or of all (cpu < 0). */
static int read_ticks(int cpu, unsigned long long *si, unsigned long long *total)
{
	char want[32], line[512];
	unsigned long long v[10] = { 0 };
	FILE *fp = fopen("/proc/stat", "r");
	int i, n, found = 0;

	if (!fp)
		return -1;
	if (cpu < 0)
		snprintf(want, sizeof(want), "cpu ");
	else
		snprintf(want, sizeof(want), "cpu%d ", cpu);
	while (fgets(line, sizeof(line), fp)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		n = sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
		*si = v[6];
		*total = 0;
		for (i = 0; i < n && i < 8; i++)	/* guest time is already in user */
			*total += v[i];
		found = 1;
		break;
	}
	fclose(fp);
	return found ? 0 : -1;
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

static int gen(int argc, char **argv)
{
	unsigned long long count, sent = 0, si0, si1, tot0, tot1, asi0, asi1, atot0, atot1;
	int action = XDP_TX, fd, cpu, err = 0;
	uint8_t frame[FRAME_LEN], dmac[6];
	double cap, t0, t1;
	struct xdp_md ctx;
	unsigned int ifindex;

	if (argc < 6 || parse_mac(argv[3], dmac)) {
		fprintf(stderr, "usage: bench_drop gen IFNAME DST_MAC COUNT SECONDS [tx|drop]\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex) {
		fprintf(stderr, "bench_drop: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	count = strtoull(argv[4], NULL, 0);
	cap = strtod(argv[5], NULL);
	if (argc > 6 && !strcmp(argv[6], "drop"))
		action = XDP_DROP;

	build_frame(frame, dmac);
	fd = load_gen_prog(action);
	if (fd < 0)
		return 1;

	memset(&ctx, 0, sizeof(ctx));
	ctx.data_end = FRAME_LEN;
	ctx.ingress_ifindex = ifindex;

	cpu = sched_getcpu();
	if (read_ticks(cpu, &si0, &tot0) || read_ticks(-1, &asi0, &atot0)) {
		fprintf(stderr, "bench_drop: cannot read /proc/stat\n");
		return 1;
	}
	t0 = now();
	t1 = t0;
	while (sent < count && t1 - t0 < cap) {
		unsigned long long n = count - sent < CHUNK ? count - sent : CHUNK;
		LIBBPF_OPTS(bpf_test_run_opts, o,
			    .data_in = frame,
			    .data_size_in = FRAME_LEN,
			    .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx),
			    .repeat = (int)n,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

		err = bpf_prog_test_run_opts(fd, &o);
		t1 = now();
		if (err) {
			err = -errno;
			break;
		}
		sent += n;
	}
	read_ticks(cpu, &si1, &tot1);
	read_ticks(-1, &asi1, &atot1);
	close(fd);
	if (err) {
		fprintf(stderr, "bench_drop: BPF_PROG_TEST_RUN (live frames) on %s: %s\n",
			argv[2], strerror(-err));
		if (!sent)
			return 1;
	}
	printf("packets=%llu seconds=%.6f cpu=%d cpu_si=%llu cpu_total=%llu all_si=%llu all_total=%llu hz=%ld\n",
	       sent, t1 - t0, cpu, si1 - si0, tot1 - tot0, asi1 - asi0, atot1 - atot0,
	       sysconf(_SC_CLK_TCK));
	return 0;
}

int main(int argc, char **argv)
{
	int fd;

	if (argc >= 2 && !strcmp(argv[1], "gen"))
		return gen(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "pin-drop")) {
		fd = load_drop_prog();
		if (fd < 0 || bpf_obj_pin(fd, argv[2])) {
			fprintf(stderr, "bench_drop: XDP_DROP program at %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "usage: bench_drop gen IFNAME DST_MAC COUNT SECONDS [tx|drop]\n"
			"       bench_drop pin-drop PATH\n");
	return 2;
}
