/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one log sink of the daemon: leveled messages on stderr, which the
 * journal picks up under systemd. Everything the daemon says goes through
 * here (libbpf's messages too), one line per message, written at once.
 */
#ifndef MXG_LOG_H
#define MXG_LOG_H

#include <stdarg.h>
#include <stdbool.h>

extern bool mxg_log_verbose;
/*
 * Prefix each line with its syslog priority "<N>" for journald; set from
 * JOURNAL_STREAM before main() runs, so even the first message has it.
 */
extern bool mxg_log_prio;

void mxg_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mxg_vlog(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#define mxg_err(...)	mxg_log(3, __VA_ARGS__)
#define mxg_warn(...)	mxg_log(4, __VA_ARGS__)
#define mxg_notice(...)	mxg_log(5, __VA_ARGS__)
#define mxg_info(...)	mxg_log(6, __VA_ARGS__)
#define mxg_debug(...)	mxg_log(7, __VA_ARGS__)

#endif
