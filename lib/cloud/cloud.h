/* cloud.h - an in-memory point cloud (positions, optional colours and normals).
 *
 * Used for the downsampled clouds that registration works on; full-size clouds
 * are never held whole: they are streamed through ply.h and voxel.h. Positions
 * are floats (what PLY files carry); transforms are computed in double. */
#ifndef SQ_CLOUD_H
#define SQ_CLOUD_H

#include <stddef.h>

struct sq_cloud {
	size_t n, cap;
	float *xyz;	    /* 3n */
	unsigned char *rgb; /* 3n, or NULL when the cloud has no colour */
	float *nrm;	    /* 3n unit normals, or NULL when it has none */
};

/* Empty cloud; with_rgb / with_nrm say which optional arrays it carries. */
void sq_cloud_init(struct sq_cloud *c, int with_rgb, int with_nrm);
/* Appends one point; rgb / nrm are ignored when the cloud has no such array and
 * taken as zero when the cloud has one and they are NULL. */
void sq_cloud_push(struct sq_cloud *c, const float xyz[3], const unsigned char *rgb,
		   const float *nrm);
/* Allocates the normal array (zeroed) if the cloud has none. */
void sq_cloud_want_normals(struct sq_cloud *c);
void sq_cloud_release(struct sq_cloud *c);

/* Principal axes of c's points: mean[3], the covariance's eigenvalues ev[3]
 * ascending and their unit eigenvectors as the columns of V[9] (V[3k + j] is
 * component k of axis j). Column 0 is the normal of the plane the points lie
 * closest to. c must have a point. */
void sq_cloud_pca(const struct sq_cloud *c, double mean[3], double ev[3], double V[9]);

#endif
