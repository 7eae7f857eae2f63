/* SPDX-License-Identifier: GPL-2.0 */
/* The two clocks mxguard reads, in nanoseconds. */
#ifndef MXG_CLOCK_H
#define MXG_CLOCK_H

#include <stdint.h>

/*
 * CLOCK_BOOTTIME now: the clock the XDP program compares ban expiries on
 * (bpf_ktime_get_boot_ns), so every time stored in a map is on it.
 */
uint64_t mxg_boot_ns(void);

/* CLOCK_MONOTONIC now: for measuring intervals. */
uint64_t mxg_mono_ns(void);

#endif
