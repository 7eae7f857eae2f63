// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP program under BPF_PROG_TEST_RUN: a table of crafted frames with
 * their expected verdict and the statistics counter they must move, then
 * sequences (rate limiting per prefix, monitor mode, hit counters, ring
 * buffer events) and a two-CPU rate accuracy check.
 *
 * Every case loads a fresh skeleton with its maps pinned under its own
 * directory /sys/fs/bpf/mxg-test-PID-N, so nothing leaks between cases and
 * nothing touches a running daemon's pins; the directory is removed even
 * when the case fails.
 */
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <sys/mount.h>

#include "test.h"
#include "xdp_fixture.h"

/* Statistics counter by name; 0 means "none". */
#define ST(f) (offsetof(struct mxg_stats, f) + 1)

static const char *const stat_names[] = {
	"packets", "passed", "dropped", "malformed", "non_ip", "smtp_syn",
	"allowlisted", "denied", "deny_expired", "rate_limited", "monitor_deny",
	"monitor_rate", "events", "events_lost", "cas_busy", "frag_denied",
	"frag_invalid", "monitor_frag", "deny_cached",
};

enum expiry { EXP_PERMANENT = 0, EXP_PAST, EXP_FUTURE };

/* Deny/allow entries and config flags a row starts from. */
struct row_setup {
	uint32_t flags;			/* MXG_F_* */
	const char *deny[2];
	enum expiry deny_expiry;
	const char *allow[2];
};

struct xdp_row {
	const char *name;		/* the behaviour, as printed */
	struct pkt_spec pkt;
	struct row_setup setup;
	int verdict;			/* XDP_PASS or XDP_DROP */
	size_t moved;			/* ST(counter) that moves by one, or 0 */
	size_t unmoved;			/* ST(counter) that must not move, or 0 */
	bool no_bucket;			/* no token bucket may be created */
	int run_err;			/* test_run is expected to refuse the frame */
};

/* Sources: a clean host in each family, and one inside the denied ranges. */
#define SRC4	"198.18.1.1"
#define SRC6	"2001:db8:1::1"
#define BAD4	"198.18.66.7"
#define BAD6	"2001:db8:66::7"
#define DENY_BAD { "198.18.66.0/24", "2001:db8:66::/48" }

#define SYN4(port)	{ .family = 4, .src = SRC4, .dport = (port), .tcp_flags = TF_SYN }
#define SYN6(port)	{ .family = 6, .src = SRC6, .dport = (port), .tcp_flags = TF_SYN }

/* Rows are positional (name, frame, setup, verdict, moved, unmoved, ...); trailing fields default to 0. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct xdp_row rows[] = {
	/* SYNs to protected and unprotected ports */
	{ "v4_syn_to_25_passes_and_counts_smtp_syn", SYN4(25), {}, XDP_PASS, ST(smtp_syn) },
	{ "v4_syn_to_465_passes_and_counts_smtp_syn", SYN4(465), {}, XDP_PASS, ST(smtp_syn) },
	{ "v4_syn_to_587_passes_and_counts_smtp_syn", SYN4(587), {}, XDP_PASS, ST(smtp_syn) },
	{ "v4_syn_to_80_passes_without_smtp_syn", SYN4(80), {}, XDP_PASS, 0, ST(smtp_syn), true },
	{ "v6_syn_to_25_passes_and_counts_smtp_syn", SYN6(25), {}, XDP_PASS, ST(smtp_syn) },
	{ "v6_syn_to_465_passes_and_counts_smtp_syn", SYN6(465), {}, XDP_PASS, ST(smtp_syn) },
	{ "v6_syn_to_587_passes_and_counts_smtp_syn", SYN6(587), {}, XDP_PASS, ST(smtp_syn) },
	{ "v6_syn_to_80_passes_without_smtp_syn", SYN6(80), {}, XDP_PASS, 0, ST(smtp_syn), true },

	/* Not a new connection: no bucket is taken */
	{ "v4_ack_to_25_passes_without_taking_a_bucket",
	  { .family = 4, .src = SRC4, .dport = 25, .tcp_flags = TF_ACK },
	  {}, XDP_PASS, ST(passed), ST(smtp_syn), true },
	{ "v4_synack_to_25_passes_without_taking_a_bucket",
	  { .family = 4, .src = SRC4, .dport = 25, .tcp_flags = TF_SYN | TF_ACK },
	  {}, XDP_PASS, ST(passed), ST(smtp_syn), true },
	{ "v4_rst_to_25_passes_without_taking_a_bucket",
	  { .family = 4, .src = SRC4, .dport = 25, .tcp_flags = TF_RST },
	  {}, XDP_PASS, ST(passed), ST(smtp_syn), true },
	{ "v6_ack_to_25_passes_without_taking_a_bucket",
	  { .family = 6, .src = SRC6, .dport = 25, .tcp_flags = TF_ACK },
	  {}, XDP_PASS, ST(passed), ST(smtp_syn), true },

	/* VLAN tags are walked */
	{ "vlan_8021q_v4_syn_from_denied_source_is_dropped",
	  { .family = 4, .src = BAD4, .vlan = 1, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_DROP, ST(denied) },
	{ "qinq_8021ad_8021q_v4_syn_from_denied_source_is_dropped",
	  { .family = 4, .src = BAD4, .vlan = 2, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_DROP, ST(denied) },
	{ "qinq_8021ad_8021q_v6_syn_from_denied_source_is_dropped",
	  { .family = 6, .src = BAD6, .vlan = 2, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_DROP, ST(denied) },
	{ "qinq_v4_syn_from_clean_source_counts_smtp_syn",
	  { .family = 4, .src = SRC4, .vlan = 2, .dport = 25, .tcp_flags = TF_SYN },
	  {}, XDP_PASS, ST(smtp_syn) },

	/* IPv4 header length */
	{ "v4_options_ihl8_syn_from_denied_source_is_dropped",
	  { .family = 4, .src = BAD4, .ihl = 8, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_DROP, ST(denied) },
	{ "v4_ihl_below_5_is_malformed_and_passes",
	  { .family = 4, .src = BAD4, .ihl = 4, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_PASS, ST(malformed), ST(denied) },

	/* IPv6 extension headers */
	{ "v6_ext_chain_hbh_rt_dst_frag_syn_from_denied_source_is_dropped",
	  { .family = 6, .src = BAD6, .v6_ext_chain = true, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_DROP, ST(denied) },
	{ "v6_ext_chain_hbh_rt_dst_frag_syn_from_clean_source_counts_smtp_syn",
	  { .family = 6, .src = SRC6, .v6_ext_chain = true, .dport = 25, .tcp_flags = TF_SYN },
	  {}, XDP_PASS, ST(smtp_syn) },

	/* Fragments: only a first fragment carries a TCP header */
	{ "v4_first_fragment_syn_from_denied_source_is_dropped",
	  { .family = 4, .src = BAD4, .frag = 0x2000 /* MF, offset 0 */, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_DROP, ST(denied) },
	{ "v4_non_first_fragment_from_clean_source_looking_like_syn_to_25_is_not_tcp_and_passes",
	  { .family = 4, .src = SRC4, .frag = 0x2000 | 185, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_PASS, ST(passed), ST(smtp_syn), true },
	{ "v4_last_fragment_from_clean_source_looking_like_syn_to_25_is_not_tcp_and_passes",
	  { .family = 4, .src = SRC4, .frag = 185, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_PASS, ST(passed), ST(smtp_syn), true },
	{ "v6_first_fragment_syn_from_denied_source_is_dropped",
	  { .family = 6, .src = BAD6, .v6_frag = true, .frag = 1 /* M, offset 0 */, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_DROP, ST(denied) },
	{ "v6_non_first_fragment_from_clean_source_looking_like_syn_to_25_is_not_tcp_and_passes",
	  { .family = 6, .src = SRC6, .v6_frag = true, .frag = (100 << 3) | 1, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_PASS, ST(passed), ST(smtp_syn), true },

	/* Fragments from a denied source: every one is dropped, whatever the scope */
	{ "v4_tiny_first_fragment_8_bytes_from_denied_source_to_25_is_dropped",
	  { .family = 4, .src = BAD4, .frag = 0x2000, .dport = 25, .tcp_flags = TF_SYN, .l4_len = 8 },
	  { .deny = DENY_BAD }, XDP_DROP, ST(denied), 0, true },
	{ "v4_second_fragment_at_offset_8_of_tiny_syn_from_denied_source_is_dropped",
	  { .family = 4, .src = BAD4, .frag = 1, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_DROP, ST(frag_denied), ST(smtp_syn), true },
	{ "v4_non_first_fragment_from_denied_source_is_dropped",
	  { .family = 4, .src = BAD4, .frag = 0x2000 | 185, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_DROP, ST(frag_denied), ST(smtp_syn), true },
	{ "v4_last_fragment_from_denied_source_is_dropped",
	  { .family = 4, .src = BAD4, .frag = 185, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_DROP, ST(frag_denied), ST(smtp_syn), true },
	{ "v4_udp_first_fragment_from_denied_source_is_dropped_in_smtp_scope",
	  { .family = 4, .src = BAD4, .proto = IPPROTO_UDP, .frag = 0x2000, .dport = 53 },
	  { .deny = DENY_BAD }, XDP_DROP, ST(frag_denied), 0, true },
	{ "v4_first_fragment_to_80_from_denied_source_is_dropped_in_smtp_scope",
	  { .family = 4, .src = BAD4, .frag = 0x2000, .dport = 80, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_DROP, ST(frag_denied), ST(smtp_syn), true },
	{ "deny_all_scope_non_first_fragment_from_denied_source_counts_denied",
	  { .family = 4, .src = BAD4, .frag = 185, .dport = 25, .tcp_flags = TF_SYN },
	  { .flags = MXG_F_DENY_ALL, .deny = DENY_BAD }, XDP_DROP, ST(denied), ST(frag_denied), true },
	{ "v6_tiny_first_fragment_8_bytes_from_denied_source_to_25_is_dropped",
	  { .family = 6, .src = BAD6, .v6_frag = true, .frag = 1, .dport = 25, .tcp_flags = TF_SYN, .l4_len = 8 },
	  { .deny = DENY_BAD }, XDP_DROP, ST(denied), 0, true },
	{ "v6_non_first_fragment_from_denied_source_is_dropped",
	  { .family = 6, .src = BAD6, .v6_frag = true, .frag = (100 << 3) | 1, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_DROP, ST(frag_denied), ST(smtp_syn), true },
	{ "v6_last_fragment_from_denied_source_is_dropped",
	  { .family = 6, .src = BAD6, .v6_frag = true, .frag = 100 << 3, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_DROP, ST(frag_denied), ST(smtp_syn), true },
	{ "v4_fragment_from_expired_ban_passes_and_counts_deny_expired",
	  { .family = 4, .src = BAD4, .frag = 185, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD, .deny_expiry = EXP_PAST }, XDP_PASS, ST(deny_expired), ST(frag_denied), true },
	{ "v4_tiny_first_fragment_from_allowlisted_denied_source_passes",
	  { .family = 4, .src = BAD4, .frag = 0x2000, .dport = 25, .tcp_flags = TF_SYN, .l4_len = 8 },
	  { .deny = { "198.18.66.0/24" }, .allow = { "198.18.66.7/32" } },
	  XDP_PASS, ST(allowlisted), ST(frag_invalid), true },
	{ "monitor_mode_fragment_from_denied_source_passes_and_counts_monitor_deny",
	  { .family = 4, .src = BAD4, .frag = 185, .dport = 25, .tcp_flags = TF_SYN },
	  { .flags = MXG_F_MONITOR, .deny = DENY_BAD }, XDP_PASS, ST(monitor_deny), ST(frag_denied), true },

	/* Fragment shapes RFC 1858, 3128 and 7112 call attacks: dropped from anyone not allowlisted */
	{ "v4_tiny_first_fragment_from_clean_source_to_25_is_dropped",
	  { .family = 4, .src = SRC4, .frag = 0x2000, .dport = 25, .tcp_flags = TF_SYN, .l4_len = 8 },
	  {}, XDP_DROP, ST(frag_invalid), ST(smtp_syn), true },
	{ "v4_tiny_first_fragment_padded_to_60_bytes_to_25_is_dropped",
	  { .family = 4, .src = SRC4, .frag = 0x2000, .dport = 25, .tcp_flags = TF_SYN, .l4_len = 8, .pad = 18 },
	  {}, XDP_DROP, ST(frag_invalid), ST(smtp_syn), true },
	{ "v4_first_fragment_without_tcp_bytes_port_unreadable_is_dropped",
	  { .family = 4, .src = SRC4, .frag = 0x2000, .dport = 80, .tcp_flags = TF_SYN, .l4_len = -1 },
	  {}, XDP_DROP, ST(frag_invalid), ST(smtp_syn), true },
	{ "v4_tiny_first_fragment_from_clean_source_to_80_passes",
	  { .family = 4, .src = SRC4, .frag = 0x2000, .dport = 80, .tcp_flags = TF_SYN, .l4_len = 8 },
	  {}, XDP_PASS, ST(passed), ST(frag_invalid), true },
	{ "v4_offset_8_tcp_fragment_from_clean_source_is_dropped",
	  { .family = 4, .src = SRC4, .frag = 1, .dport = 25, .tcp_flags = TF_SYN },
	  {}, XDP_DROP, ST(frag_invalid), ST(smtp_syn), true },
	{ "v4_offset_16_tcp_fragment_from_clean_source_passes",
	  { .family = 4, .src = SRC4, .frag = 2, .dport = 25, .tcp_flags = TF_SYN },
	  {}, XDP_PASS, ST(passed), ST(frag_invalid), true },
	{ "v4_offset_8_udp_fragment_from_clean_source_passes",
	  { .family = 4, .src = SRC4, .proto = IPPROTO_UDP, .frag = 1, .dport = 53 },
	  {}, XDP_PASS, ST(passed), ST(frag_invalid), true },
	{ "v4_first_fragment_syn_from_clean_source_to_25_counts_smtp_syn_and_passes",
	  { .family = 4, .src = SRC4, .frag = 0x2000, .dport = 25, .tcp_flags = TF_SYN },
	  {}, XDP_PASS, ST(smtp_syn), ST(frag_invalid) },
	{ "v6_tiny_first_fragment_from_clean_source_to_25_is_dropped",
	  { .family = 6, .src = SRC6, .v6_frag = true, .frag = 1, .dport = 25, .tcp_flags = TF_SYN, .l4_len = 8 },
	  {}, XDP_DROP, ST(frag_invalid), ST(smtp_syn), true },
	{ "v6_tiny_first_fragment_padded_past_payload_length_to_25_is_dropped",
	  { .family = 6, .src = SRC6, .v6_frag = true, .frag = 1, .dport = 25, .tcp_flags = TF_SYN, .l4_len = 8, .pad = 12 },
	  {}, XDP_DROP, ST(frag_invalid), ST(smtp_syn), true },
	{ "v6_first_fragment_without_tcp_bytes_port_unreadable_is_dropped",
	  { .family = 6, .src = SRC6, .v6_frag = true, .frag = 1, .dport = 80, .tcp_flags = TF_SYN, .l4_len = -1 },
	  {}, XDP_DROP, ST(frag_invalid), ST(smtp_syn), true },
	{ "v6_ext_chain_tiny_first_fragment_to_25_is_dropped",
	  { .family = 6, .src = SRC6, .v6_ext_chain = true, .dport = 25, .tcp_flags = TF_SYN, .l4_len = 8 },
	  {}, XDP_DROP, ST(frag_invalid), ST(smtp_syn), true },
	{ "v6_offset_8_tcp_fragment_from_clean_source_is_dropped",
	  { .family = 6, .src = SRC6, .v6_frag = true, .frag = 1 << 3, .dport = 25, .tcp_flags = TF_SYN },
	  {}, XDP_DROP, ST(frag_invalid), ST(smtp_syn), true },
	/* IPv6 reassembly takes the protocol from the first fragment: a later one may name any */
	{ "v6_offset_8_fragment_naming_udp_from_clean_source_is_dropped",
	  { .family = 6, .src = SRC6, .v6_frag = true, .proto = IPPROTO_UDP, .frag = 1 << 3, .dport = 53 },
	  {}, XDP_DROP, ST(frag_invalid) },
	{ "v6_offset_16_fragment_from_clean_source_passes",
	  { .family = 6, .src = SRC6, .v6_frag = true, .frag = 2 << 3, .dport = 25, .tcp_flags = TF_SYN },
	  {}, XDP_PASS, ST(passed), ST(frag_invalid), true },
	{ "v6_first_fragment_syn_from_clean_source_to_25_counts_smtp_syn_and_passes",
	  { .family = 6, .src = SRC6, .v6_frag = true, .frag = 1, .dport = 25, .tcp_flags = TF_SYN },
	  {}, XDP_PASS, ST(smtp_syn), ST(frag_invalid) },
	{ "v6_atomic_fragment_with_truncated_tcp_is_malformed_and_passes",
	  { .family = 6, .src = BAD6, .v6_frag = true, .frag = 0, .dport = 25, .tcp_flags = TF_SYN, .cut = CUT_TCP },
	  { .deny = DENY_BAD }, XDP_PASS, ST(malformed), ST(denied), true },
	{ "v4_tiny_fragment_from_clean_source_never_takes_a_token",
	  { .family = 4, .src = SRC4, .frag = 0x2000, .dport = 587, .tcp_flags = TF_SYN, .l4_len = 12 },
	  {}, XDP_DROP, ST(frag_invalid), ST(rate_limited), true },
	{ "monitor_mode_tiny_first_fragment_passes_and_counts_monitor_frag",
	  { .family = 4, .src = SRC4, .frag = 0x2000, .dport = 25, .tcp_flags = TF_SYN, .l4_len = 8 },
	  { .flags = MXG_F_MONITOR }, XDP_PASS, ST(monitor_frag), ST(frag_invalid), true },

	/* Truncated at every header: malformed, passed, never dropped */
	{ "truncated_in_eth_header_is_refused_by_test_run",
	  { .family = 4, .src = BAD4, .dport = 25, .tcp_flags = TF_SYN, .cut = CUT_ETH },
	  { .deny = DENY_BAD }, XDP_PASS, 0, 0, true, -EINVAL },
	{ "truncated_in_vlan_tag_is_malformed_and_passes",
	  { .family = 4, .src = BAD4, .vlan = 1, .dport = 25, .tcp_flags = TF_SYN, .cut = CUT_VLAN },
	  { .deny = DENY_BAD }, XDP_PASS, ST(malformed), ST(denied), true },
	{ "truncated_in_inner_qinq_tag_is_malformed_and_passes",
	  { .family = 4, .src = BAD4, .vlan = 2, .dport = 25, .tcp_flags = TF_SYN, .cut = CUT_VLAN },
	  { .deny = DENY_BAD }, XDP_PASS, ST(malformed), ST(denied), true },
	{ "truncated_in_v4_header_is_malformed_and_passes",
	  { .family = 4, .src = BAD4, .dport = 25, .tcp_flags = TF_SYN, .cut = CUT_IP },
	  { .deny = DENY_BAD }, XDP_PASS, ST(malformed), ST(denied), true },
	{ "truncated_in_v6_header_is_malformed_and_passes",
	  { .family = 6, .src = BAD6, .dport = 25, .tcp_flags = TF_SYN, .cut = CUT_IP },
	  { .deny = DENY_BAD }, XDP_PASS, ST(malformed), ST(denied), true },
	{ "truncated_in_v4_options_is_malformed_and_passes",
	  { .family = 4, .src = BAD4, .ihl = 8, .dport = 25, .tcp_flags = TF_SYN, .cut = CUT_IPOPT },
	  { .deny = DENY_BAD }, XDP_PASS, ST(malformed), ST(denied), true },
	{ "truncated_in_first_v6_ext_header_is_malformed_and_passes",
	  { .family = 6, .src = BAD6, .v6_ext_chain = true, .dport = 25, .tcp_flags = TF_SYN, .cut = CUT_V6EXT },
	  { .deny = DENY_BAD }, XDP_PASS, ST(malformed), ST(denied), true },
	{ "truncated_in_v6_dstopts_body_is_malformed_and_passes",
	  { .family = 6, .src = BAD6, .v6_ext_chain = true, .dport = 25, .tcp_flags = TF_SYN, .cut = CUT_V6EXT_BODY },
	  { .deny = DENY_BAD }, XDP_PASS, ST(malformed), ST(denied), true },
	{ "truncated_in_v6_fragment_header_is_malformed_and_passes",
	  { .family = 6, .src = BAD6, .v6_frag = true, .dport = 25, .tcp_flags = TF_SYN, .cut = CUT_V6EXT },
	  { .deny = DENY_BAD }, XDP_PASS, ST(malformed), ST(denied), true },
	{ "truncated_in_v4_tcp_header_is_malformed_and_passes",
	  { .family = 4, .src = BAD4, .dport = 25, .tcp_flags = TF_SYN, .cut = CUT_TCP },
	  { .deny = DENY_BAD }, XDP_PASS, ST(malformed), ST(denied), true },
	{ "truncated_in_v6_tcp_header_is_malformed_and_passes",
	  { .family = 6, .src = BAD6, .dport = 25, .tcp_flags = TF_SYN, .cut = CUT_TCP },
	  { .deny = DENY_BAD }, XDP_PASS, ST(malformed), ST(denied), true },

	/* Not IP */
	{ "arp_is_non_ip_and_passes", { .family = 0 }, {}, XDP_PASS, ST(non_ip) },

	/* Allow beats deny */
	{ "allow_and_deny_of_same_24_allow_wins",
	  { .family = 4, .src = BAD4, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = { "198.18.66.0/24" }, .allow = { "198.18.66.0/24" } },
	  XDP_PASS, ST(allowlisted), ST(denied), true },
	{ "allow_32_inside_deny_24_passes",
	  { .family = 4, .src = BAD4, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = { "198.18.66.0/24" }, .allow = { "198.18.66.7/32" } },
	  XDP_PASS, ST(allowlisted), ST(denied), true },
	{ "deny_32_inside_allow_24_passes",
	  { .family = 4, .src = BAD4, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = { "198.18.66.7/32" }, .allow = { "198.18.66.0/24" } },
	  XDP_PASS, ST(allowlisted), ST(denied), true },
	{ "v6_allow_128_inside_deny_48_passes",
	  { .family = 6, .src = BAD6, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = { "2001:db8:66::/48" }, .allow = { "2001:db8:66::7/128" } },
	  XDP_PASS, ST(allowlisted), ST(denied), true },

	/* Expiry */
	{ "expired_deny_passes_and_counts_deny_expired",
	  { .family = 4, .src = BAD4, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD, .deny_expiry = EXP_PAST }, XDP_PASS, ST(deny_expired), ST(denied) },
	{ "v6_expired_deny_passes_and_counts_deny_expired",
	  { .family = 6, .src = BAD6, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD, .deny_expiry = EXP_PAST }, XDP_PASS, ST(deny_expired), ST(denied) },
	{ "permanent_deny_drops",
	  { .family = 4, .src = BAD4, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD, .deny_expiry = EXP_PERMANENT }, XDP_DROP, ST(denied), 0, true },
	{ "v6_permanent_deny_drops",
	  { .family = 6, .src = BAD6, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD, .deny_expiry = EXP_PERMANENT }, XDP_DROP, ST(denied), 0, true },
	{ "future_expiry_deny_drops",
	  { .family = 4, .src = BAD4, .dport = 25, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD, .deny_expiry = EXP_FUTURE }, XDP_DROP, ST(denied) },

	/* Deny scope: SMTP ports only (default) or everything */
	{ "smtp_scope_denied_tcp_to_80_passes",
	  { .family = 4, .src = BAD4, .dport = 80, .tcp_flags = TF_SYN },
	  { .deny = DENY_BAD }, XDP_PASS, ST(passed), ST(denied), true },
	{ "smtp_scope_denied_udp_passes",
	  { .family = 4, .src = BAD4, .proto = IPPROTO_UDP, .dport = 25 },
	  { .deny = DENY_BAD }, XDP_PASS, ST(passed), ST(denied), true },
	{ "smtp_scope_denied_plain_ack_to_25_drops",
	  { .family = 4, .src = BAD4, .dport = 25, .tcp_flags = TF_ACK },
	  { .deny = DENY_BAD }, XDP_DROP, ST(denied), ST(smtp_syn), true },
	{ "smtp_scope_v6_denied_plain_ack_to_587_drops",
	  { .family = 6, .src = BAD6, .dport = 587, .tcp_flags = TF_ACK },
	  { .deny = DENY_BAD }, XDP_DROP, ST(denied), ST(smtp_syn), true },
	{ "deny_all_scope_denied_tcp_to_80_drops",
	  { .family = 4, .src = BAD4, .dport = 80, .tcp_flags = TF_SYN },
	  { .flags = MXG_F_DENY_ALL, .deny = DENY_BAD }, XDP_DROP, ST(denied), ST(smtp_syn), true },
	{ "deny_all_scope_denied_udp_drops",
	  { .family = 4, .src = BAD4, .proto = IPPROTO_UDP, .dport = 53 },
	  { .flags = MXG_F_DENY_ALL, .deny = DENY_BAD }, XDP_DROP, ST(denied) },
	{ "deny_all_scope_denied_icmp_drops",
	  { .family = 4, .src = BAD4, .proto = IPPROTO_ICMP },
	  { .flags = MXG_F_DENY_ALL, .deny = DENY_BAD }, XDP_DROP, ST(denied) },
	{ "deny_all_scope_v6_denied_udp_drops",
	  { .family = 6, .src = BAD6, .proto = IPPROTO_UDP, .dport = 53 },
	  { .flags = MXG_F_DENY_ALL, .deny = DENY_BAD }, XDP_DROP, ST(denied) },
	{ "deny_all_scope_v6_denied_icmpv6_drops",
	  { .family = 6, .src = BAD6, .proto = IPPROTO_ICMP },
	  { .flags = MXG_F_DENY_ALL, .deny = DENY_BAD }, XDP_DROP, ST(denied) },
	{ "deny_all_scope_clean_udp_passes",
	  { .family = 4, .src = SRC4, .proto = IPPROTO_UDP, .dport = 53 },
	  { .flags = MXG_F_DENY_ALL, .deny = DENY_BAD }, XDP_PASS, ST(passed), ST(denied) },

	/* Monitor mode counts, drops nothing */
	{ "monitor_mode_denied_syn_passes_and_counts_monitor_deny",
	  { .family = 4, .src = BAD4, .dport = 25, .tcp_flags = TF_SYN },
	  { .flags = MXG_F_MONITOR, .deny = DENY_BAD }, XDP_PASS, ST(monitor_deny), ST(denied) },
};
#pragma GCC diagnostic pop

static bool rate_map_empty(struct bpf_map *m)
{
	uint8_t next[32];

	return bpf_map_get_next_key(bpf_map__fd(m), NULL, next) && errno == ENOENT;
}

static bool setup_apply(struct fixture *fx, const struct row_setup *s)
{
	int64_t now = boot_ns();
	uint64_t exp = s->deny_expiry == EXP_PAST ? (uint64_t)(now - 1000000000LL) :
		       s->deny_expiry == EXP_FUTURE ? (uint64_t)(now + 3600 * 1000000000LL) : 0;
	bool ok = true;
	int i;

	ok &= ASSERT_EQ(set_config(fx, s->flags, 24, 64), 0, "write config");
	for (i = 0; i < 2; i++) {
		if (s->deny[i])
			ok &= ASSERT_EQ(list_add(fx, true, s->deny[i], exp), 0, s->deny[i]);
		if (s->allow[i])
			ok &= ASSERT_EQ(list_add(fx, false, s->allow[i], 0), 0, s->allow[i]);
	}
	return ok;
}

/* Compare every counter: `moved` by one, packets and the verdict counter by one, the rest still. */
static bool stats_expect(const struct mxg_stats *a, const struct mxg_stats *b,
			 int verdict, size_t moved, size_t unmoved)
{
	bool ok = true;
	size_t i;

	for (i = 0; i < sizeof(*a) / 8; i++) {
		size_t off = i * 8;
		uint64_t d = stat_at(b, off) - stat_at(a, off);
		uint64_t want = 0;

		if (off == offsetof(struct mxg_stats, packets))
			want = 1;
		else if (off == offsetof(struct mxg_stats, passed))
			want = verdict == XDP_PASS;
		else if (off == offsetof(struct mxg_stats, dropped))
			want = verdict == XDP_DROP;
		if (moved && off == moved - 1)
			want = 1;
		if (unmoved && off == unmoved - 1 && want) {
			fprintf(stderr, "  row asks %s to move and not to move\n", stat_names[i]);
			return false;
		}
		/* events and SYN counting are checked only when a row names them */
		if ((off == offsetof(struct mxg_stats, events) ||
		     off == offsetof(struct mxg_stats, smtp_syn)) &&
		    !(moved && off == moved - 1) && !(unmoved && off == unmoved - 1))
			continue;
		ok &= ASSERT_EQ(d, want, stat_names[i]);
	}
	return ok;
}

static const struct xdp_row *cur_row;

static bool run_row(void)
{
	const struct xdp_row *r = cur_row;
	struct mxg_stats before = {}, after = {};
	struct fixture fx;
	struct frame f;
	uint32_t verdict = ~0U;
	bool ok = true;
	int err;

	if (!ASSERT_EQ(pkt_build(&r->pkt, &f), 0, "build frame"))
		return false;
	if (!ASSERT_EQ(fixture_open(&fx), 0, "load program"))
		return false;
	ok &= setup_apply(&fx, &r->setup);
	ok &= ASSERT_EQ(stats_read(&fx, &before), 0, "read stats");
	err = run_frame(fx.prog_fd, &f, 1, &verdict, NULL);
	if (r->run_err) {
		ok &= ASSERT_EQ(err, r->run_err, "test_run error for a runt frame");
		ok &= ASSERT_EQ(stats_read(&fx, &after), 0, "read stats");
		ok &= ASSERT_EQ(after.packets - before.packets, 0, "program never ran");
		goto out;
	}
	if (!ASSERT_EQ(err, 0, "bpf_prog_test_run_opts")) {
		ok = false;
		goto out;
	}
	ok &= ASSERT_EQ(verdict, r->verdict, "verdict (1 = DROP, 2 = PASS)");
	ok &= ASSERT_EQ(stats_read(&fx, &after), 0, "read stats");
	ok &= stats_expect(&before, &after, r->verdict, r->moved, r->unmoved);
	if (r->no_bucket) {
		ok &= ASSERT_TRUE(rate_map_empty(fx.skel->maps.rate_v4),
				  "no IPv4 token bucket created");
		ok &= ASSERT_TRUE(rate_map_empty(fx.skel->maps.rate_v6),
				  "no IPv6 token bucket created");
	}
out:
	fixture_close(&fx);
	return ok;
}

/* ---- sequences ---------------------------------------------------------- */

/* burst=2 rate=1: two SYNs from a and one from b (same prefix) -> b is dropped; c passes. */
static bool prefix_shares_bucket(const char *a, const char *b, const char *c,
				 uint32_t pv4, uint32_t pv6, bool shared)
{
	struct mxg_stats s0 = {}, s1 = {};
	struct fixture fx;
	bool ok = true;

	if (!ASSERT_EQ(fixture_open(&fx), 0, "load program"))
		return false;
	ok &= ASSERT_EQ(set_config(&fx, 0, pv4, pv6), 0, "config");
	ok &= ASSERT_EQ(set_port(&fx, 25, 1, 2), 0, "port 25 rate 1 burst 2");
	ok &= ASSERT_EQ(stats_read(&fx, &s0), 0, "stats");
	ok &= ASSERT_EQ(syn_from(&fx, a, 25), XDP_PASS, "first SYN from a");
	ok &= ASSERT_EQ(syn_from(&fx, a, 25), XDP_PASS, "second SYN from a");
	ok &= ASSERT_EQ(syn_from(&fx, b, 25), shared ? XDP_DROP : XDP_PASS,
			shared ? "SYN from b, same prefix, over burst" : "SYN from b, own prefix");
	ok &= ASSERT_EQ(syn_from(&fx, c, 25), XDP_PASS, "SYN from c, other prefix");
	ok &= ASSERT_EQ(syn_from(&fx, a, 587), XDP_PASS, "SYN from a to 587, own bucket");
	ok &= ASSERT_EQ(stats_read(&fx, &s1), 0, "stats");
	ok &= ASSERT_EQ(s1.smtp_syn - s0.smtp_syn, 5, "smtp_syn");
	ok &= ASSERT_EQ(s1.rate_limited - s0.rate_limited, shared ? 1 : 0, "rate_limited");
	ok &= ASSERT_EQ(s1.dropped - s0.dropped, shared ? 1 : 0, "dropped");
	fixture_close(&fx);
	return ok;
}

static bool rate_v4_same_24_shares_a_bucket_other_24_does_not(void)
{
	return prefix_shares_bucket("198.18.7.1", "198.18.7.200", "198.18.8.1", 24, 64, true);
}

static bool rate_v6_same_64_shares_a_bucket_other_64_does_not(void)
{
	return prefix_shares_bucket("2001:db8:1:2::1", "2001:db8:1:2:ffff::9",
				    "2001:db8:1:3::1", 24, 64, true);
}

static bool rate_prefix_v4_32_stops_sharing_a_bucket(void)
{
	return prefix_shares_bucket("198.18.7.1", "198.18.7.200", "198.18.8.1", 32, 64, false);
}

static bool rate_prefix_v6_128_stops_sharing_a_bucket(void)
{
	return prefix_shares_bucket("2001:db8:1:2::1", "2001:db8:1:2:ffff::9",
				    "2001:db8:1:3::1", 24, 128, false);
}

/* A v6 prefix inside a 32-bit word: /56 joins 2001:db8:1:2:: and 2001:db8:1:ff::, not :100::. */
static bool rate_v6_prefix_56_masks_inside_a_word(void)
{
	return prefix_shares_bucket("2001:db8:1:2::1", "2001:db8:1:ff::9",
				    "2001:db8:1:100::1", 24, 56, true);
}

/* A prefix length change applies to the next SYN, without reloading. */
static bool rate_prefix_change_applies_live(void)
{
	struct fixture fx;
	bool ok = true;

	if (!ASSERT_EQ(fixture_open(&fx), 0, "load program"))
		return false;
	ok &= ASSERT_EQ(set_port(&fx, 25, 1, 1), 0, "port 25 rate 1 burst 1");
	ok &= ASSERT_EQ(syn_from(&fx, "198.18.7.1", 25), XDP_PASS, "first SYN of the /24");
	ok &= ASSERT_EQ(syn_from(&fx, "198.18.7.2", 25), XDP_DROP, "same /24, over burst");
	ok &= ASSERT_EQ(set_config(&fx, 0, 32, 64), 0, "prefix_v4 = 32");
	ok &= ASSERT_EQ(syn_from(&fx, "198.18.7.2", 25), XDP_PASS, "own /32 now");
	ok &= ASSERT_EQ(syn_from(&fx, "198.18.7.2", 25), XDP_DROP, "own /32 over burst");
	fixture_close(&fx);
	return ok;
}

static bool monitor_mode_rate_overflow_passes_and_counts_monitor_rate(void)
{
	struct mxg_stats s0 = {}, s1 = {};
	struct fixture fx;
	bool ok = true;
	int i;

	if (!ASSERT_EQ(fixture_open(&fx), 0, "load program"))
		return false;
	ok &= ASSERT_EQ(set_config(&fx, MXG_F_MONITOR, 24, 64), 0, "monitor mode");
	ok &= ASSERT_EQ(set_port(&fx, 25, 1, 2), 0, "port 25 rate 1 burst 2");
	ok &= ASSERT_EQ(stats_read(&fx, &s0), 0, "stats");
	for (i = 0; i < 5; i++)
		ok &= ASSERT_EQ(syn_from(&fx, "198.18.7.1", 25), XDP_PASS, "SYN in monitor mode");
	ok &= ASSERT_EQ(stats_read(&fx, &s1), 0, "stats");
	ok &= ASSERT_EQ(s1.monitor_rate - s0.monitor_rate, 3, "monitor_rate");
	ok &= ASSERT_EQ(s1.rate_limited - s0.rate_limited, 0, "rate_limited");
	ok &= ASSERT_EQ(s1.dropped - s0.dropped, 0, "dropped");
	ok &= ASSERT_EQ(s1.passed - s0.passed, 5, "passed");
	fixture_close(&fx);
	return ok;
}

/* Entries in a map (up to limit). */
static unsigned int map_count(struct bpf_map *m, unsigned int limit)
{
	uint8_t key[32], next[32];
	unsigned int n = 0;
	void *prev = NULL;

	while (n < limit && !bpf_map_get_next_key(bpf_map__fd(m), prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

/* A SYN to port 25 from (10 + i / 65536).(i / 256 % 256).(i % 256).1: a new /24 for each i. */
static int syn_from_24(struct fixture *fx, struct frame *f, uint32_t i)
{
	uint32_t v;

	/* The source address sits at Ethernet + 12 in an untagged IPv4 frame. */
	f->d[ETH_HLEN + 12] = (uint8_t)(10 + (i >> 16));
	f->d[ETH_HLEN + 13] = (uint8_t)(i >> 8);
	f->d[ETH_HLEN + 14] = (uint8_t)i;
	f->d[ETH_HLEN + 15] = 1;
	if (run_frame(fx->prog_fd, f, 1, &v, NULL))
		return -1;
	return v;
}

/* Outside a flood of new prefixes a prefix has its bucket from its first SYN. */
static bool first_syn_makes_a_bucket_outside_a_flood(void)
{
	struct mxg_rate_v4 k = { .addr = { 198, 18, 9, 0 }, .port = 25 };
	struct mxg_bucket b = {};
	struct fixture fx;
	bool ok = true;

	if (!ASSERT_EQ(fixture_open(&fx), 0, "load program"))
		return false;
	ok &= ASSERT_EQ(syn_from(&fx, "198.18.9.1", 25), XDP_PASS, "first SYN");
	ok &= ASSERT_EQ(bpf_map_lookup_elem(bpf_map__fd(fx.skel->maps.rate_v4), &k, &b), 0,
			"bucket made at the first SYN");
	ok &= ASSERT_EQ(b.syns, 1, "syns");
	fixture_close(&fx);
	return ok;
}

/*
 * During a flood of new prefixes (more than MXG_NEW_BUCKETS new buckets in
 * this jiffy on this CPU) a prefix's first SYN makes no bucket, and its
 * second makes one that holds both: burst 2 still lets exactly 2 through.
 * Retried when a jiffy boundary falls inside the few microseconds it takes.
 */
static bool flood_of_new_prefixes_second_syn_makes_the_bucket_with_both_counted(void)
{
	struct pkt_spec s = { .family = 4, .src = "10.0.0.1", .dport = 25, .tcp_flags = TF_SYN };
	struct mxg_rate_v4 k = { .port = 25 };
	struct mxg_bucket b = {};
	struct fixture fx;
	struct frame f;
	bool ok = true, seen = false;
	char src[32];
	uint32_t i, try;
	cpu_set_t one, old;

	if (!ASSERT_EQ(fixture_open(&fx), 0, "load program"))
		return false;
	/* rate_seen is per CPU: stay on one. */
	sched_getaffinity(0, sizeof(old), &old);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);
	ok &= ASSERT_EQ(set_port(&fx, 25, 1, 2), 0, "port 25 rate 1 burst 2");
	ok &= ASSERT_EQ(pkt_build(&s, &f), 0, "frame");
	for (try = 0; ok && !seen && try < 20; try++) {
		for (i = 0; i < 4 * MXG_NEW_BUCKETS; i++)
			syn_from_24(&fx, &f, try << 12 | i);
		snprintf(src, sizeof(src), "198.18.%u.1", 100 + try);
		k.addr[0] = 198;
		k.addr[1] = 18;
		k.addr[2] = (uint8_t)(100 + try);
		if (syn_from(&fx, src, 25) != XDP_PASS)
			ok = ASSERT_TRUE(false, "first SYN passes");
		if (!bpf_map_lookup_elem(bpf_map__fd(fx.skel->maps.rate_v4), &k, &b))
			continue;	/* a new jiffy began: not in flood mode, try again */
		seen = true;
		ok &= ASSERT_EQ(syn_from(&fx, src, 25), XDP_PASS, "second SYN, within burst 2");
		ok &= ASSERT_EQ(bpf_map_lookup_elem(bpf_map__fd(fx.skel->maps.rate_v4), &k, &b), 0,
				"bucket made at the second SYN");
		ok &= ASSERT_EQ(b.syns, 2, "both SYNs counted");
		ok &= ASSERT_EQ(syn_from(&fx, src, 25), XDP_DROP, "third SYN, over burst 2");
	}
	ok &= ASSERT_TRUE(seen, "flood mode reached within 20 tries");
	sched_setaffinity(0, sizeof(old), &old);
	fixture_close(&fx);
	return ok;
}

/*
 * The attacker's test: a prefix over its limit floods from 150,000 new /24s
 * besides (more than rate_v4's 131,072 buckets), hoping the LRU map evicts
 * its empty bucket so it starts again with a full one. The flood makes few
 * buckets, and the over-limit prefix stays dropped.
 */
static bool flood_of_new_prefixes_does_not_evict_a_bucket_over_its_limit(void)
{
	struct pkt_spec s = { .family = 4, .src = "10.0.0.1", .dport = 25, .tcp_flags = TF_SYN };
	struct fixture fx;
	struct frame f;
	unsigned int n;
	bool ok = true;
	uint32_t i;

	if (!ASSERT_EQ(fixture_open(&fx), 0, "load program"))
		return false;
	ok &= ASSERT_EQ(set_port(&fx, 25, 1, 1), 0, "port 25 rate 1 burst 1");
	ok &= ASSERT_EQ(syn_from(&fx, "198.18.7.1", 25), XDP_PASS, "attacker's first SYN");
	ok &= ASSERT_EQ(syn_from(&fx, "198.18.7.1", 25), XDP_DROP, "attacker over its limit");
	ok &= ASSERT_EQ(pkt_build(&s, &f), 0, "frame");
	for (i = 0; ok && i < 150000; i++)
		if (syn_from_24(&fx, &f, i) != XDP_PASS)
			ok = ASSERT_TRUE(false, "a new /24's first SYN passes");
	n = map_count(fx.skel->maps.rate_v4, MXG_RATE_MAX);
	printf("  info: 150,000 new /24s left %u buckets in rate_v4\n", n);
	ok &= ASSERT_TRUE(n < 75000, "the flood made fewer buckets than half its prefixes");
	ok &= ASSERT_EQ(syn_from(&fx, "198.18.7.1", 25), XDP_DROP, "attacker still over its limit");
	fixture_close(&fx);
	return ok;
}

/* The clock is read once a jiffy: a ban stops dropping within one of its expiry. */
static bool ban_stops_dropping_within_a_jiffy_of_its_expiry(void)
{
	struct fixture fx;
	bool ok = true;

	if (!ASSERT_EQ(fixture_open(&fx), 0, "load program"))
		return false;
	ok &= ASSERT_EQ(list_add(&fx, true, "198.18.66.0/24", boot_ns() + 30 * 1000000LL), 0,
			"ban for 30 ms");
	ok &= ASSERT_EQ(syn_from(&fx, BAD4, 25), XDP_DROP, "dropped while the ban holds");
	/* 30 ms to expiry, plus 20 ms: two jiffies even at HZ=100 */
	usleep(50 * 1000);
	ok &= ASSERT_EQ(syn_from(&fx, BAD4, 25), XDP_PASS, "passes once it expired");
	fixture_close(&fx);
	return ok;
}

/* IPv6: the deny cache (test_denycache) samples the hits of IPv4 bans it answers. */
static bool deny_entry_hit_counter_increments(void)
{
	struct mxg_lpm_v6 k = { .prefixlen = 48, .addr = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x66 } };
	struct mxg_deny d = {};
	struct fixture fx;
	bool ok = true;
	int i;

	if (!ASSERT_EQ(fixture_open(&fx), 0, "load program"))
		return false;
	ok &= ASSERT_EQ(list_add(&fx, true, "2001:db8:66::/48", 0), 0, "deny 2001:db8:66::/48");
	for (i = 0; i < 3; i++)
		ok &= ASSERT_EQ(syn_from(&fx, i == 1 ? "2001:db8:66:1::9" : BAD6, 25), XDP_DROP,
				"SYN from the denied /48");
	ok &= ASSERT_EQ(syn_from(&fx, "2001:db8:67::1", 25), XDP_PASS, "SYN from the next /48");
	ok &= ASSERT_EQ(bpf_map_lookup_elem(bpf_map__fd(fx.skel->maps.deny_v6), &k, &d), 0,
			"look up the deny entry");
	ok &= ASSERT_EQ(d.hits, 3, "hits");
	ok &= ASSERT_EQ(d.reason, MXG_REASON_MANUAL, "reason untouched");
	fixture_close(&fx);
	return ok;
}

/*
 * A host ban that ran out inside a banned range: the longest match is
 * expired, the program must look further and drop by the range.
 */
static bool expired_host_entry_inside_active_range_still_drops(void)
{
	uint64_t past = boot_ns() - 1000000000ULL;
	struct mxg_stats s0, s1;
	struct fixture fx;
	bool ok = true;

	if (!ASSERT_EQ(fixture_open(&fx), 0, "load program"))
		return false;
	ok &= ASSERT_EQ(list_add(&fx, true, "198.18.66.0/24", 0), 0, "deny the /24");
	ok &= ASSERT_EQ(list_add(&fx, true, "198.18.66.0/25", past), 0, "expired /25");
	ok &= ASSERT_EQ(list_add(&fx, true, "198.18.66.7/32", past), 0, "expired /32");
	ok &= ASSERT_EQ(list_add(&fx, true, "2001:db8:66::/48", 0), 0, "deny the /48");
	ok &= ASSERT_EQ(list_add(&fx, true, "2001:db8:66::7/128", past), 0, "expired /128");
	ok &= ASSERT_EQ(list_add(&fx, true, "198.18.67.7/32", past), 0, "expired, alone");
	stats_read(&fx, &s0);
	ok &= ASSERT_EQ(syn_from(&fx, "198.18.66.7", 25), XDP_DROP, "v4 host under the /24");
	ok &= ASSERT_EQ(syn_from(&fx, "2001:db8:66::7", 25), XDP_DROP, "v6 host under the /48");
	ok &= ASSERT_EQ(syn_from(&fx, "198.18.67.7", 25), XDP_PASS, "expired with nothing wider");
	stats_read(&fx, &s1);
	ok &= ASSERT_EQ(s1.denied - s0.denied, 2, "denied");
	ok &= ASSERT_EQ(s1.deny_expired - s0.deny_expired, 1, "deny_expired");
	fixture_close(&fx);
	return ok;
}

struct ev_log {
	struct mxg_event ev[16];
	int n;
};

static int ev_collect(void *ctx, void *data, size_t size)
{
	struct ev_log *log = ctx;

	if (size >= sizeof(struct mxg_event) && log->n < 16)
		memcpy(&log->ev[log->n], data, sizeof(struct mxg_event));
	log->n++;
	return 0;
}

/*
 * 102 SYNs from one /24 with burst 2 rate 1: 100 are dropped but only one
 * event comes out; a second /24 gets its own event; a second later the
 * first /24 reports again.
 */
static bool ringbuf_one_rate_event_per_bucket_per_second(void)
{
	static const uint8_t net7[4] = { 198, 18, 7, 0 }, net9[4] = { 198, 18, 9, 0 };
	struct ring_buffer *rb = NULL;
	struct mxg_stats s0 = {}, s1 = {};
	struct ev_log log = {};
	struct fixture fx;
	bool ok = true;
	int i, drops = 0;

	if (!ASSERT_EQ(fixture_open(&fx), 0, "load program"))
		return false;
	ok &= ASSERT_EQ(set_port(&fx, 25, 1, 2), 0, "port 25 rate 1 burst 2");
	rb = ring_buffer__new(bpf_map__fd(fx.skel->maps.events), ev_collect, &log, NULL);
	if (!ASSERT_TRUE(rb != NULL, "ring_buffer__new")) {
		ok = false;
		goto out;
	}
	ok &= ASSERT_EQ(stats_read(&fx, &s0), 0, "stats");
	for (i = 0; i < 102; i++)
		drops += syn_from(&fx, i & 1 ? "198.18.7.1" : "198.18.7.99", 25) == XDP_DROP;
	ok &= ASSERT_EQ(drops, 100, "SYNs dropped");
	ok &= ASSERT_EQ(ring_buffer__consume(rb), 1, "events after 100 drops");
	ok &= ASSERT_EQ(log.n, 1, "events collected");
	if (log.n >= 1) {
		ok &= ASSERT_EQ(log.ev[0].kind, MXG_EV_RATE, "kind");
		ok &= ASSERT_EQ(log.ev[0].family, 4, "family");
		ok &= ASSERT_EQ(log.ev[0].port, 25, "port");
		ok &= ASSERT_EQ(log.ev[0].prefixlen, 24, "prefixlen");
		ok &= ASSERT_EQ(log.ev[0].count, 1, "count = drops so far");
		ok &= ASSERT_EQ(log.ev[0].monitor, 0, "monitor");
		ok &= ASSERT_EQ(memcmp(log.ev[0].addr, net7, 3), 0, "addr inside 198.18.7.0/24");
	}

	/* another prefix: its own event */
	for (i = 0; i < 10; i++)
		syn_from(&fx, "198.18.9.1", 25);
	ok &= ASSERT_EQ(ring_buffer__consume(rb), 1, "event of a second /24");
	if (log.n == 2)
		ok &= ASSERT_EQ(memcmp(log.ev[1].addr, net9, 3), 0, "addr inside 198.18.9.0/24");

	/*
	 * 1.1 s later the bucket has refilled one token (the first SYN passes,
	 * 19 are dropped) and the first prefix reports again, once, at drop 101.
	 */
	usleep(1100 * 1000);
	for (i = 0; i < 20; i++)
		syn_from(&fx, "198.18.7.1", 25);
	ok &= ASSERT_EQ(ring_buffer__consume(rb), 1, "event of the first /24 a second later");
	if (log.n == 3)
		ok &= ASSERT_EQ(log.ev[2].count, 101, "count a second later");
	ok &= ASSERT_EQ(stats_read(&fx, &s1), 0, "stats");
	ok &= ASSERT_EQ(s1.events - s0.events, 3, "stats.events");
	ok &= ASSERT_EQ(s1.events_lost - s0.events_lost, 0, "stats.events_lost");
out:
	ring_buffer__free(rb);
	fixture_close(&fx);
	return ok;
}

/*
 * A rate event names the bucket: mxg_event.prefixlen is "of addr", and the
 * bucket is keyed by the source masked to that length, so addr/prefixlen
 * must be the masked network (198.18.7.0/24, 2001:db8:1:2::/64), whichever
 * host's SYN overflowed it. A host address with prefixlen 24 is not a CIDR
 * the daemon can use as is (mxg_cidr_parse refuses host bits: -EDOM).
 */
static bool rate_event_addr_is_the_bucket_prefix_not_the_host(void)
{
	static const uint8_t net4[16] = { 198, 18, 7, 0 };
	static const uint8_t net6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2 };
	struct ring_buffer *rb = NULL;
	struct ev_log log = {};
	struct fixture fx;
	bool ok = true;
	int i;

	if (!ASSERT_EQ(fixture_open(&fx), 0, "load program"))
		return false;
	ok &= ASSERT_EQ(set_port(&fx, 25, 1, 1), 0, "port 25 rate 1 burst 1");
	rb = ring_buffer__new(bpf_map__fd(fx.skel->maps.events), ev_collect, &log, NULL);
	if (!ASSERT_TRUE(rb != NULL, "ring_buffer__new")) {
		ok = false;
		goto out;
	}
	for (i = 0; i < 3; i++) {
		syn_from(&fx, "198.18.7.99", 25);
		syn_from(&fx, "2001:db8:1:2:ffff::9", 25);
	}
	ok &= ASSERT_EQ(ring_buffer__consume(rb), 2, "one event per bucket");
	for (i = 0; i < log.n && i < 2; i++) {
		bool v4 = log.ev[i].family == 4;
		char got[INET6_ADDRSTRLEN];

		inet_ntop(v4 ? AF_INET : AF_INET6, log.ev[i].addr, got, sizeof(got));
		if (!ASSERT_EQ(memcmp(log.ev[i].addr, v4 ? net4 : net6, 16), 0,
			       v4 ? "v4 event addr is 198.18.7.0 (/24)" : "v6 event addr is 2001:db8:1:2:: (/64)")) {
			fprintf(stderr, "  event says %s/%u\n", got, log.ev[i].prefixlen);
			ok = false;
		}
		ok &= ASSERT_EQ(log.ev[i].prefixlen, v4 ? 24 : 64, "prefixlen");
	}
out:
	ring_buffer__free(rb);
	fixture_close(&fx);
	return ok;
}

static bool ringbuf_deny_event_once_per_second(void)
{
	struct ring_buffer *rb = NULL;
	struct ev_log log = {};
	struct fixture fx;
	bool ok = true;
	int i;

	if (!ASSERT_EQ(fixture_open(&fx), 0, "load program"))
		return false;
	ok &= ASSERT_EQ(list_add(&fx, true, "2001:db8:66::/48", 0), 0, "deny");
	rb = ring_buffer__new(bpf_map__fd(fx.skel->maps.events), ev_collect, &log, NULL);
	if (!ASSERT_TRUE(rb != NULL, "ring_buffer__new")) {
		ok = false;
		goto out;
	}
	for (i = 0; i < 50; i++)
		ok &= ASSERT_EQ(syn_from(&fx, BAD6, 25), XDP_DROP, "SYN from denied /48");
	ok &= ASSERT_EQ(ring_buffer__consume(rb), 1, "events after 50 denied SYNs");
	if (log.n == 1) {
		ok &= ASSERT_EQ(log.ev[0].kind, MXG_EV_DENY, "kind");
		ok &= ASSERT_EQ(log.ev[0].family, 6, "family");
		ok &= ASSERT_EQ(log.ev[0].port, 25, "port");
		ok &= ASSERT_EQ(log.ev[0].count, 1, "count");
	}
out:
	ring_buffer__free(rb);
	fixture_close(&fx);
	return ok;
}

/* ---- rate accuracy on two CPUs ------------------------------------------ */

/*
 * One CPU pushes 1-3 million SYNs/s through test_run here, so 20000/s is
 * two orders of magnitude under the offered load and 2 s stays bounded.
 */
#ifndef ACC_RATE
#define ACC_RATE	20000		/* SYNs per second per /24 */
#endif
#ifndef ACC_BURST
#define ACC_BURST	1000
#endif
#ifndef ACC_SECONDS
#define ACC_SECONDS	2.0
#endif
#ifndef ACC_REPEAT
#define ACC_REPEAT	10000		/* frames per test_run call: amortises its set-up */
#endif

struct acc_worker {
	int cpu;
	int prog_fd;
	struct frame f;
	double deadline;
	double t_first, t_last;
	double first_call;		/* seconds the first test_run call took */
	uint64_t runs;
	int err;
};

static void *acc_loop(void *arg)
{
	struct acc_worker *w = arg;
	cpu_set_t set;
	uint32_t v;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	w->err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (w->err)
		return NULL;
	w->t_first = mono_s();
	do {
		w->err = run_frame(w->prog_fd, &w->f, ACC_REPEAT, &v, NULL);
		if (w->err)
			break;
		w->runs += ACC_REPEAT;
		w->t_last = mono_s();
		if (w->runs == ACC_REPEAT)
			w->first_call = w->t_last - w->t_first;
	} while (w->t_last < w->deadline);
	return NULL;
}

/* Run both workers on their CPUs until t0 + seconds; false if one failed. */
static bool run_two_cpus(struct acc_worker w[2], int prog_fd, double t0,
			 double seconds)
{
	pthread_t th[2];
	bool ok = true;
	int i;

	for (i = 0; i < 2; i++) {
		w[i].prog_fd = prog_fd;
		w[i].deadline = t0 + seconds;
		if (pthread_create(&th[i], NULL, acc_loop, &w[i])) {
			if (i == 1)
				pthread_join(th[0], NULL);
			return ASSERT_TRUE(false, "pthread_create");
		}
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ok &= ASSERT_EQ(w[0].err, 0, "worker on CPU 0");
	ok &= ASSERT_EQ(w[1].err, 0, "worker on CPU 1");
	return ok;
}

static bool rate_accuracy_two_cpus_within_5_percent(void)
{
	struct pkt_spec s1 = { .family = 4, .src = "198.18.7.1", .dport = 25, .tcp_flags = TF_SYN };
	struct pkt_spec s2 = { .family = 4, .src = "198.18.7.2", .dport = 25, .tcp_flags = TF_SYN };
	struct acc_worker w[2] = { { .cpu = 0 }, { .cpu = 1 } };
	struct mxg_stats st0 = {}, st1 = {};
	double t0, t1, T, expected, got, err_pct;
	cpu_set_t allowed;
	struct fixture fx;
	bool ok = true;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) ||
	    !CPU_ISSET(0, &allowed) || !CPU_ISSET(1, &allowed))
		return TEST_SKIP("needs CPUs 0 and 1 (this machine or cpuset has fewer)");
	if (!ASSERT_EQ(fixture_open(&fx), 0, "load program"))
		return false;
	ok &= ASSERT_EQ(set_port(&fx, 25, ACC_RATE, ACC_BURST), 0, "port 25 limits");
	ok &= ASSERT_EQ(pkt_build(&s1, &w[0].f), 0, "frame 1");
	ok &= ASSERT_EQ(pkt_build(&s2, &w[1].f), 0, "frame 2");
	ok &= ASSERT_EQ(stats_read(&fx, &st0), 0, "stats");
	if (!ok)
		goto out;
	t0 = mono_s();
	if (!run_two_cpus(w, fx.prog_fd, t0, ACC_SECONDS)) {
		ok = false;
		goto out;
	}
	ok &= ASSERT_EQ(stats_read(&fx, &st1), 0, "stats");
	if (!ok)
		goto out;
	t0 = w[0].t_first < w[1].t_first ? w[0].t_first : w[1].t_first;
	t1 = w[0].t_last > w[1].t_last ? w[0].t_last : w[1].t_last;
	T = t1 - t0;
	expected = ACC_BURST + (double)ACC_RATE * T;
	got = (double)((st1.smtp_syn - st0.smtp_syn) - (st1.rate_limited - st0.rate_limited));
	err_pct = 100.0 * (got - expected) / expected;
	printf("  info: rate %d/s burst %d on 2 CPUs for %.3f s: offered %llu SYNs "
	       "(%.2f Mpps), expected %.0f passed, got %.0f (%+.2f %%), cas_busy %llu, "
	       "first calls %.1f/%.1f ms\n",
	       ACC_RATE, ACC_BURST, T, (unsigned long long)(w[0].runs + w[1].runs),
	       (w[0].runs + w[1].runs) / T / 1e6, expected, got, err_pct,
	       (unsigned long long)(st1.cas_busy - st0.cas_busy),
	       w[0].first_call * 1e3, w[1].first_call * 1e3);
	ok &= ASSERT_EQ(st1.smtp_syn - st0.smtp_syn, w[0].runs + w[1].runs, "every frame seen as SYN");
	ok &= ASSERT_TRUE(w[0].runs + w[1].runs > 2 * expected,
			  "offered load well above the limit");
	ok &= ASSERT_TRUE(err_pct <= 5.0 && err_pct >= -5.0, "passed within 5 % of burst + rate * T");
out:
	fixture_close(&fx);
	return ok;
}

/*
 * Two CPUs overflow one bucket for 2.5 s: the ring buffer must carry at most
 * one event per second for it, i.e. 3 (at 0 s, 1 s and 2 s).
 */
static bool rate_event_at_most_one_per_second_with_two_cpus(void)
{
	struct pkt_spec s1 = { .family = 4, .src = "198.18.7.1", .dport = 25, .tcp_flags = TF_SYN };
	struct pkt_spec s2 = { .family = 4, .src = "198.18.7.2", .dport = 25, .tcp_flags = TF_SYN };
	struct acc_worker w[2] = { { .cpu = 0 }, { .cpu = 1 } };
	struct ring_buffer *rb = NULL;
	struct ev_log log = {};
	cpu_set_t allowed;
	struct fixture fx;
	bool ok = true;
	double t0;
	int i, n;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) ||
	    !CPU_ISSET(0, &allowed) || !CPU_ISSET(1, &allowed))
		return TEST_SKIP("needs CPUs 0 and 1 (this machine or cpuset has fewer)");
	if (!ASSERT_EQ(fixture_open(&fx), 0, "load program"))
		return false;
	ok &= ASSERT_EQ(set_port(&fx, 25, 1, 1), 0, "port 25 rate 1 burst 1");
	ok &= ASSERT_EQ(pkt_build(&s1, &w[0].f), 0, "frame 1");
	ok &= ASSERT_EQ(pkt_build(&s2, &w[1].f), 0, "frame 2");
	rb = ring_buffer__new(bpf_map__fd(fx.skel->maps.events), ev_collect, &log, NULL);
	ok &= ASSERT_TRUE(rb != NULL, "ring_buffer__new");
	if (!ok)
		goto out;
	t0 = mono_s();
	if (!run_two_cpus(w, fx.prog_fd, t0, 2.5)) {
		ok = false;
		goto out;
	}
	n = ring_buffer__consume(rb);
	printf("  info: %d rate events in %.2f s for one bucket:", n,
	       (w[0].t_last > w[1].t_last ? w[0].t_last : w[1].t_last) - t0);
	for (i = 0; i < log.n && i < 16; i++)
		printf(" +%.6f s", (log.ev[i].ts_ns - log.ev[0].ts_ns) / 1e9);
	printf("\n");
	ok &= ASSERT_TRUE(n >= 3, "an event each second");
	ok &= ASSERT_TRUE(n <= 3, "at most one event per second");
	for (i = 1; i < log.n && i < 16; i++)
		ok &= ASSERT_TRUE(log.ev[i].ts_ns - log.ev[i - 1].ts_ns >= MXG_EVENT_INTERVAL_NS - 1000000,
				  "events a second apart");
out:
	ring_buffer__free(rb);
	fixture_close(&fx);
	return ok;
}

int main(void)
{
	size_t i;

	if (!bpffs_mounted()) {
		fprintf(stderr, "test_xdp: no bpffs at /sys/fs/bpf and cannot mount one\n");
		return 1;
	}
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cur_row = &rows[i];
		test_run_one(rows[i].name, run_row);
	}
	TEST_RUN(rate_v4_same_24_shares_a_bucket_other_24_does_not);
	TEST_RUN(rate_v6_same_64_shares_a_bucket_other_64_does_not);
	TEST_RUN(rate_prefix_v4_32_stops_sharing_a_bucket);
	TEST_RUN(rate_prefix_v6_128_stops_sharing_a_bucket);
	TEST_RUN(rate_v6_prefix_56_masks_inside_a_word);
	TEST_RUN(rate_prefix_change_applies_live);
	TEST_RUN(monitor_mode_rate_overflow_passes_and_counts_monitor_rate);
	TEST_RUN(deny_entry_hit_counter_increments);
	TEST_RUN(first_syn_makes_a_bucket_outside_a_flood);
	TEST_RUN(flood_of_new_prefixes_second_syn_makes_the_bucket_with_both_counted);
	TEST_RUN(flood_of_new_prefixes_does_not_evict_a_bucket_over_its_limit);
	TEST_RUN(ban_stops_dropping_within_a_jiffy_of_its_expiry);
	TEST_RUN(expired_host_entry_inside_active_range_still_drops);
	TEST_RUN(ringbuf_one_rate_event_per_bucket_per_second);
	TEST_RUN(rate_event_addr_is_the_bucket_prefix_not_the_host);
	TEST_RUN(ringbuf_deny_event_once_per_second);
	TEST_RUN(rate_event_at_most_one_per_second_with_two_cpus);
	TEST_RUN(rate_accuracy_two_cpus_within_5_percent);
	return test_summary();
}
