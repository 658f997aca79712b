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
static int sftp_read(void *ctx, const char *dir, struct sq_owner *o, struct sq_err *err)
{
	const struct sq_sftp_opts *so = sq_store_sftp_opts(ctx);
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

/* Writes the marker where there is none: written aside, then renamed, which
 * SFTP refuses when the name exists: 0 made, 1 another got there first. */
static int sftp_create(void *ctx, const char *marker, const char *json, struct sq_err *err)
{
	const struct sq_sftp_opts *so = sq_store_sftp_opts(ctx);
	char *aside = xasprintf("%s.new.%s-%ld", marker, sq_hostname(), (long)getpid());
	struct sq_sftp_stat st;
	int rc = sq_sftp_put(aside, json, strlen(json), so, err);

	if (rc == 0 && sq_sftp_rename(aside, marker, so, err) < 0)
		rc = sq_sftp_stat(marker, so, &st, NULL) == 1 ? 1 : -1;
	sq_sftp_remove(aside, so, NULL);
	free(aside);
	return rc;
}

static int sftp_replace(void *ctx, const char *marker, const char *json, struct sq_err *err)
{
	return sq_store_write(ctx, marker, json, strlen(json), err);
}

/* The rules of task/owner.h on the storage host of root: the folders above
 * root are looked at up to the host's "/". */
static struct sq_owner_io sftp_io(struct sq_store *st, const char *root)
{
	const char *host = strstr(root, "://"), *path = host ? strchr(host + 3, '/') : NULL;

	return (struct sq_owner_io){.read = sftp_read,
				    .create = sftp_create,
				    .replace = sftp_replace,
				    .top = path ? (size_t)(path - root) + 1 : strlen(root),
				    .ctx = st};
}

int sq_store_sftp_owner_check(struct sq_store *st, const char *root, const char *acquisition,
			      struct sq_err *err)
{
	struct sq_owner_io io = sftp_io(st, root);

	return sq_owner_check_io(&io, root, acquisition, err);
}

int sq_store_sftp_owner_claim(struct sq_store *st, const char *root, const char *acquisition,
			      const char *task_dir, struct sq_err *err)
{
	struct sq_owner_io io = sftp_io(st, root);

	return sq_owner_claim_io(&io, root, acquisition, task_dir, err);
}
