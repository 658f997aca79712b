/* taskfile.h - reading and validating a task directory (libyaml is wrapped here).
 *
 * A directory is one acquisition: an optional acquisition.yaml of defaults and one
 * YAML file per task. Validation covers the whole directory before anything is
 * pushed; every problem becomes a diagnostic "file:line:col: message" and one bad
 * file fails the whole directory. */
#ifndef SQ_TASKFILE_H
#define SQ_TASKFILE_H

#include "base/err.h"
#include "task/task.h"

#include <stddef.h>

struct sq_diag {
	char *file; /* path as given to the loader */
	int line;   /* 1-based; 0 when not tied to a position */
	int col;    /* 1-based */
	char *msg;
};

struct sq_diags {
	struct sq_diag *v;
	size_t n, alloc;
};

#define SQ_DIAGS_INIT {NULL, 0, 0}
void sq_diags_release(struct sq_diags *d);
/* Returns new string "file:line:col: msg" (free with free()). */
char *sq_diag_format(const struct sq_diag *d);

/* Probes one video (local path or URL); 0 if it has a video stream and a duration,
 * else -1 with err saying why. The seam lets tests and remote sources plug in. */
typedef int (*sq_probe_fn)(void *ctx, const char *video, struct sq_err *err);

/* Identifies one video (struct sq_video_id): the identity joins the task's
 * version, so a video replaced at the same path makes a new version. */
typedef int (*sq_identify_fn)(void *ctx, const char *video, struct sq_video_id *id,
			      struct sq_err *err);

struct sq_taskfile_opts {
	sq_probe_fn probe; /* NULL: videos are only checked to exist (local) */
	void *probe_ctx;   /* for probe and identify */
	int create_output_root; /* 1: mkdir -p the output root (enqueue); 0: only check */
	int skip_video_check;	/* 1: videos need not exist (repair: outputs outlive sources) */
	sq_identify_fn identify; /* NULL: tasks carry no video identity */
};

struct sq_acq {
	char *name;
	char *dir;	   /* the task directory, as given */
	char *output_root; /* absolute */
	struct sq_task *tasks; /* sorted by name */
	size_t ntasks;
	struct sq_stitch_spec stitch; /* acquisition-level stitch template (group NULL) */
	char **groups; /* sorted, unique */
	size_t ngroups;
};

void sq_acq_init(struct sq_acq *a);
void sq_acq_release(struct sq_acq *a);

/* Loads and validates every .yaml and .yml file in dir (acquisition.yaml as defaults).
 * Returns 0 with *out filled, or -1 with at least one diagnostic in diags (and
 * *out released). */
int sq_taskfile_load_dir(const char *dir, const struct sq_taskfile_opts *opts, struct sq_acq *out,
			 struct sq_diags *diags);

/* Loads one task file (with the acquisition.yaml beside it, if any) into an
 * init'ed task. Same return convention. */
int sq_taskfile_load_one(const char *path, const struct sq_taskfile_opts *opts, struct sq_task *out,
			 struct sq_diags *diags);

#endif
