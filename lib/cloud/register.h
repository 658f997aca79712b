/* register.h - placing one point cloud onto another by a similarity transform.
 *
 * Both clouds are downsampled copies prepared once (normals, FPFH features,
 * search trees); registration is then:
 *   - global: FPFH correspondences (mutual nearest neighbours in feature space),
 *     RANSAC over 3-point similarities whose edge-length ratios agree (so the
 *     scale is estimated, not assumed), inliers counted on the correspondences;
 *   - local: ICP minimising point-to-plane distances with a small point-to-point
 *     term, solving for rotation, translation and scale each step.
 * Units: every prepared cloud carries its voxel size; thresholds are multiples
 * of the target's voxel, so clouds of any scale are treated alike. */
#ifndef SQ_REGISTER_H
#define SQ_REGISTER_H

#include "cloud/cloud.h"
#include "cloud/fpfh.h"
#include "cloud/kdtree.h"
#include "cloud/simil.h"

/* FPFH's 33 values and 14 of colour (register.c says which). */
#define SQ_REG_DESC_DIM (SQ_FPFH_DIM + 14)

struct sq_reg_cloud {
	struct sq_cloud c;	 /* downsampled, with normals */
	struct sq_kdtree *tree;	 /* over c.xyz */
	float *fpfh;		 /* c.n * sq_reg_desc_dim(): FPFH, then colour */
	struct sq_kdtree *ftree; /* over fpfh */
	double voxel;		 /* downsampling cell, in the cloud's units */
	int colour_desc;	 /* descriptors carry colour (else FPFH alone) */
	float *raw;		 /* 3 * nraw of the points c was made from (checks) */
	size_t nraw;
};

/* Floats per descriptor: SQ_REG_DESC_DIM with colour, else SQ_FPFH_DIM. */
static inline size_t sq_reg_desc_dim(const struct sq_reg_cloud *rc)
{
	return rc->colour_desc ? SQ_REG_DESC_DIM : SQ_FPFH_DIM;
}

/* Takes ownership of *c (voxel-downsampled at `voxel`), estimates normals
 * (oriented along up when given, else along the cloud's least-variance axis)
 * and, when features is set, descriptors (FPFH, plus brightness structure
 * when colour is set and the cloud has colours: it helps sparse clouds and
 * slows matching, so clouds that are matched together must agree on it);
 * builds the trees. A cloud without features can only be an ICP target. */
void sq_reg_prepare(struct sq_reg_cloud *rc, struct sq_cloud *c, double voxel, const double *up,
		    int features, int colour);
/* Gives the cloud up to max of the raw points it was made from (every k-th
 * of xyz, n points): what a check of a placement (register_check.h) counts,
 * with their own noise rather than the cells' averages. */
void sq_reg_set_raw_points(struct sq_reg_cloud *rc, const float *xyz, size_t n, size_t max);

/* A new prepared cloud of rc's points that keep flags (rc has features),
 * with their normals and descriptors as rc computed them (over all of rc's
 * points) and its own search trees: global registration over the subset
 * matches only those points. Release with sq_reg_release(). */
void sq_reg_subset(const struct sq_reg_cloud *rc, const unsigned char *keep,
		   struct sq_reg_cloud *out);

/* Turns the colour part of the descriptors on or off (recomputing them when
 * that changes; a cloud without features is left alone). */
void sq_reg_set_colour(struct sq_reg_cloud *rc, int colour);

/* Flips every normal and recomputes the features (the other orientation guess
 * for a cloud whose up side is unknown). */
void sq_reg_flip(struct sq_reg_cloud *rc);
void sq_reg_release(struct sq_reg_cloud *rc);

struct sq_reg_fit {
	double fitness;	     /* share of source points with a target point within thr */
	double rms;	     /* RMS point-to-plane distance of those, target units */
	size_t inliers;	     /* that many source points */
	size_t corr_inliers; /* global: feature correspondences agreeing with T */
	size_t corr;	     /* global: feature correspondences tried */
	/* Pearson correlation of the brightness of the paired points (both clouds
	 * coloured; NAN otherwise): a textured surface placed where it belongs
	 * agrees with itself, one placed wrongly does not (~0). */
	double colour;
	/* sq_reg_icp_symmetric: how far apart the two directions' placements lie
	 * (rotation, degrees; |log| of the scale ratio): an honest measure of how
	 * firmly the overlap fixes the placement. */
	double two_way_deg, two_way_scale;
};

struct sq_reg_global_opts {
	double scale_lo, scale_hi; /* bounds on the scale (target units per source unit) */
	unsigned seed;		   /* RANSAC's: results are deterministic for a seed */
	/* The side each surface was seen from (unit vectors), when known for both:
	 * hypotheses then come from 2 matches (turn about up, scale, shift), which
	 * needs far fewer draws and cannot turn a seabed over. NULL: 3 matches. */
	const double *up_src, *up_dst;
	/* Every source point's best match, not only mutual best matches: more
	 * true matches among more false ones (a second try on sparse clouds). */
	int one_way;
};

#define SQ_REG_CANDIDATES 4

/* The best distinct placements global registration found. On a smooth, sparse
 * surface a wrong placement can gather nearly as many agreeing matches as the
 * right one, so the caller verifies them in turn (ICP, fit, colour). */
struct sq_reg_candidates {
	size_t n;
	struct sq_sim T[SQ_REG_CANDIDATES];
	size_t inliers[SQ_REG_CANDIDATES]; /* agreeing feature matches, descending */
	size_t corr;			   /* feature matches tried */
};

/* Global registration of src onto dst. Returns -1 when no hypothesis had 3
 * agreeing matches. Deterministic for a seed. */
int sq_reg_global(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
		  const struct sq_reg_global_opts *o, struct sq_reg_candidates *out);

/* The same RANSAC over given matches: src's point si[k] corresponds to dst's
 * di[k] (image descriptors, say, rather than FPFH). Only the clouds' points
 * are read; each voxel sets that cloud's distances as in sq_reg_cloud. */
int sq_reg_global_matched(const struct sq_cloud *src, double src_voxel, const struct sq_cloud *dst,
			  double dst_voxel, const size_t *si, const size_t *di, size_t n,
			  const struct sq_reg_global_opts *o, struct sq_reg_candidates *out);

/* Refines *T (src -> dst) by ICP with scale, moving src's points (every k-th
 * when there are more than max_points; 0: all); fills *fit. */
void sq_reg_icp(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst, size_t max_points,
		struct sq_sim *T, struct sq_reg_fit *fit);

/* Refines *T (src -> dst) by ICP of src's points onto dst and of dst's onto
 * src, and takes the placement halfway between the two. Point-to-plane ICP
 * between two noisy samplings of a smooth surface enlarges the moving cloud
 * (which target point a noisy point pairs with depends on its noise): by 0.3-1
 * % with 2 cm of noise on a 12 m patch of gentle swells; the two directions err
 * by about as much in opposite ways, and their midpoint by under 0.1 %. */
void sq_reg_icp_symmetric(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
			  struct sq_sim *T, struct sq_reg_fit *fit);

/* Measures *T without changing it: fitness and rms at `thr_vox` target voxels. */
void sq_reg_evaluate(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
		     const struct sq_sim *T, double thr_vox, struct sq_reg_fit *fit);

#endif
