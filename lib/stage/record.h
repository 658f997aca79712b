/* record.h - stage records: the .json file each stage writes last, as proof it is done.
 *
 *   task extract      <outdir>/frames/ + <outdir>/frames.json
 *   task reconstruct  <outdir>/reconstruction.ply + <outdir>/reconstruct.json
 *                     (+ reconstruction.sift from the colmap backend)
 *   group stitch      <root>/<group>/stitch.ply + stitch.json (+ stitch.sift)
 *   acq stitch        <root>/stitch.ply + <root>/stitch.json (+ stitch.sift)
 *
 * The .sift files (siftpts.h) are evidence for the stitch that follows: written
 * before the record, removed before a stage runs again.
 *
 * Every record is a JSON object with at least "stage", "version" (the task or
 * stitch version it was made from), "created_ms" and "host". Nothing but a
 * current record (present, parseable, same version) counts as done. */
#ifndef SQ_RECORD_H
#define SQ_RECORD_H

#include "base/err.h"
#include "task/task.h"

/* Returns new path of the record of a task stage (extract or reconstruct). */
char *sq_record_task_path(const char *outdir, enum sq_stage stage);
/* Returns new path of a stitch record in the stitch's outdir. */
char *sq_record_stitch_path(const char *outdir);
/* Returns new path of the main output: frames dir, reconstruction.ply, stitch.ply. */
char *sq_record_task_output(const char *outdir, enum sq_stage stage);
char *sq_record_stitch_output(const char *outdir);

#define SQ_RECONSTRUCT_SIFT "reconstruction.sift"
#define SQ_STITCH_SIFT "stitch.sift"

/* 1 if the record at path exists, parses, has stage `stage` and version `version`
 * (NULL: any version); 0 otherwise. */
int sq_record_is_current(const char *path, enum sq_stage stage, const char *version);

/* Writes a record atomically: the object fields_json (a JSON object text, may be
 * NULL) gets stage, version, created_ms and host added. */
int sq_record_write(const char *path, enum sq_stage stage, const char *version,
		    const char *fields_json, struct sq_err *err);

#endif
