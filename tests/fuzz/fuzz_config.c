// SPDX-License-Identifier: GPL-2.0
/*
 * The config file parser (user/daemon/config.c), through a memfd since it takes
 * a path. A file that loads must print (check-config) to text that loads
 * again to the same configuration: the printed form is what operators
 * copy. The first line also goes to mxg_config_set, the -o key=value path.
 */
#include "fuzz.h"
#include "config.h"

/* Too big for the stack of a fuzzer thread; one input at a time. */
static struct mxg_options opts, again;

/* The printed config into a malloc'd string (caller frees). */
static char *print(const struct mxg_options *o, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	mxg_config_print(o, f);
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[32], err[1024];
	char *first, *out1, *out2;
	size_t len1, len2;
	int fd, ret;

	if (size > 8192)
		return 0;
	fd = fuzz_file(data, size, path);
	mxg_config_defaults(&opts);
	ret = mxg_config_load(&opts, path, err, sizeof(err));
	close(fd);
	if (ret) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0],
			   "load failed (%d) with no message", ret);
	} else {
		mxg_config_check(&opts, err, sizeof(err));
		out1 = print(&opts, &len1);
		fd = fuzz_file((const uint8_t *)out1, len1, path);
		mxg_config_defaults(&again);
		ret = mxg_config_load(&again, path, err, sizeof(err));
		close(fd);
		FUZZ_CHECK(ret == 0, "printed config does not load: %s\n%s", err, out1);
		out2 = print(&again, &len2);
		FUZZ_CHECK(len1 == len2 && !memcmp(out1, out2, len1),
			   "printed config loads to another one:\n%s\n----\n%s",
			   out1, out2);
		free(out1);
		free(out2);
	}

	first = fuzz_cstr(data, size);
	first[strcspn(first, "\n")] = '\0';
	mxg_config_defaults(&opts);
	mxg_config_set(&opts, first, err, sizeof(err));
	free(first);
	return 0;
}
