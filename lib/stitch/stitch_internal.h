/* stitch_internal.h - what the files of lib/stitch share: an input's cameras
 * (copied from the caller's), the correspondences two inputs' cameras make,
 * descriptor matches and the merge. */
#ifndef SQ_STITCH_INTERNAL_H
#define SQ_STITCH_INTERNAL_H

#include "base/err.h"
#include "cloud/siftpts.h"
#include "cloud/simil.h"
#include "stitch/stitch.h"

#include <stddef.h>

/* A copy of an input's cameras (NULL: none; release with
 * sq_stitch_cams_release), a source index out of range made -1 (unknown). */
void stitch_cams_copy(struct sq_stitch_cams *cams, const struct sq_stitch_cams *from);
/* The median time between consecutive cameras of one source (frames come in
 * order); 0 when no two are. */
double stitch_cams_dt(const struct sq_stitch_cams *cams);

/* Camera pairs of two inputs: a's camera and b's at the same instant. */
struct stitch_pairs {
	size_t n;
	double *pa, *pb; /* 3n centres */
	double *ra, *rb; /* 9n camera-to-world rotations; NULL unless both inputs have them */
};

/* Pairs cameras of a with b's at the same instant of the same video (b's pose
 * interpolated between its two frames around a's time). */
void stitch_cams_shared(const struct sq_stitch_cams *a, const struct sq_stitch_cams *b,
			struct stitch_pairs *out);
void stitch_pairs_release(struct stitch_pairs *p);

/* Robust similarity a -> b from camera pairs. With orientations, the rotation
 * comes from the cameras' axes (so a straight track, whose centres alone leave
 * the roll about it open, is still fixed), then scale and translation from the
 * centres; without, all from the centres. Pairs over 3x the median residual
 * are dropped and the fit repeated. *rel_rms gets the remaining centre RMS as a
 * fraction of b's camera spread. Returns -1 when the pairs are degenerate. */
int stitch_cams_fit(const struct stitch_pairs *p, struct sq_sim *T, double *rel_rms);

/* Points with image descriptors (stitch_sift.c). */

/* Reads the descriptor file path into a zeroed s; path NULL leaves s empty. */
int stitch_sift_load(struct sq_siftpts *s, const char *path, struct sq_err *err);

/* Point a[k] of the first input matches point b[k] of the second. */
struct stitch_matches {
	size_t n;
	size_t *a, *b;
};

/* Mutual nearest neighbours by descriptor that pass the ratio test (of up to
 * about 16k points of each: every k-th of a larger input). */
void stitch_sift_match(const struct sq_siftpts *a, const struct sq_siftpts *b,
		       struct stitch_matches *out);
void stitch_matches_release(struct stitch_matches *m);

/* The merge of the placed inputs (stitch_merge.c). */
struct stitch_merge_opts {
	const char *const *plys; /* n input PLYs */
	const struct sq_sim *T;	 /* n: each input's placement */
	size_t n;
	size_t points;		      /* in all n inputs (their headers' counts) */
	double voxel;		      /* output cell, common-frame units */
	int rgb, nrm;		      /* the output's optional attributes */
	const char *out_ply;	      /* written in place; buckets go beside it */
	size_t in_memory_max;	      /* input points merged in one grid (0: default) */
	const struct sq_hooks *hooks; /* cancelled is polled; may be NULL */
};

/* Moves every point of every input by its placement and writes one point per
 * occupied output cell (mean position, colour, normal) to out_ply, but the
 * cells that stand apart from the rest (*dropped gets how many), in memory
 * bounded by about one bucket's cells whatever the inputs' size. */
int stitch_merge(const struct stitch_merge_opts *o, size_t *points_out, size_t *dropped,
		 struct sq_err *err);

#endif
