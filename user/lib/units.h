/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Time units in nanoseconds, the unit of every clock value in mxguard
 * (CLOCK_BOOTTIME and CLOCK_MONOTONIC readings, map timestamps, config
 * durations). Seconds and milliseconds are defined once, in
 * include/mxguard.h, because the XDP program needs them too.
 */
#ifndef MXG_UNITS_H
#define MXG_UNITS_H

#include "mxguard.h"

#define MXG_MIN_NS		(60 * MXG_SEC_NS)
#define MXG_HOUR_NS		(60 * MXG_MIN_NS)
#define MXG_DAY_NS		(24 * MXG_HOUR_NS)

#endif
