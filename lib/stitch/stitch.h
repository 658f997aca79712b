/* stitch.h - the builtin stitch: place many reconstructions in one frame and
 * merge them into one cloud.
 *
 * Each input has its own origin, orientation and scale, so every input gets a
 * similarity transform into the frame of a reference input. Evidence, best
 * first: cameras two inputs share (a task that also decoded the first seconds
 * of the next chapter has frames of the same video at the same times as the
 * next task), then scale-aware global registration of the clouds (FPFH
 * features, RANSAC over 3-point similarities) refined by point-to-plane ICP
 * with scale. Pairwise results become edges of a graph weighted by fit quality;
 * a maximum spanning tree from the reference chains the placements, so one weak
 * pair does not break the rest. Inputs the tree cannot reach are reported and
 * left out, never merged where they do not belong.
 *
 * Clouds are streamed: estimation uses voxel-downsampled copies, the output is
 * every input point transformed and de-duplicated on a fine voxel grid. */
#ifndef SQ_STITCH_H
#define SQ_STITCH_H

#include "base/err.h"
#include "base/hooks.h"
#include "cloud/simil.h"

#include <stddef.h>

/* The cameras of an input, in the input's own frame: what the stitch places
 * inputs that saw the same instants of the same video by, and what sets the
 * units ("up" and the cameras' height above the surface). */
struct sq_stitch_cams {
	size_t n;
	double *c; /* 3n centres */
	double *q; /* 4n camera-to-world quaternions (w, x, y, z), valid if has_q */
	int has_q;
	double *t;	/* n: seconds within the source video */
	int *src;	/* n: index into sources, -1 when unknown */
	char **sources; /* nsources paths or URLs */
	size_t nsources;
};

void sq_stitch_cams_release(struct sq_stitch_cams *c);

struct sq_stitch_input {
	const char *name; /* task or group name, for the report and the log */
	const char *ply;
	/* The input's points with image descriptors (cloud/siftpts.h), NULL:
	 * none. */
	const char *sift;
	const struct sq_stitch_cams *cams; /* NULL: none (the cloud only) */
};

/* What the clouds say of one placement of an input onto another, however it
 * was found (stitch_verify.c): the evidence behind its confidence. */
struct sq_stitch_evidence {
	int checked;		     /* the clouds were compared (else the rest is unset) */
	double coherence;	     /* share of the overlap where the two surfaces coincide (the
					smaller of the two ways) */
	double relief_coherence;     /* the same over the points in relief; NAN: too few */
	double overlap;		     /* share of the input's points over the other's footprint */
	double off_above, off_below; /* of those, off the other surface, on either side */
	double width;		     /* the overlap's narrowest extent, registration voxels */
	double normal_deg;	     /* median angle between the two surfaces' normals there */
	double rot_sd_deg;	     /* how firmly the overlap fixes the placement: predicted */
	double scale_sd;	     /*   standard deviations of rotation, scale (relative), */
	double shift_sd;	     /*   and shift (share of the overlap's width) */
	double two_way_deg;	     /* ICP one way and the other: rotation and scale (|log|) */
	double two_way_scale;	     /*   between the two placements */
	double colour;		     /* brightness correlation where both are coloured, else NAN */
	/* How many times more of the overlap the best distinct other placement
	 * leaves unexplained (INFINITY: none found); about 1 is ambiguous. */
	double runner_up;
};

/* A candidate placement as the stitch judged it (sq_stitch_opts.candidate). */
struct sq_stitch_candidate {
	int src, dst; /* inputs: T takes src's frame into dst's */
	struct sq_sim T;
	const char *method;
	struct sq_stitch_evidence ev;
	double confidence;
	int accepted;
	const char *why; /* when not accepted */
};

struct sq_stitch_opts {
	/* Output de-duplication cell in point spacings of the reference input
	 * (0: 1, which keeps the inputs' density and merges their duplicates). */
	double out_voxel_rel;
	unsigned seed; /* RANSAC seed (results are deterministic for a seed) */
	/* Inputs of up to this many points in all are merged in one in-memory grid,
	 * larger ones through bucket files (0: 4 million). */
	size_t merge_in_memory_max;
	/* Where to write the placed inputs' points with image descriptors, moved
	 * into the common frame (siftpts.h), for a stitch of stitches; NULL: not
	 * written. Nothing is written when no input has any. */
	const char *sift_out;
	/* log: a line per step and decision; cancelled: polled, stops with
	 * SQ_ERR_CANCEL (progress is not reported); ctx also goes to candidate. */
	struct sq_hooks hooks;
	/* Every candidate placement judged, for benches and tests; may be NULL. */
	void (*candidate)(void *ctx, const struct sq_stitch_candidate *c);
};

struct sq_stitch_placement {
	int placed;
	struct sq_sim T;   /* input frame -> common frame */
	int parent;	   /* input it was placed against; -1 for the reference */
	char method[32];   /* "reference", "shared-cameras", "shared-features", "global+icp" */
	double confidence; /* 0..1: how sure the placement is (see stitch_verify.c) */
	struct sq_stitch_evidence ev; /* behind it, for the edge to its parent */
	double inlier_share;	      /* of the final fit to its parent */
	double rms;		      /* residual of that fit, in common-frame units */
	double unit;		      /* the input's own scale unit */
	size_t points;		      /* points read from its PLY */
	char why[320];		      /* when not placed: the reason */
	/* Left out as ambiguous: two placements onto input alt_on that the clouds
	 * support about equally (alt[0] the better). */
	int ambiguous, alt_on;
	struct sq_sim alt[2];
};

struct sq_stitch_result {
	size_t n;
	struct sq_stitch_placement *p; /* n, in input order */
	size_t placed;
	size_t points_out;
	size_t outliers; /* merged cells left out as standing apart from the rest */
	double voxel;	 /* output de-duplication cell, common-frame units */
	double unit;	 /* the common frame's unit (the reference input's) */
	double *cams;	 /* 3 * ncams camera centres in the common frame (a subsample) */
	size_t ncams;
	long long wall_ms;
};

void sq_stitch_result_release(struct sq_stitch_result *r);

/* Places and merges n >= 1 inputs into out_ply (binary PLY, written in place:
 * the caller gives a temporary path and renames it). Fails when no two inputs
 * could be placed together (n >= 2) or on I/O errors; inputs that could not be
 * placed are listed in res and do not fail the call. res is filled on success
 * and on placement failure (so the report can say why). */
int sq_stitch_run(const struct sq_stitch_input *in, size_t n, const char *out_ply,
		  const struct sq_stitch_opts *o, struct sq_stitch_result *res, struct sq_err *err);

/* One input passes through unchanged: its PLY is copied (streamed) to out_ply,
 * its descriptor points (if any) to sift_out (if not NULL), and res describes
 * it as the reference, with its cameras. */
int sq_stitch_passthrough(const struct sq_stitch_input *in, const char *out_ply,
			  const char *sift_out, struct sq_stitch_result *res, struct sq_err *err);

/* Placements below this confidence are published with a warning (those
 * below 0.5 are not published at all). */
#define SQ_STITCH_CONFIDENT 0.75

/* The warnings of r, one line each (a left-out input, a placement of low
 * confidence): calls fn for each; returns how many. */
size_t sq_stitch_warnings(const struct sq_stitch_input *in, const struct sq_stitch_result *r,
			  void (*fn)(void *ctx, const char *line), void *ctx);

#endif
