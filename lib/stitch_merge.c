/* stitch_merge.c - the stitch's output: every point of every placed input,
 * moved into the common frame and de-duplicated on a voxel grid, in bounded
 * memory.
 *
 * A voxel grid holds one entry per occupied cell, so merging everything in one
 * grid needs memory in proportion to the output. Up to MERGE_IN_MEMORY input
 * points that is what happens. Beyond, the moved points are first spread over
 * bucket files by tile (a tile is TILE_CELLS^3 whole cells, so no cell is split
 * between buckets) and each bucket is then merged on its own: memory is one
 * bucket's cells, disk is 27 bytes per input point, beside the output. */
#include "ply.h"
#include "stitch_internal.h"
#include "voxel.h"
#include "xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

#define MERGE_IN_MEMORY 4000000 /* input points merged in one grid */
#define MAX_BUCKETS 256
#define TILE_SHIFT 5 /* tiles of 32^3 cells */
#define RECORD 27    /* xyz float, normal float, rgb */

struct merge {
	struct sq_voxel_grid *g; /* in memory: the one grid */
	FILE **bucket;		 /* else: nb bucket files */
	size_t nb;
	double voxel;
	const struct sq_sim *T;
	const struct stitch_merge_opts *o;
};

static size_t bucket_of(const float y[3], double voxel, size_t nb)
{
	uint64_t h = 1469598103934665603ULL;

	for (int k = 0; k < 3; k++) {
		int64_t tile = (int64_t)floor((double)y[k] / voxel) >> TILE_SHIFT;

		h = (h ^ (uint64_t)tile) * 1099511628211ULL;
	}
	return (size_t)(h % nb);
}

/* One moved point: into the grid, or as a record into its bucket. */
static int put(struct merge *m, const float y[3], const unsigned char *rgb, const float *nrm,
	       struct sq_err *err)
{
	unsigned char rec[RECORD] = {0};
	double yd[3] = {y[0], y[1], y[2]};
	FILE *f;

	if (m->g) {
		sq_voxel_add(m->g, yd, rgb, nrm);
		return 0;
	}
	memcpy(rec, y, 12);
	if (nrm)
		memcpy(rec + 12, nrm, 12);
	if (rgb)
		memcpy(rec + 24, rgb, 3);
	f = m->bucket[bucket_of(y, m->voxel, m->nb)];
	if (fwrite(rec, RECORD, 1, f) != 1)
		return sq_error(err, errno == ENOSPC ? SQ_ERR_NOSPC : SQ_ERR_IO,
				"cannot write a merge bucket beside '%s': %s", m->o->out_ply,
				strerror(errno));
	return 0;
}

static int merge_chunk(void *ctx, const struct sq_ply_chunk *c, struct sq_err *err)
{
	struct merge *m = ctx;

	for (size_t i = 0; i < c->n; i++) {
		double y[3];
		float yf[3], n[3];

		if (!isfinite(c->xyz[3 * i]) || !isfinite(c->xyz[3 * i + 1]) ||
		    !isfinite(c->xyz[3 * i + 2]))
			continue;
		sq_sim_apply(m->T, &c->xyz[3 * i], y);
		for (int k = 0; k < 3; k++)
			yf[k] = (float)y[k];
		for (int k = 0; c->nrm && k < 3; k++)
			n[k] = (float)(m->T->R[3 * k] * c->nrm[3 * i] +
				       m->T->R[3 * k + 1] * c->nrm[3 * i + 1] +
				       m->T->R[3 * k + 2] * c->nrm[3 * i + 2]);
		if (put(m, yf, c->rgb ? &c->rgb[3 * i] : NULL, c->nrm ? n : NULL, err) < 0)
			return -1;
	}
	return 0;
}

/* Writes the grid's cells (then empties nothing: the caller frees the grid). */
static int write_grid(const struct sq_voxel_grid *g, struct sq_ply_writer *w, int rgb, int nrm,
		      size_t *points, struct sq_err *err)
{
	struct sq_cloud c;
	int rc = 0;

	sq_cloud_init(&c, rgb, nrm);
	sq_voxel_to_cloud(g, &c);
	for (size_t i = 0; rc == 0 && i < c.n; i += SQ_PLY_CHUNK) {
		size_t m = c.n - i < SQ_PLY_CHUNK ? c.n - i : SQ_PLY_CHUNK;
		double *xyz = xcalloc(3 * m, sizeof(*xyz));
		struct sq_ply_chunk ch = {.n = m,
					  .xyz = xyz,
					  .rgb = rgb ? &c.rgb[3 * i] : NULL,
					  .nrm = nrm ? &c.nrm[3 * i] : NULL};

		for (size_t k = 0; k < 3 * m; k++)
			xyz[k] = c.xyz[3 * i + k];
		rc = sq_ply_writer_add(w, &ch, err);
		free(xyz);
	}
	*points += c.n;
	sq_cloud_release(&c);
	return rc;
}

/* Reads bucket f back into a fresh grid and writes its cells. */
static int drain_bucket(struct merge *m, FILE *f, struct sq_ply_writer *w, size_t *points,
			struct sq_err *err)
{
	const struct stitch_merge_opts *o = m->o;
	struct sq_voxel_grid *g = sq_voxel_new(m->voxel, o->rgb, o->nrm);
	unsigned char rec[RECORD];
	int rc;

	rewind(f);
	while (fread(rec, RECORD, 1, f) == 1) {
		float y[3], n[3];
		double yd[3];

		memcpy(y, rec, 12);
		memcpy(n, rec + 12, 12);
		for (int k = 0; k < 3; k++)
			yd[k] = y[k];
		sq_voxel_add(g, yd, o->rgb ? rec + 24 : NULL, o->nrm ? n : NULL);
	}
	rc = ferror(f)
		 ? sq_error(err, SQ_ERR_IO, "cannot read a merge bucket beside '%s'", o->out_ply)
		 : write_grid(g, w, o->rgb, o->nrm, points, err);
	sq_voxel_free(g);
	return rc;
}

/* Buckets of about half the in-memory budget each, by input points. */
static int open_buckets(struct merge *m, size_t total, size_t in_memory_max, struct sq_err *err)
{
	m->nb = total / (in_memory_max / 2 + 1) + 1;
	if (m->nb > MAX_BUCKETS)
		m->nb = MAX_BUCKETS;
	m->bucket = xcalloc(m->nb, sizeof(*m->bucket));
	for (size_t k = 0; k < m->nb; k++) {
		char *path = xasprintf("%s.bucket.%zu", m->o->out_ply, k);

		/* unlinked at once: the kernel frees it however the process ends */
		m->bucket[k] = fopen(path, "w+e");
		if (m->bucket[k])
			unlink(path);
		free(path);
		if (!m->bucket[k])
			return sq_error(err, SQ_ERR_IO,
					"cannot create a merge bucket beside '%s': %s",
					m->o->out_ply, strerror(errno));
	}
	return 0;
}

static void close_buckets(struct merge *m)
{
	for (size_t k = 0; k < m->nb; k++)
		if (m->bucket[k])
			fclose(m->bucket[k]);
	free(m->bucket);
}

static int read_inputs(struct merge *m, struct sq_err *err)
{
	const struct stitch_merge_opts *o = m->o;

	for (size_t i = 0; i < o->n; i++) {
		if (o->cancelled && o->cancelled(o->ctx))
			return sq_error(err, SQ_ERR_CANCEL, "stitch cancelled");
		m->T = &o->T[i];
		if (sq_ply_stream(o->plys[i], NULL, merge_chunk, m, err) < 0)
			return -1;
	}
	return 0;
}

int stitch_merge(const struct stitch_merge_opts *o, size_t *points_out, struct sq_err *err)
{
	struct merge m = {.voxel = o->voxel, .o = o};
	struct sq_ply_writer *w = NULL;
	size_t total = 0, max = o->in_memory_max ? o->in_memory_max : MERGE_IN_MEMORY;
	int rc = -1;

	*points_out = 0;
	for (size_t i = 0; i < o->n; i++) {
		struct sq_ply_info info;

		if (sq_ply_read_info(o->plys[i], &info, err) < 0)
			return -1;
		total += info.count;
	}
	if (total <= max)
		m.g = sq_voxel_new(o->voxel, o->rgb, o->nrm);
	else if (open_buckets(&m, total, max, err) < 0)
		goto out;
	if (read_inputs(&m, err) < 0 || !(w = sq_ply_writer_open(o->out_ply, o->rgb, o->nrm, err)))
		goto out;
	if (m.g && write_grid(m.g, w, o->rgb, o->nrm, points_out, err) < 0)
		goto out;
	for (size_t k = 0; k < m.nb; k++)
		if (drain_bucket(&m, m.bucket[k], w, points_out, err) < 0)
			goto out;
	rc = sq_ply_writer_close(w, err);
	w = NULL;
out:
	if (w)
		sq_ply_writer_abort(w);
	if (m.g)
		sq_voxel_free(m.g);
	close_buckets(&m);
	return rc;
}
