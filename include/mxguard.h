/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mxguard: the one header shared by the XDP program (bpf/) and the daemon
 * and CLI (user/). Map keys and values, the config record, the statistics
 * record, the ring-buffer event and every limit live here and nowhere else.
 *
 * Only fixed-width UAPI types are used so that the same bytes are seen by
 * clang -target bpf and by gcc on the host. Every struct is padded by hand
 * to a multiple of 8 bytes; user/ checks the sizes with _Static_assert.
 */
#ifndef MXGUARD_H
#define MXGUARD_H

#include <linux/types.h>

/* Default pin directory on bpffs; every map and the XDP links live there. */
#define MXG_PIN_DIR_DEFAULT "/sys/fs/bpf/mxguard"

/* Largest number of protected ports (entries in the ports map). */
#ifndef MXG_MAX_PORTS
#define MXG_MAX_PORTS 64
#endif

/* Denylist capacity per family; LPM tries allocate per entry, not up front. */
#ifndef MXG_DENY_MAX
#define MXG_DENY_MAX (1 << 20)
#endif

/* Allowlist capacity per family. */
#ifndef MXG_ALLOW_MAX
#define MXG_ALLOW_MAX 65536
#endif

/*
 * Token buckets per family. LRU maps are preallocated: 131072 buckets cost
 * about 20 MiB for both families and cover far more attacking prefixes than
 * a single MX sees at once; the least recently used bucket is recycled.
 */
#ifndef MXG_RATE_MAX
#define MXG_RATE_MAX 131072
#endif

/* Ring buffer for rate/deny events to the daemon (power of two, pages). */
#ifndef MXG_EVENTS_BYTES
#define MXG_EVENTS_BYTES (256 * 1024)
#endif

/*
 * Nanoseconds per second and per millisecond: the one definition, for the
 * program and userspace alike (user/lib/units.h adds minutes and more).
 */
#define MXG_SEC_NS 1000000000ULL
#define MXG_MSEC_NS 1000000ULL

/* At most one event per bucket or deny entry per this interval. */
#define MXG_EVENT_INTERVAL_NS MXG_SEC_NS

/* Bounded walk over IPv6 extension headers. */
#define MXG_MAX_IPV6_EXT 8

/*
 * An expired deny entry inside a wider active one: how many wider entries
 * the program looks at before it gives up (each is one more trie lookup,
 * paid only by packets that hit an expired entry).
 */
#define MXG_DENY_WIDER 4

/* Bounded compare-and-swap retries when two CPUs update one bucket. */
#define MXG_CAS_RETRIES 4

/* Rate and burst bounds, shared by the config checks and the program. */
#define MXG_RATE_MIN 1
#define MXG_RATE_MAX_PPS 10000000
#define MXG_BURST_MIN 1
#define MXG_BURST_MAX 10000000

/* Default rate-key prefix lengths: a /24 of IPv4, a /64 of IPv6. */
#define MXG_PREFIX_V4_DEFAULT 24
#define MXG_PREFIX_V6_DEFAULT 64

/* config.flags */
#define MXG_F_MONITOR	(1U << 0)	/* count would-drops, drop nothing */
#define MXG_F_DENY_ALL	(1U << 1)	/* denylist drops all traffic, not only SMTP ports */

/* Global settings, one entry in the "config" array map; the daemon rewrites it on reload. */
struct mxg_config {
	__u32 flags;		/* MXG_F_* */
	__u32 prefix_v4;	/* rate key prefix length for IPv4, 1..32 */
	__u32 prefix_v6;	/* rate key prefix length for IPv6, 1..128 */
	__u32 pad;
};

/*
 * CPUs with their own slot in the program's clock cache (bpf/clock.h);
 * a CPU numbered higher reads the clock for every packet.
 */
#ifndef MXG_CLOCK_CPUS
#define MXG_CLOCK_CPUS 256
#endif

/* One CPU's slot of that cache, a cache line of its own (.bss, not pinned). */
struct mxg_clock_slot {
	__u64 jiffies;		/* bpf_jiffies64() when boot_ns was read */
	__u64 boot_ns;		/* bpf_ktime_get_boot_ns() then; 0 = never read */
	__u32 rng;		/* this CPU's sampling state (deny cache hits) */
	__u32 pad32;
	__u64 pad[5];
};

/*
 * The IPv4 deny cache (bpf/denycache.h), the pinned array "deny_cache":
 * entry 0 is the generation every writer of deny_v4 bumps after it deletes
 * or replaces an entry; entry 1 + (a >> 13), for the address a in host
 * order, covers the 32 /24s of a /19: bit (a >> 8) & 31 of its low half
 * says "this whole /24 is inside an active ban that lasts past the epoch",
 * valid while its high half equals the tag of the current epoch and
 * generation. An epoch is 2^30 ns (1.07 s) of CLOCK_BOOTTIME. The last
 * 1,024 entries are a summary, one bit per /16 (bit (a >> 16) & 63 of
 * entry MXG_DCACHE_SUMMARY + (a >> 22)), set with the first bit of any of
 * its /24s and never cleared: where it is clear, no word is read. The
 * 1,024 after them are the same summary for "deny_cache_hosts", which
 * holds single banned addresses: key a >> 5, a word of the same form whose
 * bit a & 31 stands for the address a alone.
 */
#define MXG_DCACHE_WORDS (1U << 19)
#define MXG_DCACHE_GEN 0
#define MXG_DCACHE_SUMMARY (1 + MXG_DCACHE_WORDS)
#define MXG_DCACHE_HOST_SUMMARY (MXG_DCACHE_SUMMARY + 1024)
#define MXG_DCACHE_ENTRIES (MXG_DCACHE_HOST_SUMMARY + 1024)
/* Host words (/27s) the LRU map keeps: 8 bytes each plus the map's own. */
#ifndef MXG_DCACHE_HOST_WORDS
#define MXG_DCACHE_HOST_WORDS 65536
#endif
#define MXG_DCACHE_EPOCH_SHIFT 30
/* The widest prefix a bit stands for, and 1 in how many cached drops count hits. */
#define MXG_DCACHE_PREFIX 24
#define MXG_DCACHE_SAMPLE 64

/*
 * Value of the "ports" hash map, keyed by the TCP destination port (host
 * order), and of "port_index", the array of all 65,536 ports the program
 * reads instead (an array lookup is a few instructions, a hash lookup costs
 * as much as the rest of the pass path): rate 0 there = not protected.
 * user/kernel/maps.c keeps the two in step: the index entry is written after
 * the ports entry and cleared before it is deleted.
 */
struct mxg_port_limit {
	__u32 rate;		/* new connections per second per source prefix */
	__u32 burst;		/* bucket depth: SYNs accepted at once */
};

/* LPM trie keys; addresses in network byte order. */
struct mxg_lpm_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct mxg_lpm_v6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Why a range is in the denylist. */
enum mxg_reason {
	MXG_REASON_MANUAL = 1,	/* mxguard ban */
	MXG_REASON_LOG = 2,	/* AUTH failures in the mail log */
	MXG_REASON_RATE = 3,	/* kept hitting the XDP rate limit */
	MXG_REASON_IMPORT = 4,	/* mxguard import / fail2ban action */
};

/*
 * Value of deny_v4/deny_v6. Times are CLOCK_BOOTTIME nanoseconds
 * (bpf_ktime_get_boot_ns), which keeps counting across daemon restarts and
 * suspend; the state file converts them to wall time across reboots.
 */
struct mxg_deny {
	__u64 expires_ns;	/* 0 = permanent; past it the entry stops dropping */
	__u64 added_ns;		/* when the ban was made */
	__u64 hits;		/* packets dropped because of this entry */
	__u64 last_event_ns;	/* last ring-buffer event for this entry */
	__u32 reason;		/* enum mxg_reason */
	__u32 ban_count;	/* how many times this range has been banned */
	__u32 prefixlen;	/* of the entry's own key: where a wider look-up starts */
	__u32 pad;
	char note[16];		/* operator's or importer's words, NUL-terminated */
};

/* Value of allow_v4/allow_v6. */
struct mxg_allow {
	__u64 added_ns;
	__u64 hits;		/* packets passed because of this entry */
	__u32 source;		/* enum mxg_allow_source */
	__u32 pad;
};

/* Who put an allowlist entry there: a reload replaces only config entries. */
enum mxg_allow_source {
	MXG_ALLOW_CONFIG = 1,	/* the allow key of the config */
	MXG_ALLOW_MANUAL = 2,	/* mxguard allow add */
};

/* Token-bucket keys: the source masked to the configured prefix, and the port. */
struct mxg_rate_v4 {
	__u8 addr[4];
	__u16 port;		/* host order */
	__u16 pad;
};

struct mxg_rate_v6 {
	__u8 addr[16];
	__u16 port;		/* host order */
	__u16 pad[3];
};

/*
 * Value of the per-CPU "rate_seen" array. While a CPU makes more than
 * MXG_NEW_BUCKETS new buckets in one jiffy (a flood from ever-new sources,
 * far more prefixes than rate_v4 holds), a prefix gets its bucket only at
 * its second SYN: the first leaves a tag, in a slot chosen by the tag. So
 * such a flood stops creating and evicting buckets; see bpf/ratelimit.h.
 */
#define MXG_SEEN_SLOTS 4096
#define MXG_NEW_BUCKETS 16
struct mxg_seen_tags {
	__u64 jiffies;		/* the jiffy "made" counts in */
	__u32 made;		/* buckets this CPU made in it */
	__u32 pad;
	__u32 tag[MXG_SEEN_SLOTS];
};

/*
 * A bucket in GCRA form: "tat" is the theoretical arrival time of the next
 * SYN. A SYN at "now" is allowed while max(tat, now) + interval stays within
 * burst * interval of now. One 64-bit word holds the whole state, so a
 * compare-and-swap makes concurrent updates from two CPUs exact.
 */
struct mxg_bucket {
	__u64 tat;		/* CLOCK_BOOTTIME ns */
	__u64 syns;		/* SYNs seen for this prefix and port */
	__u64 drops;		/* SYNs over the limit (would-drops in monitor mode) */
	__u64 last_event_ns;	/* last ring-buffer event for this bucket */
};

/* Statistics: one per-CPU record, summed by userspace. */
struct mxg_stats {
	__u64 packets;		/* every frame the program saw */
	__u64 passed;		/* XDP_PASS verdicts */
	__u64 dropped;		/* XDP_DROP verdicts */
	__u64 malformed;	/* truncated or invalid headers: passed untouched */
	__u64 non_ip;		/* not IPv4/IPv6: passed untouched */
	__u64 smtp_syn;		/* new connections to a protected port */
	__u64 allowlisted;	/* passed because the source is allowlisted */
	__u64 denied;		/* dropped by the denylist */
	__u64 deny_expired;	/* matched an expired deny entry: passed on */
	__u64 rate_limited;	/* SYNs dropped by the token bucket */
	__u64 monitor_deny;	/* monitor mode: would have been denied */
	__u64 monitor_rate;	/* monitor mode: would have been rate limited */
	__u64 events;		/* events written to the ring buffer */
	__u64 events_lost;	/* events not written: ring buffer full */
	__u64 cas_busy;		/* bucket updates given up after MXG_CAS_RETRIES */
	__u64 frag_denied;	/* fragments from a denied source the SMTP scope alone would pass: dropped */
	__u64 frag_invalid;	/* fragments shaped as RFC 1858/3128/7112 attacks: dropped */
	__u64 monitor_frag;	/* monitor mode: would have been dropped as frag_invalid */
	__u64 deny_cached;	/* of denied and frag_denied: judged by the deny cache alone */
};

/*
 * After the log parser's kinds (MXG_EV_AUTH 0, MXG_EV_HOSTILE 1 in
 * user/detect/event.h): the daemon has both in scope, and no two may
 * share a value.
 */
enum mxg_xdp_event_kind {
	MXG_EV_RATE = 2,	/* a prefix went over its SYN rate */
	MXG_EV_DENY = 3,	/* a denylisted range sent traffic */
};

/* Ring-buffer record. */
struct mxg_event {
	__u64 ts_ns;		/* CLOCK_BOOTTIME ns */
	__u64 count;		/* drops (rate) or hits (deny) so far */
	__u32 kind;		/* enum mxg_xdp_event_kind */
	__u32 family;		/* 4 or 6 */
	__u32 prefixlen;	/* of addr */
	__u16 port;		/* destination port, host order; 0 if not TCP */
	__u16 monitor;		/* 1 when the program only counted */
	__u8 addr[16];		/* network order, v4 in the first 4 bytes */
};

#endif /* MXGUARD_H */
