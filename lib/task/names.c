/* names.c - the pipeline's words as task files, records and Redis spell them:
 * stage names, backend names, and the COLMAP camera models a task may name
 * with their parameter lists. Their enums and declarations are task.h's (the
 * task model is the lowest library that needs them). */
#include "task/task.h"
#include "task/task_int.h"

#include <stddef.h>
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
