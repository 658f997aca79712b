/* fuzz_taskfile.c - the task-file loader (lib/task/taskfile*.c, libyaml).
 *
 * Input: a task directory in one file. Text up to a line "#--- task.yaml" is
 * the directory's acquisition.yaml and the rest its one task file; without that
 * line the whole input is the task file and there are no defaults. The
 * directory is loaded as `scanq-enqueue --check` would (videos need not exist),
 * then the task file alone.
 *
 * Besides memory errors and hangs, checks the loader's promises: a failure
 * comes with a diagnostic, each one formats; a loaded task survives the trip
 * through its canonical JSON (what the worker reads back from Redis) with the
 * same version; and its output folder lies under the output root. */
#include "fuzz.h"

#include "base/fsutil.h"
#include "task/taskfile.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SEP "#--- task.yaml\n"

static void check_diags(const char *what, int rc, const struct sq_diags *d)
{
	if (rc < 0 && d->n == 0)
		fz_fail("%s failed without a diagnostic", what);
	for (size_t i = 0; i < d->n; i++) {
		char *s = sq_diag_format(&d->v[i]);

		if (!s || !d->v[i].file || !d->v[i].msg)
			fz_fail("%s: diagnostic %zu is incomplete", what, i);
		free(s);
	}
}

static void check_task_json(const struct sq_task *t)
{
	char *json = sq_task_to_json(t), *again;
	struct sq_task back;
	struct sq_err err;

	sq_task_init(&back);
	if (sq_task_from_json(&back, json, &err) < 0)
		fz_fail("task '%s': its own JSON does not read back: %s\n%s", t->name, err.msg,
			json);
	again = sq_task_to_json(&back);
	if (strcmp(json, again) != 0 || strcmp(t->version, back.version) != 0)
		fz_fail("task '%s': JSON changes on the way back\n%s\n%s", t->name, json, again);
	free(again);
	free(json);
	sq_task_release(&back);
}

static void check_stitch_json(const struct sq_stitch_spec *s)
{
	char *json = sq_stitch_spec_to_json(s), *again;
	struct sq_stitch_spec back;
	struct sq_err err;

	sq_stitch_spec_init(&back);
	if (sq_stitch_spec_from_json(&back, json, &err) < 0)
		fz_fail("stitch spec: its own JSON does not read back: %s\n%s", err.msg, json);
	again = sq_stitch_spec_to_json(&back);
	if (strcmp(json, again) != 0)
		fz_fail("stitch spec: JSON changes on the way back\n%s\n%s", json, again);
	free(again);
	free(json);
	sq_stitch_spec_release(&back);
}

/* A name that is one folder below its parent (not ".", "..", nor a path). */
static int one_folder(const char *name)
{
	return name && *name && !strchr(name, '/') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

/* outdir is output_root/<group>/<name>, two folders below the root (local or
 * sftp://, so compared as text, not resolved). */
static void check_confined(const struct sq_task *t)
{
	char *g = sq_path_join(t->output_root, t->group ? t->group : "");
	char *want = sq_path_join(g, t->name ? t->name : "");

	if (!one_folder(t->group) || !one_folder(t->name) || strcmp(t->outdir, want) != 0)
		fz_fail("task '%s': output folder '%s' is not two folders below the output "
			"root '%s'",
			t->name, t->outdir, t->output_root);
	free(want);
	free(g);
}

static void check_acq(const struct sq_acq *a)
{
	if (a->ntasks == 0 || !a->name || !a->output_root)
		fz_fail("a loaded acquisition without tasks, name or output root");
	for (size_t i = 0; i < a->ntasks; i++) {
		check_task_json(&a->tasks[i]);
		check_confined(&a->tasks[i]);
	}
	check_stitch_json(&a->stitch);
}

static char *dir_path(void)
{
	char *dir = sq_path_join(fz_dir(), "tasks");

	mkdir(dir, 0755);
	return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sq_taskfile_opts opts = {.skip_video_check = 1};
	struct sq_diags diags = SQ_DIAGS_INIT;
	const uint8_t *acq_yaml, *task_yaml;
	size_t acq_len, task_len;
	char *dir = dir_path(), *task_path;
	struct sq_acq acq;
	struct sq_task t;
	int rc;

	task_path = sq_path_join(dir, "task.yaml");
	if (fz_split(data, size, SEP, &acq_yaml, &acq_len, &task_yaml, &task_len)) {
		free(fz_write("tasks/acquisition.yaml", acq_yaml, acq_len));
	} else {
		fz_remove("tasks/acquisition.yaml");
		task_yaml = data, task_len = size;
	}
	free(fz_write("tasks/task.yaml", task_yaml, task_len));

	sq_acq_init(&acq);
	rc = sq_taskfile_load_dir(dir, &opts, &acq, &diags);
	check_diags("the directory", rc, &diags);
	if (rc == 0)
		check_acq(&acq);
	sq_acq_release(&acq);
	sq_diags_release(&diags);

	sq_task_init(&t);
	rc = sq_taskfile_load_one(task_path, &opts, &t, &diags);
	check_diags("the task file", rc, &diags);
	if (rc == 0) {
		check_task_json(&t);
		check_confined(&t);
	}
	sq_task_release(&t);
	sq_diags_release(&diags);
	free(task_path);
	free(dir);
	return 0;
}
