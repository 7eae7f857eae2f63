// SPDX-License-Identifier: GPL-2.0
/*
 * Following log files with inotify plus a stat() poll, level-triggered: any
 * wake-up (an inotify event, the timer) re-reads every followed file from its
 * offset and re-checks which inode its path names. So a coalesced, lost or
 * overflowed event costs latency, never a line.
 *
 * Each followed path has a current source (the open file its path named last
 * time we looked) and, after a rename-and-create rotation, an old source kept
 * open until it has been idle for MXG_FOLLOW_DRAIN_MS, because writers keep
 * appending to the renamed file until they reopen their log.
 *
 * Reading uses pread() at our own offset into one buffer per follower; lines
 * are split in place, so a line costs a memchr and the callback. Only a line
 * split across two reads is copied, into its source's pending buffer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "follow.h"
#include "log.h"

/* Version 2 adds the bytes before the offset; version 1 files still load. */
#define STATE_MAGIC_V1	"mxguard-follow-state 1"
#define STATE_MAGIC	"mxguard-follow-state 2"

/* One open file we read from. */
struct src {
	int fd;			/* -1 when none */
	int wd;			/* inotify watch on this inode, -1 when none */
	dev_t dev;
	ino_t ino;
	off_t off;		/* next byte to read */
	off_t line_start;	/* offset of the pending line: the safe resume point */
	char *part;		/* pending line split across reads, LINE_MAX + 1 */
	size_t plen;
	bool cutting;		/* dropping the rest of a cut (or unknown) line */
	uint64_t idle_since;	/* ms; old sources: last time it grew */
	unsigned char fp[MXG_FOLLOW_FP_LEN];	/* first bytes of the file */
	size_t fp_len;
	unsigned char tail[MXG_FOLLOW_FP_LEN];	/* the bytes just before off */
	size_t tail_len;
};

/* One followed path. */
struct ffile {
	char *path;
	char *dir;		/* directory of path, watched for creations */
	const char *base;	/* file name within dir (points into base_buf) */
	char *base_buf;
	int dir_wd;		/* -1 when not watched (yet) */
	int last_err;		/* last errno logged, to log each failure once */
	struct src cur;
	struct src old;
};

/* Saved state of one path, from mxg_follow_load(). */
struct saved {
	char *path;
	dev_t dev;
	ino_t ino;		/* 0: the file did not exist when saved */
	off_t off;
	unsigned char fp[MXG_FOLLOW_FP_LEN];
	size_t fp_len;
	unsigned char tail[MXG_FOLLOW_FP_LEN];	/* none in version 1 files */
	size_t tail_len;
};

struct mxg_follow {
	int ifd;
	unsigned int flags;
	struct ffile *files;
	size_t nfiles;
	struct saved *saved;
	size_t nsaved;
	char *buf;		/* MXG_FOLLOW_READ_SIZE + 1 */
	struct mxg_follow_stats st;
	/* set for the duration of process/poll */
	mxg_line_fn cb;
	void *arg;
	int delivered;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Log a failure on a file once, until the file works again. */
static void file_error(struct mxg_follow *f, struct ffile *ff, const char *what,
		       const char *path, int err)
{
	f->st.errors++;
	if (ff->last_err == err)
		return;
	ff->last_err = err;
	mxg_warn("cannot %s %s: %s", what, path, strerror(err));
}

static void src_init(struct src *s)
{
	char *part = s->part;

	memset(s, 0, sizeof(*s));
	s->part = part;
	s->fd = -1;
	s->wd = -1;
}

static void src_close(struct mxg_follow *f, struct src *s)
{
	if (s->wd >= 0)
		inotify_rm_watch(f->ifd, s->wd);
	if (s->fd >= 0)
		close(s->fd);
	src_init(s);
}

static void deliver(struct mxg_follow *f, struct ffile *ff, char *line,
		    size_t len)
{
	line[len] = '\0';
	f->st.lines++;
	f->delivered++;
	f->cb(line, len, ff->path, f->arg);
}

/* Add p[0..len) (no newline) to the pending line, cutting it if too long. */
static void pend_append(struct mxg_follow *f, struct ffile *ff, struct src *s,
			const char *p, size_t len)
{
	if (s->cutting)
		return;
	if (s->plen + len > MXG_FOLLOW_LINE_MAX) {
		memcpy(s->part + s->plen, p, MXG_FOLLOW_LINE_MAX - s->plen);
		f->st.long_lines++;
		deliver(f, ff, s->part, MXG_FOLLOW_LINE_MAX);
		s->plen = 0;
		s->cutting = true;
		return;
	}
	memcpy(s->part + s->plen, p, len);
	s->plen += len;
}

/* Split buf[0..n), read at s->off, into lines. buf has room for a NUL. */
static void split_lines(struct mxg_follow *f, struct ffile *ff, struct src *s,
			char *buf, size_t n)
{
	char *p = buf, *end = buf + n;

	while (p < end) {
		char *nl = memchr(p, '\n', end - p);
		size_t len;

		if (!nl) {
			pend_append(f, ff, s, p, end - p);
			break;
		}
		len = nl - p;
		if (s->cutting) {
			/* the end of a line whose head was cut or never seen */
			s->cutting = false;
		} else if (s->plen) {
			pend_append(f, ff, s, p, len);
			if (!s->cutting)
				deliver(f, ff, s->part, s->plen);
			s->cutting = false;
			s->plen = 0;
		} else if (len > MXG_FOLLOW_LINE_MAX) {
			f->st.long_lines++;
			deliver(f, ff, p, MXG_FOLLOW_LINE_MAX);
		} else {
			deliver(f, ff, p, len);
		}
		p = nl + 1;
		s->line_start = s->off + (p - buf);
	}
}

/* Remember the first bytes of the file as we read them. */
static void fp_extend(struct src *s, const char *buf, size_t n)
{
	size_t take;

	if (s->fp_len >= MXG_FOLLOW_FP_LEN || (off_t)s->fp_len != s->off)
		return;
	take = MXG_FOLLOW_FP_LEN - s->fp_len;
	if (take > n)
		take = n;
	memcpy(s->fp + s->fp_len, buf, take);
	s->fp_len += take;
}

/* Remember the last bytes read, which end at s->off + n. */
static void tail_extend(struct src *s, const char *buf, size_t n)
{
	size_t keep;

	if (n >= MXG_FOLLOW_FP_LEN) {
		memcpy(s->tail, buf + n - MXG_FOLLOW_FP_LEN, MXG_FOLLOW_FP_LEN);
		s->tail_len = MXG_FOLLOW_FP_LEN;
		return;
	}
	keep = MXG_FOLLOW_FP_LEN - n;
	if (keep > s->tail_len)
		keep = s->tail_len;
	memmove(s->tail, s->tail + s->tail_len - keep, keep);
	memcpy(s->tail + keep, buf, n);
	s->tail_len = keep + n;
}

/* Does the file still start with the bytes we remember? */
static bool fp_matches(int fd, const unsigned char *fp, size_t fp_len)
{
	unsigned char b[MXG_FOLLOW_FP_LEN];
	ssize_t n;

	if (!fp_len)
		return true;
	n = pread(fd, b, fp_len, 0);
	return n == (ssize_t)fp_len && !memcmp(b, fp, fp_len);
}

/*
 * Does fd hold what we read of s: its first bytes, and the bytes just before
 * s->off? The first bytes alone are not enough: log lines often share their
 * first 64 bytes (same second, same program, same address prefix), so a file
 * truncated and rewritten past our offset can start with the same bytes.
 */
static bool content_matches(int fd, const unsigned char *fp, size_t fp_len,
			    const unsigned char *tail, size_t tail_len,
			    off_t off)
{
	unsigned char b[MXG_FOLLOW_FP_LEN];
	ssize_t n;

	if (!fp_matches(fd, fp, fp_len))
		return false;
	if (!tail_len || (off_t)tail_len > off)
		return true;
	n = pread(fd, b, tail_len, off - tail_len);
	return n == (ssize_t)tail_len && !memcmp(b, tail, tail_len);
}

static bool src_matches(int fd, const struct src *s)
{
	return content_matches(fd, s->fp, s->fp_len, s->tail, s->tail_len,
			       s->off);
}

/* Read s to its current end. Returns bytes read, or -errno. */
static ssize_t drain(struct mxg_follow *f, struct ffile *ff, struct src *s)
{
	ssize_t total = 0;

	while (s->fd >= 0) {
		ssize_t n = pread(s->fd, f->buf, MXG_FOLLOW_READ_SIZE, s->off);

		if (n < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			file_error(f, ff, "read", ff->path, err);
			return -err;
		}
		if (n == 0)
			break;
		fp_extend(s, f->buf, n);
		tail_extend(s, f->buf, n);
		split_lines(f, ff, s, f->buf, n);
		s->off += n;
		f->st.bytes += n;
		total += n;
		/* a short read is the end for now; inotify tells us of more */
		if (n < MXG_FOLLOW_READ_SIZE)
			break;
	}
	return total;
}

/* Start over at offset 0 of a file that was truncated or replaced. */
static void src_restart(struct mxg_follow *f, struct src *s)
{
	f->st.truncations++;
	s->off = 0;
	s->line_start = 0;
	s->plen = 0;
	s->cutting = false;
	s->fp_len = 0;
	s->tail_len = 0;
}

/*
 * copytruncate copies the file (to FILE.1, FILE-DATE, ...) and then truncates
 * it; what was written after our last read and before the copy is in the
 * copy only. Find it in the directory: a regular file named FILE<suffix>,
 * another inode than (dev, ino), at least off long and holding what we read
 * (the same first bytes, the same bytes before off). Returns an open fd, or
 * -1. A copy already compressed, or moved elsewhere, is not found.
 */
static int find_copy(const struct ffile *ff, dev_t dev, ino_t ino, off_t off,
		     const unsigned char *fp, size_t fp_len,
		     const unsigned char *tail, size_t tail_len)
{
	size_t blen = strlen(ff->base);
	struct dirent *de;
	struct stat st;
	int fd = -1;
	DIR *d;

	if (!off || !fp_len)
		return -1;
	d = opendir(ff->dir);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, ff->base, blen) || !de->d_name[blen])
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_size < off ||
		    (st.st_dev == dev && st.st_ino == ino))
			continue;
		fd = openat(dirfd(d), de->d_name,
			    O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		if (fd < 0)
			continue;
		if (content_matches(fd, fp, fp_len, tail, tail_len, off))
			break;
		close(fd);
		fd = -1;
	}
	closedir(d);
	return fd;
}

/* Read the rest of a truncated cur from its copy, when it can be found. */
static void read_copy(struct mxg_follow *f, struct ffile *ff, struct src *s)
{
	int fd, keep;

	fd = find_copy(ff, s->dev, s->ino, s->off, s->fp, s->fp_len, s->tail,
		       s->tail_len);
	if (fd < 0)
		return;
	/* a copy is complete before the truncate: read it to its end */
	keep = s->fd;
	s->fd = fd;
	drain(f, ff, s);
	s->fd = keep;
	close(fd);
	f->st.copies++;
}

/* cur was truncated (or replaced in place): its rest from the copy, then 0. */
static void src_truncated(struct mxg_follow *f, struct ffile *ff,
			  struct src *s)
{
	read_copy(f, ff, s);
	src_restart(f, s);
}

/* Make the open fd s's file, watched, positioned nowhere yet; closes fd on error. */
static int src_adopt(struct mxg_follow *f, struct src *s, int fd)
{
	char proc[64];
	struct stat st;

	errno = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int err = errno;

		if (!err)
			err = EINVAL;	/* not a regular file */
		close(fd);
		return -err;
	}
	src_init(s);
	s->fd = fd;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	/* watch the inode we hold, whatever its name is by now */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	s->wd = inotify_add_watch(f->ifd, proc, IN_MODIFY);
	return 0;
}

/* Open path (or name in dirfd) into s, watched, positioned nowhere yet. */
static int src_open(struct mxg_follow *f, struct src *s,
		    int dirfd, const char *name)
{
	int fd = openat(dirfd, name,
			O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return -errno;
	return src_adopt(f, s, fd);
}

/* Position s at off, skipping to the next line if off is mid-line. */
static void src_seek(struct src *s, off_t off)
{
	ssize_t n;
	char c;

	s->off = off;
	s->line_start = off;
	if (off > 0 && (pread(s->fd, &c, 1, off - 1) != 1 || c != '\n'))
		s->cutting = true;
	n = pread(s->fd, s->fp, off < MXG_FOLLOW_FP_LEN ? off :
		  MXG_FOLLOW_FP_LEN, 0);
	s->fp_len = n > 0 ? n : 0;
	if (off > MXG_FOLLOW_FP_LEN) {
		n = pread(s->fd, s->tail, MXG_FOLLOW_FP_LEN,
			  off - MXG_FOLLOW_FP_LEN);
		s->tail_len = n > 0 ? n : 0;
	} else {
		memcpy(s->tail, s->fp, s->fp_len);
		s->tail_len = s->fp_len;
	}
}

/* Position s after the last complete line: the start of the unread part. */
static void src_seek_end(struct mxg_follow *f, struct src *s)
{
	struct stat st;
	off_t size, from;
	ssize_t n;
	char *nl;

	if (fstat(s->fd, &st) < 0 || st.st_size == 0) {
		src_seek(s, 0);
		return;
	}
	size = st.st_size;
	from = size > MXG_FOLLOW_LINE_MAX ? size - MXG_FOLLOW_LINE_MAX : 0;
	n = pread(s->fd, f->buf, size - from, from);
	nl = n > 0 ? memrchr(f->buf, '\n', n) : NULL;
	if (nl)
		src_seek(s, from + (nl - f->buf) + 1);
	else
		src_seek(s, from ? size : 0);	/* src_seek cuts a mid-line start */
}

/* The file we saved state for was rotated away while we were stopped. */
static int find_rotated(struct mxg_follow *f, struct ffile *ff,
			const struct saved *sv)
{
	size_t blen = strlen(ff->base);
	struct dirent *de;
	struct stat st;
	int ret = -ENOENT;
	DIR *d;

	d = opendir(ff->dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, ff->base, blen) || !de->d_name[blen])
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 ||
		    st.st_dev != sv->dev || st.st_ino != sv->ino)
			continue;
		if (st.st_size < sv->off)
			break;
		if (src_open(f, &ff->old, dirfd(d), de->d_name) < 0)
			break;
		if (ff->old.ino != sv->ino ||
		    !fp_matches(ff->old.fd, sv->fp, sv->fp_len)) {
			src_close(f, &ff->old);
			break;
		}
		src_seek(&ff->old, sv->off);
		ff->old.idle_since = now_ms();
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}

/*
 * Truncated while we were stopped: the rest after the saved offset is in the
 * copy, if copytruncate made one and it is still there; read it as the old
 * file. Only with the bytes before the offset (version 2 state): the first
 * bytes alone could name another rotation of the same log.
 */
static void resume_copy(struct mxg_follow *f, struct ffile *ff,
			const struct saved *sv)
{
	int fd;

	if (!sv->tail_len || ff->old.fd >= 0)
		return;
	fd = find_copy(ff, sv->dev, sv->ino, sv->off, sv->fp, sv->fp_len,
		       sv->tail, sv->tail_len);
	if (fd < 0 || src_adopt(f, &ff->old, fd) < 0)
		return;
	src_seek(&ff->old, sv->off);
	ff->old.idle_since = now_ms();
	f->st.copies++;
}

static const struct saved *find_saved(const struct mxg_follow *f,
				      const char *path)
{
	for (size_t i = 0; i < f->nsaved; i++)
		if (!strcmp(f->saved[i].path, path))
			return &f->saved[i];
	return NULL;
}

/* Choose where to start reading a newly added file (see follow.h). */
static void position_new(struct mxg_follow *f, struct ffile *ff)
{
	const struct saved *sv = find_saved(f, ff->path);
	struct src *s = &ff->cur;
	struct stat st;
	int err;

	err = src_open(f, s, AT_FDCWD, ff->path);
	if (err && err != -ENOENT)
		file_error(f, ff, "open", ff->path, -err);

	if (sv && sv->ino && (err || s->dev != sv->dev || s->ino != sv->ino)) {
		/* rotated (or removed) while we were stopped */
		if (find_rotated(f, ff, sv) == 0)
			f->st.rotations++;
	}
	if (err)
		return;	/* picked up from offset 0 when it appears */

	if (!sv) {
		if (f->flags & MXG_FOLLOW_FROM_START)
			src_seek(s, 0);
		else
			src_seek_end(f, s);
	} else if (!sv->ino || s->dev != sv->dev || s->ino != sv->ino) {
		/* created after we stopped: all of it is new */
		src_seek(s, 0);
	} else if (fstat(s->fd, &st) == 0 && st.st_size >= sv->off &&
		   content_matches(s->fd, sv->fp, sv->fp_len, sv->tail,
				   sv->tail_len, sv->off)) {
		src_seek(s, sv->off);
	} else {
		/* truncated or replaced in place while we were stopped */
		src_seek(s, 0);
		f->st.truncations++;
		resume_copy(f, ff, sv);
	}
}

/* A rotated-away file that will get no more writes: flush and close it. */
static void old_finish(struct mxg_follow *f, struct ffile *ff)
{
	struct src *o = &ff->old;

	drain(f, ff, o);
	/* a last line without its newline will never be completed */
	if (o->plen && !o->cutting)
		deliver(f, ff, o->part, o->plen);
	src_close(f, o);
}

static void sync_file(struct mxg_follow *f, struct ffile *ff, bool timer)
{
	struct src *s = &ff->cur, fresh;
	struct stat st;
	uint64_t now = 0;
	char *part;
	int err;

	if (ff->old.fd >= 0) {
		now = now_ms();
		if (drain(f, ff, &ff->old) > 0)
			ff->old.idle_since = now;
		else if (timer && now - ff->old.idle_since >= MXG_FOLLOW_DRAIN_MS)
			old_finish(f, ff);
	}

	if (s->fd >= 0) {
		/*
		 * Other first bytes, or other bytes before our offset:
		 * truncated and rewritten past our offset before we looked.
		 * Checked before reading, so that we never read from the
		 * middle of the new content.
		 */
		if (!src_matches(s->fd, s))
			src_truncated(f, ff, s);
		drain(f, ff, s);
		if (fstat(s->fd, &st) == 0 && st.st_size < s->off) {
			src_truncated(f, ff, s);
			drain(f, ff, s);
		}
	}

	if (stat(ff->path, &st) < 0) {
		/* ENOENT: renamed away, not yet recreated; keep reading cur */
		if (errno != ENOENT)
			file_error(f, ff, "stat", ff->path, errno);
		return;
	}
	if (s->fd >= 0 && st.st_dev == s->dev && st.st_ino == s->ino) {
		ff->last_err = 0;
		return;
	}

	/* the path names another file: it appeared, or we saw a rotation */
	fresh.part = NULL;
	err = src_open(f, &fresh, AT_FDCWD, ff->path);
	if (err) {
		if (err != -ENOENT)
			file_error(f, ff, "open", ff->path, -err);
		return;
	}
	if (s->fd >= 0 && fresh.dev == s->dev && fresh.ino == s->ino) {
		/* raced with another rename: still the same file */
		fresh.wd = -1;	/* same inode, same watch: keep it */
		src_close(f, &fresh);
		return;
	}
	ff->last_err = 0;
	if (s->fd >= 0) {
		f->st.rotations++;
		if (ff->old.fd >= 0)
			old_finish(f, ff);
		drain(f, ff, s);
		/* cur becomes old, keeping its pending line; old's buffer is free */
		part = ff->old.part;
		ff->old = *s;
		ff->old.idle_since = now ? now : now_ms();
		s->part = part;
	}
	fresh.part = s->part;
	*s = fresh;
	src_seek(s, 0);
	drain(f, ff, s);
}

/* Read inotify events; only IN_IGNORED matters (a watch is gone). */
static int read_events(struct mxg_follow *f)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(f->ifd, buf, sizeof(buf));
		const struct inotify_event *ev;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		if (n == 0)
			return 0;
		for (char *p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (!(ev->mask & IN_IGNORED))
				continue;
			for (size_t i = 0; i < f->nfiles; i++) {
				struct ffile *ff = &f->files[i];

				if (ff->dir_wd == ev->wd)
					ff->dir_wd = -1;
				if (ff->cur.wd == ev->wd)
					ff->cur.wd = -1;
				if (ff->old.wd == ev->wd)
					ff->old.wd = -1;
			}
		}
	}
}

static void watch_dir(struct mxg_follow *f, struct ffile *ff, bool log)
{
	ff->dir_wd = inotify_add_watch(f->ifd, ff->dir,
				       IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM |
				       IN_DELETE | IN_DELETE_SELF |
				       IN_MOVE_SELF | IN_ONLYDIR);
	if (ff->dir_wd < 0 && log)
		mxg_warn("cannot watch %s: %s (polling)",
			ff->dir, strerror(errno));
}

static int run(struct mxg_follow *f, mxg_line_fn cb, void *arg, bool timer)
{
	int err;

	err = read_events(f);
	f->cb = cb;
	f->arg = arg;
	f->delivered = 0;
	for (size_t i = 0; i < f->nfiles; i++) {
		struct ffile *ff = &f->files[i];

		if (timer && ff->dir_wd < 0)
			watch_dir(f, ff, false);
		sync_file(f, ff, timer);
	}
	f->cb = NULL;
	return err ? err : f->delivered;
}

int mxg_follow_process(struct mxg_follow *f, mxg_line_fn cb, void *arg)
{
	return run(f, cb, arg, false);
}

int mxg_follow_poll(struct mxg_follow *f, mxg_line_fn cb, void *arg)
{
	return run(f, cb, arg, true);
}

int mxg_follow_fd(const struct mxg_follow *f)
{
	return f->ifd;
}

struct mxg_follow *mxg_follow_new(unsigned int flags)
{
	struct mxg_follow *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->flags = flags;
	f->buf = malloc(MXG_FOLLOW_READ_SIZE + 1);
	if (!f->buf)
		goto out_free;
	f->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (f->ifd < 0)
		goto out_free_buf;
	return f;

out_free_buf:
	free(f->buf);
out_free:
	free(f);
	return NULL;
}

static void free_saved(struct mxg_follow *f)
{
	for (size_t i = 0; i < f->nsaved; i++)
		free(f->saved[i].path);
	free(f->saved);
	f->saved = NULL;
	f->nsaved = 0;
}

void mxg_follow_free(struct mxg_follow *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nfiles; i++) {
		struct ffile *ff = &f->files[i];

		src_close(f, &ff->cur);
		src_close(f, &ff->old);
		free(ff->cur.part);
		free(ff->old.part);
		free(ff->path);
		free(ff->dir);
		free(ff->base_buf);
	}
	free(f->files);
	free_saved(f);
	close(f->ifd);
	free(f->buf);
	free(f);
}

int mxg_follow_add(struct mxg_follow *f, const char *path)
{
	struct ffile *files, *ff;
	char *tmp;

	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < f->nfiles; i++)
		if (!strcmp(f->files[i].path, path))
			return -EEXIST;
	files = realloc(f->files, (f->nfiles + 1) * sizeof(*files));
	if (!files)
		return -ENOMEM;
	f->files = files;
	ff = &files[f->nfiles];
	memset(ff, 0, sizeof(*ff));
	ff->path = strdup(path);
	tmp = strdup(path);
	ff->base_buf = strdup(path);
	ff->cur.part = malloc(MXG_FOLLOW_LINE_MAX + 1);
	ff->old.part = malloc(MXG_FOLLOW_LINE_MAX + 1);
	if (!ff->path || !tmp || !ff->base_buf || !ff->cur.part ||
	    !ff->old.part) {
		free(ff->path);
		free(tmp);
		free(ff->base_buf);
		free(ff->cur.part);
		free(ff->old.part);
		return -ENOMEM;
	}
	ff->dir = strdup(dirname(tmp));
	free(tmp);
	if (!ff->dir) {
		free(ff->path);
		free(ff->base_buf);
		free(ff->cur.part);
		free(ff->old.part);
		return -ENOMEM;
	}
	ff->base = basename(ff->base_buf);
	src_init(&ff->cur);
	src_init(&ff->old);
	f->nfiles++;

	watch_dir(f, ff, true);
	position_new(f, ff);
	return 0;
}

static void hex_encode(char *out, const unsigned char *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hex_decode(unsigned char *out, size_t max, const char *in,
		      size_t *len)
{
	size_t n = strlen(in);

	if (!strcmp(in, "-")) {
		*len = 0;
		return 0;
	}
	if (n % 2 || n / 2 > max)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int v;

		if (sscanf(in + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = v;
	}
	*len = n / 2;
	return 0;
}

static int save_fill(FILE *out, void *arg)
{
	const struct mxg_follow *f = arg;
	char hex[2 * MXG_FOLLOW_FP_LEN + 1], thex[2 * MXG_FOLLOW_FP_LEN + 1];
	unsigned char tail[MXG_FOLLOW_FP_LEN];

	fprintf(out, "%s\n", STATE_MAGIC);
	for (size_t i = 0; i < f->nfiles; i++) {
		const struct ffile *ff = &f->files[i];
		const struct src *s = &ff->cur;

		if (strchr(ff->path, '\n'))
			continue;
		ssize_t tlen;

		if (s->fd < 0) {
			fprintf(out, "0 0 0 - - %s\n", ff->path);
			continue;
		}
		/* the bytes before the resume point, which a pending line moves */
		if (s->line_start == s->off) {
			memcpy(tail, s->tail, s->tail_len);
			tlen = s->tail_len;
		} else {
			tlen = s->line_start < MXG_FOLLOW_FP_LEN ? s->line_start :
			       MXG_FOLLOW_FP_LEN;
			if (pread(s->fd, tail, tlen, s->line_start - tlen) != tlen)
				tlen = 0;
		}
		hex_encode(hex, s->fp, s->fp_len);
		hex_encode(thex, tail, tlen);
		fprintf(out, "%ju %ju %jd %s %s %s\n", (uintmax_t)s->dev,
			(uintmax_t)s->ino, (intmax_t)s->line_start,
			s->fp_len ? hex : "-", tlen ? thex : "-", ff->path);
	}
	return 0;
}

int mxg_follow_save(const struct mxg_follow *f, const char *state_path)
{
	/* The caller reports a failure (the daemon, at most once a minute). */
	return mxg_atomic_write(state_path, 0600, save_fill, (void *)f);
}

/* "dev ino off fp [tail] path": tail in version 2 only. */
static int parse_state_line(struct saved *sv, char *line, int version)
{
	uintmax_t dev, ino;
	intmax_t off;
	char hex[2 * MXG_FOLLOW_FP_LEN + 2], thex[2 * MXG_FOLLOW_FP_LEN + 2];
	int pos = 0;

	if (version == 1) {
		if (sscanf(line, "%ju %ju %jd %129s %n", &dev, &ino, &off, hex,
			   &pos) != 4)
			return -EINVAL;
		strcpy(thex, "-");
	} else if (sscanf(line, "%ju %ju %jd %129s %129s %n", &dev, &ino, &off,
			  hex, thex, &pos) != 5) {
		return -EINVAL;
	}
	if (!pos || !line[pos] || off < 0)
		return -EINVAL;
	if (hex_decode(sv->fp, sizeof(sv->fp), hex, &sv->fp_len) ||
	    hex_decode(sv->tail, sizeof(sv->tail), thex, &sv->tail_len))
		return -EINVAL;
	sv->dev = dev;
	sv->ino = ino;
	sv->off = off;
	sv->path = strdup(line + pos);
	return sv->path ? 0 : -ENOMEM;
}

int mxg_follow_load(struct mxg_follow *f, const char *state_path)
{
	char *line = NULL, *nl;
	size_t cap = 0;
	unsigned int lineno = 0;
	int err = 0, version = 0;
	ssize_t n;
	FILE *in;

	if (f->nfiles)
		return -EBUSY;
	in = fopen(state_path, "re");
	if (!in) {
		if (errno == ENOENT)
			return 0;
		err = -errno;
		mxg_warn("cannot open %s: %s", state_path,
			strerror(errno));
		return err;
	}
	free_saved(f);
	while ((n = getline(&line, &cap, in)) > 0) {
		struct saved *sv;

		lineno++;
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (lineno == 1) {
			if (!strcmp(line, STATE_MAGIC)) {
				version = 2;
			} else if (!strcmp(line, STATE_MAGIC_V1)) {
				version = 1;
			} else {
				err = -EINVAL;
				break;
			}
			continue;
		}
		if (!*line)
			continue;
		sv = realloc(f->saved, (f->nsaved + 1) * sizeof(*sv));
		if (!sv) {
			err = -ENOMEM;
			break;
		}
		f->saved = sv;
		sv = &f->saved[f->nsaved];
		memset(sv, 0, sizeof(*sv));
		err = parse_state_line(sv, line, version);
		if (err)
			break;
		f->nsaved++;
	}
	if (!err && ferror(in))
		err = -EIO;
	if (err) {
		mxg_warn("cannot load %s:%u: %s; the logs are read from their end",
			 state_path, lineno, strerror(-err));
		free_saved(f);
	}
	free(line);
	fclose(in);
	return err;
}

void mxg_follow_get_stats(const struct mxg_follow *f,
			  struct mxg_follow_stats *out)
{
	*out = f->st;
}
