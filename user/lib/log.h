/* SPDX-License-Identifier: GPL-2.0 */
/* Leveled messages on stderr (the journal picks them up under systemd). */
#ifndef MXG_LOG_H
#define MXG_LOG_H

#include <stdbool.h>

extern bool mxg_log_verbose;
/* Prefix messages with a syslog priority "<N>" for journald (set when JOURNAL_STREAM is). */
extern bool mxg_log_prio;

void mxg_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define mxg_err(...)	mxg_log(3, __VA_ARGS__)
#define mxg_warn(...)	mxg_log(4, __VA_ARGS__)
#define mxg_notice(...)	mxg_log(5, __VA_ARGS__)
#define mxg_info(...)	mxg_log(6, __VA_ARGS__)
#define mxg_debug(...)	mxg_log(7, __VA_ARGS__)

#endif
