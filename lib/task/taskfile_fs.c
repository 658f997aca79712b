/* taskfile_fs.c - the task files' checks on the filesystem: their videos can
 * be read and decoded, their output root can be made and is this acquisition's
 * (owner.h), before anything is pushed.
 *
 * A check must say what enqueue will then meet, so whether the root can be made
 * is found by doing it: a probe folder is made (and removed) in the nearest
 * folder that exists. Permission bits alone say nothing to root, nor about a
 * read-only mount or /proc. */
#include "task/taskfile_int.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "task/layout.h"
#include "task/owner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/banned.h"

/* Returns new path of the nearest existing folder at or above root, or NULL
 * with err (a file or a dangling link in the way, an unreadable folder). */
static char *nearest_existing(const char *root, struct sq_err *err)
{
	char *p = xstrdup(root), *up, buf[128];
	struct stat st;

	while (stat(p, &st) < 0) {
		int e = errno;

		if (e == ENOENT && lstat(p, &st) == 0) {
			sq_error(err, SQ_ERR_IO,
				 "cannot create output root '%s': '%s' is a symbolic link to "
				 "nothing",
				 root, p);
			goto fail;
		}
		up = sq_path_dirname(p);
		if (e != ENOENT || !strcmp(up, p)) {
			sq_error(err, SQ_ERR_IO, "cannot create output root '%s': %s", root,
				 sq_tf_errno_text(e, buf, sizeof(buf)));
			free(up);
			goto fail;
		}
		free(p);
		p = up;
	}
	if (S_ISDIR(st.st_mode))
		return p;
	sq_error(err, SQ_ERR_IO, "cannot create output root '%s': '%s' is not a directory", root,
		 p);
fail:
	free(p);
	return NULL;
}

/* Makes and removes a folder in dir: whether root could be made there. */
static int probe_dir(const char *root, const char *dir, struct sq_err *err)
{
	char *probe = xasprintf("%s/%s-check.XXXXXX", dir, SQ_LAYOUT_PRIVATE_PREFIX), buf[128];
	int rc = 0;

	if (!mkdtemp(probe))
		rc = sq_error(err, SQ_ERR_IO,
			      "cannot create output root '%s': cannot make a folder in '%s' (%s)",
			      root, dir, sq_tf_errno_text(errno, buf, sizeof(buf)));
	else
		rmdir(probe);
	free(probe);
	return rc;
}

static int root_check(const char *root, const char *acquisition, int create, struct sq_err *err)
{
	char *near = nearest_existing(root, err);
	int rc;

	if (!near)
		return -1;
	/* another's root is not even probed */
	rc = sq_owner_check(root, acquisition, err);
	if (rc == 0)
		rc = probe_dir(root, near, err);
	free(near);
	if (rc == 0 && create)
		rc = sq_mkdir_p(root, err);
	return rc;
}

static int folder_owned(const char *dir, const char *what, const char *name, struct sq_err *err)
{
	struct sq_owner o = {NULL, NULL};
	int found = sq_owner_read(dir, &o, err);

	if (found > 0)
		sq_error(err, SQ_ERR_INVALID,
			 "%s '%s' would write into '%s', the output root of acquisition '%s' "
			 "(enqueued from '%s')",
			 what, name, dir, o.acquisition, o.task_dir);
	sq_owner_release(&o);
	return found != 0;
}

/* --- the task files' checks ------------------------------------------------- */

/* Checks one video; fills *id when the caller identifies videos. Returns 0
 * when the video is fine (identified, if asked). */
static int check_video(const char *file, const struct sq_tf_item *it,
		       const struct sq_taskfile_opts *opts, struct sq_video_id *id,
		       struct sq_diags *d)
{
	struct sq_err err = {SQ_OK, ""};
	struct stat st;
	char buf[128];

	if (opts && opts->skip_video_check)
		return -1;
	if (it->s[0] == '/') { /* local: resolved to an absolute path when read */
		if (stat(it->s, &st) < 0 || access(it->s, R_OK) < 0) {
			sq_taskfile_diag(d, file, it->pos, "cannot read video '%s': %s", it->s,
					 sq_tf_errno_text(errno, buf, sizeof(buf)));
			return -1;
		}
		if (S_ISDIR(st.st_mode)) {
			sq_taskfile_diag(d, file, it->pos, "cannot read video '%s': is a directory",
					 it->s);
			return -1;
		}
	}
	if ((opts && opts->probe && opts->probe(opts->probe_ctx, it->s, &err) < 0) ||
	    (opts && opts->identify && opts->identify(opts->probe_ctx, it->s, id, &err) < 0)) {
		sq_taskfile_diag(d, file, it->pos, "%s",
				 err.msg[0] ? err.msg : "cannot decode video");
		return -1;
	}
	return 0;
}

/* Checks every video of a task; when the caller identifies them, the task
 * gets their identities (and so a version that changes with them). */
void sq_tf_check_videos(struct tload *t, const struct sq_taskfile_opts *opts, struct sq_diags *d)
{
	const struct src *s = &t->m[SQ_TF_VIDEOS];
	struct sq_video_id *ids;
	size_t ok = 0;

	if (!s->v || s->v->state != SQ_TF_OK)
		return;
	ids = xcalloc(s->v->nitems + 1, sizeof(*ids));
	for (size_t i = 0; i < s->v->nitems; i++)
		if (check_video(s->l->file, &s->v->items[i], opts, &ids[i], d) == 0)
			ok++;
	if (opts && opts->identify && !t->bad && ok == t->task.nvideos && ok == s->v->nitems) {
		free(t->task.video_ids);
		t->task.video_ids = ids;
		sq_task_finalize(&t->task);
		return;
	}
	free(ids);
}

/* Checks (and with create, makes) the output root of the first task that has a
 * valid one, for that task's acquisition; differing roots are reported
 * elsewhere. */
void sq_tf_check_root(struct tload *t, size_t n, const struct sq_taskfile_opts *opts, int create,
		      struct sq_diags *d)
{
	struct sq_err err = {SQ_OK, ""};

	for (size_t i = 0; i < n; i++) {
		const struct src *s = &t[i].m[SQ_TF_OUTPUT_ROOT], *a = &t[i].m[SQ_TF_ACQUISITION];
		int rc;

		if (!s->v || s->v->state != SQ_TF_OK || !a->v || a->v->state != SQ_TF_OK)
			continue;
		/* a root on a storage host is the caller's to reach (the SFTP store) */
		if (strstr(s->v->s, "://"))
			rc = opts && opts->remote_root
				 ? opts->remote_root(opts->probe_ctx, s->v->s, a->v->s, create, &err)
				 : 0;
		else
			rc = root_check(s->v->s, a->v->s, create, &err);
		if (rc < 0)
			sq_taskfile_diag(d, s->l->file, s->v->pos, "%s", err.msg);
		return;
	}
}

/* A group or task folder that is another acquisition's output root (someone
 * set output_root to this acquisition's group folder) would mix the two. */
void sq_tf_check_folders(struct tload *t, size_t n, struct sq_diags *d)
{
	struct sq_err err = {SQ_OK, ""};

	for (size_t i = 0; i < n; i++) {
		const struct src *g = &t[i].m[SQ_TF_GROUP];
		const struct sq_task *k = &t[i].task;
		char *gdir;

		/* (on a storage host the root's own marker is checked through the
		 * store, remote_root; its group folders are not looked into) */
		if (t[i].bad || strstr(k->output_root, "://"))
			continue;
		gdir = sq_path_join(k->output_root, k->group);
		if (folder_owned(gdir, "group", k->group, &err))
			sq_taskfile_diag(d, g->l->file, g->v->pos, "%s", err.msg);
		else if (folder_owned(k->outdir, "task", k->name, &err))
			sq_taskfile_diag(d, t[i].layer.file, t[i].name_pos, "%s", err.msg);
		free(gdir);
	}
}
