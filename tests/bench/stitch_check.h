/* stitch_check.h - stitch-check's two halves: scanq's stitch records
 * (stitch_check.c) and scanq-synth's truth (stitch_check_truth.c): true camera
 * paths, the cameras of a task paired with them, and distances to the true
 * seabed. */
#ifndef SQ_STITCH_CHECK_H
#define SQ_STITCH_CHECK_H

#include "cloud/ate.h"
#include "base/err.h"
#include "cloud/kdtree.h"
#include "cloud/simil.h"

#include <stddef.h>

/* One vehicle's truth/auv<N>-poses.csv. */
struct sc_vehicle {
	int number;		   /* N */
	struct sq_ate_truth poses; /* every row, t_s as written (vehicle time) */
	double *chapter_t0;	   /* [chapter]: vehicle time of its first frame; NAN if none */
	int nchapters;		   /* chapter_t0 has nchapters + 1 entries (1-based) */
	double *rot;		   /* 9 * poses.n: camera-to-world rotations; NULL if absent */
	double tol_s;		   /* half the frame interval: how far a match may be */
};

struct sc_truth {
	struct sc_vehicle *v;
	size_t nv;
	double extent_m; /* xy diagonal of the bounding box of every true camera centre */
	float *terrain;	 /* 3 * nterrain: truth/terrain.ply's vertices */
	size_t nterrain;
	struct sq_kdtree *tree;
	double spacing_m; /* typical distance between neighbouring terrain vertices */
	/* A point further than this from every terrain vertex counts at this
	 * distance: a nearest-neighbour search from far off visits most of the
	 * terrain (minutes for a cloud thrown metres away), and such a point is a
	 * gross outlier whatever its exact distance. 10 % of the extent, >= 1 m. */
	double far_m;
};

/* Reads every truth/auv<N>-poses.csv and truth/terrain.ply of dir. Fills an empty
 * t; release with sc_truth_release() (also after a failure). */
int sc_truth_load(struct sc_truth *t, const char *dir, struct sq_err *err);
void sc_truth_release(struct sc_truth *t);

/* A task's registered cameras that have a true pose at their time. */
struct sc_cams {
	double *est, *ref; /* 3n each: centre in the task's frame, true centre */
	/* 9n each, row-major: camera-to-frame rotations (reconstruct.json's
	 * "rotation", the truth's quaternion), valid when rotations is 1 */
	double *est_rot, *ref_rot;
	int rotations; /* every matched camera has both orientations */
	size_t n;
	size_t frames, registered; /* of reconstruct.json */
};

/* Pairs the cameras of the task whose output directory is dir (reconstruct.json,
 * and frames.json for its sources) with the truth. A frame's vehicle and chapter
 * come from its source video's name (auv<N>-ch<NN>.mp4), else from the task's
 * name (auv<N>-ch<NN>, auv<N>-all). Fills an empty c (n may be < 3); -1 on
 * unreadable records or a task that names no vehicle. */
int sc_task_cameras(const struct sc_truth *t, const char *dir, const char *name, struct sc_cams *c,
		    struct sq_err *err);
void sc_cams_release(struct sc_cams *c);

/* Distances to the true seabed. */
struct sc_rms {
	double sum2_m2;
	float *d_m; /* n: every distance (for the median) */
	size_t n, alloc;
	size_t far; /* of n, beyond sc_truth.far_m (counted at far_m) */
};

/* Adds every point of the PLY at path, mapped into the world by T, to acc
 * (zeroed at first; free acc->d_m). */
int sc_surface_add(const struct sc_truth *t, const char *path, const struct sq_sim *T,
		   struct sc_rms *acc, struct sq_err *err);
/* The median distance of acc (reorders acc->d_m); 0 when empty. */
double sc_surface_median(struct sc_rms *acc);

#endif
