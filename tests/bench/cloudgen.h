/* cloudgen.h - test point clouds cut from the synthetic seabed of tests/synth,
 * for the stitch's unit test and bench.
 *
 * A scene is K rectangular patches of the true terrain laid along a
 * lawn-mower path (rows along x, boustrophedon), consecutive patches sharing a
 * drawn share of their area. Each patch is sampled at uniformly random (x, y)
 * with z = h(x, y) and the terrain's colour, gets isotropic Gaussian noise
 * (a fraction of the point spacing) and optionally outliers, and is moved into
 * its own frame by a known random similarity G (world -> patch: any rotation
 * axis, log-uniform scale, random translation), then written as a binary PLY
 * through lib/cloud/ply.h. Everything is a function of the seeds. */
#ifndef SQ_CLOUDGEN_H
#define SQ_CLOUDGEN_H

#include "base/err.h"
#include "cloud/simil.h"
#include "terrain.h"

#include <stddef.h>
#include <stdint.h>

struct cg_opts {
	uint32_t terrain_seed;
	int patches;			 /* K >= 1 */
	int cols;			 /* patches per lawn-mower row; 0: one row */
	double patch_w_m, patch_h_m;	 /* footprint of a patch */
	double overlap_min, overlap_max; /* shared area of consecutive patches, drawn per pair */
	size_t points;			 /* surface points per patch */
	double noise_rel;	     /* Gaussian sigma per axis, fraction of the point spacing */
	double outlier_share;	     /* extra uniform points in the patch's box, share of points */
	double scale_min, scale_max; /* scale of G, log-uniform; 1, 1 for equal scale */
	double shift_m;		     /* translation of G: each component in +-shift_m x scale */
	int colour;		     /* 0: grey (faster for very large clouds) */
	uint32_t seed;		     /* layout, transforms, sampling and noise */
};

/* The defaults: 3 patches of 20 x 14 m in one row, 30-60 % overlap, 30k points,
 * noise 0.2 x spacing, no outliers, scale 1, shift 50 m, colour, seeds 1. */
void cg_opts_default(struct cg_opts *o);

struct cg_patch {
	double box[4];	 /* world footprint x0, y0, x1, y1 */
	struct sq_sim G; /* world -> this patch's frame */
	double spacing_m;
	double overlap_prev; /* area share with the previous patch (0 for the first) */
	size_t points;	     /* written, outliers included */
};

struct cg_scene {
	struct cg_opts o;
	struct synth_terrain *terrain;
	size_t n;
	struct cg_patch *p;
	double box[4];	       /* union of the patch footprints */
	double zmin_m, zmax_m; /* terrain height range over the domain */
	double diag_m;	       /* 3-D diagonal of the scene (union box x height range) */
};

/* Lays out the patches, draws their transforms and builds the terrain over
 * them (no file is written). Release with cg_scene_release(). */
void cg_scene_plan(const struct cg_opts *o, struct cg_scene *sc);
void cg_scene_release(struct cg_scene *sc);

/* Writes patch i of sc as a binary PLY at path (in the patch's frame, G). */
int cg_patch_write(const struct cg_scene *sc, size_t i, const char *path, struct sq_err *err);

/* Writes a patch with footprint box and transform G from terrain t (which may
 * belong to another scene: a patch that overlaps nothing), with sc's sampling
 * options and rng stream `stream`. Returns the points written in *points. */
int cg_patch_write_from(const struct cg_scene *sc, const struct synth_terrain *t,
			const double box[4], const struct sq_sim *G, uint32_t stream,
			const char *path, size_t *points, struct sq_err *err);

/* Terrain over box (plus a margin) of the given seed, at the scene's resolution.
 * Returns new (free with synth_terrain_free()). */
struct synth_terrain *cg_terrain_new(uint32_t seed, const double box[4]);

/* A random similarity: uniform rotation, log-uniform scale in [smin, smax],
 * translation components in +-shift x scale. rng is advanced. */
void cg_random_sim(uint64_t *rng, double smin, double smax, double shift, struct sq_sim *G);

/* Distance from world point w to the true surface (first order in the slope). */
double cg_surface_dist(const struct synth_terrain *t, const double w[3]);

struct cg_fit {
	size_t n, far; /* points, and those beyond far_m (not in the rms) */
	double rms_m;  /* of the others' distance to the true surface */
};

/* Streams ply, maps every point to the world with to_world and measures its
 * distance to the surface of t. */
int cg_ply_fit(const char *ply, const struct sq_sim *to_world, const struct synth_terrain *t,
	       double far_m, struct cg_fit *fit, struct sq_err *err);

struct cg_err {
	double rot_deg;	  /* angle of R_est R_true^T */
	double scale_rel; /* |s_est / s_true - 1| */
	double pos_rel;	  /* max over box corners of |T_est(p) - T_true(p)|, / diag */
};

/* Compares est with truth (both: patch frame -> reference frame) over the
 * corners of the patch's world box (z over the scene's height range), mapped
 * into the patch frame by G_patch; diag in reference-frame units. */
void cg_compare(const struct cg_scene *sc, const struct cg_patch *patch, const struct sq_sim *est,
		const struct sq_sim *truth, double diag, struct cg_err *e);

/* The same over n points pts (3n values, in the patch's frame). */
void cg_compare_pts(const double *pts, size_t n, const struct sq_sim *est,
		    const struct sq_sim *truth, double diag, struct cg_err *e);

/* truth = G_ref o G_i^-1: patch i's frame -> patch ref's frame. */
void cg_truth(const struct cg_scene *sc, size_t ref, size_t i, struct sq_sim *truth);

/* 4x4 matrix text (4 rows of 4 numbers) <-> similarity. Reading accepts any
 * whitespace and rejects a matrix that is not a similarity (to 1e-4). */
int cg_sim_write(const char *path, const struct sq_sim *T, struct sq_err *err);
int cg_sim_read(const char *path, struct sq_sim *T, struct sq_err *err);
/* From a row-major 4x4 matrix; -1 when it is not a similarity. */
int cg_sim_from_mat(const double m[16], struct sq_sim *T);

/* Similarity arithmetic of the tests' own (so the truth does not depend on
 * lib/cloud/simil.c, which is under test): y = s R x + t; out = a after b; out may
 * alias a or b. */
void cg_sim_apply(const struct sq_sim *T, const double x[3], double y[3]);
void cg_sim_compose(const struct sq_sim *a, const struct sq_sim *b, struct sq_sim *out);
void cg_sim_invert(const struct sq_sim *T, struct sq_sim *out);
/* Angle of Ra Rb^T in degrees (0..180): how far apart two rotations are. */
double cg_rot_between_deg(const double Ra[9], const double Rb[9]);

/* splitmix64 stream: uniform in [0, 1) and standard normal. */
uint64_t cg_rng_seed(uint32_t seed, uint32_t stream);
double cg_uniform(uint64_t *rng);
double cg_normal(uint64_t *rng);

#endif
