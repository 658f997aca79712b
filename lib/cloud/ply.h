/* ply.h - streaming PLY point-cloud reading and writing.
 *
 * Reads the vertex element of ASCII, binary_little_endian and binary_big_endian
 * PLY files: x, y, z (float or double), optional red/green/blue (uchar; other
 * integer/float types are converted) and nx/ny/nz; every other property and
 * element (faces, alpha, comments, obj_info) is skipped. Points are delivered in
 * chunks of at most SQ_PLY_CHUNK, so a file of any size is read in bounded
 * memory. Errors name the file and, for the header, the line
 * ("'a.ply': line 4: unknown property type 'flt'"); a file shorter than its
 * header promises is an error, never a silent partial read.
 *
 * The writer writes binary_little_endian x,y,z float (+ uchar red,green,blue,
 * + float nx,ny,nz) and fills in the vertex count on close. */
#ifndef SQ_PLY_H
#define SQ_PLY_H

#include "base/err.h"

#include <stddef.h>

#define SQ_PLY_CHUNK 65536

enum sq_ply_format { SQ_PLY_ASCII, SQ_PLY_BINARY_LE, SQ_PLY_BINARY_BE };

struct sq_ply_info {
	size_t count; /* vertices */
	int has_rgb, has_nrm;
	enum sq_ply_format format;
};

struct sq_ply_chunk {
	size_t n;
	const double *xyz;	  /* 3n */
	const unsigned char *rgb; /* 3n, NULL when the file has no colour */
	const float *nrm;	  /* 3n, NULL when the file has no normals */
};

/* Returns 0 to go on, -1 (with err set) to stop the read with that error. */
typedef int (*sq_ply_chunk_fn)(void *ctx, const struct sq_ply_chunk *c, struct sq_err *err);

/* Reads only the header. */
int sq_ply_read_info(const char *path, struct sq_ply_info *info, struct sq_err *err);

/* Reads the whole file, calling fn for each chunk in file order. info may be NULL. */
int sq_ply_stream(const char *path, struct sq_ply_info *info, sq_ply_chunk_fn fn, void *ctx,
		  struct sq_err *err);

struct sq_ply_writer;

/* Creates path (truncating it). Returns NULL on error. */
struct sq_ply_writer *sq_ply_writer_open(const char *path, int has_rgb, int has_nrm,
					 struct sq_err *err);
/* Appends c->n points (rgb / nrm used when the writer has them; NULL writes 0). */
int sq_ply_writer_add(struct sq_ply_writer *w, const struct sq_ply_chunk *c, struct sq_err *err);
/* Writes the count, flushes, fsyncs and closes; always frees w. On error the
 * file is removed. */
int sq_ply_writer_close(struct sq_ply_writer *w, struct sq_err *err);
/* Closes and removes the file without finishing it (error paths). */
void sq_ply_writer_abort(struct sq_ply_writer *w);

#endif
