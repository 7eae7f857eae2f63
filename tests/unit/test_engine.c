// SPDX-License-Identifier: GPL-2.0
/*
 * The engine's rate path: a report is counted once per bucket stamp,
 * whether it came through the event ring, a walk of the rate maps after
 * the ring lost events, or both. Reload: new custom patterns are compiled
 * into the engine's parser, all or nothing.
 */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "engine.h"
#include "test.h"

#define SEC 1000000000ULL

static struct mxg_options opts;

/* An engine that decides only (no maps), its clock moved by hand. */
static bool engine_up(struct mxg_engine *e)
{
	char err[512];

	memset(e, 0, sizeof(*e));
	mxg_config_defaults(&opts);
	if (mxg_engine_init(e, &opts, NULL, err, sizeof(err))) {
		fprintf(stderr, "  engine: %s\n", err);
		return false;
	}
	return true;
}

static struct mxg_cidr prefix(void)
{
	struct mxg_cidr c = { .addr = { .family = 4, .a = { 100, 64, 7, 0 } }, .prefixlen = 24 };

	return c;
}

static bool one_stamp_seen_three_times_is_counted_once(void)
{
	struct mxg_engine e;
	struct mxg_cidr c = prefix();
	bool ok = true;
	int i;

	if (!engine_up(&e))
		return false;
	/* Ring event, then two walks that find the same stamp, seconds apart. */
	for (i = 0; i < 3; i++) {
		ok &= ASSERT_EQ(mxg_engine_rate(&e, &c, 25, 10, 5 * SEC), i == 0,
				"counted only the first time");
		e.clock_offset += 2 * SEC;
	}
	ok &= ASSERT_EQ(mxg_policy_bans(e.policy), 0, "no ban from one second over the rate");
	mxg_engine_free(&e);
	return ok;
}

static bool three_stamps_in_three_seconds_ban_the_prefix(void)
{
	struct mxg_engine e;
	struct mxg_cidr c = prefix();
	bool ok = true;
	int i;

	if (!engine_up(&e))
		return false;
	for (i = 0; i < 3; i++) {
		ok &= ASSERT_TRUE(mxg_engine_rate(&e, &c, 25, 10, (5 + 2 * (uint64_t)i) * SEC),
				  "a new stamp is counted");
		e.clock_offset += 2 * SEC;
	}
	ok &= ASSERT_EQ(mxg_policy_bans(e.policy), 1, "rate_events 3 ban the prefix");
	mxg_engine_free(&e);
	return ok;
}

static bool the_same_stamp_on_another_port_is_counted(void)
{
	struct mxg_engine e;
	struct mxg_cidr c = prefix();
	bool ok = true;

	if (!engine_up(&e))
		return false;
	ok &= ASSERT_TRUE(mxg_engine_rate(&e, &c, 25, 1, 5 * SEC), "port 25");
	ok &= ASSERT_TRUE(mxg_engine_rate(&e, &c, 587, 1, 5 * SEC), "port 587: another bucket");
	mxg_engine_free(&e);
	return ok;
}

/* Failures the engine recognised so far, of every service. */
static uint64_t matched(const struct mxg_engine *e)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < MXG_SVC_COUNT; i++)
		n += e->matched[i];
	return n;
}

static void feed(struct mxg_engine *e, const char *line, const char *path)
{
	mxg_engine_line(line, strlen(line), path, e);
}

static bool set(struct mxg_options *o, const char *kv)
{
	char err[512];

	if (mxg_config_set(o, kv, err, sizeof(err))) {
		fprintf(stderr, "  %s\n", err);
		return false;
	}
	return true;
}

#define APPONE "Dec  1 10:00:00 mx appone[1]: bad login from 198.18.5.1"
#define APPTWO "Dec  1 10:00:00 mx apptwo[1]: bad login from 198.18.5.2"

static bool reconfigure_compiles_changed_patterns(void)
{
	struct mxg_options o;
	struct mxg_engine e;
	char err[512];
	bool ok = true;

	memset(&e, 0, sizeof(e));
	mxg_config_defaults(&o);
	if (!set(&o, "pattern=appone: bad login from <HOST>$") ||
	    !ASSERT_EQ(mxg_engine_init(&e, &o, NULL, err, sizeof(err)), 0, err))
		return false;
	feed(&e, APPONE, NULL);
	ok &= ASSERT_EQ(matched(&e), 1, "the first pattern matches");
	mxg_config_defaults(&o);
	ok &= set(&o, "pattern=apptwo: bad login from <HOST>$");
	ok &= ASSERT_EQ(mxg_engine_reconfigure(&e, &o, err, sizeof(err)), 0, err);
	feed(&e, APPONE, NULL);
	ok &= ASSERT_EQ(matched(&e), 1, "the removed pattern no longer matches");
	feed(&e, APPTWO, NULL);
	ok &= ASSERT_EQ(matched(&e), 2, "the new pattern matches");
	mxg_engine_free(&e);
	return ok;
}

static bool reconfigure_that_orphans_a_bound_log_keeps_the_old_patterns(void)
{
	struct mxg_options o;
	struct mxg_engine e;
	char err[512];
	bool ok = true;
	int ret;

	memset(&e, 0, sizeof(e));
	mxg_config_defaults(&o);
	if (!set(&o, "pattern=appone: bad login from <HOST>$") ||
	    !set(&o, "log=appone:/var/log/appone.log") ||
	    !ASSERT_EQ(mxg_engine_init(&e, &o, NULL, err, sizeof(err)), 0, err))
		return false;
	/* The log stays bound to appone, whose pattern the new config drops. */
	mxg_config_defaults(&o);
	ok &= set(&o, "pattern=apptwo: bad login from <HOST>$");
	ok &= set(&o, "log=appone:/var/log/appone.log");
	ret = mxg_engine_reconfigure(&e, &o, err, sizeof(err));
	ok &= ASSERT_EQ(ret, -EINVAL, "refused");
	ok &= ASSERT_TRUE(strstr(err, "appone:/var/log/appone.log") != NULL,
			  "the message names the log");
	/* appone writes its file itself: no host, no tag. */
	feed(&e, "Dec  1 10:00:00 bad login from 198.18.5.1", "/var/log/appone.log");
	ok &= ASSERT_EQ(matched(&e), 1, "the old pattern still reads its log");
	mxg_engine_free(&e);
	return ok;
}

/*
 * De-duplication: Postfix with Dovecot as its SASL backend logs one failed
 * AUTH twice, once per service, with the same address and user name. The
 * parser pairs such reports (user/detect/sessions.h): what counts is the
 * attempts that reach the policy.
 */
static unsigned long attempts(const struct mxg_engine *e)
{
	return (unsigned long)matched(e);
}

#define PF(t, ip, user) "May  1 10:00:" t " mx postfix/submission/smtpd[7]: warning: unknown[" ip \
	"]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=" user
#define DC(t, ip, user) "May  1 10:00:" t " mx dovecot: auth: passwd-file(" user "," ip \
	"): Password mismatch"

static bool one_attempt_logged_by_postfix_and_dovecot_is_counted_once(void)
{
	struct mxg_engine e;
	bool ok = true;

	if (!engine_up(&e))
		return false;
	feed(&e, PF("00", "198.18.6.1", "alice"), NULL);
	feed(&e, DC("00", "198.18.6.1", "alice"), NULL);
	ok &= ASSERT_EQ(attempts(&e), 1ul, "one attempt");
	/* Dovecot first, then Postfix (after auth_failure_delay): the same. */
	feed(&e, DC("00", "198.18.6.2", "bob"), NULL);
	feed(&e, PF("03", "198.18.6.2", "bob"), NULL);
	ok &= ASSERT_EQ(attempts(&e), 2ul, "either order");
	mxg_engine_free(&e);
	return ok;
}

static bool what_is_not_the_same_attempt_is_counted(void)
{
	struct mxg_engine e;
	bool ok = true;

	if (!engine_up(&e))
		return false;
	feed(&e, PF("00", "198.18.6.3", "alice"), NULL);
	feed(&e, PF("00", "198.18.6.3", "alice"), NULL);
	ok &= ASSERT_EQ(attempts(&e), 2ul, "one service twice: two attempts");
	/* Two names, each told by both: two attempts. */
	feed(&e, DC("00", "198.18.6.4", "carol"), NULL);
	feed(&e, DC("00", "198.18.6.4", "dave"), NULL);
	feed(&e, PF("02", "198.18.6.4", "carol"), NULL);
	feed(&e, PF("02", "198.18.6.4", "dave"), NULL);
	ok &= ASSERT_EQ(attempts(&e), 4ul, "another user: another attempt");
	feed(&e, DC("00", "198.18.6.5", "erin"), NULL);
	feed(&e, PF("00", "198.18.6.6", "erin"), NULL);
	ok &= ASSERT_EQ(attempts(&e), 6ul, "another address: another attempt");
	feed(&e, DC("00", "198.18.6.7", "frank"), NULL);
	feed(&e, PF("30", "198.18.6.7", "frank"), NULL);
	ok &= ASSERT_EQ(attempts(&e), 8ul, "30 s apart: two attempts");
	feed(&e, "May  1 10:00:00 mx postfix/smtpd[7]: warning: unknown[198.18.6.8]: SASL LOGIN authentication failed: UGFzc3dvcmQ6", NULL);
	feed(&e, "May  1 10:00:00 mx postfix/smtpd[7]: warning: unknown[198.18.6.8]: SASL LOGIN authentication failed: UGFzc3dvcmQ6", NULL);
	ok &= ASSERT_EQ(attempts(&e), 10ul, "no user name: never merged");
	mxg_engine_free(&e);
	return ok;
}

static bool a_pair_merges_once_and_a_third_report_counts(void)
{
	struct mxg_engine e;
	bool ok = true;

	if (!engine_up(&e))
		return false;
	feed(&e, PF("00", "198.18.6.9", "grace"), NULL);
	feed(&e, DC("00", "198.18.6.9", "grace"), NULL);
	feed(&e, DC("00", "198.18.6.9", "grace"), NULL);
	ok &= ASSERT_EQ(attempts(&e), 2ul, "Dovecot's second line is a second attempt");
	mxg_engine_free(&e);
	return ok;
}

/*
 * replay reads one file after another: Dovecot's log may come after a
 * Postfix log whose lines are later than its own.
 */
static bool replayed_reports_out_of_time_order_still_pair(void)
{
	struct mxg_engine e;
	char err[512];
	bool ok = true;

	memset(&e, 0, sizeof(e));
	e.replay = true;
	mxg_config_defaults(&opts);
	if (!ASSERT_EQ(mxg_engine_init(&e, &opts, NULL, err, sizeof(err)), 0, err))
		return false;
	feed(&e, PF("05", "198.18.6.10", "heidi"), NULL);
	feed(&e, DC("04", "198.18.6.10", "heidi"), NULL);
	ok &= ASSERT_EQ(attempts(&e), 1ul, "one second earlier, read later: the same attempt");
	feed(&e, DC("30", "198.18.6.11", "ivan"), NULL);
	feed(&e, PF("10", "198.18.6.11", "ivan"), NULL);
	ok &= ASSERT_EQ(attempts(&e), 3ul, "20 s earlier: another attempt");
	mxg_engine_free(&e);
	return ok;
}

static int no_auth_parameter(const char *line, void *ctx)
{
	unsigned int *n = ctx;

	(*n)++;
	/* "hunter2" and "bob", base64, as Haraka logs a client's AUTH LOGIN. */
	return strstr(line, "aHVudGVyMg") || strstr(line, "hunter2") ||
	       strstr(line, "Ym9i") ? -1 : 0;
}

/*
 * Haraka at info level logs the client's AUTH parameters, base64 user
 * names and passwords: the evidence of a ban holds its failure lines only.
 */
static bool haraka_auth_parameters_never_reach_evidence(void)
{
	static const char *const session[] = {
		"[NOTICE] [%s] [core] connect ip=198.18.6.20 port=40000 local_ip=198.18.0.1 local_port=587",
		"[INFO] [%s] [core] hook=unrecognized_command plugin=auth/flat_file function=hook_unrecognized_command params=\"AUTH LOGIN\" retval=OK msg=\"\"",
		"[PROTOCOL] [%s] [core] C: Ym9i",
		"[INFO] [%s] [core] hook=unrecognized_command plugin=auth/flat_file function=hook_unrecognized_command params=\"Ym9i\" retval=OK msg=\"\"",
		"[PROTOCOL] [%s] [core] C: aHVudGVyMg==",
		"[INFO] [%s] [core] hook=unrecognized_command plugin=auth/flat_file function=hook_unrecognized_command params=\"aHVudGVyMg==\" retval=OK msg=\"\"",
		"[INFO] [%s] [auth/flat_file] AUTH user=\"bob\" success=false",
		"[NOTICE] [%s] [auth/flat_file] delaying for 1 seconds",
		"[NOTICE] [%s] [core] disconnect ip=198.18.6.20 rdns=x helo=y relay=N early=N esmtp=Y tls=Y pipe=N errors=1 txns=0 rcpts=0/0/0 msgs=0/0/0 bytes=0 lr=\"535 5.7.8 Authentication failed\" time=1.1",
	};
	struct mxg_cidr c = { .addr = { .family = 4, .a = { 198, 18, 6, 20 } }, .prefixlen = 32 };
	struct mxg_engine e;
	char line[512], uuid[40];
	unsigned int i, j, n = 0;
	bool ok = true;
	int ret;

	if (!engine_up(&e))
		return false;
	for (i = 0; i < 6; i++) {
		snprintf(uuid, sizeof(uuid), "0352218B-595C-4B97-B998-1C1C0DDC68%02u", i);
		for (j = 0; j < sizeof(session) / sizeof(session[0]); j++) {
			snprintf(line, sizeof(line), "Dec  1 10:00:0%u mx haraka[1]: ", i);
			snprintf(line + strlen(line), sizeof(line) - strlen(line),
				 session[j], uuid);
			feed(&e, line, NULL);
		}
	}
	ok &= ASSERT_EQ(matched(&e), 6, "one failure per session");
	ok &= ASSERT_EQ(mxg_policy_bans(e.policy), 1, "the guesser is banned");
	ret = mxg_policy_evidence(e.policy, &c, no_auth_parameter, &n);
	ok &= ASSERT_EQ(ret, 0, "no AUTH parameter in the evidence");
	ok &= ASSERT_TRUE(n > 0, "the evidence holds the failure lines");
	mxg_engine_free(&e);
	return ok;
}

int main(void)
{
	TEST_RUN(one_stamp_seen_three_times_is_counted_once);
	TEST_RUN(three_stamps_in_three_seconds_ban_the_prefix);
	TEST_RUN(the_same_stamp_on_another_port_is_counted);
	TEST_RUN(reconfigure_compiles_changed_patterns);
	TEST_RUN(reconfigure_that_orphans_a_bound_log_keeps_the_old_patterns);
	TEST_RUN(one_attempt_logged_by_postfix_and_dovecot_is_counted_once);
	TEST_RUN(what_is_not_the_same_attempt_is_counted);
	TEST_RUN(a_pair_merges_once_and_a_third_report_counts);
	TEST_RUN(replayed_reports_out_of_time_order_still_pair);
	TEST_RUN(haraka_auth_parameters_never_reach_evidence);
	return test_summary();
}
