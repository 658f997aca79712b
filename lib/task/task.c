/* task.c - the task model: names, lifecycle, copies, stitch specs, needs.
 *
 * The canonical JSON a task travels in, and its version, are task_json.c's. */
#include "task/task.h"
#include "task/task_int.h"
#include "base/fsutil.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

static const char *const stage_names[SQ_STAGE_COUNT] = {
    [SQ_STAGE_EXTRACT] = "extract",
    [SQ_STAGE_RECONSTRUCT] = "reconstruct",
    [SQ_STAGE_STITCH] = "stitch",
};

static const char *const backend_names[] = {
    [SQ_BACKEND_COLMAP] = "colmap",
    [SQ_BACKEND_COMMAND] = "command",
    [SQ_BACKEND_BUILTIN] = "builtin",
};

#define NBACKENDS (sizeof(backend_names) / sizeof(backend_names[0]))

const char *const sq_colmap_camera_models[] = {
    "SIMPLE_PINHOLE",
    "PINHOLE",
    "SIMPLE_RADIAL",
    "RADIAL",
    "OPENCV",
    "OPENCV_FISHEYE",
    "FULL_OPENCV",
    "FOV",
    "SIMPLE_RADIAL_FISHEYE",
    "RADIAL_FISHEYE",
    "THIN_PRISM_FISHEYE",
    NULL,
};

/* COLMAP 3.8's parameter lists (src/base/camera_models.h), one entry for each
 * name of sq_colmap_camera_models. */
static const struct sq_colmap_model_info models[] = {
    {"SIMPLE_PINHOLE", 3, 1, "f, cx, cy"},
    {"PINHOLE", 4, 2, "fx, fy, cx, cy"},
    {"SIMPLE_RADIAL", 4, 1, "f, cx, cy, k"},
    {"RADIAL", 5, 1, "f, cx, cy, k1, k2"},
    {"OPENCV", 8, 2, "fx, fy, cx, cy, k1, k2, p1, p2"},
    {"OPENCV_FISHEYE", 8, 2, "fx, fy, cx, cy, k1, k2, k3, k4"},
    {"FULL_OPENCV", 12, 2, "fx, fy, cx, cy, k1, k2, p1, p2, k3, k4, k5, k6"},
    {"FOV", 5, 2, "fx, fy, cx, cy, omega"},
    {"SIMPLE_RADIAL_FISHEYE", 4, 1, "f, cx, cy, k"},
    {"RADIAL_FISHEYE", 5, 1, "f, cx, cy, k1, k2"},
    {"THIN_PRISM_FISHEYE", 12, 2, "fx, fy, cx, cy, k1, k2, p1, p2, k3, k4, sx1, sy1"},
};

const struct sq_colmap_model_info *sq_colmap_model_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(models) / sizeof(models[0]); i++)
		if (!strcmp(name, models[i].model))
			return &models[i];
	return NULL;
}

const char *sq_stage_name(enum sq_stage stage)
{
	if ((unsigned)stage >= SQ_STAGE_COUNT)
		return NULL;
	return stage_names[stage];
}

int sq_stage_parse(const char *name)
{
	for (int i = 0; name && i < SQ_STAGE_COUNT; i++)
		if (!strcmp(name, stage_names[i]))
			return i;
	return -1;
}

const char *sq_backend_name(enum sq_backend_kind kind)
{
	if ((unsigned)kind >= NBACKENDS)
		return NULL;
	return backend_names[kind];
}

int sq_task_backend_parse(const char *name)
{
	for (size_t i = 0; name && i < NBACKENDS; i++)
		if (!strcmp(name, backend_names[i]))
			return (int)i;
	return -1;
}

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
