/* colmap_sift.c - each point of a COLMAP model with the mean of the SIFT
 * descriptors it was seen as (siftpts.h), read from the run's database.
 *
 * The database keeps every image's descriptors as one blob of rows x 128
 * bytes, row i being keypoint i; a model point's track names (image id,
 * keypoint index) pairs in that numbering. The mean of a track's descriptors
 * is a steadier description of the point than any one view of it. */
#include "stage/colmap.h"
#include "cloud/siftpts.h"
#include "base/xalloc.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

struct image_desc {
	uint8_t *data; /* rows * SQ_SIFT_DIM */
	size_t rows;
};

struct db_desc {
	struct image_desc *img; /* by image id */
	size_t nimg;
};

static void db_desc_release(struct db_desc *d)
{
	for (size_t i = 0; i < d->nimg; i++)
		free(d->img[i].data);
	free(d->img);
}

static int load_descriptors(const char *db_path, struct db_desc *d, struct sq_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	memset(d, 0, sizeof(*d));
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sq_error(err, SQ_ERR_BACKEND, "cannot open COLMAP database '%s': %s", db_path,
			 db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	if (sqlite3_prepare_v2(db, "SELECT image_id, rows, cols, data FROM descriptors", -1, &st,
			       NULL) != SQLITE_OK) {
		sq_error(err, SQ_ERR_BACKEND, "'%s': cannot read its descriptors: %s", db_path,
			 sqlite3_errmsg(db));
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(st, 0), rows = sqlite3_column_int64(st, 1);
		int cols = sqlite3_column_int(st, 2), bytes = sqlite3_column_bytes(st, 3);
		const void *blob = sqlite3_column_blob(st, 3);

		if (id < 0 || id > 1000000 || rows < 0 || cols != SQ_SIFT_DIM ||
		    (rows > 0 && (!blob || (sqlite3_int64)bytes != rows * SQ_SIFT_DIM))) {
			sq_error(err, SQ_ERR_BACKEND,
				 "'%s': descriptors of image %lld are not %d-byte rows (%lld x %d, "
				 "%d bytes)",
				 db_path, (long long)id, SQ_SIFT_DIM, (long long)rows, cols, bytes);
			goto out;
		}
		if ((size_t)id >= d->nimg) {
			size_t n = (size_t)id + 1;

			d->img = xrealloc(d->img, n * sizeof(*d->img));
			memset(d->img + d->nimg, 0, (n - d->nimg) * sizeof(*d->img));
			d->nimg = n;
		}
		free(d->img[id].data);
		d->img[id].rows = (size_t)rows;
		d->img[id].data = xmalloc((size_t)rows * SQ_SIFT_DIM + 1);
		if (rows > 0)
			memcpy(d->img[id].data, blob, (size_t)rows * SQ_SIFT_DIM);
	}
	if (step != SQLITE_DONE) {
		sq_error(err, SQ_ERR_BACKEND, "'%s': reading descriptors: %s", db_path,
			 sqlite3_errmsg(db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (rc < 0)
		db_desc_release(d);
	return rc;
}

/* The mean of point p's track descriptors, as a SIFT byte vector; 0 when no
 * observation has one. */
static int mean_descriptor(const struct sq_colmap_model *m, const struct sq_colmap_point *p,
			   const struct db_desc *d, uint8_t out[SQ_SIFT_DIM])
{
	double acc[SQ_SIFT_DIM] = {0}, len = 0;
	int used = 0;

	for (int t = 0; t < p->track; t++) {
		const struct sq_colmap_obs *o = &m->obs[p->obs + (size_t)t];
		const struct image_desc *im;

		if (o->image < 0 || (size_t)o->image >= d->nimg)
			continue;
		im = &d->img[o->image];
		if (o->point2d < 0 || (size_t)o->point2d >= im->rows)
			continue;
		for (int k = 0; k < SQ_SIFT_DIM; k++)
			acc[k] += im->data[(size_t)o->point2d * SQ_SIFT_DIM + (size_t)k];
		used++;
	}
	for (int k = 0; k < SQ_SIFT_DIM; k++)
		len += acc[k] * acc[k];
	if (!used || !(len > 0))
		return 0;
	len = sqrt(len);
	for (int k = 0; k < SQ_SIFT_DIM; k++) {
		double v = 512.0 * acc[k] / len;

		out[k] = (uint8_t)(v > 255 ? 255 : v + 0.5);
	}
	return 1;
}

int sq_colmap_write_sift(const struct sq_colmap_model *m, const char *db_path, const char *out,
			 size_t *written, struct sq_err *err)
{
	struct db_desc d;
	struct sq_siftpts s = {0};
	int rc;

	if (load_descriptors(db_path, &d, err) < 0)
		return -1;
	for (size_t i = 0; i < m->npoints; i++) {
		const struct sq_colmap_point *p = &m->points[i];
		float xyz[3] = {(float)p->xyz[0], (float)p->xyz[1], (float)p->xyz[2]};
		uint8_t desc[SQ_SIFT_DIM];

		if (mean_descriptor(m, p, &d, desc))
			sq_siftpts_push(&s, xyz, desc);
	}
	rc = sq_siftpts_write(&s, out, err);
	if (written)
		*written = s.n;
	sq_siftpts_release(&s);
	db_desc_release(&d);
	return rc;
}
