/* stage_int.h - what the files of lib/stage share to run stages; not for other
 * folders. */
#ifndef SQ_STAGE_INT_H
#define SQ_STAGE_INT_H

#include "stage/proc.h"
#include "stage/record.h"
#include "stage/stage_ctx.h"
#include "stage/txn.h"
#include "stitch/stitch.h"

/* Fills p for a stage run by ctx: this build, host, worker, created now; the
 * backend's name and version (copied), params_json (taken), and the task's
 * videos with their identities (t may be NULL: a stitch). */
void sq_stage_provenance(struct sq_provenance *p, const struct sq_stage_ctx *ctx,
			 const char *backend, const char *backend_version, char *params_json,
			 const struct sq_task *t);

/* Runs a command backend with vars (its placeholders), its output going to
 * log_path; fills res. */
int sq_stage_command(const struct sq_backend_spec *b, const struct sq_proc_vars *vars,
		     const char *log_path, struct sq_stage_ctx *ctx, struct sq_proc_result *res,
		     struct sq_err *err);

/* Appends a line that starts an attempt to a stage log, so attempts can be
 * told apart. */
void sq_stage_log_attempt(const char *log_path, const struct sq_stage_ctx *ctx);

/* 0 if path is a PLY file (its magic); else -1 naming the backend and log. */
int sq_stage_check_ply(const char *path, const char *backend, const char *log_path,
		       struct sq_err *err);

/* Makes preview.png and preview.ply of the cloud ply in x's work folder, so
 * the commit publishes them (preview.h; record: the record text, for the
 * camera path). Previews are for people: a cloud that cannot be previewed is
 * still a result, so a failure is logged and the stage goes on (the commit
 * then removes an old preview, which would show another run's cloud). */
void sq_stage_previews(struct sq_txn *x, const char *ply, const char *record,
		       const struct sq_stage_ctx *ctx);

/* The result JSON for the queue: {<figures>, "warnings": [...]}: figures_json
 * is the inside of an object ("\"frames\":12") or "". New string. */
char *sq_stage_result(const char *figures_json, char *const *warnings, size_t nwarnings);

/* The result JSON for the queue from a stage's headline figures and its
 * record text: the record's warnings and those its figures earn against the
 * quality thresholds (quality.h). New string. */
char *sq_stage_result_of(const char *figures_json, const char *record);

/* What the builtin stitch is told of an input (stitch_inputs.c), from its
 * records: its cameras (a task's, is_task, or a group stitch's) and *sift, a
 * local path of its descriptor file (NULL: none; new string; localized into
 * local_dir from a remote store). record is the text of the input's own
 * record (reconstruct.json or stitch.json) as the caller read and checked
 * it: the cameras and the descriptors' stamp come from that one reading;
 * only a task's frames.json is read here. */
int sq_stage_stitch_evidence(struct sq_store *st, const char *dir, int is_task, const char *record,
			     const char *local_dir, struct sq_stitch_cams *cams, char **sift,
			     struct sq_err *err);

/* The stages (stage_extract.c, stage_recon.c). */
int sq_stage_extract(const struct sq_task *t, struct sq_stage_ctx *ctx, struct sq_err *err);
int sq_stage_reconstruct(const struct sq_task *t, struct sq_stage_ctx *ctx, struct sq_err *err);

#endif
