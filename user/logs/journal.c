// SPDX-License-Identifier: GPL-2.0
/*
 * The journal as a log source: sd-journal matches where they can do the
 * work (exact identifiers and units), a prefix test on SYSLOG_IDENTIFIER in
 * code where they cannot, and one line buffer reused for every entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "journal.h"
#include "log.h"

#define STATE_MAGIC	"mxguard-journal-state 1"
#define CURSOR_MAX	1024
/* timestamp, host, identifier[pid]: around the message */
#define HEAD_MAX	(64 + 256 + 256 + 32)

const char *const mxg_journal_default_identifiers[] = {
	"postfix*", "dovecot*", "exim*", "sendmail*", "sm-mta*", "smtpd",
	"opensmtpd*", "courier*", "authdaemond*", "haraka*", "nginx",
	"vpopmail", "stalwart*", "roundcube", "sogod", NULL,
};

/*
 * Who may speak for a mail server. SYSLOG_IDENTIFIER is whatever the
 * sender says (`logger -t postfix/smtpd`), but _UID and _SYSTEMD_UNIT are
 * journald's own, taken from the sending process: an entry counts only
 * when it comes from root, a mail server's system user, or a mail server's
 * unit.
 */
const char *const mxg_journal_trusted_users[] = {
	"postfix", "dovecot", "dovenull", "Debian-exim", "exim", "mail",
	"smmsp", "opensmtpd", "_smtpd", "_smtpq", "haraka", "courier",
	"daemon", "cyrus", "maddy", NULL,
};

const char *const mxg_journal_trusted_units[] = {
	"postfix*", "dovecot*", "exim*", "exim4*", "sendmail*", "sm-mta*",
	"opensmtpd*", "courier*", "haraka*", "maddy*", "cyrus*", "nginx*",
	"stalwart*", "sogo*", NULL,
};

#define MAX_TRUSTED_UIDS 32

struct mxg_journal {
	sd_journal *j;
	uid_t trusted_uid[MAX_TRUSTED_UIDS];	/* besides root */
	unsigned int n_trusted_uid;
	char **trusted_unit_v;
	char **ident_v;		/* SYSLOG_IDENTIFIER patterns, copied */
	char **unit_v;		/* _SYSTEMD_UNIT patterns, copied */
	bool filter_in_code;	/* some pattern is a prefix */
	bool pending;		/* the current entry is not delivered yet */
	char *cursor;		/* loaded cursor, saved again if none newer */
	struct mxg_journal_stats st;
	char line[HEAD_MAX + MXG_FOLLOW_LINE_MAX + 1];
};

static void free_list(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static char **copy_list(const char *const *v)
{
	size_t n = 0;
	char **out;

	while (v && v[n])
		n++;
	out = calloc(n + 1, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		out[i] = strdup(v[i]);
		if (!out[i]) {
			free_list(out);
			return NULL;
		}
	}
	return out;
}

static bool is_prefix_pattern(const char *p)
{
	size_t n = strlen(p);

	return n && p[n - 1] == '*';
}

static bool pattern_match(char *const *v, const char *s, size_t len)
{
	for (; v && *v; v++) {
		size_t n = strlen(*v);

		if (is_prefix_pattern(*v)) {
			if (len >= n - 1 && !memcmp(s, *v, n - 1))
				return true;
		} else if (len == n && !memcmp(s, *v, n)) {
			return true;
		}
	}
	return false;
}

/* The value of field in the current entry, not NUL-terminated. */
static bool get_field(sd_journal *j, const char *field, const char **val,
		      size_t *len)
{
	size_t flen = strlen(field);
	const void *d;
	size_t l;

	if (sd_journal_get_data(j, field, &d, &l) < 0 || l <= flen)
		return false;
	*val = (const char *)d + flen + 1;	/* past "FIELD=" */
	*len = l - flen - 1;
	return true;
}

static int add_matches(sd_journal *j, const char *field, char *const *v)
{
	char buf[512];
	int err;

	for (; v && *v; v++) {
		if (snprintf(buf, sizeof(buf), "%s=%s", field, *v) >=
		    (int)sizeof(buf))
			return -ENAMETOOLONG;
		err = sd_journal_add_match(j, buf, 0);
		if (err < 0)
			return err;
	}
	return sd_journal_add_disjunction(j);
}

static int setup_matches(struct mxg_journal *mj)
{
	for (char **p = mj->ident_v; *p; p++)
		mj->filter_in_code |= is_prefix_pattern(*p);
	for (char **p = mj->unit_v; *p; p++)
		mj->filter_in_code |= is_prefix_pattern(*p);
	if (mj->filter_in_code)
		return 0;
	return add_matches(mj->j, "SYSLOG_IDENTIFIER", mj->ident_v) ?:
	       add_matches(mj->j, "_SYSTEMD_UNIT", mj->unit_v);
}

struct mxg_journal *mxg_journal_open(const struct mxg_journal_opts *o)
{
	const char *const *idents = o->identifiers;
	struct mxg_journal *mj;
	const char *what;
	int err;

	if (!o->identifiers && !o->units)
		idents = mxg_journal_default_identifiers;
	mj = calloc(1, sizeof(*mj));
	if (!mj)
		return NULL;
	mj->ident_v = copy_list(idents);
	mj->unit_v = copy_list(o->units);
	mj->trusted_unit_v = copy_list(mxg_journal_trusted_units);
	if (!mj->ident_v || !mj->unit_v || !mj->trusted_unit_v) {
		err = -ENOMEM;
		goto out_free;
	}
	for (const char *const *u = o->trusted_users ? o->trusted_users :
		     mxg_journal_trusted_users; *u; u++) {
		struct passwd *pw = getpwnam(*u);

		if (pw && mj->n_trusted_uid < MAX_TRUSTED_UIDS)
			mj->trusted_uid[mj->n_trusted_uid++] = pw->pw_uid;
	}
	if (o->directory) {
		what = o->directory;
		err = sd_journal_open_directory(&mj->j, o->directory, 0);
	} else if (o->files) {
		what = o->files[0] ? o->files[0] : "(no files)";
		err = sd_journal_open_files(&mj->j, (const char **)o->files, 0);
	} else {
		what = "the system journal";
		err = sd_journal_open(&mj->j, SD_JOURNAL_LOCAL_ONLY |
				      SD_JOURNAL_SYSTEM);
	}
	if (err < 0) {
		mxg_debug("cannot open %s: %s", what,
			strerror(-err));
		goto out_free;
	}
	/* early, so that files opened from now on are watched */
	err = sd_journal_get_fd(mj->j);
	if (err < 0) {
		mxg_debug("cannot watch %s: %s", what,
			strerror(-err));
		goto out_close;
	}
	err = setup_matches(mj);
	if (err < 0) {
		mxg_debug("cannot add journal matches: %s",
			strerror(-err));
		goto out_close;
	}
	if (o->from_start) {
		err = sd_journal_seek_head(mj->j);
	} else {
		/* on the last entry: next() returns what comes after it */
		err = sd_journal_seek_tail(mj->j);
		if (err >= 0)
			err = sd_journal_previous(mj->j);
	}
	if (err < 0) {
		mxg_debug("cannot seek in %s: %s", what,
			strerror(-err));
		goto out_close;
	}
	return mj;

out_close:
	sd_journal_close(mj->j);
out_free:
	free_list(mj->ident_v);
	free_list(mj->unit_v);
	free_list(mj->trusted_unit_v);
	free(mj);
	errno = -err;
	return NULL;
}

void mxg_journal_free(struct mxg_journal *mj)
{
	if (!mj)
		return;
	sd_journal_close(mj->j);
	free_list(mj->ident_v);
	free_list(mj->unit_v);
	free_list(mj->trusted_unit_v);
	free(mj->cursor);
	free(mj);
}

int mxg_journal_fd(struct mxg_journal *mj)
{
	return sd_journal_get_fd(mj->j);
}

/* Append at most max bytes of s to the line at *pos, bounded by the buffer. */
static void put(struct mxg_journal *mj, size_t *pos, const char *s, size_t len,
		size_t max)
{
	size_t room = sizeof(mj->line) - 1 - *pos;

	if (len > max)
		len = max;
	if (len > room)
		len = room;
	memcpy(mj->line + *pos, s, len);
	*pos += len;
}

static size_t format_time(char *out, size_t size, uint64_t usec)
{
	time_t t = usec / 1000000;
	struct tm tm;
	char tz[8];
	size_t n;

	if (!localtime_r(&t, &tm))
		return 0;
	n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!strftime(tz, sizeof(tz), "%z", &tm) || strlen(tz) != 5)
		strcpy(tz, "+0000");
	/* RFC 3339 wants the offset as +hh:mm */
	n += snprintf(out + n, size - n, ".%06u%.3s:%s",
		      (unsigned int)(usec % 1000000), tz, tz + 3);
	return n;
}

/* Sent by root, a mail server's user or from a mail server's unit. */
static bool trusted_sender(struct mxg_journal *mj)
{
	const char *v;
	size_t n, i;
	char buf[16];
	unsigned long uid;
	char *end;

	if (get_field(mj->j, "_UID", &v, &n) && n > 0 && n < sizeof(buf)) {
		memcpy(buf, v, n);
		buf[n] = '\0';
		errno = 0;
		uid = strtoul(buf, &end, 10);
		if (!errno && *end == '\0') {
			if (uid == 0)
				return true;
			for (i = 0; i < mj->n_trusted_uid; i++)
				if (mj->trusted_uid[i] == (uid_t)uid)
					return true;
		}
	}
	return get_field(mj->j, "_SYSTEMD_UNIT", &v, &n) &&
	       (pattern_match(mj->trusted_unit_v, v, n) ||
		pattern_match(mj->unit_v, v, n));
}

/* Build the line for the current entry; false if it is not ours. */
static bool format_entry(struct mxg_journal *mj, size_t *out_len)
{
	const char *ident = NULL, *unit, *host, *pid, *msg;
	size_t ilen = 0, ulen, hlen, plen, mlen, pos = 0;
	char ts[64];
	uint64_t usec;

	if (!get_field(mj->j, "SYSLOG_IDENTIFIER", &ident, &ilen))
		ident = NULL;
	if (mj->filter_in_code &&
	    !(ident && pattern_match(mj->ident_v, ident, ilen)) &&
	    !(get_field(mj->j, "_SYSTEMD_UNIT", &unit, &ulen) &&
	      pattern_match(mj->unit_v, unit, ulen)))
		return false;
	if (!trusted_sender(mj)) {
		mj->st.untrusted++;
		return false;
	}
	if (!ident && !get_field(mj->j, "_COMM", &ident, &ilen)) {
		ident = "-";
		ilen = 1;
	}

	if (sd_journal_get_realtime_usec(mj->j, &usec) < 0)
		usec = 0;
	put(mj, &pos, ts, format_time(ts, sizeof(ts), usec), sizeof(ts));
	put(mj, &pos, " ", 1, 1);
	if (!get_field(mj->j, "_HOSTNAME", &host, &hlen)) {
		host = "-";
		hlen = 1;
	}
	put(mj, &pos, host, hlen, 255);
	put(mj, &pos, " ", 1, 1);
	put(mj, &pos, ident, ilen, 255);
	if (get_field(mj->j, "SYSLOG_PID", &pid, &plen) ||
	    get_field(mj->j, "_PID", &pid, &plen)) {
		put(mj, &pos, "[", 1, 1);
		put(mj, &pos, pid, plen, 20);
		put(mj, &pos, "]", 1, 1);
	}
	put(mj, &pos, ": ", 2, 2);
	if (get_field(mj->j, "MESSAGE", &msg, &mlen)) {
		size_t start = pos;

		put(mj, &pos, msg, mlen, MXG_FOLLOW_LINE_MAX);
		for (size_t i = start; i < pos; i++)
			if (mj->line[i] == '\n' || mj->line[i] == '\0' ||
			    mj->line[i] == '\r')
				mj->line[i] = ' ';
	}
	mj->line[pos] = '\0';
	*out_len = pos;
	return true;
}

static void handle_entry(struct mxg_journal *mj, mxg_line_fn cb, void *arg,
			 int *delivered)
{
	size_t len;

	mj->st.entries++;
	if (!format_entry(mj, &len)) {
		mj->st.filtered++;
		return;
	}
	mj->st.lines++;
	(*delivered)++;
	cb(mj->line, len, "journal", arg);
}

int mxg_journal_process(struct mxg_journal *mj, mxg_line_fn cb, void *arg)
{
	int r, delivered = 0;

	/* acknowledge the wake-up, pick up new and rotated journal files */
	r = sd_journal_process(mj->j);
	if (r < 0)
		return r;
	if (mj->pending) {
		mj->pending = false;
		handle_entry(mj, cb, arg, &delivered);
	}
	while ((r = sd_journal_next(mj->j)) > 0)
		handle_entry(mj, cb, arg, &delivered);
	if (r < 0) {
		mj->st.errors++;
		return r;
	}
	return delivered;
}

static int put_text(FILE *f, void *arg)
{
	return fputs(arg, f) < 0 ? -EIO : 0;
}

int mxg_journal_save(struct mxg_journal *mj, const char *state_path)
{
	char buf[sizeof(STATE_MAGIC) + CURSOR_MAX + 4];
	char *cur = NULL;

	if (sd_journal_get_cursor(mj->j, &cur) >= 0) {
		free(mj->cursor);
		mj->cursor = cur;
	}
	if (!mj->cursor)
		return 0;	/* nothing read yet, nothing loaded: keep any */
	if (strlen(mj->cursor) >= CURSOR_MAX)
		return -ENAMETOOLONG;
	snprintf(buf, sizeof(buf), "%s\n%s\n", STATE_MAGIC, mj->cursor);
	/* The caller reports a failure (the daemon, at most once a minute). */
	return mxg_atomic_write(state_path, 0600, put_text, buf);
}

int mxg_journal_load(struct mxg_journal *mj, const char *state_path)
{
	char buf[sizeof(STATE_MAGIC) + CURSOR_MAX + 4], *cursor, *nl;
	size_t n;
	FILE *in;
	int r;

	in = fopen(state_path, "re");
	if (!in) {
		if (errno == ENOENT)
			return 0;
		r = -errno;
		mxg_warn("cannot open %s: %s", state_path,
			strerror(errno));
		return r;
	}
	n = fread(buf, 1, sizeof(buf) - 1, in);
	fclose(in);
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	if (!nl || strncmp(buf, STATE_MAGIC "\n", sizeof(STATE_MAGIC)))
		goto out_bad;
	cursor = nl + 1;
	nl = strchr(cursor, '\n');
	if (!nl || nl == cursor)
		goto out_bad;
	*nl = '\0';

	r = sd_journal_seek_cursor(mj->j, cursor);
	if (r < 0) {
		mxg_warn("cannot seek to the cursor in %s: %s",
			state_path, strerror(-r));
		return r;
	}
	free(mj->cursor);
	mj->cursor = strdup(cursor);
	/*
	 * On the saved entry, which was delivered already; if it is gone
	 * (vacuumed), we land on the next one, which was not.
	 */
	r = sd_journal_next(mj->j);
	mj->pending = r > 0 && sd_journal_test_cursor(mj->j, cursor) <= 0;
	return 0;

out_bad:
	mxg_warn("cannot load %s: not a journal state file",
		state_path);
	return -EINVAL;
}

void mxg_journal_get_stats(const struct mxg_journal *mj,
			   struct mxg_journal_stats *out)
{
	*out = mj->st;
}
