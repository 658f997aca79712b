/* layout.c - the output file names of every stage (see layout.h). */
#include "task/layout.h"
#include "base/fsutil.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* strcasestr without _GNU_SOURCE: 1 if infix occurs in s, ignoring case. */
static int contains_nocase(const char *s, const char *infix)
{
	size_t n = strlen(infix);

	for (; *s; s++)
		if (!strncasecmp(s, infix, n))
			return 1;
	return 0;
}

/* 1 if name is, ignoring case, a file a stage writes: a record, a log or an
 * output of any stage. */
static int is_stage_file(const char *name)
{
	for (int s = 0; s < SQ_STAGE_COUNT; s++) {
		const struct stage_layout *l = &stages[s];

		if (!strcasecmp(name, l->record) || (l->log && !strcasecmp(name, l->log)))
			return 1;
		for (size_t i = 0; i < l->noutputs; i++)
			if (!strcasecmp(name, l->outputs[i].name))
				return 1;
	}
	return 0;
}

const char *sq_layout_reserved_reason(const char *name)
{
	if (!name)
		return "no name";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "'.' and '..' are the folder itself and its parent";
	if (!strncasecmp(name, SQ_LAYOUT_PRIVATE_PREFIX, strlen(SQ_LAYOUT_PRIVATE_PREFIX)))
		return "names starting with '" SQ_LAYOUT_PRIVATE_PREFIX "' are scanq's own";
	if (is_stage_file(name))
		return "a stage writes a file of that name beside it";
	if (contains_nocase(name, SQ_LAYOUT_TMP_INFIX) ||
	    contains_nocase(name, SQ_LAYOUT_OLD_INFIX))
		return "names holding '" SQ_LAYOUT_TMP_INFIX "' or '" SQ_LAYOUT_OLD_INFIX
		       "' are a stage's temporaries, deleted when it runs";
	return NULL;
}

int sq_layout_name_reserved(const char *name)
{
	return sq_layout_reserved_reason(name) != NULL;
}
