/* stage_stitch.h - the builtin stitch backend as stage.c runs it. */
#ifndef SQ_STAGE_STITCH_H
#define SQ_STAGE_STITCH_H

#include "base/err.h"
#include "stage/stage.h"

#include <stddef.h>

/* Stitches the PLYs plys[i] of the input directories dirs[i] into out_ply (a
 * temporary path the caller renames). One input is copied through unchanged.
 * Its log lines go to ctx->log and are appended to log_path. Sets *record_json
 * (the stitch record body, new string) and ctx->result_json. */
int sq_stage_builtin_stitch(const char *const *dirs, const char *const *plys, size_t n,
			    const char *out_ply, const char *sift_out, const char *log_path,
			    struct sq_stage_ctx *ctx, char **record_json, struct sq_err *err);

#endif
