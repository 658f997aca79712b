/* store_sftp_owner.c - which acquisition an output root on a storage host
 * belongs to: task/owner.h's rules and marker, read and written over SFTP. */
#include "stage/store_sftp.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "media/sftp_fs.h"
#include "task/layout.h"
#include "task/owner.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"

/* The marker of dir into o (released first): 1 found, 0 none, -1 with err. */
static int read_marker(const struct sq_sftp_opts *so, const char *dir, struct sq_owner *o,
		       struct sq_err *err)
{
	char *path = sq_path_join(dir, SQ_LAYOUT_OWNER_MARKER), *text = NULL;
	struct sq_sftp_stat st;
	int rc = sq_sftp_stat(path, so, &st, err);

	sq_owner_release(o);
	if (rc == 1 && (st.is_dir || st.size_bytes > SQ_OWNER_MARKER_MAX))
		rc = sq_error(err, SQ_ERR_INVALID,
			      "'%s' is not a scanq ownership marker (%s); if no acquisition writes "
			      "into this folder, remove it",
			      path, st.is_dir ? "not a file" : "too large");
	if (rc == 1 &&
	    (!(text = sq_sftp_get(path, so, NULL, err)) || sq_owner_parse(path, text, o, err) < 0))
		rc = -1;
	free(text);
	free(path);
	return rc;
}

static int owned_by_other(const char *root, const struct sq_owner *o, struct sq_err *err)
{
	return sq_error(err, SQ_ERR_INVALID,
			"output root '%s' belongs to acquisition '%s' (enqueued from '%s'); "
			"give each acquisition its own output_root",
			root, o->acquisition, o->task_dir);
}

/* -1 with err if a folder above root (on the same host) holds a marker. */
static int check_above(const struct sq_sftp_opts *so, const char *root, struct sq_err *err)
{
	const char *path = strchr(strstr(root, "://") + 3, '/');
	struct sq_owner o = {NULL, NULL};
	char *dir = sq_path_dirname(root), *up;
	int rc = 0;

	/* up to the first folder below the host's "/" */
	while (rc == 0 && path && strlen(dir) > (size_t)(path - root)) {
		int found = read_marker(so, dir, &o, err);

		if (found > 0)
			rc = sq_error(err, SQ_ERR_INVALID,
				      "output root '%s' is inside '%s', the output root of "
				      "acquisition '%s' (enqueued from '%s')",
				      root, dir, o.acquisition, o.task_dir);
		else if (found < 0)
			rc = -1;
		up = sq_path_dirname(dir);
		free(dir);
		dir = up;
	}
	sq_owner_release(&o);
	free(dir);
	return rc;
}

int sq_store_sftp_owner_check(struct sq_store *st, const char *root, const char *acquisition,
			      struct sq_err *err)
{
	const struct sq_sftp_opts *so = sq_store_sftp_opts(st);
	struct sq_owner o = {NULL, NULL};
	int found = read_marker(so, root, &o, err), rc;

	if (found < 0)
		rc = -1;
	else if (found > 0 && strcmp(o.acquisition, acquisition))
		rc = owned_by_other(root, &o, err);
	else
		rc = check_above(so, root, err);
	sq_owner_release(&o);
	return rc;
}

/* Writes the marker where there is none: written aside, then renamed, which
 * SFTP refuses when the name exists: 0 made, 1 another got there first. */
static int create_marker(const struct sq_sftp_opts *so, const char *marker, const char *json,
			 struct sq_err *err)
{
	char *aside = xasprintf("%s.new.%s-%ld", marker, sq_hostname(), (long)getpid());
	struct sq_sftp_stat st;
	int rc = sq_sftp_put(aside, json, strlen(json), so, err);

	if (rc == 0 && sq_sftp_rename(aside, marker, so, err) < 0)
		rc = sq_sftp_stat(marker, so, &st, NULL) == 1 ? 1 : -1;
	sq_sftp_remove(aside, so, NULL);
	free(aside);
	return rc;
}

int sq_store_sftp_owner_claim(struct sq_store *st, const char *root, const char *acquisition,
			      const char *task_dir, struct sq_err *err)
{
	const struct sq_sftp_opts *so = sq_store_sftp_opts(st);
	struct sq_owner o = {NULL, NULL};
	char *marker = sq_path_join(root, SQ_LAYOUT_OWNER_MARKER);
	char *json = sq_owner_json(acquisition, task_dir);
	int found = read_marker(so, root, &o, err), rc = -1;

	if (found == 0) {
		rc = create_marker(so, marker, json, err);
		if (rc <= 0)
			goto out;
		/* lost a race: the marker that won decides */
		if ((found = read_marker(so, root, &o, err)) == 0)
			sq_error(err, SQ_ERR_IO, "'%s' appeared and vanished", marker);
	}
	if (found <= 0)
		rc = -1;
	else if (strcmp(o.acquisition, acquisition))
		rc = owned_by_other(root, &o, err);
	else if (strcmp(o.task_dir, task_dir))
		rc = sq_store_write(st, marker, json, strlen(json), err);
	else
		rc = 0;
out:
	sq_owner_release(&o);
	free(json);
	free(marker);
	return rc;
}
