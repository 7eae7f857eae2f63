// SPDX-License-Identifier: GPL-2.0
/*
 * XDP programs for tests/bench/flood.sh and bench_flood.c: a live-frame
 * SYN flood generator with many sources, the floors (a counting XDP_DROP
 * and XDP_PASS program), and single-purpose probes that each add one
 * operation mxguard's program does per packet (an LPM trie lookup, a hash
 * lookup, a clock read) to the counting floor, so bpf_stats run times in the
 * same flood show what each costs.
 *
 * Not a test and not part of mxguard: the bench loads it next to mxguard.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

/* Source patterns of the generator (gen_mode). */
#define SRC_ONE		0	/* gen_base only */
#define SRC_MANY	1	/* 65,536 sources in gen_base/16, the /24 changes fastest */
#define SRC_RANDOM	2	/* any IPv4 address, bpf_get_prandom_u32() */
#define SRC_ONE24	3	/* the 256 hosts of gen_base/24 */

/* Set by bench_flood before load. */
const volatile __u32 gen_mode;		/* SRC_* */
const volatile __u32 gen_base;		/* host order */
const volatile __u32 gen_ip_sum;	/* IPv4 header words, saddr and check zero */
const volatile __u32 gen_tcp_sum;	/* pseudo-header and TCP words, saddr and check zero */
const volatile __u32 gen_action;	/* XDP_TX, or XDP_DROP for the generator alone */

/* Frames made by this CPU: the source sequence of SRC_MANY and SRC_ONE24. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} gen_seq SEC(".maps");

/* Frames each receiving program saw, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} rx_count SEC(".maps");

/* The probes' lookup tables: 256 /24s, filled by bench_flood. */
struct probe_lpm_key {
	__u32 prefixlen;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct probe_lpm_key);
	__type(value, __u64);
} probe_trie SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} probe_table SEC(".maps");

static __always_inline __u16 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int flood_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct tcphdr *th = (void *)(ip + 1);
	const __u32 zero = 0;
	__u32 addr, n;
	__u64 *seq;

	if ((void *)(th + 1) > data_end)
		return XDP_ABORTED;
	seq = bpf_map_lookup_elem(&gen_seq, &zero);
	if (!seq)
		return XDP_ABORTED;
	n = (__u32)(*seq)++;
	switch (gen_mode) {
	case SRC_MANY:
		n &= 0xffff;
		addr = gen_base | (n & 0xff) << 8 | n >> 8;
		break;
	case SRC_RANDOM:
		addr = bpf_get_prandom_u32();
		break;
	case SRC_ONE24:
		addr = gen_base | (n & 0xff);
		break;
	default:
		addr = gen_base;
	}
	ip->saddr = bpf_htonl(addr);
	ip->check = bpf_htons(fold(gen_ip_sum + (addr >> 16) + (addr & 0xffff)));
	th->check = bpf_htons(fold(gen_tcp_sum + (addr >> 16) + (addr & 0xffff)));
	return gen_action;
}

static __always_inline void count(__u64 add)
{
	const __u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&rx_count, &zero);

	if (c)
		*c += add;
}

/* The floor: what any XDP program that counts its packets costs. */
SEC("xdp")
int floor_drop(struct xdp_md *ctx)
{
	count(1);
	return XDP_DROP;
}

SEC("xdp")
int floor_pass(struct xdp_md *ctx)
{
	count(1);
	return XDP_PASS;
}

/* The IPv4 source of an untagged frame, or 0. */
static __always_inline __u32 src_of(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	return ip->saddr;
}

SEC("xdp")
int probe_lpm(struct xdp_md *ctx)
{
	struct probe_lpm_key k = { .prefixlen = 32, .addr = src_of(ctx) };

	count(bpf_map_lookup_elem(&probe_trie, &k) != NULL);
	return XDP_DROP;
}

SEC("xdp")
int probe_hash(struct xdp_md *ctx)
{
	__u32 k = src_of(ctx) & bpf_htonl(0xffffff00);

	count(bpf_map_lookup_elem(&probe_table, &k) != NULL);
	return XDP_DROP;
}

SEC("xdp")
int probe_boot_ns(struct xdp_md *ctx)
{
	count(bpf_ktime_get_boot_ns() & 1);
	return XDP_DROP;
}

SEC("xdp")
int probe_coarse_ns(struct xdp_md *ctx)
{
	count(bpf_ktime_get_coarse_ns() & 1);
	return XDP_DROP;
}

SEC("xdp")
int probe_jiffies(struct xdp_md *ctx)
{
	count(bpf_jiffies64() & 1);
	return XDP_DROP;
}
