// SPDX-License-Identifier: GPL-2.0
/*
 * mxg_config_build (user/daemon/config.c), the one config pipeline of run,
 * its reloads, replay and check-config: defaults, then the file, then the
 * command line's settings in their order, then the cross-key checks.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "test.h"

static char dir[] = "/tmp/mxg-confpipe-XXXXXX";

/* Write text to dir/name; the path goes to path. */
static bool write_conf(const char *name, const char *text, char *path, size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f)
		return false;
	fputs(text, f);
	return !fclose(f);
}

static bool file_then_flags_then_o_in_command_line_order(void)
{
	static const struct mxg_config_arg args[] = {
		{ NULL, "maxretry=7" },
		{ "monitor", "yes" },
		{ NULL, "bantime=2h" },
		{ NULL, "maxretry=9" },
	};
	char path[PATH_MAX], err[PATH_MAX + 256];
	struct mxg_options o;
	bool no_file = true, ok = true;

	ok &= ASSERT_TRUE(write_conf("a.conf", "[policy]\nmaxretry = 3\nfindtime = 5m\n",
				     path, sizeof(path)), "write");
	ok &= ASSERT_EQ(mxg_config_build(&o, path, args, 4, &no_file, err, sizeof(err)), 0, err);
	ok &= ASSERT_TRUE(!no_file, "the file was read");
	ok &= ASSERT_EQ(o.maxretry, 9, "the last maxretry wins");
	ok &= ASSERT_EQ(o.findtime_ns, 300ULL * 1000000000ULL, "findtime from the file");
	ok &= ASSERT_EQ(o.bantime_ns, 7200ULL * 1000000000ULL, "bantime from -o");
	ok &= ASSERT_TRUE(o.monitor, "a flag sets its key");
	ok &= ASSERT_EQ(mxg_config_build(&o, path, args, 1, &no_file, err, sizeof(err)), 0, err);
	ok &= ASSERT_EQ(o.maxretry, 7, "-o over the file");
	ok &= ASSERT_TRUE(!o.monitor, "each build starts from the defaults");
	return ok;
}

static bool a_flag_after_o_wins_and_o_after_a_flag_wins(void)
{
	const struct mxg_config_arg flag_last[] = {
		{ NULL, "state_dir=/tmp/a" }, { "state_dir", "/tmp/b" },
	};
	const struct mxg_config_arg o_last[] = {
		{ "state_dir", "/tmp/b" }, { NULL, "state_dir=/tmp/a" },
	};
	char path[PATH_MAX], err[PATH_MAX + 256];
	struct mxg_options o;
	bool no_file, ok = true;

	ok &= ASSERT_TRUE(write_conf("b.conf", "", path, sizeof(path)), "write");
	ok &= ASSERT_EQ(mxg_config_build(&o, path, flag_last, 2, &no_file, err, sizeof(err)), 0, err);
	ok &= ASSERT_STREQ(o.state_dir, "/tmp/b", "flag last");
	ok &= ASSERT_EQ(mxg_config_build(&o, path, o_last, 2, &no_file, err, sizeof(err)), 0, err);
	ok &= ASSERT_STREQ(o.state_dir, "/tmp/a", "-o last");
	return ok;
}

static bool checks_run_after_every_setting(void)
{
	/* Each alone is fine; together bantime_max < bantime. */
	static const struct mxg_config_arg args[] = { { NULL, "bantime_max=1h" } };
	char path[PATH_MAX], err[PATH_MAX + 256] = "";
	struct mxg_options o;
	bool no_file, ok = true;

	ok &= ASSERT_TRUE(write_conf("c.conf", "[policy]\nbantime = 2h\n", path, sizeof(path)),
			  "write");
	ok &= ASSERT_EQ(mxg_config_build(&o, path, args, 1, &no_file, err, sizeof(err)), -EINVAL,
			"refused");
	ok &= ASSERT_TRUE(!strncmp(err, "bantime_max: ", 13), err);
	return ok;
}

static bool errors_name_file_line_or_key(void)
{
	static const struct mxg_config_arg bad_o[] = { { NULL, "prefix_v4=40" } };
	static const struct mxg_config_arg bad_flag[] = { { "xdp_mode", "turbo" } };
	char path[PATH_MAX], missing[PATH_MAX + 16], want[PATH_MAX + 64];
	char err[PATH_MAX + 256] = "";
	struct mxg_options o;
	bool no_file = true, ok = true;

	ok &= ASSERT_TRUE(write_conf("d.conf", "[policy]\n\nmaxretry = lots\n", path,
				     sizeof(path)), "write");
	ok &= ASSERT_EQ(mxg_config_build(&o, path, NULL, 0, &no_file, err, sizeof(err)), -EINVAL,
			"bad value in the file");
	snprintf(want, sizeof(want), "%s:3: maxretry: ", path);
	ok &= ASSERT_TRUE(!strncmp(err, want, strlen(want)), err);

	snprintf(missing, sizeof(missing), "%s/none.conf", dir);
	ok &= ASSERT_EQ(mxg_config_build(&o, missing, NULL, 0, &no_file, err, sizeof(err)),
			-ENOENT, "a file given and not there");
	ok &= ASSERT_TRUE(!no_file, "a file given is not optional");
	ok &= ASSERT_TRUE(strstr(err, missing) != NULL, err);

	ok &= ASSERT_TRUE(write_conf("e.conf", "", path, sizeof(path)), "write");
	ok &= ASSERT_EQ(mxg_config_build(&o, path, bad_o, 1, &no_file, err, sizeof(err)), -EINVAL,
			"bad -o");
	ok &= ASSERT_TRUE(strstr(err, "prefix_v4") != NULL, err);
	ok &= ASSERT_EQ(mxg_config_build(&o, path, bad_flag, 1, &no_file, err, sizeof(err)),
			-EINVAL, "bad flag value");
	ok &= ASSERT_TRUE(strstr(err, "xdp_mode") != NULL, err);
	return ok;
}

static bool no_file_given_and_none_at_the_default_path_means_defaults(void)
{
	struct mxg_options o, def;
	char err[PATH_MAX + 256];
	bool no_file = false, ok = true;

	if (!access(MXG_CONF_DEFAULT, F_OK))
		return TEST_SKIP(MXG_CONF_DEFAULT " exists on this machine");
	ok &= ASSERT_EQ(mxg_config_build(&o, NULL, NULL, 0, &no_file, err, sizeof(err)), 0, err);
	ok &= ASSERT_TRUE(no_file, "no_file says the defaults apply");
	mxg_config_defaults(&def);
	ok &= ASSERT_EQ(o.maxretry, def.maxretry, "maxretry is the default");
	ok &= ASSERT_EQ(o.n_ports, def.n_ports, "ports are the default");
	return ok;
}

int main(void)
{
	char cmd[64];
	int ret;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	TEST_RUN(file_then_flags_then_o_in_command_line_order);
	TEST_RUN(a_flag_after_o_wins_and_o_after_a_flag_wins);
	TEST_RUN(checks_run_after_every_setting);
	TEST_RUN(errors_name_file_line_or_key);
	TEST_RUN(no_file_given_and_none_at_the_default_path_means_defaults);
	ret = test_summary();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	return ret;
}
