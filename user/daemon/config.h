/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The configuration: one table (config.c) drives parsing of the file and of
 * -o key=value, the defaults, the bounds, the help text, check-config's
 * output and which keys a reload may change.
 */
#ifndef MXG_CONFIG_H
#define MXG_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mxguard.h"
#include "addr.h"

#define MXG_CONF_DEFAULT "/etc/mxguard/mxguard.conf"
#define MXG_STATE_DIR_DEFAULT "/var/lib/mxguard"
#define MXG_MAX_IFACES 16
#define MXG_MAX_LOGS 32
#define MXG_MAX_CIDRS 256
#define MXG_MAX_PATTERNS 32
#define MXG_PATTERN_LEN 512

enum mxg_xdp_mode {
	MXG_XDP_AUTO = 0,	/* native, generic with a warning if that fails */
	MXG_XDP_NATIVE,
	MXG_XDP_GENERIC,
};

enum mxg_deny_scope {
	MXG_SCOPE_SMTP = 0,	/* deny drops traffic to the protected ports */
	MXG_SCOPE_ALL,		/* deny drops everything from the range */
};

struct mxg_port_conf {
	uint16_t port;
	uint32_t rate;
	uint32_t burst;
};

struct mxg_cidr_list {
	unsigned int n;
	struct mxg_cidr v[MXG_MAX_CIDRS];
};

struct mxg_options {
	/* [xdp] */
	unsigned int n_ifaces;
	char ifaces[MXG_MAX_IFACES][IF_NAMESIZE];
	bool monitor;
	int deny_scope;			/* enum mxg_deny_scope */
	unsigned int prefix_v4;
	unsigned int prefix_v6;
	unsigned int n_ports;
	struct mxg_port_conf ports[MXG_MAX_PORTS];
	int xdp_mode;			/* enum mxg_xdp_mode */
	bool detach_on_exit;
	char pin_dir[PATH_MAX];
	struct mxg_cidr_list allow;

	/* [policy] */
	unsigned int maxretry;
	uint64_t findtime_ns;
	uint64_t bantime_ns;
	uint64_t bantime_max_ns;
	unsigned int range_hosts;
	unsigned int range_v4;
	unsigned int range_v6;
	unsigned int floor_v4;
	unsigned int floor_v6;
	unsigned int rate_events;
	struct mxg_cidr_list ignoreip;

	/* [logs] */
	unsigned int n_logs;
	char logs[MXG_MAX_LOGS][PATH_MAX];
	bool journal;
	char journal_dir[PATH_MAX];
	unsigned int n_patterns;
	char patterns[MXG_MAX_PATTERNS][MXG_PATTERN_LEN];

	/* [daemon] */
	char state_dir[PATH_MAX];
	char metrics[64];
	bool verbose;

	/* Which list keys were set since the defaults (lists then replace). */
	unsigned char touched[64];
};

/* Fill o with the built-in defaults (they go through the same parsers). */
void mxg_config_defaults(struct mxg_options *o);

/*
 * Read a config file into o (on top of what o holds). On error, writes
 * "file:line: key: why" to err and returns -EINVAL; -ENOENT when the file
 * does not exist (callers decide whether that matters).
 */
int mxg_config_load(struct mxg_options *o, const char *path, char *err,
		    size_t errlen);

/* Apply "key=value" (or "section.key=value") from the command line. */
int mxg_config_set(struct mxg_options *o, const char *kv, char *err,
		   size_t errlen);

/* Cross-key checks after everything is applied; err names the key. */
int mxg_config_check(const struct mxg_options *o, char *err, size_t errlen);

/*
 * One setting from the command line: a flag's config key and value, or
 * -o's "key=value" as given (key NULL).
 */
struct mxg_config_arg {
	const char *key;
	const char *value;
};

/*
 * The one way to the effective config, for run (and its reloads), replay
 * and check-config: the built-in defaults, then the file (path, or
 * MXG_CONF_DEFAULT, which may be missing: *no_file then says so), then the
 * command line's settings in their order, then the cross-key checks.
 * Returns 0, or a negative errno with err naming the file:line, the path
 * or the key.
 */
int mxg_config_build(struct mxg_options *o, const char *path,
		     const struct mxg_config_arg *args, unsigned int n_args,
		     bool *no_file, char *err, size_t errlen);

/* Print the effective config in the file format (check-config). */
void mxg_config_print(const struct mxg_options *o, FILE *f);

/* Print every key with its default, bounds and help (mxguard.conf(5) source). */
void mxg_config_print_reference(FILE *f, bool man);

/* Parse a duration: "90", "90s", "10m", "1h", "2d", "1w", "500ms"; 0 ok. */
int mxg_parse_duration(const char *s, uint64_t *ns);

/* Format a duration as the shortest exact "1h", "90s", "1500ms". */
const char *mxg_duration_str(uint64_t ns, char *buf, size_t size);

#endif
