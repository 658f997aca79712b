/* store.c - the store seam (see store.h) and the local store: this host's
 * filesystem, or a shared one mounted at the same path everywhere. */
#include "stage/store.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "base/hash.h"
#include "base/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/banned.h"

static int local_mkdir_p(struct sq_store *st, const char *dir, struct sq_err *err)
{
	(void)st;
	return sq_mkdir_p(dir, err);
}

/* Durable: a record removed must stay removed across a crash, or it would
 * vouch for the outputs replaced after it. */
static int local_remove(struct sq_store *st, const char *path, struct sq_err *err)
{
	(void)st;
	char *parent;
	int rc;

	if (sq_rm_rf(path, err) < 0)
		return -1;
	parent = sq_path_dirname(path);
	rc = access(parent, F_OK) == 0 ? sq_fsync_dir(parent, err) : 0;
	free(parent);
	return rc;
}

static int local_list(struct sq_store *st, const char *dir, char ***names, size_t *n,
		      struct sq_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t alloc = 0;

	(void)st;
	*names = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : sq_error_errno(err, errno, "cannot open '%s'", dir);
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		xgrow((void **)names, &alloc, *n + 1, sizeof(**names));
		(*names)[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	return 0;
}

static int local_exists(struct sq_store *st, const char *path, struct sq_err *err)
{
	(void)st;
	if (access(path, F_OK) == 0)
		return 1;
	return errno == ENOENT || errno == ENOTDIR ? 0
						   : sq_error_errno(err, errno, "cannot see '%s'", path);
}

static int local_stat(struct sq_store *st, const char *path, struct sq_store_stat *out,
		      struct sq_err *err)
{
	struct stat sb;

	(void)st;
	if (stat(path, &sb) < 0)
		return errno == ENOENT || errno == ENOTDIR
			   ? 0
			   : sq_error_errno(err, errno, "cannot see '%s'", path);
	out->is_dir = S_ISDIR(sb.st_mode);
	out->size_bytes = (long long)sb.st_size;
	out->mtime_ms = (long long)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
	return 1;
}

static char *local_read(struct sq_store *st, const char *path, size_t *len, struct sq_err *err)
{
	(void)st;
	return sq_read_file(path, len, err);
}

static int local_write(struct sq_store *st, const char *path, const void *data, size_t len,
		       struct sq_err *err)
{
	(void)st;
	return sq_write_file_atomic(path, data, len, err);
}

static int local_append(struct sq_store *st, const char *path, const void *data, size_t len,
			struct sq_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	ssize_t w;

	(void)st;
	if (fd < 0)
		return sq_error_errno(err, errno, "cannot open '%s'", path);
	w = write(fd, data, len);
	if (w < 0 || (size_t)w != len) {
		int e = w < 0 ? errno : ENOSPC;

		close(fd);
		return sq_error_errno(err, e, "cannot write '%s'", path);
	}
	close(fd);
	return 0;
}

/* src is built beside dst (the local workdir is a sibling of the outputs), so
 * a rename moves it into place. */
static int local_publish(struct sq_store *st, const char *src, const char *dst, const char *stamp,
			 struct sq_err *err)
{
	char *old = xasprintf("%s.old.%ld", dst, (long)getpid());
	int rc = -1;

	(void)st;
	(void)stamp;
	if (rename(dst, old) < 0 && errno != ENOENT) {
		sq_error_errno(err, errno, "cannot move '%s' aside", dst);
		goto out;
	}
	if (sq_rename_durable(src, dst, err) < 0)
		goto out;
	rc = sq_rm_rf(old, err);
out:
	free(old);
	return rc;
}

static char *local_localize(struct sq_store *st, const char *src, const char *stamp,
			    const char *local_dir, int *copied, struct sq_err *err)
{
	(void)st;
	(void)stamp;
	(void)local_dir;
	(void)err;
	*copied = 0;
	return xstrdup(src);
}

static char *local_workdir(struct sq_store *st, const char *outdir, const char *stage)
{
	(void)st;
	/* host and pid: hosts sharing the tree over NFS never pick the same name */
	return xasprintf("%s/%s.tmp.%s-%ld", outdir, stage, sq_hostname(), (long)getpid());
}

static const char *local_describe(const struct sq_store *st)
{
	(void)st;
	return "local";
}

static const struct sq_store_ops local_ops = {
    .mkdir_p = local_mkdir_p,
    .remove = local_remove,
    .list = local_list,
    .exists = local_exists,
    .stat = local_stat,
    .read = local_read,
    .write = local_write,
    .append = local_append,
    .publish = local_publish,
    .localize = local_localize,
    .workdir = local_workdir,
    .describe = local_describe,
    .counters = NULL,
    .free = NULL,
};

static struct sq_store local_store = {.ops = &local_ops};

struct sq_store *sq_store_local(void)
{
	return &local_store;
}

void sq_store_free(struct sq_store *st)
{
	if (st && st->ops->free)
		st->ops->free(st);
}

static struct sq_store *or_local(struct sq_store *st)
{
	return st ? st : &local_store;
}

/* st for path, or NULL with err when path is remote and st the local store,
 * which would otherwise take "sftp://host/x" for a relative folder. */
static struct sq_store *pick(struct sq_store *st, const char *path, struct sq_err *err)
{
	st = or_local(st);
	if (st == &local_store && sq_store_path_is_remote(path)) {
		sq_error(err, SQ_ERR_INVALID,
			 "cannot use '%s': outputs on another host need a remote store", path);
		return NULL;
	}
	return st;
}

int sq_store_mkdir_p(struct sq_store *st, const char *dir, struct sq_err *err)
{
	if (!(st = pick(st, dir, err)))
		return -1;
	return st->ops->mkdir_p(st, dir, err);
}

int sq_store_remove(struct sq_store *st, const char *path, struct sq_err *err)
{
	if (!(st = pick(st, path, err)))
		return -1;
	return st->ops->remove(st, path, err);
}

int sq_store_list(struct sq_store *st, const char *dir, char ***names, size_t *n,
		  struct sq_err *err)
{
	if (!(st = pick(st, dir, err)))
		return -1;
	return st->ops->list(st, dir, names, n, err);
}

int sq_store_exists(struct sq_store *st, const char *path, struct sq_err *err)
{
	if (!(st = pick(st, path, err)))
		return -1;
	return st->ops->exists(st, path, err);
}

int sq_store_stat(struct sq_store *st, const char *path, struct sq_store_stat *out,
		  struct sq_err *err)
{
	if (!(st = pick(st, path, err)))
		return -1;
	return st->ops->stat(st, path, out, err);
}

char *sq_store_read(struct sq_store *st, const char *path, size_t *len, struct sq_err *err)
{
	if (!(st = pick(st, path, err)))
		return NULL;
	return st->ops->read(st, path, len, err);
}

int sq_store_write(struct sq_store *st, const char *path, const void *data, size_t len,
		   struct sq_err *err)
{
	if (!(st = pick(st, path, err)))
		return -1;
	return st->ops->write(st, path, data, len, err);
}

int sq_store_append(struct sq_store *st, const char *path, const void *data, size_t len,
		    struct sq_err *err)
{
	if (!(st = pick(st, path, err)))
		return -1;
	return st->ops->append(st, path, data, len, err);
}

int sq_store_publish(struct sq_store *st, const char *src, const char *dst, const char *stamp,
		     struct sq_err *err)
{
	if (!(st = pick(st, dst, err)))
		return -1;
	return st->ops->publish(st, src, dst, stamp, err);
}

char *sq_store_localize(struct sq_store *st, const char *src, const char *stamp,
			const char *local_dir, int *copied, struct sq_err *err)
{
	if (!(st = pick(st, src, err)))
		return NULL;
	return st->ops->localize(st, src, stamp, local_dir, copied, err);
}

char *sq_store_workdir(struct sq_store *st, const char *outdir, const char *stage)
{
	st = or_local(st);
	return st->ops->workdir(st, outdir, stage);
}

const char *sq_store_describe(const struct sq_store *st)
{
	return st ? st->ops->describe(st) : local_describe(NULL);
}

void sq_store_counters(const struct sq_store *st, struct sq_store_counters *out)
{
	memset(out, 0, sizeof(*out));
	if (st && st->ops->counters)
		st->ops->counters(st, out);
}

int sq_store_path_is_remote(const char *path)
{
	return path && strstr(path, "://") != NULL;
}

const char *sq_store_stamp(const char *record_text, char buf[SQ_STORE_STAMP_MAX])
{
	char hex[SQ_HASH_HEX_LEN + 1];

	buf[0] = '\0';
	if (!record_text)
		return buf;
	sq_hash_sha256_hex(record_text, strlen(record_text), hex);
	memcpy(buf, hex, SQ_STORE_STAMP_MAX - 1);
	buf[SQ_STORE_STAMP_MAX - 1] = '\0';
	return buf;
}

/* The nearest folder at or above dir that st has; new string, or NULL with
 * err. */
static char *nearest(struct sq_store *st, const char *dir, struct sq_err *err)
{
	struct sq_store_stat ss;
	char *p = xstrdup(dir), *up;
	int rc;

	while ((rc = sq_store_stat(st, p, &ss, err)) == 0) {
		up = sq_path_dirname(p);
		if (!strcmp(up, p) || !strcmp(up, ".") ||
		    (sq_store_path_is_remote(up) && !strchr(strstr(up, "://") + 3, '/'))) {
			free(up);
			rc = sq_error(err, SQ_ERR_IO, "no folder of '%s' exists", dir);
			break;
		}
		free(p);
		p = up;
	}
	if (rc == 1 && !ss.is_dir)
		rc = sq_error(err, SQ_ERR_IO, "'%s' is not a folder", p);
	if (rc < 0) {
		free(p);
		return NULL;
	}
	return p;
}

int sq_store_check_root(struct sq_store *st, const char *root, enum sq_store_root how,
			struct sq_err *err)
{
	char *dir = NULL, *probe = NULL;
	int rc = -1, there;

	if (how == SQ_STORE_ROOT_CREATE && sq_store_mkdir_p(st, root, err) < 0)
		goto out;
	there = sq_store_exists(st, root, err);
	if (there < 0)
		goto out;
	if (!there && how == SQ_STORE_ROOT_EXISTS) {
		sq_error(err, SQ_ERR_IO, "output root '%s' is not there", root);
		goto out;
	}
	if (!(dir = nearest(st, root, err)))
		goto out;
	probe = xasprintf("%s/.scanq-check.tmp.%s-%ld", dir, sq_hostname(), (long)getpid());
	if (sq_store_write(st, probe, "scanq\n", 6, err) < 0 || sq_store_remove(st, probe, err) < 0)
		goto out;
	rc = 0;
out:
	free(probe);
	free(dir);
	return rc;
}

void sq_store_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
