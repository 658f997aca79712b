/* layout.c - the output file names of every stage (see layout.h). */
#include "task/layout.h"
#include "base/fsutil.h"

#include <stdio.h>
#include <string.h>

#include "base/banned.h"

static const struct sq_layout_output extract_outputs[] = {
    {.name = SQ_LAYOUT_FRAMES_DIR, .is_dir = 1},
};

static const struct sq_layout_output reconstruct_outputs[] = {
    {.name = SQ_LAYOUT_RECON_PLY},
    {.name = SQ_LAYOUT_RECON_SIFT, .optional = 1},
    {.name = SQ_LAYOUT_PREVIEW_PNG, .optional = 1},
    {.name = SQ_LAYOUT_PREVIEW_PLY, .optional = 1},
};

static const struct sq_layout_output stitch_outputs[] = {
    {.name = SQ_LAYOUT_STITCH_PLY},
    {.name = SQ_LAYOUT_STITCH_SIFT, .optional = 1},
    {.name = SQ_LAYOUT_PREVIEW_PNG, .optional = 1},
    {.name = SQ_LAYOUT_PREVIEW_PLY, .optional = 1},
};

struct stage_layout {
	const struct sq_layout_output *outputs;
	size_t noutputs;
	const char *record;
	const char *log;
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct stage_layout stages[SQ_STAGE_COUNT] = {
    [SQ_STAGE_EXTRACT] = {.outputs = extract_outputs,
			  .noutputs = N(extract_outputs),
			  .record = SQ_LAYOUT_FRAMES_RECORD},
    [SQ_STAGE_RECONSTRUCT] = {.outputs = reconstruct_outputs,
			      .noutputs = N(reconstruct_outputs),
			      .record = SQ_LAYOUT_RECON_RECORD,
			      .log = SQ_LAYOUT_RECON_LOG},
    [SQ_STAGE_STITCH] = {.outputs = stitch_outputs,
			 .noutputs = N(stitch_outputs),
			 .record = SQ_LAYOUT_STITCH_RECORD,
			 .log = SQ_LAYOUT_STITCH_LOG},
};

static const struct stage_layout *layout_of(enum sq_stage stage)
{
	return (unsigned)stage < SQ_STAGE_COUNT ? &stages[stage] : &stages[SQ_STAGE_EXTRACT];
}

const struct sq_layout_output *sq_layout_outputs(enum sq_stage stage, size_t *n)
{
	*n = layout_of(stage)->noutputs;
	return layout_of(stage)->outputs;
}

const char *sq_layout_record(enum sq_stage stage)
{
	return layout_of(stage)->record;
}

const char *sq_layout_main_output(enum sq_stage stage)
{
	return layout_of(stage)->outputs[0].name;
}

const char *sq_layout_log(enum sq_stage stage)
{
	return layout_of(stage)->log;
}

char *sq_layout_path(const char *outdir, const char *name)
{
	return sq_path_join(outdir, name);
}

void sq_layout_frame_name(char buf[SQ_LAYOUT_FRAME_NAME_MAX], size_t number)
{
	snprintf(buf, SQ_LAYOUT_FRAME_NAME_MAX, "frame_%06zu.jpg", number);
}

/* The stage names: "<stage>.tmp.<id>" is a stage's work folder. */
static int is_stage_temp(const char *name)
{
	return strstr(name, ".tmp.") != NULL || strstr(name, ".old.") != NULL;
}

int sq_layout_name_reserved(const char *name)
{
	for (int s = 0; s < SQ_STAGE_COUNT; s++) {
		const struct stage_layout *l = &stages[s];

		if (strcmp(name, l->record) == 0 || (l->log && strcmp(name, l->log) == 0))
			return 1;
		for (size_t i = 0; i < l->noutputs; i++)
			if (strcmp(name, l->outputs[i].name) == 0)
				return 1;
	}
	return is_stage_temp(name);
}
