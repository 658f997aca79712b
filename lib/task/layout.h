/* layout.h - the on-disk layout of an acquisition's outputs: the one place a
 * file name a stage writes is spelled.
 *
 *   <output_root>/                       acquisition stitch (>= 2 groups)
 *     stitch.ply stitch.json stitch.sift stitch.log preview.png preview.ply
 *     <group>/                           group stitch: the same names
 *       <task>/                          a task's outdir
 *         frames/frame_000001.jpg ...    extract
 *         frames.json                    extract's record
 *         reconstruction.ply             reconstruct (+ reconstruction.sift)
 *         reconstruct.json reconstruct.log preview.png preview.ply
 *
 *   <output_root>/.scanq-acquisition   which acquisition owns the root (owner.h)
 *
 * A stage builds its outputs in a temporary sibling "<stage>.tmp.<id>" and
 * moves replaced outputs aside as "<name>.old.<id>" while it publishes (see
 * stage/txn.h); a record (*.json) is written last and is the proof the stage is
 * done. Group and task names share their parent folder with these names, so
 * they must never be one of them (a task called stitch.ply would be moved
 * aside and deleted by the group stitch), nor a temporary or moved-aside name
 * a stage cleans up, nor . or .. (which leave the folder):
 * sq_layout_name_reserved() tells the task-file checker which. */
#ifndef SQ_LAYOUT_H
#define SQ_LAYOUT_H

#include "task/task.h"

#include <stddef.h>

#define SQ_LAYOUT_FRAMES_DIR "frames"
#define SQ_LAYOUT_FRAMES_RECORD "frames.json"
#define SQ_LAYOUT_RECON_PLY "reconstruction.ply"
#define SQ_LAYOUT_RECON_SIFT "reconstruction.sift"
#define SQ_LAYOUT_RECON_RECORD "reconstruct.json"
#define SQ_LAYOUT_RECON_LOG "reconstruct.log"
#define SQ_LAYOUT_STITCH_PLY "stitch.ply"
#define SQ_LAYOUT_STITCH_SIFT "stitch.sift"
#define SQ_LAYOUT_STITCH_RECORD "stitch.json"
#define SQ_LAYOUT_STITCH_LOG "stitch.log"
#define SQ_LAYOUT_PREVIEW_PNG "preview.png"
#define SQ_LAYOUT_PREVIEW_PLY "preview.ply"

/* The output root's ownership marker; every name starting with
 * SQ_LAYOUT_PRIVATE_PREFIX is scanq's own (the marker, --check's probes). */
#define SQ_LAYOUT_OWNER_MARKER ".scanq-acquisition"
#define SQ_LAYOUT_PRIVATE_PREFIX ".scanq"
/* what a stage builds in (<name>.tmp.<id>) and moves the old output to
 * (<name>.old.<id>) before it deletes it */
#define SQ_LAYOUT_TMP_INFIX ".tmp."
#define SQ_LAYOUT_OLD_INFIX ".old."

/* Longest frame file name sq_layout_frame_name writes, with its NUL. */
#define SQ_LAYOUT_FRAME_NAME_MAX 32

/* One output a stage publishes. */
struct sq_layout_output {
	const char *name; /* file or folder name in the stage's outdir */
	int is_dir;
	int optional; /* a backend may not make it (descriptor files, previews) */
};

/* The outputs of a stage, main output first, the record not among them; sets
 * *n. Extract and reconstruct are a task's stages, stitch a group's or the
 * acquisition's. */
const struct sq_layout_output *sq_layout_outputs(enum sq_stage stage, size_t *n);

/* The record of a stage ("frames.json", "reconstruct.json", "stitch.json"). */
const char *sq_layout_record(enum sq_stage stage);

/* The main output of a stage ("frames", "reconstruction.ply", "stitch.ply"). */
const char *sq_layout_main_output(enum sq_stage stage);

/* The backend log of a stage, appended to by every attempt ("reconstruct.log",
 * "stitch.log"); NULL for extract, which runs in-process. */
const char *sq_layout_log(enum sq_stage stage);

/* Returns new path <outdir>/<name>. */
char *sq_layout_path(const char *outdir, const char *name);

/* Writes the name of frame `number` (1-based) into buf: "frame_000001.jpg". */
void sq_layout_frame_name(char buf[SQ_LAYOUT_FRAME_NAME_MAX], size_t number);

/* 1 if name cannot be an acquisition, group or task name because a stage
 * writes, moves aside or cleans up an entry of that name next to it (compared
 * without regard to case: two names that differ only in case are one folder on
 * a case-insensitive filesystem); 0 otherwise. NULL is reserved. */
int sq_layout_name_reserved(const char *name);

/* Why name is reserved ("a stage writes a file of that name beside it", ...),
 * static storage; NULL if it is not. */
const char *sq_layout_reserved_reason(const char *name);

#endif
