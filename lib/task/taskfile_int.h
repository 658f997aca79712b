/* taskfile_int.h - internal to the taskfile module: a task file on its way to a
 * struct sq_task, shared by the loader (taskfile.c), the checks that span files
 * and acquisitions (taskfile_span.c) and those on the filesystem
 * (taskfile_fs.c). */
#ifndef SQ_TASKFILE_INT_H
#define SQ_TASKFILE_INT_H

#include "task/taskfile_schema.h"

/* A merged value and the layer (file) it came from; v NULL: set nowhere. */
struct src {
	const struct sq_tf_value *v;
	const struct sq_tf_layer *l;
};

/* One task file on its way to a struct sq_task. */
struct tload {
	struct sq_tf_layer layer;
	struct src m[SQ_TF_COUNT];
	char *name;		   /* effective task name, NULL when invalid */
	struct sq_tf_pos name_pos; /* where to report a duplicate name */
	int bad;		   /* something is wrong: no task is built */
	struct sq_task task;	   /* built when !bad */
};

/* A task directory being loaded: its defaults and its task files. */
struct dirload {
	struct sq_tf_layer acq;
	int have_acq;
	struct tload *t;
	size_t n;
};

/* The checks across the task files of L: unique names, names that differ only
 * in case, one acquisition and output root, one stitch. */
void sq_tf_check_span(struct dirload *L, struct sq_diags *d);

/* Every local video of t is readable and, with opts->probe, decodable. */
void sq_tf_check_videos(struct tload *t, const struct sq_taskfile_opts *opts,
			struct sq_diags *d);

/* The output root of the first of t[0..n) with a valid one can be made (with
 * create: is made) and belongs to its acquisition (owner.h); one on a storage
 * host is checked by opts->remote_root, or not at all without one. */
void sq_tf_check_root(struct tload *t, size_t n, const struct sq_taskfile_opts *opts, int create,
		      struct sq_diags *d);

/* No group or task folder of t[0..n) is another acquisition's output root. */
void sq_tf_check_folders(struct tload *t, size_t n, struct sq_diags *d);

#endif
