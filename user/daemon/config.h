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
#include "duration.h"
#include "loader.h"

#define MXG_CONF_DEFAULT "/etc/mxguard/mxguard.conf"
#define MXG_STATE_DIR_DEFAULT "/var/lib/mxguard"
#define MXG_MAX_IFACES 16
#define MXG_MAX_LOGS 32
#define MXG_MAX_CIDRS 256
#define MXG_MAX_PATTERNS 32
#define MXG_PATTERN_LEN 512
#define MXG_ROLE_ACCOUNTS_LEN 1024
#define MXG_FLEET_MAX_SENTINELS 8

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
	int xdp_mode;			/* enum mxg_xdp_mode (loader.h) */
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
	/* [policy] the attacked accounts and the compromise alert */
	uint64_t compromise_window_ns;
	unsigned int compromise_failures;
	unsigned int compromise_accounts;
	bool ban_on_compromise;
	char role_accounts[MXG_ROLE_ACCOUNTS_LEN];

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
	char on_compromise[PATH_MAX];
	uint64_t on_compromise_timeout_ns;

	/* [fleet] (user/fleet/fleet.h) */
	char fleet_redis[256];
	char fleet_sentinels[MXG_FLEET_MAX_SENTINELS * 72];
	char fleet_master[64];
	char fleet_user[64];
	char fleet_password_file[PATH_MAX];
	char fleet_name[33];
	char fleet_host_id[65];
	unsigned int fleet_queue;
	unsigned int fleet_stream_len;
	bool fleet_counting;

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
 * Told about one key whose value a reload changes: its name, whether the
 * table marks it live, and both values as check-config prints them.
 */
typedef void (*mxg_config_change_fn)(const char *key, bool live,
				     const char *was, const char *now,
				     void *arg);

/*
 * Reload, driven by the table: compare the running config cur with next key
 * by key and call fn (may be NULL) for each key that differs. A changed key
 * the table marks restart-only gets its running value back in next, so next
 * is then exactly what will be in force. Returns how many restart-only
 * keys changed, or -ENOMEM.
 */
int mxg_config_reload(const struct mxg_options *cur, struct mxg_options *next,
		      mxg_config_change_fn fn, void *arg);

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

#endif
