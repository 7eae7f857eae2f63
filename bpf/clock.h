/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The program's clock: CLOCK_BOOTTIME read once per jiffy per CPU.
 *
 * bpf_ktime_get_boot_ns() costs about as much as the rest of the deny path
 * on the machines we measured (tests/bench/flood.sh, probe_boot_ns), and a
 * flood calls it for every packet. bpf_jiffies64() is a plain load. So each
 * CPU keeps the boot time it read at the first packet of the current jiffy
 * and returns that until jiffies move on: "now" is at most one jiffy
 * (1 to 10 ms, by CONFIG_HZ) behind CLOCK_BOOTTIME, never ahead.
 *
 * What that costs: a ban may drop for up to one jiffy past its expiry (it
 * still stops by itself, daemon or not; after a resume the next tick moves
 * jiffies on and the clock is read again, so the time slept is seen within
 * a jiffy); a bucket refills in
 * steps of one jiffy, so over any interval the SYNs passed stay within
 * rate x 1 jiffy of burst + rate x time (0.2 % of the 2 s accuracy test).
 *
 * The slots live in .bss, one cache line per CPU, so no CPU writes a line
 * another reads. XDP runs with migration off; a slot torn by a nested run
 * on the same CPU yields a time from either read, both within a jiffy.
 */
#ifndef MXG_BPF_CLOCK_H
#define MXG_BPF_CLOCK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "mxguard.h"

/* Global (.bss), so the skeleton and its users see struct mxg_clock_slot. */
struct mxg_clock_slot clock_slots[MXG_CLOCK_CPUS];

static __always_inline __u64 mxg_now(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 j = bpf_jiffies64();
	struct mxg_clock_slot *c;

	if (cpu >= MXG_CLOCK_CPUS)
		return bpf_ktime_get_boot_ns();
	c = &clock_slots[cpu];
	if (c->jiffies != j || !c->boot_ns) {
		c->boot_ns = bpf_ktime_get_boot_ns();
		c->jiffies = j;
	}
	return c->boot_ns;
}

#endif
