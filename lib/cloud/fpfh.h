/* fpfh.h - local surface descriptors for registration: normals by PCA of
 * each point's neighbourhood, and Fast Point Feature Histograms (FPFH, Rusu et
 * al. 2009: 3 angle features x 11 bins = 33 values per point). */
#ifndef SQ_FPFH_H
#define SQ_FPFH_H

#include "cloud/cloud.h"
#include "cloud/kdtree.h"

#define SQ_FPFH_DIM 33

/* Sets c->nrm (allocating it) to the unit normal of the plane fitted to each
 * point's up to max_nn neighbours within radius (tree built over c->xyz). A
 * normal is oriented so that its dot product with view_dir is >= 0; view_dir
 * NULL keeps the sign the eigen solver gives. Points with fewer than 3
 * neighbours get the normal of view_dir (or +z). */
void sq_normals_estimate(struct sq_cloud *c, const struct sq_kdtree *t, double radius,
			 int max_nn, const double *view_dir);

/* FPFH of every point of c (which has normals), from up to max_nn neighbours
 * within radius. Returns c->n * SQ_FPFH_DIM floats (free with free()); each
 * point's three 11-bin histograms are each normalised to sum 100, as PCL and
 * Open3D do. */
float *sq_fpfh_compute(const struct sq_cloud *c, const struct sq_kdtree *t, double radius,
		       int max_nn);

#endif
