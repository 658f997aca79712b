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

/* Limits no real task directory comes near, so that a hostile or broken one is
 * refused at once instead of taking minutes (libyaml's time grows with the
 * square of the nesting depth and of the number of anchors; every video is
 * probed). README.md lists them for operators. */
#define SQ_TASKFILE_MAX_BYTES (1024 * 1024) /* one task file or acquisition.yaml */
#define SQ_TASKFILE_MAX_DEPTH 32	    /* lists and maps inside each other */
#define SQ_TASKFILE_MAX_ANCHORS 1000	    /* YAML anchors (&a) and aliases (*a) */
#define SQ_TASKFILE_MAX_VIDEOS 1000	    /* videos of one task */
#define SQ_TASKFILE_MAX_ARGS 1000	    /* arguments of one command */
/* problems reported per file; past it they are counted */
#define SQ_TASKFILE_MAX_DIAGS 50

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

/* Checks an output root on another host (sftp://) as the local ones are: that
 * it can be made and written and is acquisition's (owner.h), and with create,
 * makes it. 0, or -1 with err saying why. */
typedef int (*sq_root_fn)(void *ctx, const char *root, const char *acquisition, int create,
			  struct sq_err *err);

struct sq_taskfile_opts {
	sq_probe_fn probe; /* NULL: videos are only checked to exist (local) */
	void *probe_ctx;   /* for probe, identify and remote_root */
	int create_output_root; /* 1: mkdir -p the output root (enqueue); 0: only check */
	int skip_video_check;	/* 1: videos need not exist (repair: outputs outlive sources) */
	sq_identify_fn identify; /* NULL: tasks carry no video identity */
	sq_root_fn remote_root;	 /* NULL: an sftp:// output root is not checked */
};

/* Where a key was set (for problems found across acquisitions). */
struct sq_acq_at {
	char *file; /* path as given to the loader */
	int line, col;
};

struct sq_acq {
	char *name;
	char *dir;	   /* the task directory, as given */
	char *task_dir;	   /* the task directory, absolute and canonical (symlinks resolved) */
	char *output_root; /* absolute path, or sftp:// URL */
	struct sq_task *tasks; /* sorted by name */
	size_t ntasks;
	struct sq_stitch_spec stitch; /* acquisition-level stitch template (group NULL) */
	char **groups; /* sorted, unique */
	size_t ngroups;
	struct sq_acq_at name_at, root_at; /* of 'acquisition' and 'output_root' */
};

void sq_acq_init(struct sq_acq *a);
void sq_acq_release(struct sq_acq *a);

/* Loads and validates every .yaml and .yml file in dir (acquisition.yaml as defaults).
 * Returns 0 with *out filled, or -1 with at least one diagnostic in diags (and
 * *out released). */
int sq_taskfile_load_dir(const char *dir, const struct sq_taskfile_opts *opts, struct sq_acq *out,
			 struct sq_diags *diags);

/* Checks acquisitions loaded together (one scanq-enqueue call) against each
 * other: an output root belongs to one acquisition, so no two may share one or
 * have one inside the other's; one acquisition comes from one task directory.
 * Acquisitions that failed to load (released: no name) are passed over. Adds a
 * diagnostic per problem at the key concerned; returns 0 or -1. */
int sq_acq_check_together(const struct sq_acq *acqs, size_t n, struct sq_diags *diags);

/* Loads one task file (with the acquisition.yaml beside it, if any) into an
 * init'ed task. Same return convention. */
int sq_taskfile_load_one(const char *path, const struct sq_taskfile_opts *opts, struct sq_task *out,
			 struct sq_diags *diags);

#endif
