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

#include "cloud.h"
#include "kdtree.h"
#include "simil.h"

struct sq_reg_cloud {
	struct sq_cloud c;	 /* downsampled, with normals */
	struct sq_kdtree *tree;	 /* over c.xyz */
	float *fpfh;		 /* c.n * SQ_FPFH_DIM */
	struct sq_kdtree *ftree; /* over fpfh */
	double voxel;		 /* downsampling cell, in the cloud's units */
};

/* Takes ownership of *c (voxel-downsampled at `voxel`), estimates normals
 * (oriented along up when given, else along the cloud's least-variance axis) and
 * FPFH, and builds the trees. */
void sq_reg_prepare(struct sq_reg_cloud *rc, struct sq_cloud *c, double voxel, const double *up);
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
};

/* Global registration of src onto dst. scale_lo..scale_hi bound the scale
 * (target units per source unit). Fills *T and *fit; returns -1 when no
 * hypothesis had 3 agreeing correspondences. Deterministic for a seed. */
int sq_reg_global(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst, double scale_lo,
		  double scale_hi, unsigned seed, struct sq_sim *T, struct sq_reg_fit *fit);

/* Refines *T (src -> dst) by ICP with scale; fills *fit. */
void sq_reg_icp(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst, struct sq_sim *T,
		struct sq_reg_fit *fit);

/* Measures *T without changing it: fitness and rms at `thr_vox` target voxels. */
void sq_reg_evaluate(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
		     const struct sq_sim *T, double thr_vox, struct sq_reg_fit *fit);

#endif
