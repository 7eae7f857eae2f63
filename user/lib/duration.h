/* SPDX-License-Identifier: GPL-2.0 */
/* Durations as text: what the config, the commands and the log messages use. */
#ifndef MXG_DURATION_H
#define MXG_DURATION_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse a duration: "90", "90s", "10m", "1h", "2d", "1w", "500ms" (a bare
 * number is seconds). Returns 0, -EINVAL for anything else, -ERANGE when
 * it does not fit 64-bit nanoseconds.
 */
int mxg_parse_duration(const char *s, uint64_t *ns);

/* Format a duration as the shortest exact "1h", "90s", "1500ms". */
const char *mxg_duration_str(uint64_t ns, char *buf, size_t size);

/* "59m 59s", "2d 3h": rounded up to seconds, the two largest units. */
const char *human_duration(uint64_t ns, char *buf, size_t size);

#endif
