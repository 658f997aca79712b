/* task.c - the task model: lifecycle, copies, stitch specs, needs (the words
 * it is spelled in are names.c's; the canonical JSON a task travels in, and
 * its version, are task_json.c's). */
#include "task/task.h"
#include "task/task_int.h"
#include "base/fsutil.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

int sq_name_valid(const char *name)
{
	size_t n = 0;

	if (!name)
		return 0;
	for (; name[n]; n++) {
		char c = name[n];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';

		if (!ok || n >= SQ_NAME_MAX)
			return 0;
	}
	return n > 0;
}

/* COLMAP's own defaults, except the camera model: survey cameras (GoPro and the
 * like) have lenses that SIMPLE_RADIAL fits poorly. */
static void colmap_init(struct sq_colmap_spec *c)
{
	c->threads = 0;
	c->max_image_size = 3200;
	c->max_features = 8192;
	c->overlap = 10;
	c->min_registered_pct = 50;
	snprintf(c->camera_model, sizeof(c->camera_model), "%s", "OPENCV");
}

static void backend_init(struct sq_backend_spec *b, enum sq_backend_kind kind)
{
	memset(b, 0, sizeof(*b));
	b->kind = kind;
	colmap_init(&b->colmap);
}

void sq_backend_spec_release(struct sq_backend_spec *b)
{
	for (size_t i = 0; i < b->cmd.argc; i++)
		free(b->cmd.argv[i]);
	free(b->cmd.argv);
	free(b->cmd.done_log);
	free(b->cmd.done_file);
	backend_init(b, b->kind);
}

void sq_backend_spec_copy(struct sq_backend_spec *to, const struct sq_backend_spec *from)
{
	*to = *from;
	to->cmd.argv = xcalloc(from->cmd.argc + 1, sizeof(*to->cmd.argv));
	for (size_t i = 0; i < from->cmd.argc; i++)
		to->cmd.argv[i] = xstrdup(from->cmd.argv[i]);
	to->cmd.done_log = xstrdup(from->cmd.done_log);
	to->cmd.done_file = xstrdup(from->cmd.done_file);
}

static void retry_init(struct sq_retry_spec *r)
{
	r->max_attempts = 3;
	r->backoff_ms = 30000;
}

void sq_task_init(struct sq_task *t)
{
	memset(t, 0, sizeof(*t));
	t->extract.fps_num = 1;
	t->extract.fps_den = 1;
	t->extract.width = -1;
	t->extract.height = -1;
	t->extract.quality = 2;
	backend_init(&t->reconstruct, SQ_BACKEND_COLMAP);
	backend_init(&t->stitch, SQ_BACKEND_BUILTIN);
	retry_init(&t->retry);
}

void sq_task_release(struct sq_task *t)
{
	free(t->acquisition);
	free(t->group);
	free(t->name);
	free(t->output_root);
	free(t->outdir);
	for (size_t i = 0; i < t->nvideos; i++)
		free(t->videos[i]);
	free(t->videos);
	free(t->video_until_ms);
	free(t->video_ids);
	sq_backend_spec_release(&t->reconstruct);
	sq_backend_spec_release(&t->stitch);
	free(t->source_file);
	sq_task_init(t);
}

void sq_stitch_spec_init(struct sq_stitch_spec *s)
{
	memset(s, 0, sizeof(*s));
	backend_init(&s->backend, SQ_BACKEND_BUILTIN);
	retry_init(&s->retry);
}

void sq_stitch_spec_release(struct sq_stitch_spec *s)
{
	free(s->acquisition);
	free(s->group);
	free(s->outdir);
	sq_backend_spec_release(&s->backend);
	sq_stitch_spec_init(s);
}

/* --- resource needs ----------------------------------------------------------- */

static const struct sq_backend_spec *stage_backend(const struct sq_task *t, enum sq_stage stage)
{
	if (stage == SQ_STAGE_RECONSTRUCT)
		return &t->reconstruct;
	if (stage == SQ_STAGE_STITCH)
		return &t->stitch;
	return NULL; /* extract runs in-process with modest needs */
}

long long sq_task_need_vram_mib(const struct sq_task *t, enum sq_stage stage)
{
	const struct sq_backend_spec *b = stage_backend(t, stage);

	return b ? b->min_vram_mib : 0;
}

long long sq_task_need_ram_mib(const struct sq_task *t, enum sq_stage stage)
{
	const struct sq_backend_spec *b = stage_backend(t, stage);

	return b ? b->min_ram_mib : 0;
}
