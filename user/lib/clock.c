// SPDX-License-Identifier: GPL-2.0
#include <time.h>

#include "clock.h"
#include "mxguard.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * MXG_SEC_NS + (uint64_t)ts.tv_nsec;
}

uint64_t mxg_boot_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

uint64_t mxg_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}
