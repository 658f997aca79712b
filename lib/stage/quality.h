/* quality.h - "done with warnings": which figures of a stage's result fall below
 * their thresholds.
 *
 * Read generically from any stage's record body or result summary (JSON), so the
 * same rules judge a record on disk (scanq-ctl show, the web console) and the
 * summary the worker hands the queue (which status counts):
 *
 *   "warnings": ["...", ...]          kept as they are (e.g. a truncated source
 *                                     video in frames.json, the stitch's own)
 *   "quality": {"registered_share"}   below SQ_QUALITY_MIN_REGISTERED_SHARE
 *   "quality": {"mean_reprojection_error_px"}  above SQ_QUALITY_MAX_REPROJ_PX
 *   "confidence" (0..1)               below SQ_QUALITY_MIN_CONFIDENCE
 *   "left_out" or "unplaced": [names] inputs a stitch could not place
 *
 * The thresholds warn before the hard limits that fail a stage (colmap.h). */
#ifndef SQ_QUALITY_H
#define SQ_QUALITY_H

#include <stddef.h>

#define SQ_QUALITY_MIN_REGISTERED_SHARE 0.8
#define SQ_QUALITY_MAX_REPROJ_PX 1.5
#define SQ_QUALITY_MIN_CONFIDENCE 0.5

/* Appends the warnings of json (a JSON object text; NULL or not JSON: none) to
 * *list (n entries, a new array of new strings; free with sq_quality_free),
 * skipping any already in it. Returns the new count. */
size_t sq_quality_warnings(const char *json, char ***list, size_t n);
void sq_quality_free(char **list, size_t n);

/* Returns new JSON object text: summary (a JSON object text or NULL; taken and
 * freed) with "warnings" set to the warnings of summary and record together
 * (record: a stage's record body, may be NULL); [] when there are none. This is
 * what a stage hands the queue as its result. */
char *sq_quality_summary(const char *record, char *summary);

#endif
