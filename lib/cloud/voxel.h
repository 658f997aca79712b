/* voxel.h - merging points on a voxel grid.
 *
 * Every point falls in the cell floor(xyz / size); a cell keeps the mean of its
 * points' positions and colours and the normalised sum of their normals. Memory
 * grows with the number of occupied cells, never with the number of points
 * added, which is what lets millions of points stream through. Used both to
 * downsample a cloud for registration and to de-duplicate the merged output. */
#ifndef SQ_VOXEL_H
#define SQ_VOXEL_H

#include "cloud/cloud.h"

#include <stddef.h>

struct sq_voxel_grid;

/* size > 0, in the units of the points that will be added. */
struct sq_voxel_grid *sq_voxel_new(double size, int with_rgb, int with_nrm);
void sq_voxel_free(struct sq_voxel_grid *g);
/* rgb / nrm may be NULL (then they do not count toward the cell's mean). */
void sq_voxel_add(struct sq_voxel_grid *g, const double xyz[3], const unsigned char *rgb,
		  const float *nrm);
size_t sq_voxel_count(const struct sq_voxel_grid *g);
/* 1 when another occupied cell lies within r cells (each axis) of the cell of
 * xyz, else 0: isolation on the grid, in about one lookup for a point on a
 * surface. */
int sq_voxel_has_neighbour(const struct sq_voxel_grid *g, const double xyz[3], int r);
/* Appends one point per occupied cell to out (init'ed by the caller, with the
 * arrays it wants), in a deterministic order (sorted by cell). */
void sq_voxel_to_cloud(const struct sq_voxel_grid *g, struct sq_cloud *out);

#endif
