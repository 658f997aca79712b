/* kdtree.h - k-d tree over float points of any dimension (3 for positions, 33
 * for FPFH features): k nearest neighbours, optionally within a radius. */
#ifndef SQ_KDTREE_H
#define SQ_KDTREE_H

#include <stddef.h>

struct sq_kdtree;

/* Builds over n points of dim floats each (pts[i*dim + j]); pts is not copied and
 * must outlive the tree. n may be 0. */
struct sq_kdtree *sq_kdtree_build(const float *pts, size_t n, int dim);
void sq_kdtree_free(struct sq_kdtree *t);

/* Up to k nearest points to q with squared distance <= radius2 (pass INFINITY for
 * plain kNN), nearest first: writes their indices to idx[] and squared distances
 * to d2[] (either may be NULL) and returns how many. Thread-safe (read-only). */
size_t sq_kdtree_search(const struct sq_kdtree *t, const float *q, size_t k, float radius2,
			size_t *idx, float *d2);

#endif
