// SPDX-License-Identifier: GPL-2.0
/*
 * The config table without root: every type through a file, bounds,
 * duplicate keys, -o overrides, file:line messages, and reload's split
 * between live and restart-only keys.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "test.h"

static char conf_path[64];

/* Write text to a temp file of the test's own; removed by cleanup_conf. */
static bool write_conf(const char *text)
{
	FILE *f;
	int fd;

	snprintf(conf_path, sizeof(conf_path), "/tmp/mxg-test-config.XXXXXX");
	fd = mkstemp(conf_path);
	if (fd < 0)
		return false;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(conf_path);
		return false;
	}
	fputs(text, f);
	return fclose(f) == 0;
}

static void cleanup_conf(void)
{
	if (conf_path[0])
		unlink(conf_path);
	conf_path[0] = '\0';
}

/* Load text over the defaults; the return of mxg_config_load, err filled. */
static int load(struct mxg_options *o, const char *text, char *err, size_t errlen)
{
	int ret;

	mxg_config_defaults(o);
	err[0] = '\0';
	if (!write_conf(text))
		return -EIO;
	ret = mxg_config_load(o, conf_path, err, errlen);
	return ret;
}

static bool log_bound_to_a_server_is_accepted(void)
{
	struct mxg_options o;
	char err[1024];
	bool ok = true;

	ok &= ASSERT_EQ(load(&o, "[logs]\nlog = exim:/var/log/exim4/mainlog\n", err, sizeof(err)),
			0, err);
	ok &= ASSERT_EQ(o.n_logs, 1, "one log");
	ok &= ASSERT_STREQ(o.logs[0], "exim:/var/log/exim4/mainlog", "kept as written");
	cleanup_conf();
	ok &= ASSERT_EQ(load(&o, "[logs]\nlog = exim:var/log/mainlog\n", err, sizeof(err)),
			-EINVAL, "a bound log's path is absolute too");
	ok &= ASSERT_TRUE(strstr(err, ":2: log:") != NULL, err);
	cleanup_conf();
	return ok;
}

static bool a_file_sets_every_type(void)
{
	struct mxg_options o;
	char err[1024];
	bool ok = true;

	ok &= ASSERT_EQ(load(&o,
		"# every type of the table\n"
		"[xdp]\n"
		"interface = eth1, eth2\n"
		"monitor = yes\n"
		"deny_scope = ALL\n"
		"ports = 25:10/100 587:5/50\n"
		"allow = 192.0.2.0/24 2001:db8::/32\n"
		"\n"
		"[policy]\n"
		"maxretry = 7\n"
		"findtime = 90s\n"
		"\n"
		"[logs]\n"
		"log = /var/log/mail.log\n"
		"pattern = myapp: login failed from <HOST>$\n"
		"\n"
		"[daemon]\n"
		"metrics = off\n", err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(o.n_ifaces, 2, "interfaces") &&
	      ASSERT_STREQ(o.ifaces[1], "eth2", "second interface");
	ok &= ASSERT_TRUE(o.monitor, "bool");
	ok &= ASSERT_EQ(o.deny_scope, MXG_SCOPE_ALL, "enum, any case");
	ok &= ASSERT_EQ(o.n_ports, 2, "ports replace the default list") &&
	      ASSERT_EQ(o.ports[0].port, 25, "port") &&
	      ASSERT_EQ(o.ports[0].rate, 10, "rate") &&
	      ASSERT_EQ(o.ports[0].burst, 100, "burst");
	ok &= ASSERT_EQ(o.allow.n, 2, "cidrs") &&
	      ASSERT_EQ(o.allow.v[1].prefixlen, 32, "v6 prefix");
	ok &= ASSERT_EQ(o.maxretry, 7, "uint");
	ok &= ASSERT_EQ(o.findtime_ns, 90ULL * 1000000000ULL, "duration");
	ok &= ASSERT_EQ(o.n_logs, 1, "paths");
	ok &= ASSERT_EQ(o.n_patterns, 1, "patterns");
	ok &= ASSERT_STREQ(o.metrics, "off", "string");
	ok &= ASSERT_EQ(o.bantime_ns, 3600ULL * 1000000000ULL, "a key not given keeps its default");
	cleanup_conf();
	return ok;
}

/* Each bad value is refused with file:line: key: and what was wrong. */
static bool bad_values_are_named_with_file_line_and_key(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "[policy]\nmaxretry = 0\n", ":2: maxretry: \"0\": must be a number from 1 to 100" },
		{ "[policy]\nmaxretry = 101\n", ":2: maxretry: \"101\": must be a number from 1 to 100" },
		{ "[policy]\nmaxretry = 5x\n", ":2: maxretry: \"5x\"" },
		{ "[policy]\nfindtime = 500ms\n", ":2: findtime: \"500ms\": must be a duration from 1s to 1w" },
		{ "[policy]\nfindtime = 8d\n", ":2: findtime: \"8d\"" },
		{ "[xdp]\nmonitor = maybe\n", ":2: monitor: \"maybe\": expected yes or no" },
		{ "[xdp]\ndeny_scope = some\n", ":2: deny_scope: \"some\": expected one of smtp all" },
		{ "[xdp]\nports = 25:0/10\n", ":2: ports: \"25:0/10\": rate must be" },
		{ "[xdp]\nports = 70000:1/1\n", ":2: ports: \"70000:1/1\": port must be 1..65535" },
		{ "[xdp]\nports = 25:1/1 25:2/2\n", ":2: ports: port 25 given twice" },
		{ "[xdp]\ninterface = averyveryverylongname0\n", ":2: interface: \"averyveryverylongname0\": interface name too long" },
		{ "[xdp]\ninterface = et/0\n", ":2: interface: not an interface name (byte 0x2f)" },
		{ "[xdp]\ninterface = eth0 ..\n", ":2: interface: \"..\": not an interface name" },
		{ "[xdp]\nallow = 192.0.2.1/24\n", ":2: allow: \"192.0.2.1/24\": host bits set" },
		{ "[policy]\nignoreip = 0.0.0.0/0\n", ":2: ignoreip: 0.0.0.0/0 would never ban" },
		{ "[logs]\nlog = mail.log\n", ":2: log: \"mail.log\": must be an absolute path" },
		{ "[logs]\npattern = myapp: no host here\n", ":2: pattern: pattern has no <HOST>" },
		{ "\n\n[policy]\nbogus = 1\n", ":4: bogus: unknown key" },
		{ "[xdp]\nmaxretry = 3\n", ":2: maxretry: belongs in [policy], not [xdp]" },
		{ "[nosuch]\n", ":1: [nosuch]: unknown section" },
		{ "[policy]\nmaxretry\n", ":2: expected key = value" },
		{ "[policy\n", ":1: bad section header" },
	};
	struct mxg_options o;
	char err[1024];
	bool ok = true;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = load(&o, cases[i].text, err, sizeof(err));

		if (!ASSERT_EQ(ret, -EINVAL, cases[i].want) ||
		    !ASSERT_TRUE(!strncmp(err, conf_path, strlen(conf_path)) &&
				 strstr(err, cases[i].want), err))
			ok = false;
		cleanup_conf();
	}
	return ok;
}

static bool a_key_given_twice_names_both_lines_but_lists_add_up(void)
{
	struct mxg_options o;
	char err[1024];
	bool ok = true;

	ok &= ASSERT_EQ(load(&o, "[policy]\nmaxretry = 3\nbantime = 1h\n\nmaxretry = 4\n",
			     err, sizeof(err)), -EINVAL, "twice");
	ok &= ASSERT_TRUE(strstr(err, ":5: maxretry: given twice (first at line 2)") != NULL, err);
	cleanup_conf();
	ok &= ASSERT_EQ(load(&o, "[policy]\nignoreip = 192.0.2.0/24\nignoreip = 198.51.100.0/24\n"
			     "[logs]\nlog = /a.log\nlog = /b.log\n", err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(o.ignoreip.n, 2, "ignoreip adds up");
	ok &= ASSERT_EQ(o.n_logs, 2, "log adds up");
	cleanup_conf();
	return ok;
}

static bool dash_o_overrides_the_file_and_replaces_a_list(void)
{
	struct mxg_options o;
	char err[1024];
	bool ok = true;

	ok &= ASSERT_EQ(load(&o, "[policy]\nmaxretry = 3\nignoreip = 192.0.2.0/24\n",
			     err, sizeof(err)), 0, err);
	cleanup_conf();
	ok &= ASSERT_EQ(mxg_config_set(&o, "maxretry=9", err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(o.maxretry, 9, "-o wins over the file");
	ok &= ASSERT_EQ(mxg_config_set(&o, "policy.bantime=2h", err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(o.bantime_ns, 7200ULL * 1000000000ULL, "section.key");
	/* The file touched ignoreip already: -o adds to what it gave. */
	ok &= ASSERT_EQ(mxg_config_set(&o, "ignoreip=198.51.100.0/24", err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(o.ignoreip.n, 2, "a list given in the file and by -o adds up");
	/* The default ports list is replaced by the first value given. */
	ok &= ASSERT_EQ(mxg_config_set(&o, "ports=2525:1/1", err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(o.n_ports, 1, "the default list is replaced");
	ok &= ASSERT_EQ(mxg_config_set(&o, "maxretry=0", err, sizeof(err)), -EINVAL, "bounds");
	ok &= ASSERT_STREQ(err, "-o maxretry: \"0\": must be a number from 1 to 100", "message");
	ok &= ASSERT_EQ(o.maxretry, 9, "a refused value changes nothing");
	ok &= ASSERT_EQ(mxg_config_set(&o, "xdp.maxretry=3", err, sizeof(err)), -EINVAL,
			"wrong section");
	ok &= ASSERT_EQ(mxg_config_set(&o, "maxretry", err, sizeof(err)), -EINVAL, "no value");
	ok &= ASSERT_STREQ(err, "-o maxretry: expected key=value", "message");
	return ok;
}

static bool check_names_the_key_of_a_cross_key_error(void)
{
	struct mxg_options o;
	char err[256];
	bool ok = true;

	mxg_config_defaults(&o);
	ok &= ASSERT_EQ(mxg_config_check(&o, err, sizeof(err)), 0, "defaults pass");
	ok &= ASSERT_EQ(mxg_config_set(&o, "bantime=2w", err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(mxg_config_check(&o, err, sizeof(err)), -EINVAL, "bantime_max < bantime");
	ok &= ASSERT_TRUE(!strncmp(err, "bantime_max:", 12), err);
	return ok;
}

/* [fleet]: a Redis address, sentinels, names; bad values with file:line. */
static bool fleet_section_is_read_and_bad_values_are_named(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "[fleet]\nredis = 198.18.100.1\n", ":2: redis: \"198.18.100.1\": expected HOST:PORT" },
		{ "[fleet]\nredis = host:0\n", ":2: redis: \"host:0\": expected HOST:PORT" },
		{ "[fleet]\nredis = unix:run/redis.sock\n", ":2: redis: \"unix:run/redis.sock\": a unix socket needs an absolute path" },
		{ "[fleet]\nsentinel = a:1 b\n", ":2: sentinel: \"b\": expected HOST:PORT" },
		{ "[fleet]\nname = mx fleet\n", ":2: name: \"mx fleet\": 1 to 32 of" },
		{ "[fleet]\nhost_id = mx/1\n", ":2: host_id: \"mx/1\"" },
		{ "[fleet]\npassword_file = redis.pass\n", ":2: password_file: \"redis.pass\": must be an absolute path" },
		{ "[fleet]\nuser = a b\n", ":2: user: a Redis ACL user name has no blank" },
		{ "[fleet]\nqueue = 1\n", ":2: queue: \"1\": must be a number from 16" },
	};
	struct mxg_options o;
	char err[1024];
	bool ok = true;
	size_t i;

	ok &= ASSERT_EQ(load(&o, "[fleet]\nredis = [2001:db8::5]:6379\nuser = mxguard\n"
			     "password_file = /etc/mxguard/redis.pass\nname = mx\nhost_id = mx-1\n",
			     err, sizeof(err)), 0, err);
	ok &= ASSERT_STREQ(o.fleet_redis, "[2001:db8::5]:6379", "redis");
	ok &= ASSERT_STREQ(o.fleet_host_id, "mx-1", "host_id");
	ok &= ASSERT_TRUE(o.fleet_counting, "counting on by default");
	cleanup_conf();
	ok &= ASSERT_EQ(load(&o, "[fleet]\nsentinel = 10.0.0.5:26379 10.0.0.6:26379\nmaster = mm\n",
			     err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(mxg_config_check(&o, err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(mxg_config_set(&o, "fleet.redis=10.0.0.5:6379", err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(mxg_config_check(&o, err, sizeof(err)), -EINVAL, "redis and sentinel");
	ok &= ASSERT_TRUE(!strncmp(err, "sentinel:", 9), err);
	cleanup_conf();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = load(&o, bad[i].text, err, sizeof(err));

		if (!ASSERT_EQ(ret, -EINVAL, bad[i].want) ||
		    !ASSERT_TRUE(strstr(err, bad[i].want) != NULL, err))
			ok = false;
		cleanup_conf();
	}
	return ok;
}

/*
 * Any blank ends a list word, as any blank is skipped before one: a name
 * read as "et\v" printed back and read again became "et" (fuzz_config).
 */
static bool every_blank_separates_list_words(void)
{
	struct mxg_options o;
	char err[1024];
	bool ok = true;

	ok &= ASSERT_EQ(load(&o, "[xdp]\ninterface = et\v,eth1\fbr0\n", err,
			     sizeof(err)), 0, err);
	ok &= ASSERT_EQ(o.n_ifaces, 3, "three interfaces") &&
	      ASSERT_STREQ(o.ifaces[0], "et", "vertical tab ends a word") &&
	      ASSERT_STREQ(o.ifaces[2], "br0", "form feed ends a word");
	return ok;
}

static bool a_missing_file_is_enoent(void)
{
	struct mxg_options o;
	char err[256];

	mxg_config_defaults(&o);
	return ASSERT_EQ(mxg_config_load(&o, "/nonexistent/mxguard.conf", err, sizeof(err)),
			 -ENOENT, "ENOENT, the caller decides");
}

struct changes {
	unsigned int n;
	char text[8][160];
};

static void note_change(const char *key, bool live, const char *was, const char *now,
			void *arg)
{
	struct changes *c = arg;

	if (c->n < 8)
		snprintf(c->text[c->n++], sizeof(c->text[0]), "%s %s: %s -> %s",
			 live ? "live" : "restart", key, was, now);
}

static bool reload_keeps_restart_only_keys_and_names_every_change(void)
{
	struct mxg_options cur, next;
	struct changes c = { 0 };
	char err[256];
	bool ok = true;

	mxg_config_defaults(&cur);
	ok &= ASSERT_EQ(mxg_config_set(&cur, "interface=eth0", err, sizeof(err)), 0, err);
	mxg_config_defaults(&next);
	ok &= ASSERT_EQ(mxg_config_set(&next, "interface=eth1", err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(mxg_config_set(&next, "maxretry=3", err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(mxg_config_set(&next, "state_dir=/elsewhere", err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(mxg_config_set(&next, "pattern=app: bad from <HOST>", err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(mxg_config_reload(&cur, &next, note_change, &c), 2, "two need a restart");
	ok &= ASSERT_EQ(c.n, 4, "four changes named");
	ok &= ASSERT_STREQ(c.text[0], "restart interface: eth0 -> eth1", "in table order");
	ok &= ASSERT_STREQ(c.text[1], "live maxretry: 5 -> 3", "live");
	ok &= ASSERT_STREQ(c.text[2], "live pattern:  -> \"app: bad from <HOST>\"", "patterns are live");
	ok &= ASSERT_STREQ(c.text[3], "restart state_dir: /var/lib/mxguard -> /elsewhere", "restart");
	ok &= ASSERT_STREQ(next.ifaces[0], "eth0", "the running interface stays");
	ok &= ASSERT_STREQ(next.state_dir, "/var/lib/mxguard", "the running state dir stays");
	ok &= ASSERT_EQ(next.maxretry, 3, "the live key changes");
	ok &= ASSERT_EQ(next.n_patterns, 1, "the pattern changes");
	c.n = 0;
	ok &= ASSERT_EQ(mxg_config_reload(&cur, &cur, note_change, &c), 0, "no change");
	ok &= ASSERT_EQ(c.n, 0, "nothing named");
	return ok;
}

int main(void)
{
	TEST_RUN(a_file_sets_every_type);
	TEST_RUN(bad_values_are_named_with_file_line_and_key);
	TEST_RUN(a_key_given_twice_names_both_lines_but_lists_add_up);
	TEST_RUN(dash_o_overrides_the_file_and_replaces_a_list);
	TEST_RUN(check_names_the_key_of_a_cross_key_error);
	TEST_RUN(a_missing_file_is_enoent);
	TEST_RUN(reload_keeps_restart_only_keys_and_names_every_change);
	TEST_RUN(log_bound_to_a_server_is_accepted);
	TEST_RUN(fleet_section_is_read_and_bad_values_are_named);
	TEST_RUN(every_blank_separates_list_words);
	cleanup_conf();
	return test_summary();
}
