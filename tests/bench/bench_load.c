// SPDX-License-Identifier: GPL-2.0
/*
 * Sustained load: AUTH failure lines appended at a steady rate for a while,
 * from many sources, while probes measure the time from writing the line
 * that completes a ban to the moment the denylist map holds it. Whatever
 * does the banning (mxguard run, fail2ban with the mxguard action) is
 * started by the caller, so both are measured the same way.
 *
 *   bench_load --log FILE --pin-dir DIR [--rate N] [--seconds S]
 *              [--hosts H] [--nets M] [--epoch-ms E] [--probes P]
 *              [--maxretry R] [--pid PID] [--metrics HOST:PORT]
 *              [--timeout-ms T] [--show-slow-ms MS]
 *
 * Background: N Postfix SASL failure lines per second, each from a host
 * drawn from a pool of H hosts spread over M /24s of 10.0.0.0/8; the pool
 * moves to M fresh /24s every E ms, so new sources keep being counted and
 * banned for the whole run (by default each host fails about maxretry times
 * per epoch, and whole /24s get banned as the policy escalates).
 *
 * Probes: P per second, each a host alone in its /24 of 172.16.0.0/12:
 * maxretry - 1 failures, then 100 ms later the one that completes the ban,
 * timed from just before its write() until a lookup of the host in deny_v4
 * finds an entry (longest prefix match, so a range covering it counts).
 * A probe not banned within --timeout-ms counts as infinitely slow ("inf"
 * in the percentiles it reaches).
 *
 * With --metrics (the daemon's Prometheus address) the lines the daemon has
 * read are scraped once a second: lag = lines written - lines read. With
 * --pid, the process's CPU time over the run and its resident memory.
 *
 * Prints one line of key value pairs (see tests/bench/load.sh), and with
 * --show-slow-ms, when each probe slower than MS was written, to stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "mxguard.h"

#define MAX_PROBES	4096	/* one /24 of 172.16.0.0/12 each */
#define LINE_MAX_LEN	256
#define BATCH_MAX	(4 * 1024 * 1024)

struct probe {
	double t0;		/* ms, before the write of the completing line */
	double lat;		/* ms; < 0: timed out */
	unsigned char a[4];
};

static struct {
	const char *log, *pin, *metrics;
	unsigned int rate, seconds, hosts, nets, epoch_ms, probes, maxretry;
	int pid;
	double timeout_ms, slow_ms;
} opt = {
	.rate = 50000, .seconds = 60, .hosts = 20000, .nets = 2000,
	.epoch_ms = 2000, .probes = 50, .maxretry = 5, .timeout_ms = 5000,
};

static struct probe probes[MAX_PROBES];
static atomic_uint n_published;		/* probes whose last line is written */
static atomic_bool writer_done;
static atomic_ullong lines_written;
static int deny_map;

/* Lag samples, one a second, from the metrics thread. */
static long long lag_max, lag_last = -1, lag_first_half_max, lag_second_half_max;
static unsigned int lag_samples, scrape_errors;
static double scrape_max_ms;

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

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t put_line(char *out, const char *stamp, const unsigned char a[4],
		       unsigned int pid)
{
	return sprintf(out,
		       "%s mx postfix/submission/smtpd[%u]: warning: unknown[%u.%u.%u.%u]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=bench\n",
		       stamp, pid, a[0], a[1], a[2], a[3]);
}

static void probe_addr(unsigned int k, unsigned char a[4])
{
	a[0] = 172;
	a[1] = 16 + k / 256;
	a[2] = k % 256;
	a[3] = 77;
}

/* The sampler: looks up every outstanding probe until it is banned. */
static void *sampler_main(void *arg)
{
	unsigned int taken = 0, active[MAX_PROBES], n_active = 0, i;

	for (;;) {
		unsigned int pub = atomic_load(&n_published);
		double now;

		while (taken < pub)
			active[n_active++] = taken++;
		if (!n_active && atomic_load(&writer_done) &&
		    taken == atomic_load(&n_published))
			break;
		now = now_ms();
		for (i = 0; i < n_active;) {
			struct probe *p = &probes[active[i]];
			struct mxg_lpm_v4 key = { .prefixlen = 32 };
			struct mxg_deny v;

			memcpy(key.addr, p->a, 4);
			if (bpf_map_lookup_elem(deny_map, &key, &v) == 0) {
				p->lat = now_ms() - p->t0;
			} else if (now - p->t0 > opt.timeout_ms) {
				p->lat = -1;
			} else {
				i++;
				continue;
			}
			active[i] = active[--n_active];
		}
		/* short: polling must not steal the banner's CPU */
		usleep(50);
	}
	return NULL;
}

/* mxguard_log_lines_total from the daemon's metrics, or -1. */
static long long scrape_lines(void)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	static char buf[256 * 1024];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64], *colon, *p;
	size_t got = 0;
	ssize_t n;
	int fd;

	snprintf(host, sizeof(host), "%s", opt.metrics);
	colon = strrchr(host, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	sa.sin_port = htons(atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, sizeof(req) - 1) != sizeof(req) - 1) {
		close(fd);
		return -1;
	}
	while (got < sizeof(buf) - 1 &&
	       (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	p = strstr(buf, "\nmxguard_log_lines_total ");
	return p ? strtoll(p + 25, NULL, 10) : -1;
}

static long long lines_base;

static void *metrics_main(void *arg)
{
	double start = now_ms(), next = start + 1000;
	double half = start + opt.seconds * 500.0;

	while (!atomic_load(&writer_done)) {
		long long read_now, lag;
		double t;

		usleep(20000);
		if (now_ms() < next)
			continue;
		next += 1000;
		t = now_ms();
		read_now = scrape_lines();
		t = now_ms() - t;
		if (t > scrape_max_ms)
			scrape_max_ms = t;
		if (read_now < 0) {
			scrape_errors++;
			continue;
		}
		lag = (long long)atomic_load(&lines_written) - (read_now - lines_base);
		lag_samples++;
		lag_last = lag;
		if (lag > lag_max)
			lag_max = lag;
		if (now_ms() < half) {
			if (lag > lag_first_half_max)
				lag_first_half_max = lag;
		} else if (lag > lag_second_half_max) {
			lag_second_half_max = lag;
		}
	}
	return NULL;
}

/* utime + stime in seconds, or -1. */
static double proc_cpu_s(int pid)
{
	char path[64], buf[2048], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after "pid (comm) ", fields 3..; utime and stime are 14 and 15 */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

/* A field of /proc/PID/status in MiB, or -1. */
static double proc_status_mib(int pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	double kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, flen) && line[flen] == ':')
			kb = atof(line + flen + 1);
	fclose(f);
	return kb < 0 ? -1 : kb / 1024;
}

static double pct(const double *v, unsigned int n, unsigned int p)
{
	unsigned int i = (unsigned int)((unsigned long long)n * p / 100);

	return v[i < n ? i : n - 1];
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_load --log FILE --pin-dir DIR [--rate N] [--seconds S] [--hosts H] [--nets M<=65536] [--epoch-ms E] [--probes P] [--maxretry R] [--pid PID] [--metrics HOST:PORT] [--timeout-ms T]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "hosts", required_argument, NULL, 'H' },
		{ "nets", required_argument, NULL, 'N' },
		{ "epoch-ms", required_argument, NULL, 'e' },
		{ "probes", required_argument, NULL, 'P' },
		{ "maxretry", required_argument, NULL, 'm' },
		{ "pid", required_argument, NULL, 'i' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "show-slow-ms", required_argument, NULL, 'S' },
		{ 0 }
	};
	unsigned int n_probes, started = 0, finished = 0, done = 0, timeouts = 0;
	unsigned int i, o, first_fin, epochs, per_net, early = 0, late = 0;
	double start, end, wend, cpu0 = -1, cpu1 = -1, *lat, *lat_early, *lat_late;
	char path[4096], stamp[32], *batch;
	unsigned long long written = 0, bytes = 0;
	pthread_t sampler, scraper;
	bool scraping = false;
	uint64_t seed = 88172645463325252ULL;
	time_t stamp_t = 0;
	int c, fd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': opt.log = optarg; break;
		case 'p': opt.pin = optarg; break;
		case 'r': opt.rate = strtoul(optarg, NULL, 10); break;
		case 's': opt.seconds = strtoul(optarg, NULL, 10); break;
		case 'H': opt.hosts = strtoul(optarg, NULL, 10); break;
		case 'N': opt.nets = strtoul(optarg, NULL, 10); break;
		case 'e': opt.epoch_ms = strtoul(optarg, NULL, 10); break;
		case 'P': opt.probes = strtoul(optarg, NULL, 10); break;
		case 'm': opt.maxretry = strtoul(optarg, NULL, 10); break;
		case 'i': opt.pid = atoi(optarg); break;
		case 'M': opt.metrics = optarg; break;
		case 't': opt.timeout_ms = atof(optarg); break;
		case 'S': opt.slow_ms = atof(optarg); break;
		default: return usage();
		}
	}
	epochs = opt.epoch_ms ? (opt.seconds * 1000 + opt.epoch_ms - 1) / opt.epoch_ms : 0;
	n_probes = opt.probes * opt.seconds;
	if (!opt.log || !opt.pin || !opt.rate || !opt.seconds || !opt.nets ||
	    opt.hosts < opt.nets || !opt.epoch_ms || !opt.maxretry ||
	    (unsigned long long)epochs * opt.nets > 65536 ||
	    n_probes > MAX_PROBES || opt.rate > 1000000)
		return usage();
	per_net = opt.hosts / opt.nets;
	if (per_net > 254)
		return usage();

	snprintf(path, sizeof(path), "%s/deny_v4", opt.pin);
	deny_map = bpf_obj_get(path);
	if (deny_map < 0) {
		fprintf(stderr, "bench_load: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fd = open(opt.log, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "bench_load: %s: %s\n", opt.log, strerror(errno));
		return 1;
	}
	batch = malloc(BATCH_MAX);
	lat = calloc(n_probes + 1, sizeof(*lat));
	lat_early = calloc(n_probes + 1, sizeof(*lat));
	lat_late = calloc(n_probes + 1, sizeof(*lat));
	if (!batch || !lat || !lat_early || !lat_late)
		return 1;
	for (i = 0; i < n_probes; i++)
		probe_addr(i, probes[i].a);
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	if (opt.metrics) {
		lines_base = scrape_lines();
		if (lines_base < 0) {
			fprintf(stderr, "bench_load: cannot read metrics from %s\n",
				opt.metrics);
			return 1;
		}
	}
	if (opt.pid)
		cpu0 = proc_cpu_s(opt.pid);
	if (pthread_create(&sampler, NULL, sampler_main, NULL))
		return 1;
	if (opt.metrics && !pthread_create(&scraper, NULL, metrics_main, NULL))
		scraping = true;

	start = now_ms();
	end = start + opt.seconds * 1000.0;
	for (;;) {
		double now = now_ms(), el = now - start;
		unsigned long long want = (unsigned long long)(el * opt.rate / 1000);
		unsigned int epoch = (unsigned int)(el / opt.epoch_ms);
		size_t len = 0;
		time_t t = time(NULL);
		bool last = now >= end;

		if (last)
			want = (unsigned long long)opt.seconds * opt.rate;
		if (epoch >= epochs)
			epoch = epochs - 1;
		if (t != stamp_t) {
			struct tm tm;

			localtime_r(&t, &tm);
			strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
			stamp_t = t;
		}
		/* probes due: the first maxretry - 1 failures */
		while (started < n_probes && started * 1000.0 / opt.probes <= el &&
		       len < BATCH_MAX - opt.maxretry * LINE_MAX_LEN) {
			for (o = 0; o + 1 < opt.maxretry; o++)
				len += put_line(batch + len, stamp, probes[started].a, 2000 + o);
			written += opt.maxretry - 1;
			started++;
		}
		/* background lines up to the rate */
		while (written < want && len < BATCH_MAX - LINE_MAX_LEN) {
			uint64_t r = xorshift(&seed);
			unsigned int net = epoch * opt.nets + (unsigned int)(r % opt.nets);
			unsigned char a[4] = { 10, net >> 8, net & 255,
					       1 + (unsigned int)((r >> 32) % per_net) };

			len += put_line(batch + len, stamp, a, 1000 + (unsigned int)(r >> 48) % 9000);
			written++;
		}
		/* the completing failure, 100 ms after the others, timed */
		first_fin = finished;
		while (finished < started && finished * 1000.0 / opt.probes + 100 <= el &&
		       len < BATCH_MAX - LINE_MAX_LEN) {
			len += put_line(batch + len, stamp, probes[finished].a, 2999);
			written++;
			finished++;
		}
		if (last)	/* the last ones without waiting */
			while (finished < started && len < BATCH_MAX - LINE_MAX_LEN) {
				len += put_line(batch + len, stamp, probes[finished].a, 2999);
				written++;
				finished++;
			}
		if (len) {
			double t0 = now_ms();

			for (i = first_fin; i < finished; i++)
				probes[i].t0 = t0;
			for (size_t off = 0; off < len;) {
				ssize_t n = write(fd, batch + off, len - off);

				if (n < 0) {
					perror("bench_load: write");
					return 1;
				}
				off += n;
			}
			bytes += len;
			atomic_store(&lines_written, written);
			atomic_store(&n_published, finished);
		}
		if (last && finished == started)
			break;
		usleep(500);
	}
	wend = now_ms();
	atomic_store(&writer_done, true);
	pthread_join(sampler, NULL);
	if (scraping)
		pthread_join(scraper, NULL);

	/* lines read at the end: give the reader a moment to finish */
	if (opt.metrics) {
		double until = now_ms() + 10000;
		long long r;

		while ((r = scrape_lines()) >= 0 && r - lines_base < (long long)written &&
		       now_ms() < until)
			usleep(100000);
		lag_last = r < 0 ? -1 : (long long)written - (r - lines_base);
	}
	if (opt.pid)
		cpu1 = proc_cpu_s(opt.pid);

	for (i = 0; i < finished; i++) {
		if (opt.slow_ms && (probes[i].lat < 0 || probes[i].lat > opt.slow_ms))
			fprintf(stderr, "slow probe at %.3f s: %.1f ms\n",
				(probes[i].t0 - start) / 1000, probes[i].lat);
		/* a probe never banned is slower than any: it counts as inf */
		double l = probes[i].lat < 0 ? INFINITY : probes[i].lat;

		timeouts += probes[i].lat < 0;
		lat[done++] = l;
		if (i < finished / 3)
			lat_early[early++] = l;
		else if (i >= finished - finished / 3)
			lat_late[late++] = l;
	}
	qsort(lat, done, sizeof(*lat), cmp_double);
	qsort(lat_early, early, sizeof(*lat), cmp_double);
	qsort(lat_late, late, sizeof(*lat), cmp_double);
	printf("lines %llu rate %.0f MiB %.1f probes %u timeouts %u", written,
	       written / ((wend - start) / 1000), bytes / 1048576.0, finished,
	       timeouts);
	if (done)
		printf(" median %.3f p90 %.3f p99 %.3f max %.3f", pct(lat, done, 50),
		       pct(lat, done, 90), pct(lat, done, 99), lat[done - 1]);
	if (early && late)
		printf(" p99_first_third %.3f p99_last_third %.3f",
		       pct(lat_early, early, 99), pct(lat_late, late, 99));
	if (opt.metrics)
		printf(" unread_at_end %lld lag_max %lld lag_max_1st_half %lld lag_max_2nd_half %lld lag_samples %u scrape_errors %u scrape_max_ms %.0f",
		       lag_last, lag_max, lag_first_half_max, lag_second_half_max,
		       lag_samples, scrape_errors, scrape_max_ms);
	if (opt.pid && cpu0 >= 0 && cpu1 >= 0)
		printf(" cpu_s %.2f rss_mib %.1f hwm_mib %.1f", cpu1 - cpu0,
		       proc_status_mib(opt.pid, "VmRSS"),
		       proc_status_mib(opt.pid, "VmHWM"));
	printf("\n");
	close(fd);
	return done && timeouts < done ? 0 : 1;
}
