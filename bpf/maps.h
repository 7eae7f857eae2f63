/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every map of the XDP program. All are pinned by name under the pin
 * directory the loader chooses, so a restarted daemon adopts them and
 * `bpftool map dump pinned /sys/fs/bpf/mxguard/NAME` shows typed fields.
 */
#ifndef MXG_BPF_MAPS_H
#define MXG_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "mxguard.h"

/* Global switches and rate-key prefix lengths (one entry, rewritten on reload). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mxg_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} config SEC(".maps");

/* Protected TCP ports and their per-prefix SYN rate and burst. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MXG_MAX_PORTS);
	__type(key, __u16);
	__type(value, struct mxg_port_limit);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ports SEC(".maps");

/* The limits of "ports" indexed by port, what the program reads (rate 0: not protected). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct mxg_port_limit);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} port_index SEC(".maps");

/* Allowlisted IPv4 ranges: always pass, checked before the denylist. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MXG_ALLOW_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mxg_lpm_v4);
	__type(value, struct mxg_allow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} allow_v4 SEC(".maps");

/* Allowlisted IPv6 ranges. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MXG_ALLOW_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mxg_lpm_v6);
	__type(value, struct mxg_allow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} allow_v6 SEC(".maps");

/* Denylisted IPv4 ranges with expiry, reason and hit counter. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MXG_DENY_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mxg_lpm_v4);
	__type(value, struct mxg_deny);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} deny_v4 SEC(".maps");

/* Denylisted IPv6 ranges. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MXG_DENY_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mxg_lpm_v6);
	__type(value, struct mxg_deny);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} deny_v6 SEC(".maps");

/*
 * The /24s of IPv4 wholly inside an active ban, cached per epoch, and the
 * generation that voids the cache (bpf/denycache.h). Userspace bumps the
 * generation through mmap, an atomic add every process can do.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MXG_DCACHE_ENTRIES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} deny_cache SEC(".maps");

/* Banned IPv4 addresses cached per epoch, 32 to a word keyed by a >> 5 (bpf/denycache.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MXG_DCACHE_HOST_WORDS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} deny_cache_hosts SEC(".maps");

/* SYN token buckets per (IPv4 source prefix, port); least recently used recycled. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MXG_RATE_MAX);
	__type(key, struct mxg_rate_v4);
	__type(value, struct mxg_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} rate_v4 SEC(".maps");

/* SYN token buckets per (IPv6 source prefix, port). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MXG_RATE_MAX);
	__type(key, struct mxg_rate_v6);
	__type(value, struct mxg_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} rate_v6 SEC(".maps");

/* Prefixes seen once and not yet given a bucket, per CPU (bpf/ratelimit.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mxg_seen_tags);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} rate_seen SEC(".maps");

/* Verdict and reason counters, one record per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mxg_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

/* Rate and deny events for the daemon, at most one per prefix per second. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MXG_EVENTS_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} events SEC(".maps");

#endif
