/* txn.c - the stage transaction (see txn.h). */
#include "stage/txn.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "task/layout.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"

struct sq_txn {
	struct sq_store *store;
	enum sq_stage stage;
	char *outdir;
	char *work;	/* the work folder: outputs by name, scratch/ */
	char *scratch;
	char *log;	/* local log file of this attempt, or NULL */
	char *log_dst;	/* the stage's log in the store, when log is a copy */
};

static int is_under(const char *root, const char *path)
{
	size_t n = strlen(root);

	if (n == 1 && root[0] == '/')
		return 1;
	return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The deepest existing ancestor of path (itself included), resolved. */
static char *real_ancestor(const char *path)
{
	char *p = xstrdup(path), *real;

	for (;;) {
		if ((real = realpath(p, NULL)))
			break;
		if (errno != ENOENT || strcmp(p, "/") == 0) {
			real = NULL;
			break;
		}
		char *up = sq_path_dirname(p);

		free(p);
		p = up;
	}
	free(p);
	return real;
}

/* The path part of a URL ("/abs/path" of "sftp://host/abs/path"), or NULL. */
static const char *url_path(const char *url)
{
	const char *s = strstr(url, "://");

	return s ? strchr(s + 3, '/') : NULL;
}

static int outside(const char *root, const char *path, struct sq_err *err)
{
	return sq_error(err, SQ_ERR_INVALID, "refusing to write '%s': outside the output root '%s'",
			path, root);
}

/* A root on another host: the same host in the same words, and a path under
 * the root's once "." and ".." are resolved. The storage host's links are
 * not followed from here; names are validated so that none leads out. */
static int check_remote(const char *root, const char *path, struct sq_err *err)
{
	const char *rp = url_path(root), *pp = url_path(path);
	char *r, *p;
	int rc;

	if (!rp || !pp || rp - root != pp - path || strncmp(root, path, (size_t)(rp - root)) != 0)
		return outside(root, path, err);
	r = sq_path_resolve("/", rp);
	p = sq_path_resolve("/", pp);
	rc = strcmp(p, pp) == 0 && is_under(r, p) ? 0 : outside(root, path, err);
	free(p);
	free(r);
	return rc;
}

int sq_txn_check_confined(const char *root, const char *path, struct sq_err *err)
{
	char *r, *p, *rr = NULL, *rp = NULL;
	int rc = -1;

	if (sq_store_path_is_remote(root) || sq_store_path_is_remote(path))
		return check_remote(root, path, err);
	r = sq_path_resolve("/", root);
	p = sq_path_resolve("/", path);

	if (strcmp(p, path) != 0 || !is_under(r, p)) {
		outside(root, path, err);
		goto out;
	}
	/* a root that does not exist yet has no links under it */
	rr = realpath(r, NULL);
	rp = rr ? real_ancestor(p) : NULL;
	if (rr && (!rp || !is_under(rr, rp))) {
		sq_error(err, SQ_ERR_INVALID,
			 "refusing to write '%s': a symbolic link leads out of the output root '%s'",
			 path, root);
		goto out;
	}
	rc = 0;
out:
	free(rr);
	free(rp);
	free(p);
	free(r);
	return rc;
}

/* 1 if name is what a killed attempt of this stage leaves in the outdir:
 * "<stage>.tmp.*" (its work folder), "<output>.tmp.*" / "<output>.old.*"
 * (an upload or a moved-aside output), "<record>.tmp.*". */
static int is_leftover(enum sq_stage stage, const char *name)
{
	size_t n;
	const struct sq_layout_output *outs = sq_layout_outputs(stage, &n);
	const char *stems[8];
	size_t k = 0;

	stems[k++] = sq_stage_name(stage);
	stems[k++] = sq_layout_record(stage);
	for (size_t i = 0; i < n && k < 8; i++)
		stems[k++] = outs[i].name;
	for (size_t i = 0; i < k; i++) {
		size_t l = strlen(stems[i]);

		if (strncmp(name, stems[i], l) == 0 &&
		    (strncmp(name + l, ".tmp.", 5) == 0 || strncmp(name + l, ".old.", 5) == 0))
			return 1;
	}
	return 0;
}

static int clean_leftovers(struct sq_txn *x, struct sq_err *err)
{
	char **names;
	size_t n;
	int rc = 0;

	if (sq_store_list(x->store, x->outdir, &names, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!is_leftover(x->stage, names[i]))
			continue;
		char *p = sq_path_join(x->outdir, names[i]);

		rc = sq_store_remove(x->store, p, err);
		free(p);
	}
	sq_store_names_free(names, n);
	return rc;
}

/* The log: written in place for a local outdir; otherwise in the work
 * folder, appended to the store's copy at the end. */
static void pick_log(struct sq_txn *x)
{
	const char *name = sq_layout_log(x->stage);

	if (!name)
		return;
	if (!sq_store_path_is_remote(x->outdir)) {
		x->log = sq_path_join(x->outdir, name);
		return;
	}
	x->log = sq_path_join(x->work, name);
	x->log_dst = sq_path_join(x->outdir, name);
}

static int prepare(struct sq_txn *x, struct sq_err *err)
{
	char *record = sq_path_join(x->outdir, sq_layout_record(x->stage));
	int rc = -1;

	if (sq_store_mkdir_p(x->store, x->outdir, err) < 0 ||
	    sq_store_remove(x->store, record, err) < 0 || clean_leftovers(x, err) < 0)
		goto out;
	/* the work folder is always local, whatever the store */
	if (sq_rm_rf(x->work, err) < 0 || sq_mkdir_p(x->scratch, err) < 0)
		goto out;
	rc = 0;
out:
	free(record);
	return rc;
}

struct sq_txn *sq_txn_begin(const struct sq_txn_opts *o, struct sq_err *err)
{
	struct sq_txn *x;

	if (sq_txn_check_confined(o->root, o->outdir, err) < 0)
		return NULL;
	x = xcalloc(1, sizeof(*x));
	x->store = o->store ? o->store : sq_store_local();
	x->stage = o->stage;
	x->outdir = xstrdup(o->outdir);
	x->work = sq_store_workdir(x->store, o->outdir, sq_stage_name(o->stage));
	x->scratch = sq_path_join(x->work, "scratch");
	pick_log(x);
	if (prepare(x, err) < 0) {
		sq_txn_end(x);
		return NULL;
	}
	return x;
}

char *sq_txn_path(const struct sq_txn *x, const char *name)
{
	return sq_path_join(x->work, name);
}

const char *sq_txn_workdir(const struct sq_txn *x)
{
	return x->work;
}

const char *sq_txn_scratch(const struct sq_txn *x)
{
	return x->scratch;
}

const char *sq_txn_log(const struct sq_txn *x)
{
	return x->log;
}

const char *sq_txn_outdir(const struct sq_txn *x)
{
	return x->outdir;
}

/* Moves one output from the work folder into the outdir; stamp: the
 * record's that will vouch for it. */
static int publish_one(struct sq_txn *x, const struct sq_layout_output *out, const char *stamp,
		       struct sq_err *err)
{
	char *src = sq_path_join(x->work, out->name), *dst = sq_path_join(x->outdir, out->name);
	int rc = 0;

	if (access(src, F_OK) == 0)
		rc = sq_store_publish(x->store, src, dst, stamp, err);
	else if (!out->optional)
		rc = sq_error(err, SQ_ERR_BACKEND, "stage %s made no '%s'",
			      sq_stage_name(x->stage), out->name);
	else /* an output this attempt did not make must not outlive the others */
		rc = sq_store_remove(x->store, dst, err);
	free(dst);
	free(src);
	return rc;
}

int sq_txn_commit(struct sq_txn *x, const char *record, struct sq_err *err)
{
	size_t n;
	const struct sq_layout_output *outs = sq_layout_outputs(x->stage, &n);
	char stamp[SQ_STORE_STAMP_MAX], *path;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (!outs[i].optional) {
			char *src = sq_path_join(x->work, outs[i].name);
			int made = access(src, F_OK) == 0;

			free(src);
			if (!made)
				return sq_error(err, SQ_ERR_BACKEND, "stage %s made no '%s'",
						sq_stage_name(x->stage), outs[i].name);
		}
	sq_store_stamp(record, stamp);
	for (size_t i = 0; i < n; i++)
		if (publish_one(x, &outs[i], stamp, err) < 0)
			return -1;
	path = sq_path_join(x->outdir, sq_layout_record(x->stage));
	rc = sq_store_write(x->store, path, record, strlen(record), err);
	free(path);
	return rc;
}

/* A log kept in the work folder goes to the store's log, whatever happened:
 * a failed attempt's log is what the operator needs most. */
static void flush_log(struct sq_txn *x)
{
	size_t len = 0;
	char *text;

	if (!x->log_dst)
		return;
	text = sq_read_file(x->log, &len, NULL);
	if (text && len)
		sq_store_append(x->store, x->log_dst, text, len, NULL);
	free(text);
}

void sq_txn_end(struct sq_txn *x)
{
	if (!x)
		return;
	flush_log(x);
	sq_rm_rf(x->work, NULL);
	free(x->log_dst);
	free(x->log);
	free(x->scratch);
	free(x->work);
	free(x->outdir);
	free(x);
}
