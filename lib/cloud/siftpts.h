/* siftpts.h - a reconstruction's 3-D points with an image descriptor each.
 *
 * Structure from motion knows, for every point it triangulated, the SIFT
 * features it was seen as. That is evidence no cloud geometry gives: two
 * reconstructions of the same seabed that share no frame (two vehicles side
 * by side) still saw the same texture, and their points' descriptors match
 * where the sparse clouds' shapes say little. The colmap backend writes
 * `reconstruction.sift` beside the PLY; a builtin stitch writes `stitch.sift`
 * (its placed inputs' points, moved into its frame) for the stitch that takes
 * it as input.
 *
 * File: "SQSIFT1\n", a little-endian uint64 count, then per point 3
 * little-endian IEEE float32 (x y z, the PLY's frame) and 128 bytes of
 * descriptor (unit length scaled by 512, clipped to 255, as COLMAP stores
 * SIFT). */
#ifndef SQ_SIFTPTS_H
#define SQ_SIFTPTS_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

#define SQ_SIFT_DIM 128

struct sq_siftpts {
	float *xyz;    /* 3 * n */
	uint8_t *desc; /* SQ_SIFT_DIM * n */
	size_t n, cap;
};

void sq_siftpts_push(struct sq_siftpts *s, const float xyz[3], const uint8_t *desc);
void sq_siftpts_release(struct sq_siftpts *s);

/* Writes s to path (created or truncated; fsynced). */
int sq_siftpts_write(const struct sq_siftpts *s, const char *path, struct sq_err *err);
/* Reads path into a zeroed s: 1 when read, 0 when there is no such file (s
 * stays empty), -1 when it cannot be read or is malformed (err says where). */
int sq_siftpts_read(struct sq_siftpts *s, const char *path, struct sq_err *err);

#endif
