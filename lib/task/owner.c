/* owner.c - the output root's ownership marker (owner.h). */
#include "task/owner.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "task/layout.h"
#include "task/task.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/banned.h"

/* a marker is a few hundred bytes; anything much larger was not written by us */
#define MARKER_MAX_BYTES SQ_OWNER_MARKER_MAX

void sq_owner_release(struct sq_owner *o)
{
	free(o->acquisition);
	free(o->task_dir);
	o->acquisition = o->task_dir = NULL;
}

static int not_a_marker(const char *path, const char *why, struct sq_err *err)
{
	return sq_error(err, SQ_ERR_INVALID,
			"'%s' is not a scanq ownership marker (%s); if no acquisition writes "
			"into this folder, remove it",
			path, why);
}

int sq_owner_parse(const char *path, const char *text, struct sq_owner *o, struct sq_err *err)
{
	cJSON *doc = cJSON_Parse(text);
	const cJSON *acq = cJSON_GetObjectItemCaseSensitive(doc, "acquisition");
	const cJSON *dir = cJSON_GetObjectItemCaseSensitive(doc, "task_dir");
	int rc = -1;

	if (!doc)
		not_a_marker(path, "not json", err);
	else if (!cJSON_IsString(acq) || !sq_name_valid(acq->valuestring))
		not_a_marker(path, "no valid 'acquisition'", err);
	else if (!cJSON_IsString(dir) || dir->valuestring[0] != '/')
		not_a_marker(path, "no absolute 'task_dir'", err);
	else
		rc = 0;
	if (rc == 0) {
		o->acquisition = xstrdup(acq->valuestring);
		o->task_dir = xstrdup(dir->valuestring);
	}
	cJSON_Delete(doc);
	return rc;
}

int sq_owner_read(const char *dir, struct sq_owner *o, struct sq_err *err)
{
	char *path = sq_path_join(dir, SQ_LAYOUT_OWNER_MARKER), *text = NULL;
	struct stat st;
	int rc = -1;

	sq_owner_release(o);
	if (lstat(path, &st) < 0) {
		rc = errno == ENOENT || errno == ENOTDIR
			 ? 0
			 : sq_error_errno(err, errno, "cannot read '%s'", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode))
		not_a_marker(path, "not a file", err);
	else if (st.st_size > MARKER_MAX_BYTES)
		not_a_marker(path, "too large", err);
	else if ((text = sq_read_file(path, NULL, err)))
		rc = sq_owner_parse(path, text, o, err) == 0 ? 1 : -1;
out:
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

/* -1 with err if a folder above root, down to the top of its namespace,
 * holds a marker. */
static int check_above(const struct sq_owner_io *io, const char *root, struct sq_err *err)
{
	struct sq_owner o = {NULL, NULL};
	char *dir = sq_path_dirname(root), *up;
	int rc = 0;

	while (rc == 0 && strcmp(dir, root) && strlen(dir) >= io->top) {
		int found = io->read(io->ctx, dir, &o, err);

		if (found > 0)
			rc = sq_error(err, SQ_ERR_INVALID,
				      "output root '%s' is inside '%s', the output root of "
				      "acquisition '%s' (enqueued from '%s')",
				      root, dir, o.acquisition, o.task_dir);
		else if (found < 0)
			rc = -1;
		if (strlen(dir) == io->top)
			break;
		up = sq_path_dirname(dir);
		free(dir);
		dir = up;
	}
	sq_owner_release(&o);
	free(dir);
	return rc;
}

int sq_owner_check_io(const struct sq_owner_io *io, const char *root, const char *acquisition,
		      struct sq_err *err)
{
	struct sq_owner o = {NULL, NULL};
	int found = io->read(io->ctx, root, &o, err), rc = 0;

	if (found < 0)
		rc = -1;
	else if (found > 0 && strcmp(o.acquisition, acquisition))
		rc = owned_by_other(root, &o, err);
	else
		rc = check_above(io, root, err);
	sq_owner_release(&o);
	return rc;
}

int sq_owner_claim_io(const struct sq_owner_io *io, const char *root, const char *acquisition,
		      const char *task_dir, struct sq_err *err)
{
	struct sq_owner o = {NULL, NULL};
	char *marker = sq_path_join(root, SQ_LAYOUT_OWNER_MARKER);
	char *json = sq_owner_json(acquisition, task_dir);
	int found = io->read(io->ctx, root, &o, err), rc = -1;

	if (found == 0) {
		rc = io->create(io->ctx, marker, json, err);
		if (rc <= 0)
			goto out;
		/* lost a race: the marker that won decides */
		if ((found = io->read(io->ctx, root, &o, err)) == 0)
			sq_error(err, SQ_ERR_IO, "'%s' appeared and vanished", marker);
	}
	if (found <= 0)
		rc = -1;
	else if (strcmp(o.acquisition, acquisition))
		rc = owned_by_other(root, &o, err);
	else if (strcmp(o.task_dir, task_dir))
		rc = io->replace(io->ctx, marker, json, err);
	else
		rc = 0;
out:
	sq_owner_release(&o);
	free(json);
	free(marker);
	return rc;
}

char *sq_owner_json(const char *acquisition, const char *task_dir)
{
	cJSON *doc = cJSON_CreateObject();
	char *text, *out;

	cJSON_AddStringToObject(doc, "acquisition", acquisition);
	cJSON_AddStringToObject(doc, "task_dir", task_dir);
	text = cJSON_PrintUnformatted(doc);
	out = xasprintf("%s\n", text);
	cJSON_free(text);
	cJSON_Delete(doc);
	return out;
}

/* --- this host's filesystem ------------------------------------------------ */

static int local_read(void *ctx, const char *dir, struct sq_owner *o, struct sq_err *err)
{
	(void)ctx;
	return sq_owner_read(dir, o, err);
}

/* Writes the marker where there is none: the whole file appears at once
 * (written aside, then linked), and link() fails if another enqueue got there
 * first, which is then read back and judged like any marker. */
static int local_create(void *ctx, const char *marker, const char *json, struct sq_err *err)
{
	char *aside = xasprintf("%s.new.%ld", marker, (long)getpid());
	int rc = sq_write_file_atomic(aside, json, strlen(json), err);

	(void)ctx;
	if (rc == 0 && link(aside, marker) < 0)
		rc = errno == EEXIST ? 1 : sq_error_errno(err, errno, "cannot create '%s'", marker);
	unlink(aside);
	if (rc == 0)
		rc = sq_fsync_dir(marker, err);
	free(aside);
	return rc;
}

static int local_replace(void *ctx, const char *marker, const char *json, struct sq_err *err)
{
	(void)ctx;
	return sq_write_file_atomic(marker, json, strlen(json), err);
}

static const struct sq_owner_io local_io = {
    .read = local_read, .create = local_create, .replace = local_replace, .top = 1};

int sq_owner_check(const char *root, const char *acquisition, struct sq_err *err)
{
	return sq_owner_check_io(&local_io, root, acquisition, err);
}

int sq_owner_claim(const char *root, const char *acquisition, const char *task_dir,
		   struct sq_err *err)
{
	return sq_owner_claim_io(&local_io, root, acquisition, task_dir, err);
}
