/* sftp_fs.c - files and folders on an SFTP host (see sftp_fs.h), over the
 * sessions sftp_session.c keeps for the video reader.
 *
 * One call is one "op": the URL parsed, its host's mutex held (a libssh
 * session is not thread-safe), the host's link made ready (the reader's
 * read-ahead collected first, sq_sftp_link_quiet), then plain libssh calls,
 * each under a watchdog deadline (sq_sftp_arm) so that a storage host gone
 * silent fails the call after stall_ms instead of hanging it. A link that
 * was already open when the op began may have died while idle (sshd
 * restarted between two stages): libssh only notices on its first call,
 * which then reports the connection lost; the op is then made again, once, on
 * a new link. Every op is written so that doing it twice is harmless (an
 * upload truncates what a first try left; mkdir -p and rm -rf are idempotent).
 *
 * Uploads write 64 KiB per request, one at a time: libssh 0.10 has no
 * asynchronous write. Downloads are sftp_download.c's: they read through the
 * reader, which takes the host's mutex itself, so outside any op. */
#include "media/sftp_fs.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "media/sftp_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libssh/sftp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/banned.h"

#define STALL_DEFAULT_MS 30000
#define CHUNK 65536  /* bytes per write request, as the reader's */
#define DROPPED (-2) /* the link is gone (err is set) */

struct op {
	const char *verb; /* "write", "read", ...: for messages */
	const char *url;  /* the op's URL */
	char *base;	  /* "sftp://[user@]host[:port]": a path's URL is base + path */
	const char *path; /* the URL's path */
	struct host *h;
	struct link *l;
	long long stall_ms;
	int fresh; /* l was opened by this op */
};

/* ---- messages ---- */

static int fail(const struct op *op, enum sq_err_code code, const char *path, struct sq_err *err,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* "cannot <verb> '<URL of path>': <why>" */
static int fail(const struct op *op, enum sq_err_code code, const char *path, struct sq_err *err,
		const char *fmt, ...)
{
	char why[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return sq_error(err, code, "cannot %s '%s%s': %s", op->verb, op->base, path, why);
}

/* The session code says "cannot read 'URL'"; an op that writes says so. */
static void reverb(const struct op *op, struct sq_err *err)
{
	char rest[SQ_ERR_MSG_MAX];

	if (!err || strncmp(err->msg, "cannot read '", 13) != 0 || !strcmp(op->verb, "read"))
		return;
	snprintf(rest, sizeof(rest), "%s", err->msg + 12);
	snprintf(err->msg, sizeof(err->msg), "cannot %.12s %.1000s", op->verb, rest);
}

/* The part of a message after "cannot <verb> 'URL': ". */
static const char *reason(const char *msg)
{
	const char *p = strstr(msg, "': ");

	return p ? p + 3 : msg;
}

/* ---- calls ---- */

static void arm(struct op *op)
{
	sq_sftp_arm(op->l, sq_mono_ms() + op->stall_ms);
}

/* Ends a call's deadline; 1 if the watchdog cut the link meanwhile. */
static int disarm(struct op *op)
{
	return sq_sftp_disarm(op->l);
}

/* The server's status as a message. */
static const char *status_text(int status)
{
	switch (status) {
	case SSH_FX_NO_SUCH_FILE:
		return "no such file";
	case SSH_FX_PERMISSION_DENIED:
		return "permission denied";
	case SSH_FX_FILE_ALREADY_EXISTS:
		return "file exists";
	case SSH_FX_EOF:
		return "unexpected end of file";
	/* OpenSSH's version 3 says no more for a full disk, a name taken, ... */
	case SSH_FX_FAILURE:
		return "the server refused (failure)";
	default:
		return NULL;
	}
}

/* After a libssh call on op's link failed (cut: by the watchdog): -1 with
 * the stall or the server's refusal, or DROPPED when the connection is gone. */
static int call_failed(struct op *op, int cut, const char *path, struct sq_err *err)
{
	char buf[256];
	int status;
	const char *text;

	if (cut) {
		sq_sftp_mark_dead(op->l);
		return fail(op, SQ_ERR_TIMEOUT, path, err, "no data for %lld ms (stalled)",
			    op->stall_ms);
	}
	if (sq_sftp_link_broken(op->l)) {
		fail(op, SQ_ERR_IO, path, err, "connection lost: %s",
		     sq_sftp_ssh_why(op->l->ssh, buf, sizeof(buf)));
		sq_sftp_mark_dead(op->l);
		return DROPPED;
	}
	status = sftp_get_error(op->l->sftp);
	text = status_text(status);
	if (text)
		return fail(op, SQ_ERR_IO, path, err, "%s", text);
	return fail(op, SQ_ERR_IO, path, err, "%s", sq_sftp_ssh_why(op->l->ssh, buf, sizeof(buf)));
}

/* 1 if the last failed call was refused for a missing file. */
static int was_missing(struct op *op, int cut)
{
	return !cut && !sq_sftp_link_broken(op->l) &&
	       sftp_get_error(op->l->sftp) == SSH_FX_NO_SUCH_FILE;
}

/* ---- ops ---- */

typedef int (*op_fn)(struct op *op, void *arg, struct sq_err *err);

/* A usable link for op: the host's, once the reader's requests on it are
 * collected, or a new one (force: always a new one). */
static int op_link(struct op *op, int force, struct sq_err *err)
{
	struct host *h = op->h;
	struct sq_sftp_opts lo = {.stall_ms = op->stall_ms};

	if (!force && h->link && !h->link->dead && !sq_sftp_link_broken(h->link) &&
	    sq_sftp_link_quiet(h->link, NULL) == 0) {
		op->l = h->link;
		op->fresh = 0;
		return 0;
	}
	if (sq_sftp_link_open(h, op->url, &lo, err) < 0) {
		reverb(op, err);
		return -1;
	}
	op->l = h->link;
	op->fresh = 1;
	return 0;
}

/* Runs fn on url's host: its result (>= 0), or -1 with err. A link found
 * dropped that this op did not open is replaced and fn run again, once. */
static int run(const char *url, const char *verb, const struct sq_sftp_opts *o, op_fn fn, void *arg,
	       struct sq_err *err)
{
	struct op op = {.verb = verb, .url = url};
	struct sq_err first;
	struct url u;
	int rc;

	sq_sftp_session_init();
	if (!sq_sftp_is_url(url))
		return sq_error(err, SQ_ERR_INVALID, "cannot %s '%s': not an sftp:// url", verb,
				url);
	if (sq_sftp_url_parse(url, &u, err) < 0)
		return -1;
	op.base = xstrndup(url, u.path_at);
	op.path = url + u.path_at;
	op.stall_ms = o && o->stall_ms > 0 ? o->stall_ms : STALL_DEFAULT_MS;
	op.h = sq_sftp_host_get(&u, o ? o->ssh : NULL);
	sq_sftp_url_release(&u);
	pthread_mutex_lock(&op.h->mu);
	rc = op_link(&op, 0, err);
	if (rc == 0)
		rc = fn(&op, arg, err);
	if (rc == DROPPED && !op.fresh) {
		first = err ? *err : (struct sq_err){SQ_OK, ""};
		rc = op_link(&op, 1, err);
		if (rc == 0)
			rc = fn(&op, arg, err);
		if (rc < 0 && err) { /* both failures: the first says what was going on */
			struct sq_err second = *err;

			snprintf(err->msg, sizeof(err->msg), "%.600s; reconnecting: %.400s",
				 first.msg, reason(second.msg));
		}
	}
	pthread_mutex_unlock(&op.h->mu);
	free(op.base);
	return rc < 0 ? -1 : rc;
}

/* ---- stat ---- */

static void fill_stat(struct sq_sftp_stat *st, sftp_attributes a)
{
	st->is_dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
	st->size_bytes = a->flags & SSH_FILEXFER_ATTR_SIZE ? (long long)a->size : 0;
	st->mtime_s = a->flags & SSH_FILEXFER_ATTR_ACMODTIME ? (long long)a->mtime : -1;
}

/* 1 and *st filled, 0 if path is missing, -1 / DROPPED. lstat: links are
 * not followed (rm -rf must not leave the tree). */
static int stat_path(struct op *op, const char *path, int follow, struct sq_sftp_stat *st,
		     struct sq_err *err)
{
	sftp_attributes a;
	int cut;

	arm(op);
	a = follow ? sftp_stat(op->l->sftp, path) : sftp_lstat(op->l->sftp, path);
	cut = disarm(op);
	if (!a)
		return was_missing(op, cut) ? 0 : call_failed(op, cut, path, err);
	fill_stat(st, a);
	if (!follow && a->type == SSH_FILEXFER_TYPE_SYMLINK)
		st->is_dir = 0;
	sftp_attributes_free(a);
	return 1;
}

static int do_stat(struct op *op, void *arg, struct sq_err *err)
{
	return stat_path(op, op->path, 1, arg, err);
}

int sq_sftp_stat(const char *url, const struct sq_sftp_opts *o, struct sq_sftp_stat *st,
		 struct sq_err *err)
{
	struct sq_sftp_stat tmp;

	return run(url, "read", o, do_stat, st ? st : &tmp, err);
}

/* ---- list ---- */

struct listing {
	char **names;
	long long *sizes;
	int *dirs;
	size_t n, alloc;
};

static void listing_release(struct listing *ls)
{
	sq_sftp_names_free(ls->names, ls->n);
	free(ls->sizes);
	free(ls->dirs);
	memset(ls, 0, sizeof(*ls));
}

static void listing_add(struct listing *ls, sftp_attributes a)
{
	if (ls->n + 1 > ls->alloc) {
		ls->alloc = ls->alloc ? 2 * ls->alloc : 16;
		ls->names = xrealloc(ls->names, ls->alloc * sizeof(*ls->names));
		ls->sizes = xrealloc(ls->sizes, ls->alloc * sizeof(*ls->sizes));
		ls->dirs = xrealloc(ls->dirs, ls->alloc * sizeof(*ls->dirs));
	}
	ls->names[ls->n] = xstrdup(a->name);
	ls->sizes[ls->n] = a->flags & SSH_FILEXFER_ATTR_SIZE ? (long long)a->size : 0;
	ls->dirs[ls->n] = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
	ls->n++;
}

/* The entries of folder path; a missing folder is an empty list (missing:
 * may be NULL, set to 1 then). */
static int list_path(struct op *op, const char *path, struct listing *ls, int *missing,
		     struct sq_err *err)
{
	sftp_dir d;
	sftp_attributes a;
	int cut, rc = 0;

	arm(op);
	d = sftp_opendir(op->l->sftp, path);
	cut = disarm(op);
	if (!d) {
		if (!was_missing(op, cut))
			return call_failed(op, cut, path, err);
		if (missing)
			*missing = 1;
		return 0;
	}
	for (;;) {
		arm(op);
		a = sftp_readdir(op->l->sftp, d);
		cut = disarm(op);
		if (!a)
			break;
		if (strcmp(a->name, ".") && strcmp(a->name, ".."))
			listing_add(ls, a);
		sftp_attributes_free(a);
	}
	if (cut || !sftp_dir_eof(d))
		rc = call_failed(op, cut, path, err);
	if (!op->l->dead) {
		arm(op);
		sftp_closedir(d);
		if (disarm(op))
			sq_sftp_mark_dead(op->l);
	} else {
		sftp_closedir(d); /* on a dead link it fails at once */
	}
	return rc;
}

static int do_list(struct op *op, void *arg, struct sq_err *err)
{
	struct listing *ls = arg;

	listing_release(ls);
	return list_path(op, op->path, ls, NULL, err);
}

int sq_sftp_list(const char *url, const struct sq_sftp_opts *o, char ***names, size_t *n,
		 long long **sizes, int **dirs, struct sq_err *err)
{
	struct listing ls = {0};

	*names = NULL;
	*n = 0;
	if (run(url, "list", o, do_list, &ls, err) < 0) {
		listing_release(&ls);
		return -1;
	}
	*names = ls.names;
	*n = ls.n;
	if (sizes)
		*sizes = ls.sizes;
	else
		free(ls.sizes);
	if (dirs)
		*dirs = ls.dirs;
	else
		free(ls.dirs);
	return 0;
}

void sq_sftp_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* ---- mkdir -p ---- */

/* 0 made or already a folder, 1 its parent is missing, -1 / DROPPED. */
static int mkdir_one(struct op *op, const char *path, struct sq_err *err)
{
	struct sq_sftp_stat st;
	int rc, cut, missing;

	arm(op);
	rc = sftp_mkdir(op->l->sftp, path, 0777);
	cut = disarm(op);
	if (rc == 0)
		return 0;
	missing = was_missing(op, cut);
	if (cut || sq_sftp_link_broken(op->l))
		return call_failed(op, cut, path, err);
	/* OpenSSH says "failure" for a name that exists: is it a folder? */
	rc = stat_path(op, path, 1, &st, err);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return st.is_dir ? 0 : fail(op, SQ_ERR_IO, path, err, "exists and is not a folder");
	return missing ? 1 : fail(op, SQ_ERR_IO, path, err, "cannot make the folder");
}

static int mkdir_path(struct op *op, const char *path, struct sq_err *err)
{
	char *up;
	int rc = mkdir_one(op, path, err);

	if (rc != 1)
		return rc;
	up = sq_path_dirname(path);
	rc = strcmp(up, path) == 0 ? fail(op, SQ_ERR_IO, path, err, "no such folder")
				   : mkdir_path(op, up, err);
	free(up);
	if (rc == 0 && (rc = mkdir_one(op, path, err)) == 1)
		rc = fail(op, SQ_ERR_IO, path, err, "no such folder");
	return rc;
}

static int do_mkdir_p(struct op *op, void *arg, struct sq_err *err)
{
	(void)arg;
	return mkdir_path(op, op->path, err);
}

int sq_sftp_mkdir_p(const char *url, const struct sq_sftp_opts *o, struct sq_err *err)
{
	return run(url, "create", o, do_mkdir_p, NULL, err);
}

/* ---- rm -rf ---- */

static int unlink_path(struct op *op, const char *path, int dir, struct sq_err *err)
{
	int rc, cut;

	arm(op);
	rc = dir ? sftp_rmdir(op->l->sftp, path) : sftp_unlink(op->l->sftp, path);
	cut = disarm(op);
	if (rc == 0 || was_missing(op, cut))
		return 0;
	return call_failed(op, cut, path, err);
}

static int remove_path(struct op *op, const char *path, struct sq_err *err)
{
	struct sq_sftp_stat st;
	struct listing ls = {0};
	int rc = stat_path(op, path, 0, &st, err);

	if (rc <= 0)
		return rc;
	if (st.is_dir) {
		rc = list_path(op, path, &ls, NULL, err);
		for (size_t i = 0; rc == 0 && i < ls.n; i++) {
			char *child = sq_path_join(path, ls.names[i]);

			rc = remove_path(op, child, err);
			free(child);
		}
		listing_release(&ls);
		if (rc < 0)
			return rc;
	}
	return unlink_path(op, path, st.is_dir, err);
}

static int do_remove(struct op *op, void *arg, struct sq_err *err)
{
	(void)arg;
	return remove_path(op, op->path, err);
}

int sq_sftp_remove(const char *url, const struct sq_sftp_opts *o, struct sq_err *err)
{
	return run(url, "remove", o, do_remove, NULL, err);
}

/* ---- rename ---- */

static int do_rename(struct op *op, void *arg, struct sq_err *err)
{
	const char *to = arg;
	const char *text;
	char buf[256];
	int rc, cut;

	arm(op);
	rc = sftp_rename(op->l->sftp, op->path, to);
	cut = disarm(op);
	if (rc == 0)
		return 0;
	if (cut || sq_sftp_link_broken(op->l))
		return call_failed(op, cut, op->path, err);
	text = status_text(sftp_get_error(op->l->sftp));
	return fail(op, SQ_ERR_IO, op->path, err, "%s (renaming it to '%s%s')",
		    text ? text : sq_sftp_ssh_why(op->l->ssh, buf, sizeof(buf)), op->base, to);
}

int sq_sftp_rename(const char *from, const char *to, const struct sq_sftp_opts *o,
		   struct sq_err *err)
{
	struct url u;
	size_t at;

	if (!sq_sftp_is_url(to) || sq_sftp_url_parse(to, &u, err) < 0)
		return sq_error(err, SQ_ERR_INVALID, "cannot rename to '%s': not an sftp:// url",
				to);
	at = u.path_at;
	sq_sftp_url_release(&u);
	return run(from, "rename", o, do_rename, (void *)(to + at), err);
}

/* ---- whole files ---- */

/* Closes h on op's link (h NULL is ignored); -1 / DROPPED if the close
 * failed (a write's data may not have landed). */
static int close_file(struct op *op, sftp_file h, const char *path, struct sq_err *err)
{
	int rc, cut;

	if (!h)
		return 0;
	if (op->l->dead) {
		sftp_close(h); /* fails at once, frees h */
		return 0;
	}
	arm(op);
	rc = sftp_close(h);
	cut = disarm(op);
	return rc == 0 ? 0 : call_failed(op, cut, path, err);
}

static sftp_file open_file(struct op *op, const char *path, int flags, int *rc, struct sq_err *err)
{
	sftp_file h;
	int cut;

	arm(op);
	h = sftp_open(op->l->sftp, path, flags, 0644);
	cut = disarm(op);
	*rc = h ? 0 : call_failed(op, cut, path, err);
	return h;
}

static int do_get(struct op *op, void *arg, struct sq_err *err)
{
	struct sq_strbuf *sb = arg;
	char buf[CHUNK];
	sftp_file h;
	ssize_t n;
	int rc, cut;

	sq_strbuf_reset(sb);
	if (!(h = open_file(op, op->path, O_RDONLY, &rc, err)))
		return rc;
	for (;;) {
		arm(op);
		n = sftp_read(h, buf, sizeof(buf));
		cut = disarm(op);
		if (n <= 0)
			break;
		sq_strbuf_add(sb, buf, (size_t)n);
	}
	rc = n < 0 ? call_failed(op, cut, op->path, err) : 0;
	if (close_file(op, h, op->path, rc < 0 ? NULL : err) < 0 && rc == 0)
		rc = -1;
	return rc;
}

char *sq_sftp_get(const char *url, const struct sq_sftp_opts *o, size_t *len, struct sq_err *err)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;

	if (run(url, "read", o, do_get, &sb, err) < 0) {
		sq_strbuf_release(&sb);
		return NULL;
	}
	if (len)
		*len = sb.len;
	return sq_strbuf_detach(&sb);
}

/* Writes len bytes of data at the file's position. */
static int write_all(struct op *op, sftp_file h, const void *data, size_t len, const char *path,
		     struct sq_err *err)
{
	const char *p = data;

	while (len > 0) {
		size_t take = len < CHUNK ? len : CHUNK;
		ssize_t w;
		int cut;

		arm(op);
		w = sftp_write(h, p, take);
		cut = disarm(op);
		if (w <= 0)
			return call_failed(op, cut, path, err);
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* On the server's disk before the record that vouches for it is written,
 * where the server can (fsync@openssh.com); a server without it is taken
 * at its word. */
static int sync_file(struct op *op, sftp_file h, const char *path, struct sq_err *err)
{
	int rc, cut;

	if (!sftp_extension_supported(op->l->sftp, "fsync@openssh.com", "1"))
		return 0;
	arm(op);
	rc = sftp_fsync(h);
	cut = disarm(op);
	return rc == 0 ? 0 : call_failed(op, cut, path, err);
}

struct putarg {
	const void *data;
	size_t len;
	int append;
};

static int do_put(struct op *op, void *arg, struct sq_err *err)
{
	const struct putarg *pa = arg;
	int flags = O_WRONLY | O_CREAT | (pa->append ? O_APPEND : O_TRUNC), rc;
	struct sq_sftp_stat st = {0};
	sftp_file h;

	if (pa->append && (rc = stat_path(op, op->path, 1, &st, err)) < 0)
		return rc;
	if (!(h = open_file(op, op->path, flags, &rc, err)))
		return rc;
	if (pa->append) /* O_APPEND is the server's to honour; the offset makes sure */
		sftp_seek64(h, (uint64_t)st.size_bytes);
	rc = write_all(op, h, pa->data, pa->len, op->path, err);
	if (rc == 0)
		rc = sync_file(op, h, op->path, err);
	if (close_file(op, h, op->path, rc < 0 ? NULL : err) < 0 && rc == 0)
		rc = -1;
	return rc;
}

int sq_sftp_put(const char *url, const void *data, size_t len, const struct sq_sftp_opts *o,
		struct sq_err *err)
{
	struct putarg pa = {.data = data, .len = len};

	return run(url, "write", o, do_put, &pa, err);
}

int sq_sftp_append(const char *url, const void *data, size_t len, const struct sq_sftp_opts *o,
		   struct sq_err *err)
{
	struct putarg pa = {.data = data, .len = len, .append = 1};

	return run(url, "write", o, do_put, &pa, err);
}

/* ---- upload ---- */

struct uparg {
	const char *local;
	struct sq_sftp_moved moved;
};

static int upload_path(struct op *op, const char *local, const char *path, int top,
		       struct sq_sftp_moved *moved, struct sq_err *err);

/* sync: fsync on the server (a file uploaded alone; not each of a folder's
 * files, see sq_sftp_upload). */
static int upload_file(struct op *op, const char *local, const char *path, int sync,
		       struct sq_sftp_moved *moved, struct sq_err *err)
{
	int fd = open(local, O_RDONLY | O_CLOEXEC), rc = 0;
	char buf[CHUNK];
	sftp_file h;
	ssize_t n;

	if (fd < 0)
		return sq_error_errno(err, errno, "cannot open '%s'", local);
	if (!(h = open_file(op, path, O_WRONLY | O_CREAT | O_TRUNC, &rc, err))) {
		close(fd);
		return rc;
	}
	while (rc == 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = sq_error_errno(err, errno, "cannot read '%s'", local);
		else if ((rc = write_all(op, h, buf, (size_t)n, path, err)) == 0)
			moved->bytes += n;
	}
	close(fd);
	if (rc == 0 && sync)
		rc = sync_file(op, h, path, err);
	if (close_file(op, h, path, rc < 0 ? NULL : err) < 0 && rc == 0)
		rc = -1;
	if (rc == 0)
		moved->files++;
	return rc;
}

static int upload_dir(struct op *op, const char *local, const char *path,
		      struct sq_sftp_moved *moved, struct sq_err *err)
{
	DIR *d;
	struct dirent *e;
	int rc = mkdir_one(op, path, err);

	if (rc == 1)
		rc = fail(op, SQ_ERR_IO, path, err, "no such folder");
	if (rc != 0)
		return rc;
	if (!(d = opendir(local)))
		return sq_error_errno(err, errno, "cannot open '%s'", local);
	while (rc == 0 && (e = readdir(d))) {
		char *from, *to;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		from = sq_path_join(local, e->d_name);
		to = sq_path_join(path, e->d_name);
		rc = upload_path(op, from, to, 0, moved, err);
		free(to);
		free(from);
	}
	closedir(d);
	return rc;
}

static int upload_path(struct op *op, const char *local, const char *path, int top,
		       struct sq_sftp_moved *moved, struct sq_err *err)
{
	struct stat st;

	if (lstat(local, &st) < 0)
		return sq_error_errno(err, errno, "cannot upload '%s'", local);
	if (S_ISDIR(st.st_mode))
		return upload_dir(op, local, path, moved, err);
	if (!S_ISREG(st.st_mode))
		return sq_error(err, SQ_ERR_IO, "cannot upload '%s': not a file or folder", local);
	return upload_file(op, local, path, top, moved, err);
}

static int do_upload(struct op *op, void *arg, struct sq_err *err)
{
	struct uparg *ua = arg;

	ua->moved = (struct sq_sftp_moved){0, 0}; /* a second try starts over */
	return upload_path(op, ua->local, op->path, 1, &ua->moved, err);
}

int sq_sftp_upload(const char *local, const char *url, const struct sq_sftp_opts *o,
		   struct sq_sftp_moved *moved, struct sq_err *err)
{
	struct uparg ua = {.local = local};
	int rc = run(url, "write", o, do_upload, &ua, err);

	if (moved) {
		moved->bytes += ua.moved.bytes;
		moved->files += ua.moved.files;
	}
	return rc;
}
