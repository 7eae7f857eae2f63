// SPDX-License-Identifier: GPL-2.0
/*
 * Ban latency: the time from appending the failure line that completes
 * maxretry to the moment the denylist map holds the address. Whatever does
 * the banning (mxguard run following the file, or fail2ban with the mxguard
 * action) is started by the caller; this tool only writes lines and watches
 * the pinned map, so both are measured the same way.
 *
 *   bench_latency --log FILE --pin-dir DIR [--count N] [--maxretry M]
 *                 [--first K] [--host H] [--timeout-ms T]
 *
 * Addresses are 198.18.0.0/15 hosts, each in a /24 of its own (so no range
 * escalation joins in); K skips the first K of them (several runs on one
 * map), H is their last byte (77; another H gives another 512 hosts, two
 * to a /24, still short of range_hosts). The map watched may be another
 * daemon's than the one following FILE (fleet propagation). Prints one
 * line: count, timeouts, median, p90, p99, max (ms).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "mxguard.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void failure_line(char *buf, size_t size, const unsigned char a[4],
			 unsigned int n)
{
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	snprintf(buf, size,
		 "%s mx postfix/submission/smtpd[%u]: warning: unknown[%u.%u.%u.%u]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=bench\n",
		 stamp, 1000 + n, a[0], a[1], a[2], a[3]);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'n' },
		{ "maxretry", required_argument, NULL, 'm' },
		{ "first", required_argument, NULL, 'f' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "host", required_argument, NULL, 'H' },
		{ 0 }
	};
	const char *log = NULL, *pin = NULL;
	unsigned int count = 200, maxretry = 5, first = 0, timeouts = 0, done = 0;
	unsigned int host = 77;
	double timeout_ms = 5000, *lat;
	char path[4096], line[512];
	unsigned int i, j;
	int opt, fd, map;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			log = optarg;
			break;
		case 'p':
			pin = optarg;
			break;
		case 'n':
			count = (unsigned int)atoi(optarg);
			break;
		case 'm':
			maxretry = (unsigned int)atoi(optarg);
			break;
		case 'f':
			first = (unsigned int)atoi(optarg);
			break;
		case 't':
			timeout_ms = atof(optarg);
			break;
		case 'H':
			host = (unsigned int)atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!log || !pin || !count || count + first > 512 || !maxretry || host < 1 ||
	    host > 254) {
		fprintf(stderr, "usage: bench_latency --log FILE --pin-dir DIR [--count N<=512] [--maxretry M] [--first K]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/deny_v4", pin);
	map = bpf_obj_get(path);
	if (map < 0) {
		fprintf(stderr, "bench_latency: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fd = open(log, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "bench_latency: %s: %s\n", log, strerror(errno));
		return 1;
	}
	/* Fine-grained sleeps in the polling loop. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	lat = calloc(count, sizeof(*lat));
	if (!lat)
		return 1;

	for (i = 0; i < count; i++) {
		unsigned int k = first + i;
		struct mxg_lpm_v4 key = { .prefixlen = 32 };
		unsigned char a[4] = { 198, (unsigned char)(18 + k / 256),
				       (unsigned char)(k % 256), (unsigned char)host };
		struct mxg_deny v;
		double t0 = 0, deadline;

		memcpy(key.addr, a, 4);
		for (j = 0; j < maxretry; j++) {
			failure_line(line, sizeof(line), a, j);
			if (j == maxretry - 1)
				t0 = now_ms();
			if (write(fd, line, strlen(line)) < 0) {
				perror("bench_latency: write");
				return 1;
			}
		}
		deadline = t0 + timeout_ms;
		for (;;) {
			if (bpf_map_lookup_elem(map, &key, &v) == 0) {
				lat[done++] = now_ms() - t0;
				break;
			}
			if (now_ms() > deadline) {
				timeouts++;
				break;
			}
			/* A short sleep: polling must not steal the banner's CPU. */
			usleep(20);
		}
	}
	qsort(lat, done, sizeof(*lat), cmp_double);
	if (!done) {
		printf("count 0 timeouts %u\n", timeouts);
		return 1;
	}
	printf("count %u timeouts %u median %.3f p90 %.3f p99 %.3f max %.3f\n", done,
	       timeouts, lat[done / 2], lat[(done * 90) / 100],
	       lat[(done * 99) / 100 < done ? (done * 99) / 100 : done - 1],
	       lat[done - 1]);
	free(lat);
	close(fd);
	return 0;
}
