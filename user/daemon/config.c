// SPDX-License-Identifier: GPL-2.0
/*
 * The config table. Each key has a section, a type, where it lives in
 * struct mxg_options, its default (as text, parsed like any value, so a
 * default can never be out of its own bounds), bounds, help, and whether a
 * reload applies it live.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config.h"
#include "parse.h"
#include "wire.h"

enum cfg_type {
	T_BOOL,
	T_UINT,
	T_DURATION,
	T_STRING,
	T_ENUM,
	T_IFACES,
	T_PORTS,
	T_CIDRS,
	T_PATHS,
	T_PATTERNS,
};

struct cfg_key {
	const char *section;
	const char *name;
	enum cfg_type type;
	size_t off;
	size_t size;		/* T_STRING buffer size */
	const char *def;
	uint64_t min, max;	/* T_UINT, T_DURATION (ns) */
	const char *const *choices; /* T_ENUM, index is the value */
	bool live;		/* a reload applies it to the running program */
	const char *help;
};

#define OFF(f) offsetof(struct mxg_options, f)

#define MXG_ROLES_DEFAULT \
	"admin administrator root backup web webmaster www test info sales " \
	"office postmaster mail support contact user guest demo noreply " \
	"marketing billing hr"

static const char *const xdp_modes[] = { "auto", "native", "generic", NULL };
static const char *const scopes[] = { "smtp", "all", NULL };

/* [fleet] values: the fleet layer's own rules for names and addresses. */
static int check_hostport(const char *w, char *err, size_t errlen)
{
	char host[72];
	const char *colon = strrchr(w, ':');
	char *end;
	long port;

	if (*w == '[') {
		const char *close = strchr(w, ']');

		if (!close || close[1] != ':' || close == w + 1)
			goto bad;
		colon = close + 1;
	} else if (!colon || colon == w || memchr(w, ':', (size_t)(colon - w))) {
		goto bad;
	}
	if ((size_t)(colon - w) >= sizeof(host))
		goto bad;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "\"%s\": expected HOST:PORT (port 1..65535)", w);
	return -EINVAL;
}

static int check_redis(const char *v, char *err, size_t errlen)
{
	if (!*v)
		return 0;
	if (!strncmp(v, "unix:", 5) || v[0] == '/') {
		const char *path = v[0] == '/' ? v : v + 5;

		if (path[0] != '/' || strlen(path) >= 108) {
			snprintf(err, errlen, "\"%s\": a unix socket needs an absolute path under 108 bytes", v);
			return -EINVAL;
		}
		return 0;
	}
	return check_hostport(v, err, errlen);
}

static int check_sentinel_word(const char *w, void *arg, char *err, size_t errlen)
{
	unsigned int *n = arg;

	if (++*n > MXG_FLEET_MAX_SENTINELS) {
		snprintf(err, errlen, "more than %d sentinels", MXG_FLEET_MAX_SENTINELS);
		return -EINVAL;
	}
	return check_hostport(w, err, errlen);
}

static int each_word(const char *v, int (*fn)(const char *w, void *arg,
					      char *err, size_t errlen),
		     void *arg, char *err, size_t errlen);

static int check_sentinels(const char *v, char *err, size_t errlen)
{
	unsigned int n = 0;

	return each_word(v, check_sentinel_word, &n, err, errlen);
}

static int check_fleet_name(const char *v, char *err, size_t errlen)
{
	if (mxg_fleet_id_ok(v, MXG_FLEET_NAME_MAX))
		return 0;
	snprintf(err, errlen, "\"%s\": 1 to %d of A-Z a-z 0-9 . _ -", v, MXG_FLEET_NAME_MAX);
	return -EINVAL;
}

static int check_host_id(const char *v, char *err, size_t errlen)
{
	if (!*v || mxg_fleet_id_ok(v, MXG_FLEET_HOST_MAX))
		return 0;
	snprintf(err, errlen, "\"%s\": 1 to %d of A-Z a-z 0-9 . _ - (empty: the hostname)",
		 v, MXG_FLEET_HOST_MAX);
	return -EINVAL;
}

static int check_abs_path(const char *v, char *err, size_t errlen)
{
	if (!*v || v[0] == '/')
		return 0;
	snprintf(err, errlen, "\"%s\": must be an absolute path", v);
	return -EINVAL;
}

static int check_master(const char *v, char *err, size_t errlen)
{
	if (mxg_fleet_id_ok(v, 63))
		return 0;
	snprintf(err, errlen, "\"%s\": 1 to 63 of A-Z a-z 0-9 . _ -", v);
	return -EINVAL;
}

static int check_user(const char *v, char *err, size_t errlen)
{
	const char *p;

	for (p = v; *p; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p > '~') {
			snprintf(err, errlen, "a Redis ACL user name has no blank or control character");
			return -EINVAL;
		}
	}
	return 0;
}

static const struct cfg_key keys[] = {
	{ "xdp", "interface", T_IFACES, OFF(n_ifaces), 0, "", 0, 0, NULL, false,
	  "Interfaces to attach to, space separated or repeated; empty: the default-route interface." },
	{ "xdp", "xdp_mode", T_ENUM, OFF(xdp_mode), 0, "auto", 0, 0, xdp_modes, false,
	  "auto: native XDP, falling back to generic with a warning; native or generic to force." },
	{ "xdp", "monitor", T_BOOL, OFF(monitor), 0, "no", 0, 0, NULL, true,
	  "Dry run: count what would be dropped or banned, change nothing on the wire." },
	{ "xdp", "deny_scope", T_ENUM, OFF(deny_scope), 0, "smtp", 0, 0, scopes, true,
	  "smtp: a denylisted range loses the protected ports only (and all its IP fragments, which carry no port); all: every packet from it is dropped." },
	{ "xdp", "prefix_v4", T_UINT, OFF(prefix_v4), 0, "24", 8, 32, NULL, true,
	  "IPv4 prefix length that shares one SYN rate bucket." },
	{ "xdp", "prefix_v6", T_UINT, OFF(prefix_v6), 0, "64", 16, 128, NULL, true,
	  "IPv6 prefix length that shares one SYN rate bucket." },
	{ "xdp", "ports", T_PORTS, OFF(n_ports), 0,
	  "25:50/500 465:5/50 587:5/50", 0, 0, NULL, true,
	  "Protected TCP ports as PORT:RATE/BURST (new connections per second per prefix, and burst)." },
	{ "xdp", "allow", T_CIDRS, OFF(allow), 0, "", 0, 0, NULL, true,
	  "Ranges never dropped nor rate limited (your relays, monitoring, partners)." },
	{ "xdp", "pin_dir", T_STRING, OFF(pin_dir), PATH_MAX, MXG_PIN_DIR_DEFAULT, 0, 0, NULL, false,
	  "bpffs directory holding the pinned maps and XDP links." },
	{ "xdp", "detach_on_exit", T_BOOL, OFF(detach_on_exit), 0, "no", 0, 0, NULL, true,
	  "Remove the program and pins when the daemon stops (default: keep protecting)." },

	{ "policy", "maxretry", T_UINT, OFF(maxretry), 0, "5", 1, 100, NULL, true,
	  "AUTH failures from one address within findtime that ban it." },
	{ "policy", "findtime", T_DURATION, OFF(findtime_ns), 0, "10m", MXG_SEC_NS, 7 * 86400 * MXG_SEC_NS, NULL, true,
	  "Sliding window over which failures are counted." },
	{ "policy", "bantime", T_DURATION, OFF(bantime_ns), 0, "1h", MXG_SEC_NS, 365 * 86400 * MXG_SEC_NS, NULL, true,
	  "First ban of an address or range; doubles for each repeat offence." },
	{ "policy", "bantime_max", T_DURATION, OFF(bantime_max_ns), 0, "1w", MXG_SEC_NS, 365 * 86400 * MXG_SEC_NS, NULL, true,
	  "Longest automatic ban." },
	{ "policy", "range_hosts", T_UINT, OFF(range_hosts), 0, "3", 2, 64, NULL, true,
	  "Distinct failing or banned addresses of one range within findtime that ban the whole range." },
	{ "policy", "range_v4", T_UINT, OFF(range_v4), 0, "24", 8, 32, NULL, true,
	  "IPv4 range banned when range_hosts of it misbehave." },
	{ "policy", "range_v6", T_UINT, OFF(range_v6), 0, "64", 16, 128, NULL, true,
	  "IPv6 range banned when range_hosts of it misbehave." },
	{ "policy", "floor_v4", T_UINT, OFF(floor_v4), 0, "16", 8, 32, NULL, true,
	  "Widest IPv4 range ever banned automatically." },
	{ "policy", "floor_v6", T_UINT, OFF(floor_v6), 0, "32", 16, 128, NULL, true,
	  "Widest IPv6 range ever banned automatically." },
	{ "policy", "rate_events", T_UINT, OFF(rate_events), 0, "3", 1, 100, NULL, true,
	  "Seconds within findtime a prefix may hit the SYN rate limit before it is banned." },
	{ "policy", "ignoreip", T_CIDRS, OFF(ignoreip), 0, "", 0, 0, NULL, true,
	  "Ranges never banned from log evidence (loopback and own addresses always are)." },
	{ "policy", "compromise_window", T_DURATION, OFF(compromise_window_ns), 0, "1h", MXG_SEC_NS, 7 * 86400 * MXG_SEC_NS, NULL, true,
	  "A successful login from a host, or its range_v4/range_v6 range, that failed within this long before (compromise_failures times on that account, or on compromise_accounts accounts) is a likely guessed password: logged as a warning, counted, flagged in mxguard accounts." },
	{ "policy", "compromise_failures", T_UINT, OFF(compromise_failures), 0, "3", 1, 1000, NULL, true,
	  "Failures against the account itself that make the source's login suspect (one mistyped password is not a guess)." },
	{ "policy", "compromise_accounts", T_UINT, OFF(compromise_accounts), 0, "3", 2, 1000, NULL, true,
	  "Distinct accounts a source failed on within compromise_window that make it a guesser, whichever account it then gets into." },
	{ "policy", "ban_on_compromise", T_BOOL, OFF(ban_on_compromise), 0, "no", 0, 0, NULL, true,
	  "Ban the address of a likely guessed login at once, through the normal ban path (allow and ignoreip still win)." },
	{ "policy", "role_accounts", T_STRING, OFF(role_accounts), MXG_ROLE_ACCOUNTS_LEN, MXG_ROLES_DEFAULT, 0, 0, NULL, true,
	  "Generic role names that guessers try; mxguard accounts flags those that exist (ever logged in). Space separated, case-insensitive." },

	{ "logs", "log", T_PATHS, OFF(n_logs), 0, "", 0, 0, NULL, false,
	  "Mail log files to follow (rotation and not-yet-existing files handled). A syslog file is read line by line by the parser of each line's program; SERVER:PATH binds a file one server writes itself (exim:/var/log/exim4/mainlog, haraka:, exchange:, domino:, maddy:, dovecot:, nginx:, zimbra:, stalwart:, roundcube:, sogo:, or a pattern's program)." },
	{ "logs", "journal", T_BOOL, OFF(journal), 0, "no", 0, 0, NULL, false,
	  "Follow the systemd journal (mail units) as well; entries count only from root, a mail server's user or unit." },
	{ "logs", "journal_dir", T_STRING, OFF(journal_dir), PATH_MAX, "", 0, 0, NULL, false,
	  "Read journal files from this directory instead of the system journal (empty: the system journal)." },
	{ "logs", "pattern", T_PATTERNS, OFF(n_patterns), 0, "", 0, 0, NULL, true,
	  "Extra failure pattern \"PROGRAM: REGEX\", fail2ban style, with <HOST> where the address is; read on PROGRAM's lines only, anchored at the start of the message; repeatable." },

	{ "daemon", "state_dir", T_STRING, OFF(state_dir), PATH_MAX, MXG_STATE_DIR_DEFAULT, 0, 0, NULL, false,
	  "Where bans, log offsets and evidence are kept across reboots." },
	{ "daemon", "metrics", T_STRING, OFF(metrics), 64, "127.0.0.1:9587", 0, 0, NULL, false,
	  "Prometheus listen address, or \"off\"." },
	{ "daemon", "verbose", T_BOOL, OFF(verbose), 0, "no", 0, 0, NULL, true,
	  "Log debug messages." },
	{ "daemon", "on_compromise", T_STRING, OFF(on_compromise), PATH_MAX, "", 0, 0, NULL, true,
	  "Program run (without a shell, no arguments) on each compromise alert, with MXGUARD_ACCOUNT, MXGUARD_ADDR, MXGUARD_SOURCE and the evidence in its environment; empty: none." },
	{ "daemon", "on_compromise_timeout", T_DURATION, OFF(on_compromise_timeout_ns), 0, "10s", MXG_SEC_NS, 600 * MXG_SEC_NS, NULL, true,
	  "How long on_compromise may run before it is killed." },

	/* [fleet]: sharing bans and failure counts through Redis (user/fleet/). */
	{ "fleet", "redis", T_STRING, OFF(fleet_redis), sizeof(((struct mxg_options *)0)->fleet_redis), "", 0, 0, NULL, false,
	  "Redis of the fleet: HOST:PORT, [IPV6]:PORT or unix:/PATH; empty (and no sentinel): fleet mode off." },
	{ "fleet", "sentinel", T_STRING, OFF(fleet_sentinels), sizeof(((struct mxg_options *)0)->fleet_sentinels), "", 0, 0, NULL, false,
	  "Redis Sentinels (HOST:PORT, space separated) to ask for the master, instead of redis." },
	{ "fleet", "master", T_STRING, OFF(fleet_master), sizeof(((struct mxg_options *)0)->fleet_master), "mymaster", 0, 0, NULL, false,
	  "The master's name at the Sentinels." },
	{ "fleet", "user", T_STRING, OFF(fleet_user), sizeof(((struct mxg_options *)0)->fleet_user), "", 0, 0, NULL, false,
	  "Redis ACL user (empty: the default user)." },
	{ "fleet", "password_file", T_STRING, OFF(fleet_password_file), PATH_MAX, "", 0, 0, NULL, false,
	  "File whose first line is the Redis password (never given on the command line); empty: no AUTH." },
	{ "fleet", "name", T_STRING, OFF(fleet_name), MXG_FLEET_NAME_MAX + 1, "mxguard", 0, 0, NULL, false,
	  "Fleet name: every key is under mxg:NAME:, so fleets can share one Redis." },
	{ "fleet", "host_id", T_STRING, OFF(fleet_host_id), MXG_FLEET_HOST_MAX + 1, "", 0, 0, NULL, false,
	  "This host's name in the fleet (empty: the hostname)." },
	{ "fleet", "queue", T_UINT, OFF(fleet_queue), 0, "65536", 16, 1U << 22, NULL, false,
	  "Events and counts held for Redis while it is down or slow; beyond, they are dropped and counted." },
	{ "fleet", "stream_len", T_UINT, OFF(fleet_stream_len), 0, "100000", 1000, 100000000, NULL, false,
	  "Stream entries Redis keeps (MAXLEN ~): a host stopped longer than that many events reloads the ban set." },
	{ "fleet", "counting", T_BOOL, OFF(fleet_counting), 0, "yes", 0, 0, NULL, false,
	  "Count AUTH failures fleet-wide too (within findtime): maxretry over the whole fleet bans." },
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* role_accounts: words a login name could be, not any text. */
static int check_roles(const char *v, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t n;

	while (*p) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		n = strcspn((const char *)p, " ,\t");
		if (n > 64) {
			snprintf(err, errlen, "\"%.20s...\": a name is at most 64 bytes", p);
			return -EINVAL;
		}
		for (; n; n--, p++) {
			if (*p < 0x21 || *p > 0x7e) {
				snprintf(err, errlen, "names are printable ASCII words (byte 0x%02x)", *p);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* on_compromise: run with execve, so an absolute path to a program. */
static int check_hook(const char *v, char *err, size_t errlen)
{
	struct stat st;

	if (!*v)
		return 0;
	if (v[0] != '/') {
		snprintf(err, errlen, "\"%s\": must be an absolute path (it is run without a shell)", v);
		return -EINVAL;
	}
	if (stat(v, &st) || !S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
		snprintf(err, errlen, "\"%s\": not an executable file", v);
		return -EINVAL;
	}
	/* The daemon runs it as itself: nobody else may change what it runs. */
	if (st.st_mode & 022) {
		snprintf(err, errlen, "\"%s\": writable by group or others (chmod go-w)", v);
		return -EINVAL;
	}
	return 0;
}

/* The string keys whose values have rules of their own, by section and name. */
static const struct {
	const char *section, *name;
	int (*fn)(const char *v, char *err, size_t errlen);
} string_checks[] = {
	{ "policy", "role_accounts", check_roles },
	{ "daemon", "on_compromise", check_hook },
	{ "fleet", "redis", check_redis },
	{ "fleet", "sentinel", check_sentinels },
	{ "fleet", "master", check_master },
	{ "fleet", "user", check_user },
	{ "fleet", "password_file", check_abs_path },
	{ "fleet", "name", check_fleet_name },
	{ "fleet", "host_id", check_host_id },
};

/* 0, or -EINVAL with why (the caller adds file:line: key:). */
static int string_check(const struct cfg_key *k, const char *v, char *err,
			size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(string_checks) / sizeof(string_checks[0]); i++)
		if (!strcmp(string_checks[i].section, k->section) &&
		    !strcmp(string_checks[i].name, k->name))
			return string_checks[i].fn(v, err, errlen);
	return 0;
}

_Static_assert(N_KEYS <= 64, "touched[] too small");

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };
	int i;

	for (i = 0; yes[i]; i++)
		if (!strcasecmp(v, yes[i]))
			return *out = true, 0;
	for (i = 0; no[i]; i++)
		if (!strcasecmp(v, no[i]))
			return *out = false, 0;
	return -EINVAL;
}

/* Split v on blanks and commas; calls fn on each word; stops on error. */
static int each_word(const char *v, int (*fn)(const char *w, void *arg,
					      char *err, size_t errlen),
		     void *arg, char *err, size_t errlen)
{
	char word[PATH_MAX];
	const char *p = v;
	size_t n;
	int ret;

	while (*p) {
		while (*p && (isspace((unsigned char)*p) || *p == ','))
			p++;
		if (!*p)
			break;
		/* A word ends where the blanks skipped above begin. */
		for (n = 0; p[n] && !isspace((unsigned char)p[n]) && p[n] != ','; n++)
			;
		if (n >= sizeof(word)) {
			snprintf(err, errlen, "value too long");
			return -EINVAL;
		}
		memcpy(word, p, n);
		word[n] = '\0';
		ret = fn(word, arg, err, errlen);
		if (ret)
			return ret;
		p += n;
	}
	return 0;
}

static int add_iface(const char *w, void *arg, char *err, size_t errlen)
{
	struct mxg_options *o = arg;

	const unsigned char *c;

	if (strlen(w) >= IF_NAMESIZE) {
		snprintf(err, errlen, "\"%s\": interface name too long", w);
		return -EINVAL;
	}
	/* What the kernel takes as a device name (dev_valid_name). */
	for (c = (const unsigned char *)w; *c; c++) {
		if (!isgraph(*c) || *c == '/' || *c == ':') {
			snprintf(err, errlen, "not an interface name (byte 0x%02x)", *c);
			return -EINVAL;
		}
	}
	if (!strcmp(w, ".") || !strcmp(w, "..")) {
		snprintf(err, errlen, "\"%s\": not an interface name", w);
		return -EINVAL;
	}
	if (o->n_ifaces >= MXG_MAX_IFACES) {
		snprintf(err, errlen, "more than %d interfaces", MXG_MAX_IFACES);
		return -EINVAL;
	}
	strcpy(o->ifaces[o->n_ifaces++], w);
	return 0;
}

static int parse_u32(const char *s, const char *end_chars, uint32_t *out,
		     const char **endp)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || v > UINT32_MAX || !strchr(end_chars, *end))
		return -EINVAL;
	*out = (uint32_t)v;
	*endp = end;
	return 0;
}

static int add_port(const char *w, void *arg, char *err, size_t errlen)
{
	struct mxg_options *o = arg;
	struct mxg_port_conf pc;
	uint32_t port;
	const char *p;
	unsigned int i;

	if (parse_u32(w, ":", &port, &p) || parse_u32(p + 1, "/", &pc.rate, &p) ||
	    parse_u32(p + 1, "", &pc.burst, &p)) {
		snprintf(err, errlen, "\"%s\": expected PORT:RATE/BURST, e.g. 587:5/50", w);
		return -EINVAL;
	}
	if (port < 1 || port > 65535) {
		snprintf(err, errlen, "\"%s\": port must be 1..65535", w);
		return -EINVAL;
	}
	if (pc.rate < MXG_RATE_MIN || pc.rate > MXG_RATE_MAX_PPS) {
		snprintf(err, errlen, "\"%s\": rate must be %d..%d per second",
			 w, MXG_RATE_MIN, MXG_RATE_MAX_PPS);
		return -EINVAL;
	}
	if (pc.burst < MXG_BURST_MIN || pc.burst > MXG_BURST_MAX) {
		snprintf(err, errlen, "\"%s\": burst must be %d..%d", w,
			 MXG_BURST_MIN, MXG_BURST_MAX);
		return -EINVAL;
	}
	pc.port = (uint16_t)port;
	for (i = 0; i < o->n_ports; i++) {
		if (o->ports[i].port == pc.port) {
			snprintf(err, errlen, "port %u given twice", port);
			return -EINVAL;
		}
	}
	if (o->n_ports >= MXG_MAX_PORTS) {
		snprintf(err, errlen, "more than %d ports", MXG_MAX_PORTS);
		return -EINVAL;
	}
	o->ports[o->n_ports++] = pc;
	return 0;
}

struct cidr_ctx {
	struct mxg_cidr_list *l;
	const char *key;
};

static int add_cidr(const char *w, void *arg, char *err, size_t errlen)
{
	struct cidr_ctx *x = arg;
	struct mxg_cidr_list *l = x->l;
	struct mxg_cidr c;
	int ret = mxg_cidr_parse(w, &c);

	if (ret == -EDOM) {
		snprintf(err, errlen, "\"%s\": host bits set below the prefix length", w);
		return -EINVAL;
	}
	if (ret) {
		snprintf(err, errlen, "\"%s\": not an address or CIDR range", w);
		return -EINVAL;
	}
	/* A typo for a /8 or a /16 must not switch protection off for everyone. */
	if (!c.prefixlen) {
		if (!strcmp(x->key, "ignoreip"))
			snprintf(err, errlen, "%s would never ban any IPv%d address from the logs",
				 w, c.addr.family);
		else
			snprintf(err, errlen, "%s would exempt every IPv%d address from bans and rate limits",
				 w, c.addr.family);
		return -EINVAL;
	}
	if (l->n >= MXG_MAX_CIDRS) {
		snprintf(err, errlen, "more than %d ranges", MXG_MAX_CIDRS);
		return -EINVAL;
	}
	l->v[l->n++] = c;
	return 0;
}

static int add_path(const char *w, void *arg, char *err, size_t errlen)
{
	struct mxg_options *o = arg;
	const char *colon = strchr(w, ':');
	const char *path = w;

	/*
	 * "SERVER:PATH" binds a file to one server's parser; whether SERVER
	 * names one (or a pattern's program) the engine decides, as it knows
	 * the patterns. A path that merely holds a ':' stays a path.
	 */
	if (w[0] != '/' && colon && colon > w && !memchr(w, '/', (size_t)(colon - w)))
		path = colon + 1;
	if (path[0] != '/') {
		snprintf(err, errlen, "\"%s\": must be an absolute path", w);
		return -EINVAL;
	}
	if (o->n_logs >= MXG_MAX_LOGS) {
		snprintf(err, errlen, "more than %d log files", MXG_MAX_LOGS);
		return -EINVAL;
	}
	snprintf(o->logs[o->n_logs++], PATH_MAX, "%s", w);
	return 0;
}

static void list_clear(struct mxg_options *o, const struct cfg_key *k)
{
	void *p = (char *)o + k->off;

	switch (k->type) {
	case T_IFACES:
	case T_PORTS:
	case T_PATHS:
	case T_PATTERNS:
		*(unsigned int *)p = 0;
		break;
	case T_CIDRS:
		((struct mxg_cidr_list *)p)->n = 0;
		break;
	default:
		break;
	}
}

/* Set one key; on error err holds "why" (the caller adds file:line: key:). */
static int key_set(struct mxg_options *o, const struct cfg_key *k,
		   const char *v, char *err, size_t errlen)
{
	void *p = (char *)o + k->off;
	unsigned long long u;
	uint64_t d;
	char *end;
	int i;

	switch (k->type) {
	case T_BOOL:
		if (parse_bool(v, p)) {
			snprintf(err, errlen, "\"%s\": expected yes or no", v);
			return -EINVAL;
		}
		return 0;
	case T_UINT:
		errno = 0;
		u = strtoull(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end || errno ||
		    u < k->min || u > k->max) {
			snprintf(err, errlen, "\"%s\": must be a number from %llu to %llu",
				 v, (unsigned long long)k->min,
				 (unsigned long long)k->max);
			return -EINVAL;
		}
		*(unsigned int *)p = (unsigned int)u;
		return 0;
	case T_DURATION: {
		char a[32], b[32];

		if (mxg_parse_duration(v, &d) || d < k->min || d > k->max) {
			snprintf(err, errlen,
				 "\"%s\": must be a duration from %s to %s (e.g. 90s, 10m, 1h, 2d)",
				 v, mxg_duration_str(k->min, a, sizeof(a)),
				 mxg_duration_str(k->max, b, sizeof(b)));
			return -EINVAL;
		}
		*(uint64_t *)p = d;
		return 0;
	}
	case T_STRING:
		if (strlen(v) >= k->size) {
			snprintf(err, errlen, "value longer than %zu bytes", k->size - 1);
			return -EINVAL;
		}
		if (string_check(k, v, err, errlen))
			return -EINVAL;
		strcpy(p, v);
		return 0;
	case T_ENUM:
		for (i = 0; k->choices[i]; i++) {
			if (!strcasecmp(v, k->choices[i])) {
				*(int *)p = i;
				return 0;
			}
		}
		snprintf(err, errlen, "\"%s\": expected one of", v);
		for (i = 0; k->choices[i]; i++)
			snprintf(err + strlen(err), errlen - strlen(err), " %s",
				 k->choices[i]);
		return -EINVAL;
	case T_IFACES:
		return each_word(v, add_iface, o, err, errlen);
	case T_PORTS:
		return each_word(v, add_port, o, err, errlen);
	case T_CIDRS: {
		struct cidr_ctx x = { .l = p, .key = k->name };

		return each_word(v, add_cidr, &x, err, errlen);
	}
	case T_PATHS:
		return each_word(v, add_path, o, err, errlen);
	case T_PATTERNS:
		if (!*v)
			return 0;
		if (strlen(v) >= MXG_PATTERN_LEN) {
			snprintf(err, errlen, "pattern longer than %d bytes",
				 MXG_PATTERN_LEN - 1);
			return -EINVAL;
		}
		if (!strstr(v, "<HOST>") && !strstr(v, "<ADDR>")) {
			snprintf(err, errlen, "pattern has no <HOST> placeholder");
			return -EINVAL;
		}
		{
			/* Compile it now, so a bad regex is named with its file:line. */
			struct mxg_parser *chk = mxg_parser_new();
			int ret;

			if (!chk) {
				snprintf(err, errlen, "cannot check the pattern: %s", strerror(errno));
				return -ENOMEM;
			}
			ret = mxg_parser_add_pattern(chk, v, NULL, err, errlen);
			mxg_parser_free(chk);
			if (ret)
				return -EINVAL;
		}
		if (o->n_patterns >= MXG_MAX_PATTERNS) {
			snprintf(err, errlen, "more than %d patterns", MXG_MAX_PATTERNS);
			return -EINVAL;
		}
		strcpy(o->patterns[o->n_patterns++], v);
		return 0;
	}
	return -EINVAL;
}

static bool is_list(const struct cfg_key *k)
{
	return k->type == T_IFACES || k->type == T_PORTS || k->type == T_CIDRS ||
	       k->type == T_PATHS || k->type == T_PATTERNS;
}

/* Set a key from a file or -o: the first set of a list replaces the default. */
static int key_apply(struct mxg_options *o, const struct cfg_key *k,
		     const char *v, char *err, size_t errlen)
{
	size_t idx = (size_t)(k - keys);

	if (is_list(k) && !o->touched[idx]) {
		list_clear(o, k);
		o->touched[idx] = 1;
	}
	return key_set(o, k, v, err, errlen);
}

static const struct cfg_key *key_find(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].name, name))
			continue;
		if (section && strcmp(keys[i].section, section))
			continue;
		return &keys[i];
	}
	return NULL;
}

void mxg_config_defaults(struct mxg_options *o)
{
	char err[256];
	size_t i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < N_KEYS; i++) {
		/* The table's defaults are ours: failing here is a bug. */
		if (key_set(o, &keys[i], keys[i].def, err, sizeof(err))) {
			fprintf(stderr, "mxguard: bad built-in default for %s: %s\n",
				keys[i].name, err);
			abort();
		}
	}
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int mxg_config_load(struct mxg_options *o, const char *path, char *err,
		    size_t errlen)
{
	unsigned int first_line[N_KEYS] = { 0 };
	char section[32] = "";
	char why[512];
	char *line = NULL;
	size_t cap = 0;
	unsigned int lineno = 0;
	int ret = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	while (getline(&line, &cap, f) >= 0) {
		const struct cfg_key *k;
		char *s, *eq, *key, *val;

		lineno++;
		s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			const char *name;

			if (!close || close[1]) {
				snprintf(err, errlen, "%s:%u: bad section header", path, lineno);
				ret = -EINVAL;
				break;
			}
			*close = '\0';
			name = trim(s + 1);
			if (strcmp(name, "xdp") && strcmp(name, "policy") &&
			    strcmp(name, "logs") && strcmp(name, "daemon") &&
			    strcmp(name, "fleet")) {
				snprintf(err, errlen,
					 "%s:%u: [%s]: unknown section (xdp, policy, logs, daemon, fleet)",
					 path, lineno, name);
				ret = -EINVAL;
				break;
			}
			snprintf(section, sizeof(section), "%s", name);
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected key = value", path, lineno);
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		k = key_find(section[0] ? section : NULL, key);
		if (!k) {
			const struct cfg_key *other = key_find(NULL, key);

			if (other)
				snprintf(err, errlen, "%s:%u: %s: belongs in [%s], not [%s]",
					 path, lineno, key, other->section, section);
			else
				snprintf(err, errlen, "%s:%u: %s: unknown key",
					 path, lineno, key);
			ret = -EINVAL;
			break;
		}
		/* A second value would silently win: only list keys add up. */
		if (first_line[k - keys] && !is_list(k)) {
			snprintf(err, errlen, "%s:%u: %s: given twice (first at line %u)",
				 path, lineno, key, first_line[k - keys]);
			ret = -EINVAL;
			break;
		}
		if (!first_line[k - keys])
			first_line[k - keys] = lineno;
		if (key_apply(o, k, val, why, sizeof(why))) {
			snprintf(err, errlen, "%s:%u: %s: %s", path, lineno, key, why);
			ret = -EINVAL;
			break;
		}
	}
	free(line);
	fclose(f);
	return ret;
}

int mxg_config_set(struct mxg_options *o, const char *kv, char *err,
		   size_t errlen)
{
	char buf[PATH_MAX + 64], why[512];
	const struct cfg_key *k;
	char *eq, *key, *dot, *section = NULL;

	snprintf(buf, sizeof(buf), "%s", kv);
	eq = strchr(buf, '=');
	if (!eq) {
		snprintf(err, errlen, "-o %s: expected key=value", kv);
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(buf);
	dot = strchr(key, '.');
	if (dot) {
		*dot = '\0';
		section = key;
		key = dot + 1;
	}
	k = key_find(section, key);
	if (!k) {
		snprintf(err, errlen, "-o %s: unknown key", kv);
		return -EINVAL;
	}
	if (key_apply(o, k, trim(eq + 1), why, sizeof(why))) {
		snprintf(err, errlen, "-o %s: %s", key, why);
		return -EINVAL;
	}
	return 0;
}

int mxg_config_check(const struct mxg_options *o, char *err, size_t errlen)
{
	if (o->bantime_max_ns < o->bantime_ns) {
		snprintf(err, errlen, "bantime_max: shorter than bantime");
		return -EINVAL;
	}
	if (o->range_v4 < o->floor_v4) {
		snprintf(err, errlen, "range_v4: /%u is wider than floor_v4 /%u",
			 o->range_v4, o->floor_v4);
		return -EINVAL;
	}
	if (o->range_v6 < o->floor_v6) {
		snprintf(err, errlen, "range_v6: /%u is wider than floor_v6 /%u",
			 o->range_v6, o->floor_v6);
		return -EINVAL;
	}
	if (!o->n_ports) {
		snprintf(err, errlen, "ports: at least one port must be protected");
		return -EINVAL;
	}
	if (o->fleet_redis[0] && o->fleet_sentinels[0]) {
		snprintf(err, errlen, "sentinel: give either redis or sentinel, not both");
		return -EINVAL;
	}
	return 0;
}

int mxg_config_build(struct mxg_options *o, const char *path,
		     const struct mxg_config_arg *args, unsigned int n_args,
		     bool *no_file, char *err, size_t errlen)
{
	char kv[PATH_MAX + 64];
	unsigned int i;
	int ret;

	*no_file = false;
	mxg_config_defaults(o);
	ret = mxg_config_load(o, path ? path : MXG_CONF_DEFAULT, err, errlen);
	if (ret == -ENOENT && !path)
		*no_file = true;	/* the default file is optional */
	else if (ret)
		return ret;
	for (i = 0; i < n_args; i++) {
		if (args[i].key) {
			snprintf(kv, sizeof(kv), "%s=%s", args[i].key, args[i].value);
			ret = mxg_config_set(o, kv, err, errlen);
		} else {
			ret = mxg_config_set(o, args[i].value, err, errlen);
		}
		if (ret)
			return ret;
	}
	return mxg_config_check(o, err, errlen);
}

static void value_print(const struct mxg_options *o, const struct cfg_key *k,
			FILE *f)
{
	const void *p = (const char *)o + k->off;
	char buf[MXG_CIDR_STRLEN];
	unsigned int i;

	switch (k->type) {
	case T_BOOL:
		fprintf(f, "%s", *(const bool *)p ? "yes" : "no");
		break;
	case T_UINT:
		fprintf(f, "%u", *(const unsigned int *)p);
		break;
	case T_DURATION:
		fprintf(f, "%s", mxg_duration_str(*(const uint64_t *)p, buf, sizeof(buf)));
		break;
	case T_STRING:
		fprintf(f, "%s", (const char *)p);
		break;
	case T_ENUM:
		fprintf(f, "%s", k->choices[*(const int *)p]);
		break;
	case T_IFACES:
		for (i = 0; i < o->n_ifaces; i++)
			fprintf(f, "%s%s", i ? " " : "", o->ifaces[i]);
		break;
	case T_PORTS:
		for (i = 0; i < o->n_ports; i++)
			fprintf(f, "%s%u:%u/%u", i ? " " : "", o->ports[i].port,
				o->ports[i].rate, o->ports[i].burst);
		break;
	case T_CIDRS: {
		const struct mxg_cidr_list *l = p;

		for (i = 0; i < l->n; i++)
			fprintf(f, "%s%s", i ? " " : "",
				mxg_cidr_str(&l->v[i], buf, sizeof(buf)));
		break;
	}
	case T_PATHS:
		for (i = 0; i < o->n_logs; i++)
			fprintf(f, "%s%s", i ? " " : "", o->logs[i]);
		break;
	case T_PATTERNS:
		/* Only reload's comparison gets here (print lists them one a line). */
		for (i = 0; i < o->n_patterns; i++)
			fprintf(f, "%s\"%s\"", i ? " " : "", o->patterns[i]);
		break;
	}
}

/* The value of k in o as check-config prints it; NULL without memory. */
static char *value_str(const struct mxg_options *o, const struct cfg_key *k)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	value_print(o, k, f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Copy key k's value, lists with their counts, from src to dst. */
static void key_copy(struct mxg_options *dst, const struct mxg_options *src,
		     const struct cfg_key *k)
{
	size_t size;

	switch (k->type) {
	case T_BOOL:
		size = sizeof(bool);
		break;
	case T_UINT:
		size = sizeof(unsigned int);
		break;
	case T_DURATION:
		size = sizeof(uint64_t);
		break;
	case T_STRING:
		size = k->size;
		break;
	case T_ENUM:
		size = sizeof(int);
		break;
	case T_CIDRS:
		size = sizeof(struct mxg_cidr_list);
		break;
	case T_IFACES:
		dst->n_ifaces = src->n_ifaces;
		memcpy(dst->ifaces, src->ifaces, sizeof(dst->ifaces));
		return;
	case T_PORTS:
		dst->n_ports = src->n_ports;
		memcpy(dst->ports, src->ports, sizeof(dst->ports));
		return;
	case T_PATHS:
		dst->n_logs = src->n_logs;
		memcpy(dst->logs, src->logs, sizeof(dst->logs));
		return;
	case T_PATTERNS:
		dst->n_patterns = src->n_patterns;
		memcpy(dst->patterns, src->patterns, sizeof(dst->patterns));
		return;
	default:
		return;
	}
	memcpy((char *)dst + k->off, (const char *)src + k->off, size);
}

int mxg_config_reload(const struct mxg_options *cur, struct mxg_options *next,
		      mxg_config_change_fn fn, void *arg)
{
	int restart = 0;
	size_t i;

	for (i = 0; i < N_KEYS; i++) {
		const struct cfg_key *k = &keys[i];
		char *was = value_str(cur, k), *now = value_str(next, k);

		if (!was || !now) {
			free(was);
			free(now);
			return -ENOMEM;
		}
		if (strcmp(was, now)) {
			if (fn)
				fn(k->name, k->live, was, now, arg);
			/* The running value stays: next is what will be in force. */
			if (!k->live) {
				key_copy(next, cur, k);
				restart++;
			}
		}
		free(was);
		free(now);
	}
	return restart;
}

void mxg_config_print(const struct mxg_options *o, FILE *f)
{
	const char *section = "";
	unsigned int j;
	size_t i;

	for (i = 0; i < N_KEYS; i++) {
		const struct cfg_key *k = &keys[i];

		if (strcmp(section, k->section)) {
			fprintf(f, "%s[%s]\n", i ? "\n" : "", k->section);
			section = k->section;
		}
		if (k->type == T_PATTERNS) {
			for (j = 0; j < o->n_patterns; j++)
				fprintf(f, "%s = %s\n", k->name, o->patterns[j]);
			if (!o->n_patterns)
				fprintf(f, "# %s =\n", k->name);
			continue;
		}
		fprintf(f, "%s = ", k->name);
		value_print(o, k, f);
		fputc('\n', f);
	}
}

void mxg_config_print_reference(FILE *f, bool man)
{
	const char *section = "";
	char a[32], b[32];
	size_t i;

	for (i = 0; i < N_KEYS; i++) {
		const struct cfg_key *k = &keys[i];

		if (strcmp(section, k->section)) {
			if (man)
				fprintf(f, ".SS [%s]\n", k->section);
			else
				fprintf(f, "%s[%s]\n", i ? "\n" : "", k->section);
			section = k->section;
		}
		if (man) {
			fprintf(f, ".TP\n.B %s\n%s\nDefault: \\fB%s\\fR.", k->name,
				k->help, *k->def ? k->def : "(empty)");
		} else {
			fprintf(f, "# %s\n", k->help);
			fprintf(f, "# %s = %s\n", k->name, k->def);
		}
		if (k->type == T_UINT)
			fprintf(f, man ? " Range %llu..%llu." : "#   range %llu..%llu\n",
				(unsigned long long)k->min, (unsigned long long)k->max);
		if (k->type == T_DURATION)
			fprintf(f, man ? " Range %s..%s." : "#   range %s..%s\n",
				mxg_duration_str(k->min, a, sizeof(a)),
				mxg_duration_str(k->max, b, sizeof(b)));
		if (man)
			fprintf(f, " %s\n", k->live ? "Applied live on reload." :
				"Needs a restart.");
	}
}
