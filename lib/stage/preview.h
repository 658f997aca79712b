/* preview.h - what an operator with no tools can look at: preview.png and
 * preview.ply beside a reconstruction or a stitch.
 *
 *   preview.png  a top-down render of the cloud in its colours (by height when it
 *                has none), the camera path drawn over it: red line, green dot
 *                at the first camera, white dot at the last. "Top-down" is along
 *                the cloud's axis of least spread (a survey's seabed or ground is
 *                flat), looking from the side of the cameras, unmirrored.
 *   preview.ply  at most max_points of the cloud (a uniform sample, the same
 *                every run), binary_little_endian x y z float (+ red green blue
 *                uchar), in the cloud's own frame, for the web console's viewer.
 *
 * Both are made in one streaming pass over the PLY, so a cloud of any size is
 * read once in bounded memory (the sample). */
#ifndef SQ_PREVIEW_H
#define SQ_PREVIEW_H

#include "base/err.h"

#include <stddef.h>

#define SQ_PREVIEW_MAX_POINTS 1000000 /* points kept in preview.ply */
#define SQ_PREVIEW_SIDE_PX 1024	      /* longest side of preview.png */

struct sq_preview_opts {
	const char *ply;	  /* the cloud (any PLY ply.h reads) */
	const char *cameras_json; /* NULL, or a stage's record body (see below) */
	const char *outdir;	  /* existing directory: preview.png, preview.ply go here */
	size_t max_points;	  /* 0: SQ_PREVIEW_MAX_POINTS */
	int side_px;		  /* 0: SQ_PREVIEW_SIDE_PX */
};

/* Writes outdir/preview.png and outdir/preview.ply. Camera centres are read from
 * cameras_json's "cameras" ([[x,y,z],...], a stitch's record) or else its
 * "frames" ([{"centre":[x,y,z]},...], a reconstruction's record; frames without a
 * centre are skipped), in that order; none found draws no path. -1 for a PLY that
 * cannot be read or holds no point (nothing is left behind then). */
int sq_preview_render(const struct sq_preview_opts *o, struct sq_err *err);

/* The camera centres of a record body as preview.png draws them (see above):
 * returns new array of 3 * *n doubles (free with free()), NULL when none. */
double *sq_preview_cameras(const char *record_json, size_t *n);

/* sq_preview_render with the default sizes: the one call a stage makes, with
 * its output PLY, its record body (or NULL) and its temporary directory. */
int sq_preview_write(const char *ply, const char *cameras_json, const char *outdir,
		     struct sq_err *err);

#endif
