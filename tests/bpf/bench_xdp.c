// SPDX-License-Identifier: GPL-2.0
/*
 * Per-packet cost of the XDP program, beside a program that only returns
 * XDP_PASS, measured in the same run with BPF_PROG_TEST_RUN's own duration
 * (kernel time per run averaged over `repeat` runs; the syscall and the
 * dispatcher set-up are outside it). Not a test: it never fails on a timing.
 *
 *   bench_xdp [repeat]      default 1000000, median of 5 calls per cell
 */
#include <stdlib.h>

#include <linux/bpf.h>

#include "xdp_fixture.h"

#define ROUNDS 5

static const unsigned int deny_sizes[] = { 0, 1000, 100000 };

/* XDP_PASS in two instructions: r0 = XDP_PASS; exit. */
static int load_pass_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "xdp_pass", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Median ns per run over ROUNDS calls of `repeat` runs; -1 on error. */
static double ns_per_pkt(int prog_fd, const struct frame *f, unsigned int repeat,
			 uint32_t want_verdict)
{
	uint32_t d[ROUNDS], v;
	int i, err;

	for (i = 0; i < ROUNDS; i++) {
		err = run_frame(prog_fd, f, repeat, &v, &d[i]);
		if (err) {
			fprintf(stderr, "bench_xdp: test_run: %s\n", strerror(-err));
			return -1;
		}
		if (v != want_verdict) {
			fprintf(stderr, "bench_xdp: verdict %u, expected %u\n", v, want_verdict);
			return -1;
		}
	}
	qsort(d, ROUNDS, sizeof(d[0]), cmp_u32);
	return d[ROUNDS / 2];
}

/*
 * n deny entries spread over 1.0.0.0-223.255.255.255 with prefix lengths
 * 16..32, as a real denylist of single hosts and ranges would be, plus the
 * range of the denied test source.
 */
static int fill_deny(struct fixture *fx, unsigned int n)
{
	struct mxg_deny dv = { .reason = MXG_REASON_IMPORT, .ban_count = 1 };
	int fd = bpf_map__fd(fx->skel->maps.deny_v4);
	uint32_t x = 2463534242U, a;
	struct mxg_lpm_v4 k;
	unsigned int i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		a = 0x01000000U + x % (0xE0000000U - 0x01000000U);
		k.prefixlen = 16 + x % 17;
		a &= k.prefixlen == 32 ? ~0U : ~(~0U >> k.prefixlen);
		if ((a >> 16) == 0xC612)	/* keep 198.18.0.0/16 for the test sources */
			a ^= 0x00010000;
		a = htonl(a);
		memcpy(k.addr, &a, 4);
		if (bpf_map_update_elem(fd, &k, &dv, BPF_ANY))
			return -errno;
	}
	return list_add(fx, true, "198.18.66.0/24", 0);
}

struct scenario {
	const char *name;
	struct pkt_spec pkt;
	uint32_t verdict;
};

static const struct scenario scenarios[] = {
	{ "non-SMTP (SYN to 80)", { .family = 4, .src = "198.18.1.1", .dport = 80, .tcp_flags = TF_SYN }, XDP_PASS },
	{ "SYN to 25, within limit", { .family = 4, .src = "198.18.1.1", .dport = 25, .tcp_flags = TF_SYN }, XDP_PASS },
	{ "SYN to 25, denied source", { .family = 4, .src = "198.18.66.7", .dport = 25, .tcp_flags = TF_SYN }, XDP_DROP },
	{ "SYN to 587, over limit", { .family = 4, .src = "198.18.2.1", .dport = 587, .tcp_flags = TF_SYN }, XDP_DROP },
	{ "fragment, denied source", { .family = 4, .src = "198.18.66.7", .frag = 185, .dport = 25 }, XDP_DROP },
	{ "tiny first fragment to 25", { .family = 4, .src = "198.18.1.1", .frag = 0x2000, .dport = 25,
					 .tcp_flags = TF_SYN, .l4_len = 8 }, XDP_DROP },
};

#define NSCEN (sizeof(scenarios) / sizeof(scenarios[0]))
#define NSIZE (sizeof(deny_sizes) / sizeof(deny_sizes[0]))

int main(int argc, char **argv)
{
	unsigned int repeat = argc > 1 ? strtoul(argv[1], NULL, 0) : 1000000;
	double ns[NSCEN][NSIZE], base;
	struct frame f, pass_frame;
	struct fixture fx;
	unsigned int s, z;
	int pass_fd, err;

	if (bpffs_ready()) {
		fprintf(stderr, "bench_xdp: /sys/fs/bpf is not a bpffs (mount -t bpf bpf /sys/fs/bpf)\n");
		return 1;
	}
	pass_fd = load_pass_prog();
	if (pass_fd < 0) {
		fprintf(stderr, "bench_xdp: cannot load the XDP_PASS program: %s\n", strerror(errno));
		return 1;
	}
	pkt_build(&scenarios[1].pkt, &pass_frame);
	base = ns_per_pkt(pass_fd, &pass_frame, repeat, XDP_PASS);

	for (z = 0; z < NSIZE; z++) {
		err = fixture_open(&fx);
		if (err) {
			fprintf(stderr, "bench_xdp: cannot load mxguard: %s\n", strerror(-err));
			return 1;
		}
		/* 25: never runs out in 5 x repeat SYNs; 587: one SYN, then all over the limit */
		set_port(&fx, 25, MXG_RATE_MAX_PPS, MXG_BURST_MAX);
		set_port(&fx, 587, 1, 1);
		err = fill_deny(&fx, deny_sizes[z]);
		if (err) {
			fprintf(stderr, "bench_xdp: cannot fill deny_v4: %s\n", strerror(-err));
			fixture_close(&fx);
			return 1;
		}
		for (s = 0; s < NSCEN; s++) {
			pkt_build(&scenarios[s].pkt, &f);
			if (s == 3)	/* take the only token first */
				run_frame(fx.prog_fd, &f, 1, NULL, NULL);
			ns[s][z] = ns_per_pkt(fx.prog_fd, &f, repeat, scenarios[s].verdict);
		}
		fixture_close(&fx);
	}
	/* the XDP_PASS figure again, to show drift over the run */
	base = (base + ns_per_pkt(pass_fd, &pass_frame, repeat, XDP_PASS)) / 2;
	close(pass_fd);

	printf("XDP per-packet cost, BPF_PROG_TEST_RUN, repeat %u, median of %d\n", repeat, ROUNDS);
	printf("%-28s", "program / packet");
	for (z = 0; z < NSIZE; z++) {
		char col[32];

		snprintf(col, sizeof(col), "deny_v4=%u", deny_sizes[z]);
		printf("  %15s  %6s", col, "ratio");
	}
	printf("\n%-28s", "XDP_PASS only (2 insns)");
	for (z = 0; z < NSIZE; z++)
		printf("  %12.1f ns  %5.2fx", base, 1.0);
	printf("\n");
	for (s = 0; s < NSCEN; s++) {
		printf("%-28s", scenarios[s].name);
		for (z = 0; z < NSIZE; z++)
			printf("  %12.1f ns  %5.2fx", ns[s][z], base > 0 ? ns[s][z] / base : 0);
		printf("\n");
	}
	return 0;
}
