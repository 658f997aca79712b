/* register_internal.h - what register.c (preparation, global registration)
 * and register_icp.c (ICP, fit evaluation) share. */
#ifndef SQ_REGISTER_INTERNAL_H
#define SQ_REGISTER_INTERNAL_H

#include "cloud/cloud.h"

#include <stddef.h>

/* Per-point loops run in blocks of this many points (parallel.h); sums are
 * taken per block and added in block order, so results do not depend on the
 * number of threads. */
#define PAR_BLOCK 256
#define PAR_MIN_POINTS 1024

/* Point i of c in double precision. */
static inline void point_d(const struct sq_cloud *c, size_t i, double p[3])
{
	for (int k = 0; k < 3; k++)
		p[k] = c->xyz[3 * i + (size_t)k];
}

/* Luma of an RGB triple (Rec. 601 weights). */
static inline double brightness(const unsigned char *rgb)
{
	return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
}

#endif
