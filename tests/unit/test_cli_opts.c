// SPDX-License-Identifier: GPL-2.0
/*
 * The commands' option tables and their one parser (user/cmd/opts.c):
 * options and operands in any order, the config flags kept in order, one
 * message for a bad option, and -h made from each command's table.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "test.h"

struct fake_args {
	bool json;
	const char *str;
	unsigned long n;
	uint64_t ns;
};

static const struct cli_opt fake_opts[] = {
	{ "json", 'j', CLI_FLAG, NULL, "json", .off = offsetof(struct fake_args, json) },
	{ "jsonl", 0, CLI_FLAG, NULL, "json lines", .off = offsetof(struct fake_args, json) },
	{ "str", 's', CLI_STRING, "S", "a string", .off = offsetof(struct fake_args, str) },
	{ "count", 'n', CLI_UINT, "N", "a count", .off = offsetof(struct fake_args, n),
	  .min = 1, .max = 100 },
	{ "wait", 'w', CLI_DURATION, "D", "a wait", .off = offsetof(struct fake_args, ns),
	  .min = 100000000ULL, .bare = "1s" },
	{ "interface", 'i', CLI_CONF, "IFACE", "iface", .key = "interface", .repeat = true },
	{ "monitor", 0, CLI_CONF, NULL, "monitor", .key = "monitor", .value = "yes" },
	{ "option", 'o', CLI_CONF_KV, "key=value", "set", .repeat = true },
	{ 0 }
};

static int fake_fn(int argc, char **argv)
{
	return 0;
}

static const struct cli_command fake = {
	.name = "fake", .fn = fake_fn, .summary = "a test", .operands = "X...",
	.about = "A command of the test.", .opts = fake_opts,
	.min_operands = 0, .max_operands = 3,
};

/* Run fn with stdout and stderr into buffers (NUL-terminated). */
static char out_buf[16384], err_buf[16384];

static void read_back(int fd, char *buf, size_t size)
{
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

static int captured(int (*fn)(const struct cli_command *, int, char **, void *),
		    const struct cli_command *cmd, int argc, char **argv, void *arg)
{
	char o_name[] = "/tmp/mxg-opts-out-XXXXXX", e_name[] = "/tmp/mxg-opts-err-XXXXXX";
	int o = mkstemp(o_name), e = mkstemp(e_name);
	int so = dup(1), se = dup(2), rc;

	unlink(o_name);
	unlink(e_name);
	fflush(stdout);
	fflush(stderr);
	dup2(o, 1);
	dup2(e, 2);
	rc = fn(cmd, argc, argv, arg);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	read_back(o, out_buf, sizeof(out_buf));
	read_back(e, err_buf, sizeof(err_buf));
	return rc;
}

static struct cli_ctx ctx;

static int do_parse(const struct cli_command *cmd, int argc, char **argv, void *args)
{
	return cli_parse(cmd, argc, argv, args, &ctx);
}

static int do_fn(const struct cli_command *cmd, int argc, char **argv, void *args)
{
	return cmd->fn(argc, argv);
}

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(a, ...) captured(do_parse, &fake, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (a))

static bool options_and_operands_mix_and_double_dash_ends_options(void)
{
	struct fake_args a = { 0 };
	bool ok = true;

	ok &= ASSERT_EQ(PARSE(&a, "fake", "x", "-j", "--str=abc", "y", "-n", "5", "--", "-z"),
			CLI_GO, err_buf);
	ok &= ASSERT_TRUE(a.json, "-j");
	ok &= ASSERT_STREQ(a.str, "abc", "--str=abc");
	ok &= ASSERT_EQ(a.n, 5, "-n 5");
	ok &= ASSERT_EQ(ctx.argc, 3, "operands");
	if (ctx.argc == 3) {
		ok &= ASSERT_STREQ(ctx.argv[0], "x", "first operand");
		ok &= ASSERT_STREQ(ctx.argv[1], "y", "second operand");
		ok &= ASSERT_STREQ(ctx.argv[2], "-z", "after --, an operand");
	}
	ok &= ASSERT_STREQ(ctx.pin_dir, MXG_PIN_DIR_DEFAULT, "default pin dir");
	return ok;
}

static bool short_options_cluster_and_take_an_attached_argument(void)
{
	struct fake_args a = { 0 };
	bool ok = true;

	ok &= ASSERT_EQ(PARSE(&a, "fake", "-jn7", "-sfoo", "-w"), CLI_GO, err_buf);
	ok &= ASSERT_TRUE(a.json, "-j in -jn7");
	ok &= ASSERT_EQ(a.n, 7, "-n7 in -jn7");
	ok &= ASSERT_STREQ(a.str, "foo", "-sfoo");
	ok &= ASSERT_EQ(a.ns, 1000000000ULL, "-w alone takes its bare value");
	ok &= ASSERT_EQ(PARSE(&a, "fake", "--wait=200ms"), CLI_GO, err_buf);
	ok &= ASSERT_EQ(a.ns, 200000000ULL, "--wait=200ms");
	return ok;
}

static bool a_unique_prefix_names_the_option_an_ambiguous_one_is_refused(void)
{
	struct fake_args a = { 0 };
	bool ok = true;

	ok &= ASSERT_EQ(PARSE(&a, "fake", "--cou", "3"), CLI_GO, err_buf);
	ok &= ASSERT_EQ(a.n, 3, "--cou is --count");
	ok &= ASSERT_EQ(PARSE(&a, "fake", "--json"), CLI_GO, "an exact name beats longer ones");
	ok &= ASSERT_EQ(PARSE(&a, "fake", "--js"), EXIT_USAGE, "--js: json or jsonl");
	ok &= ASSERT_TRUE(strstr(err_buf, "mxguard fake: option \"--js\" is ambiguous (--json, --jsonl)") != NULL,
			  err_buf);
	return ok;
}

static bool config_flags_and_pin_dir_are_kept_in_command_line_order(void)
{
	struct fake_args a = { 0 };
	bool ok = true;

	ok &= ASSERT_EQ(PARSE(&a, "fake", "-o", "maxretry=3", "-i", "eth0", "--pin-dir", "/x",
			      "--monitor", "-ieth1"), CLI_GO, err_buf);
	ok &= ASSERT_EQ(ctx.n_conf, 5, "five settings");
	if (ctx.n_conf != 5)
		return false;
	ok &= ASSERT_TRUE(!ctx.conf[0].key, "-o has no key of its own");
	ok &= ASSERT_STREQ(ctx.conf[0].value, "maxretry=3", "-o value");
	ok &= ASSERT_STREQ(ctx.conf[1].key, "interface", "-i key");
	ok &= ASSERT_STREQ(ctx.conf[1].value, "eth0", "-i value");
	ok &= ASSERT_STREQ(ctx.conf[2].key, "pin_dir", "--pin-dir key");
	ok &= ASSERT_STREQ(ctx.conf[2].value, "/x", "--pin-dir value");
	ok &= ASSERT_STREQ(ctx.conf[3].key, "monitor", "--monitor key");
	ok &= ASSERT_STREQ(ctx.conf[3].value, "yes", "a flag's value");
	ok &= ASSERT_STREQ(ctx.conf[4].value, "eth1", "-ieth1");
	ok &= ASSERT_STREQ(ctx.pin_dir, "/x", "ctx.pin_dir");
	return ok;
}

/* A bad command line: exit 2 and one message with the command and the option as given. */
static bool refused(const char *want, int argc, char **argv)
{
	struct fake_args a = { 0 };
	bool ok = true;

	ok &= ASSERT_EQ(captured(do_parse, &fake, argc, argv, &a), EXIT_USAGE, want);
	ok &= ASSERT_TRUE(strstr(err_buf, want) != NULL, err_buf);
	ok &= ASSERT_TRUE(strchr(err_buf, '\n') == err_buf + strlen(err_buf) - 1, "one line");
	return ok;
}

#define REFUSED(want, ...) refused(want, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static bool bad_options_get_one_message_naming_command_and_option(void)
{
	bool ok = true;

	ok &= REFUSED("mxguard fake: unknown option \"--jsno\" (did you mean --json?)",
		      "fake", "--jsno");
	ok &= REFUSED("mxguard fake: unknown option \"--frobnicate\" (mxguard fake -h lists them)",
		      "fake", "x", "--frobnicate");
	ok &= REFUSED("mxguard fake: unknown option \"-x\" in \"-jx\"", "fake", "-jx");
	ok &= REFUSED("mxguard fake: option \"--str\" needs an argument (S)", "fake", "--str");
	ok &= REFUSED("mxguard fake: option \"-n\" needs an argument (N)", "fake", "-n");
	ok &= REFUSED("mxguard fake: option \"--json\" takes no argument", "fake", "--json=yes");
	ok &= REFUSED("mxguard fake: --count 0: expected a whole number from 1 to 100", "fake",
		      "--count", "0");
	ok &= REFUSED("mxguard fake: --count -1: expected", "fake", "-n", "-1");
	ok &= REFUSED("mxguard fake: --wait 50ms: expected a duration of at least 100ms", "fake",
		      "--wait=50ms");
	ok &= REFUSED("mxguard fake: unexpected argument \"d\"", "fake", "a", "b", "c", "d");
	return ok;
}

static bool help_is_made_from_the_table_and_exits_0(void)
{
	struct fake_args a = { 0 };
	bool ok = true;

	ok &= ASSERT_EQ(PARSE(&a, "fake", "x", "--help"), EXIT_OK, "--help");
	ok &= ASSERT_TRUE(!strncmp(out_buf, "usage: mxguard fake [--json] [--jsonl] [--str S] "
				   "[--count N]", 56), out_buf);
	ok &= ASSERT_TRUE(strstr(out_buf, "[--interface IFACE]...") != NULL, "repeatable");
	ok &= ASSERT_TRUE(strstr(out_buf, "[--wait[=D]]") != NULL, "optional argument");
	ok &= ASSERT_TRUE(strstr(out_buf, "\n  -n, --count N          a count\n") != NULL,
			  out_buf);
	ok &= ASSERT_TRUE(strstr(out_buf, "\n      --monitor          monitor\n") != NULL,
			  out_buf);
	ok &= ASSERT_TRUE(strstr(out_buf, "\n  -h, --help             this help\n") != NULL,
			  out_buf);
	ok &= ASSERT_EQ(err_buf[0], '\0', "nothing on stderr");
	return ok;
}

/* For every command mxguard has: -h lists each option of its table. */
static bool every_command_help_lists_every_option_of_its_table(void)
{
	unsigned int i;
	bool ok = true;

	for (i = 0; i < cli_n_commands; i++) {
		const struct cli_command *c = cli_commands[i];
		const struct cli_opt *o;
		char want[128], *argv[] = { (char *)c->name, "-h", NULL };

		ok &= ASSERT_EQ(captured(do_fn, c, 2, argv, NULL), EXIT_OK, c->name);
		snprintf(want, sizeof(want), "usage: mxguard %s ", c->name);
		ok &= ASSERT_TRUE(!strncmp(out_buf, want, strlen(want)), out_buf);
		for (o = c->opts; o && o->name; o++) {
			snprintf(want, sizeof(want), "--%s", o->name);
			ok &= ASSERT_TRUE(strstr(out_buf, want) != NULL, want);
		}
		ok &= ASSERT_TRUE(strstr(out_buf, "\n  -p, --pin-dir DIR ") != NULL, c->name);
		ok &= ASSERT_TRUE(strstr(out_buf, "\n  -h, --help ") != NULL, c->name);
	}
	return ok;
}

static bool every_command_refuses_an_unknown_option_with_exit_2(void)
{
	unsigned int i;
	bool ok = true;

	for (i = 0; i < cli_n_commands; i++) {
		const struct cli_command *c = cli_commands[i];
		char want[128], *argv[] = { (char *)c->name, "--no-such-option", NULL };

		ok &= ASSERT_EQ(captured(do_fn, c, 2, argv, NULL), EXIT_USAGE, c->name);
		snprintf(want, sizeof(want), "mxguard %s: unknown option \"--no-such-option\"",
			 c->name);
		ok &= ASSERT_TRUE(strstr(err_buf, want) != NULL, err_buf);
	}
	return ok;
}

static int do_usage_all(const struct cli_command *cmd, int argc, char **argv, void *arg)
{
	cli_usage_all(stdout);
	return 0;
}

/* Every command of the table but the hidden ones (completion). */
static bool mxguard_help_lists_every_command_of_the_table(void)
{
	unsigned int i, shown = 0;
	bool ok = true;

	captured(do_usage_all, NULL, 0, NULL, NULL);
	for (i = 0; i < cli_n_commands; i++) {
		char want[160];

		snprintf(want, sizeof(want), "\n  %-13s %s\n", cli_commands[i]->name,
			 cli_commands[i]->summary);
		if (cli_commands[i]->hidden) {
			ok &= ASSERT_TRUE(strstr(out_buf, want) == NULL, want);
			continue;
		}
		shown++;
		ok &= ASSERT_TRUE(strstr(out_buf, want) != NULL, want);
	}
	ok &= ASSERT_EQ(shown, 19, "commands in --help");
	return ok;
}

int main(void)
{
	TEST_RUN(options_and_operands_mix_and_double_dash_ends_options);
	TEST_RUN(short_options_cluster_and_take_an_attached_argument);
	TEST_RUN(a_unique_prefix_names_the_option_an_ambiguous_one_is_refused);
	TEST_RUN(config_flags_and_pin_dir_are_kept_in_command_line_order);
	TEST_RUN(bad_options_get_one_message_naming_command_and_option);
	TEST_RUN(help_is_made_from_the_table_and_exits_0);
	TEST_RUN(every_command_help_lists_every_option_of_its_table);
	TEST_RUN(every_command_refuses_an_unknown_option_with_exit_2);
	TEST_RUN(mxguard_help_lists_every_command_of_the_table);
	return test_summary();
}
