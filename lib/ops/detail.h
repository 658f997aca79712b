/* detail.h - what the disk says about one job, joined to what Redis says: the
 * page behind `scanq-ctl show ACQ/TASK` and the web console's job page.
 *
 * From the job's output directory (a local path, or an sftp:// one through the
 * store the options give; without one it is named, not read): its stage
 * records (provenance and quality figures, big
 * per-frame lists left out), the warnings in them (stage/quality.h), the tails
 * of its stage logs, frame thumbnails (a sample of frames.json's files), the
 * camera path (stage/preview.h) and which previews exist. */
#ifndef SQ_DETAIL_H
#define SQ_DETAIL_H

#include "base/err.h"

#include <stddef.h>

#define SQ_DETAIL_LOG_LINES 40 /* default log tail */
#define SQ_DETAIL_THUMBS 24    /* default frame thumbnails */

struct sq_store; /* stage/store.h */

struct sq_detail_opts {
	int log_lines;	   /* 0: SQ_DETAIL_LOG_LINES */
	size_t max_thumbs; /* 0: SQ_DETAIL_THUMBS */
	/* reads outdirs on a storage host (stage/store_sftp.h; borrowed); NULL:
	 * only local ones are read */
	struct sq_store *store;
};

/* Returns new JSON text: show_json (sq_queue_show's document for one job, with
 * "job") with "disk" added:
 *   {"outdir","local":bool (its files can be read from here),"records":{"<stage>":{record
 * fields}|null}, "warnings":[stored results' and records' warnings, once each],
 *    "logs":{"<stage>":"last lines"},"thumbnails":["frames/frame_000001.jpg",...],
 *    "cameras":[[x,y,z],...],"ply":"reconstruction.ply"|null,
 *    "preview_png":"preview.png"|null,"preview_ply":"preview.ply"|null}
 * (paths relative to outdir), and "status" made "done with warnings" when the
 * job is done and any warning was found. NULL (SQ_ERR_INVALID) when show_json is
 * not a job document. */
char *sq_detail_job(const char *show_json, const struct sq_detail_opts *o, struct sq_err *err);

/* Returns new string: the last `lines` lines of the file at path (at most the
 * last 64 KiB), NULL when it cannot be read. */
char *sq_detail_tail(const char *path, int lines);

#endif
