/* stitch_merge.c - the stitch's output: every point of every placed input,
 * moved into the common frame and de-duplicated on a voxel grid, in bounded
 * memory.
 *
 * A voxel grid holds one entry per occupied cell, so merging everything in one
 * grid needs memory in proportion to the output. Up to MERGE_IN_MEMORY input
 * points that is what happens. Beyond, the moved points are first spread over
 * bucket files by tile (a tile is TILE_CELLS^3 whole cells, so no cell is split
 * between buckets) and each bucket is then merged on its own: memory is one
 * bucket's cells, disk is 27 bytes per input point, beside the output.
 *
 * Before a grid is written, cells standing apart from the rest are dropped:
 * those with no other occupied cell within ISOLATED_CELLS cells (each axis)
 * of theirs. Structure from motion leaves a few triangulation mistakes off
 * the surface; the de-duplication merges the inputs' surface points where
 * they overlap but cannot merge their mistakes, which would otherwise make up
 * a larger share of the stitched cloud than of any input (an RMS to the
 * seabed 1.34x the inputs' on a two-vehicle survey; 0.59x without them). The
 * cell is the reference's point spacing, so a surface point always has a
 * neighbour within two cells; a clean cloud loses nothing. A bucket holds
 * whole tiles but not their neighbours: there a cell whose neighbourhood
 * reaches past its tile is kept. */
#include "cloud/ply.h"
#include "stitch/stitch_internal.h"
#include "base/hooks.h"
#include "cloud/voxel.h"
#include "base/xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"

#define MERGE_IN_MEMORY 4000000 /* input points merged in one grid */
#define MAX_BUCKETS 256
#define TILE_SHIFT 5	 /* tiles of 32^3 cells */
#define RECORD 27	 /* xyz float, normal float, rgb */
#define ISOLATED_CELLS 3 /* no other cell this near (each axis): dropped */

struct merge {
	struct sq_voxel_grid *g; /* in memory: the one grid */
	FILE **bucket;		 /* else: nb bucket files */
	size_t nb;
	double voxel;
	const struct sq_sim *T;
	const struct stitch_merge_opts *o;
	size_t *dropped; /* outliers left out so far */
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

/* Whether the cell of p and its neighbours within ISOLATED_CELLS lie in one
 * tile (in a bucket, all of them are there). */
static int inside_tile(const float p[3], double voxel)
{
	for (int k = 0; k < 3; k++) {
		int64_t in = (int64_t)floor((double)p[k] / voxel) & ((1 << TILE_SHIFT) - 1);

		if (in < ISOLATED_CELLS || in >= (1 << TILE_SHIFT) - ISOLATED_CELLS)
			return 0;
	}
	return 1;
}

/* Drops c's cells of g that stand apart (see the top of the file), compacting
 * c; returns how many. tiled: g holds one bucket's tiles. */
static size_t drop_isolated(const struct sq_voxel_grid *g, struct sq_cloud *c, int tiled,
			    double voxel)
{
	size_t kept = 0;

	for (size_t i = 0; i < c->n; i++) {
		const float *p = &c->xyz[3 * i];
		double pd[3] = {p[0], p[1], p[2]};

		if (!sq_voxel_has_neighbour(g, pd, ISOLATED_CELLS) &&
		    (!tiled || inside_tile(p, voxel)))
			continue;
		memmove(&c->xyz[3 * kept], p, 3 * sizeof(*c->xyz));
		if (c->rgb)
			memmove(&c->rgb[3 * kept], &c->rgb[3 * i], 3);
		if (c->nrm)
			memmove(&c->nrm[3 * kept], &c->nrm[3 * i], 3 * sizeof(*c->nrm));
		kept++;
	}
	kept = c->n - kept;
	c->n -= kept;
	return kept;
}

/* Writes the grid's cells but its outliers (then empties nothing: the caller
 * frees the grid). */
static int write_grid(const struct merge *m, const struct sq_voxel_grid *g, struct sq_ply_writer *w,
		      size_t *points, struct sq_err *err)
{
	int rgb = m->o->rgb, nrm = m->o->nrm;
	struct sq_cloud c;
	int rc = 0;

	sq_cloud_init(&c, rgb, nrm);
	sq_voxel_to_cloud(g, &c);
	*m->dropped += drop_isolated(g, &c, m->nb > 0, m->voxel);
	for (size_t i = 0; rc == 0 && i < c.n; i += SQ_PLY_CHUNK) {
		size_t cn = c.n - i < SQ_PLY_CHUNK ? c.n - i : SQ_PLY_CHUNK;
		double *xyz = xcalloc(3 * cn, sizeof(*xyz));
		struct sq_ply_chunk ch = {.n = cn,
					  .xyz = xyz,
					  .rgb = rgb ? &c.rgb[3 * i] : NULL,
					  .nrm = nrm ? &c.nrm[3 * i] : NULL};

		for (size_t k = 0; k < 3 * cn; k++)
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
		 : write_grid(m, g, w, points, err);
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
		if (sq_hooks_cancelled(o->hooks))
			return sq_error(err, SQ_ERR_CANCEL, "stitch cancelled");
		m->T = &o->T[i];
		if (sq_ply_stream(o->plys[i], NULL, merge_chunk, m, err) < 0)
			return -1;
	}
	return 0;
}

int stitch_merge(const struct stitch_merge_opts *o, size_t *points_out, size_t *dropped,
		 struct sq_err *err)
{
	struct merge m = {.voxel = o->voxel, .o = o, .dropped = dropped};
	struct sq_ply_writer *w = NULL;
	size_t max = o->in_memory_max ? o->in_memory_max : MERGE_IN_MEMORY;
	int rc = -1;

	*points_out = *dropped = 0;
	if (o->points <= max)
		m.g = sq_voxel_new(o->voxel, o->rgb, o->nrm);
	else if (open_buckets(&m, o->points, max, err) < 0)
		goto out;
	if (read_inputs(&m, err) < 0 || !(w = sq_ply_writer_open(o->out_ply, o->rgb, o->nrm, err)))
		goto out;
	if (m.g && write_grid(&m, m.g, w, points_out, err) < 0)
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
