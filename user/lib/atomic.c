// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"

int mxg_fsync_dir_of(const char *path)
{
	char buf[PATH_MAX];
	int fd, ret = 0;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

int mxg_atomic_write(const char *path, mode_t mode, mxg_atomic_fill_fn fill,
		     void *arg)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, ret;

	/* Same directory, so the rename cannot cross file systems. */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode)) {
		ret = -errno;
		close(fd);
		goto out_unlink;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		goto out_unlink;
	}
	ret = fill(f, arg);
	if (!ret && (fflush(f) || ferror(f)))
		ret = errno ? -errno : -EIO;
	if (!ret && fsync(fileno(f)))
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -EIO;
	if (ret)
		goto out_unlink;
	if (rename(tmp, path)) {
		ret = -errno;
		goto out_unlink;
	}
	return mxg_fsync_dir_of(path);

out_unlink:
	unlink(tmp);
	return ret;
}

int mxg_atomic_render(mxg_atomic_fill_fn fill, void *arg, char **data,
		      size_t *len)
{
	FILE *f;
	int ret;

	*data = NULL;
	*len = 0;
	f = open_memstream(data, len);
	if (!f)
		return -errno;
	ret = fill(f, arg);
	if (!ret && (fflush(f) || ferror(f)))
		ret = -ENOMEM;
	if (fclose(f) && !ret)
		ret = -ENOMEM;
	if (ret) {
		free(*data);
		*data = NULL;
		*len = 0;
	}
	return ret;
}

int mxg_dir_check_private(const char *dir, const char *what, bool root_ok,
			  bool strict, char *err, size_t errlen)
{
	uid_t me = geteuid();
	mode_t bad = strict ? 0077 : 0022;
	struct stat st;

	if (stat(dir, &st)) {
		int ret = -errno;

		snprintf(err, errlen, "%s %s: %s", what, dir, strerror(errno));
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s %s: not a directory", what, dir);
		return -ENOTDIR;
	}
	if (st.st_uid != me && !(root_ok && st.st_uid == 0)) {
		snprintf(err, errlen,
			 "%s %s: owned by uid %u, not by uid %u that runs mxguard: another user could replace or remove what is in it; remove it (or chown %u) and try again",
			 what, dir, (unsigned int)st.st_uid, (unsigned int)me,
			 (unsigned int)me);
		return -EPERM;
	}
	if (st.st_mode & bad) {
		snprintf(err, errlen,
			 "%s %s: mode %04o lets %s; it must be 0700 (chmod 0700 %s)",
			 what, dir, (unsigned int)(st.st_mode & 07777),
			 st.st_mode & 0022 ? "other users write to it" : "other users read it",
			 dir);
		return -EPERM;
	}
	return 0;
}
