// SPDX-License-Identifier: GPL-2.0
/* The accounts state file: see accounts_file.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts_file.h"

static int put_one(const struct mxg_account *acc, void *arg)
{
	char line[MXG_ACCT_STATE_LINE_MAX];
	size_t n = mxg_acct_state_line(acc, line, sizeof(line));

	if (!n)
		return 0;	/* cannot happen with bounded fields: skip it */
	line[n] = '\n';
	return fwrite(line, 1, n + 1, arg) == n + 1 ? 0 : -EIO;
}

int mxg_accounts_render(const struct mxg_accounts *a, char **data, size_t *len)
{
	FILE *f;
	int ret;

	*data = NULL;
	*len = 0;
	f = open_memstream(data, len);
	if (!f)
		return -ENOMEM;
	fputs(MXG_ACCT_STATE_HEADER "\n", f);
	ret = mxg_accounts_each(a, put_one, f);
	if (fclose(f) || ret) {
		free(*data);
		*data = NULL;
		return -ENOMEM;
	}
	return 0;
}

int mxg_accounts_render_list(const struct mxg_account *v, unsigned int n,
			     char **data, size_t *len)
{
	unsigned int i;
	FILE *f;
	int ret = 0;

	*data = NULL;
	*len = 0;
	f = open_memstream(data, len);
	if (!f)
		return -ENOMEM;
	fputs(MXG_ACCT_STATE_HEADER "\n", f);
	for (i = 0; i < n && !ret; i++)
		ret = put_one(&v[i], f);
	if (fclose(f) || ret) {
		free(*data);
		*data = NULL;
		return -ENOMEM;
	}
	return 0;
}

int mxg_accounts_load(struct mxg_accounts *a, const char *path,
		      void (*report)(const char *msg, void *arg), void *arg,
		      unsigned int *skipped)
{
	char *line = NULL, msg[512];
	struct mxg_account acc;
	unsigned int lineno = 0;
	size_t cap = 0;
	ssize_t n;
	int count = 0, ret = 0;
	FILE *f;

	*skipped = 0;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if (lineno == 1) {
			if (strcmp(line, MXG_ACCT_STATE_HEADER)) {
				ret = -EINVAL;
				break;
			}
			continue;
		}
		if (!n || line[0] == '#')
			continue;
		if (n > MXG_ACCT_STATE_LINE_MAX || mxg_acct_state_parse(line, (size_t)n, &acc)) {
			(*skipped)++;
			if (report) {
				snprintf(msg, sizeof(msg), "%s:%u: not an account record: skipped",
					 path, lineno);
				report(msg, arg);
			}
			continue;
		}
		if (!mxg_accounts_restore(a, &acc))
			count++;
	}
	free(line);
	fclose(f);
	return ret ? ret : count;
}
