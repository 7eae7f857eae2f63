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

int main(void)
{
	TEST_RUN(log_bound_to_a_server_is_accepted);
	cleanup_conf();
	return test_summary();
}
