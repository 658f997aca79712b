/* test_register.c - the builtin stitch recovers known similarity transforms.
 *
 * Clouds are cut from the synthetic seabed of tests/synth (tests/bench/cloudgen.c):
 * three overlapping patches (30-60 % of their area shared with the next), each
 * with noise, 1 % outliers and its own random similarity (any rotation, scale
 * 0.3-3, random translation). sq_stitch_run() must place every one with the
 * transform the truth composes (rotation within 0.5 deg, scale within 1 %, every
 * corner of the patch within 1 % of the scene's diagonal) and merge them no
 * further from the true surface than the inputs are. A patch of another
 * seabed (no overlap with anything) must be left out with a reason while the
 * others are still placed. */
#include "cloudgen.h"
#include "cloud/ply.h"
#include "stitch/stitch.h"
#include "t.h"
#include "base/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"

#define PATCHES 3
#define POINTS 30000
#define ROT_MAX_DEG 0.5
#define SCALE_MAX_REL 0.01
#define POS_MAX_REL 0.01
#define RMS_MAX_RATIO 1.2
#define FAR_M 0.3 /* 15 noise sigmas: a point this far from the surface is an outlier */

static const char *tmp;

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "  stitch: %s\n", line);
}

static void scene_opts(struct cg_opts *o)
{
	cg_opts_default(o);
	o->terrain_seed = 7;
	o->seed = 11;
	o->patches = PATCHES;
	o->points = POINTS;
	o->noise_rel = 0.2;
	o->outlier_share = 0.01;
	o->scale_min = 0.3;
	o->scale_max = 3.0;
}

/* Writes every patch of sc as tmp/<tag>N.ply; paths[] are new strings. */
static int write_patches(const struct cg_scene *sc, const char *tag, char **paths)
{
	struct sq_err err = {0};

	for (size_t i = 0; i < sc->n; i++) {
		paths[i] = xasprintf("%s/%s%zu.ply", tmp, tag, i);
		if (cg_patch_write(sc, i, paths[i], &err) < 0) {
			fprintf(stderr, "cannot make test cloud: %s\n", err.msg);
			return -1;
		}
		fprintf(stderr,
			"patch %zu: %zu points, scale %.3f, overlap with previous %.0f %%\n", i,
			sc->p[i].points, sc->p[i].G.s, 100.0 * sc->p[i].overlap_prev);
	}
	return 0;
}

/* The one input placed as the reference (parent -1), or -1. */
static int find_ref(const struct sq_stitch_result *res)
{
	int ref = -1, count = 0;

	for (size_t i = 0; i < res->n; i++)
		if (res->p[i].placed && res->p[i].parent == -1) {
			ref = (int)i;
			count++;
		}
	T_EQ_INT(count, 1);
	return count == 1 ? ref : -1;
}

/* res->p[k] (input k, which is patch i of sc) against the truth. */
static void check_placement(const struct cg_scene *sc, const struct sq_stitch_result *res, size_t k,
			    size_t i, size_t ref_patch)
{
	struct sq_sim truth;
	struct cg_err e;

	T_CHECK(res->p[k].placed);
	if (!res->p[k].placed) {
		fprintf(stderr, "input %zu not placed: %s\n", k, res->p[k].why);
		return;
	}
	cg_truth(sc, ref_patch, i, &truth);
	cg_compare(sc, &sc->p[i], &res->p[k].T, &truth, sc->diag_m * sc->p[ref_patch].G.s, &e);
	fprintf(stderr,
		"input %zu (%s, parent %d, inliers %.2f): rotation %.3f deg, scale %.3f %%, "
		"position %.3f %% of the diagonal\n",
		k, res->p[k].method, res->p[k].parent, res->p[k].inlier_share, e.rot_deg,
		100.0 * e.scale_rel, 100.0 * e.pos_rel);
	T_CHECK(e.rot_deg <= ROT_MAX_DEG);
	T_CHECK(e.scale_rel <= SCALE_MAX_REL);
	T_CHECK(e.pos_rel <= POS_MAX_REL);
}

/* The merged cloud, taken back to the world, against the inputs placed with
 * their true transforms: no further from the true surface, no more far points. */
static void check_merged(const struct cg_scene *sc, char **paths, const char *out, size_t ref_patch)
{
	struct sq_err err = {0};
	struct sq_sim to_world;
	struct cg_fit f, merged;
	double sum2 = 0.0, rms_in;
	size_t near = 0, far = 0;

	for (size_t i = 0; i < sc->n; i++) {
		cg_sim_invert(&sc->p[i].G, &to_world);
		T_CHECK(cg_ply_fit(paths[i], &to_world, sc->terrain, FAR_M, &f, &err) == 0);
		sum2 += f.rms_m * f.rms_m * (double)(f.n - f.far);
		near += f.n - f.far;
		far += f.far;
	}
	rms_in = sqrt(sum2 / (double)(near ? near : 1));
	cg_sim_invert(&sc->p[ref_patch].G, &to_world);
	T_CHECK(cg_ply_fit(out, &to_world, sc->terrain, FAR_M, &merged, &err) == 0);
	fprintf(stderr, "inputs: rms %.4f m, %zu far; merged: %zu points, rms %.4f m, %zu far\n",
		rms_in, far, merged.n, merged.rms_m, merged.far);
	T_CHECK(merged.n > 0);
	T_CHECK(merged.rms_m <= RMS_MAX_RATIO * rms_in);
	/* de-duplication merges surface points, never outliers with each other */
	T_CHECK(merged.far <= far + far / 10 + 100);
}

static int run_stitch(const char **paths, size_t n, const char *out, struct sq_stitch_result *res,
		      size_t mem_max)
{
	struct sq_stitch_input in[PATCHES + 1];
	struct sq_stitch_opts o = {
	    .seed = 3, .hooks = {.log = log_line}, .merge_in_memory_max = mem_max};
	struct sq_err err = {0};
	char names[PATCHES + 1][16];
	int rc;

	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "in%zu", i);
		in[i] = (struct sq_stitch_input){.name = names[i], .ply = paths[i]};
	}
	memset(res, 0, sizeof(*res));
	rc = sq_stitch_run(in, n, out, &o, res, &err);
	if (rc < 0)
		fprintf(stderr, "sq_stitch_run failed: %s\n", err.msg);
	return rc;
}

static void test_recovers(const struct cg_scene *sc, char **paths)
{
	struct sq_stitch_result res;
	struct sq_ply_info info;
	struct sq_err err = {0};
	char *out = xasprintf("%s/merged.ply", tmp);
	int ref;

	T_EQ_INT(run_stitch((const char **)paths, sc->n, out, &res, 0), 0);
	T_EQ_INT(res.n, sc->n);
	T_EQ_INT(res.placed, sc->n);
	ref = res.p ? find_ref(&res) : -1;
	if (ref >= 0) {
		T_EQ_STR(res.p[ref].method, "reference");
		for (size_t i = 0; i < sc->n; i++) {
			T_EQ_INT(res.p[i].points, sc->p[i].points);
			check_placement(sc, &res, i, i, (size_t)ref);
		}
		T_CHECK(sq_ply_read_info(out, &info, &err) == 0);
		T_EQ_INT(info.count, res.points_out);
		check_merged(sc, paths, out, (size_t)ref);
	}
	sq_stitch_result_release(&res);
	free(out);
}

struct pts {
	float *v; /* 3n */
	size_t n;
};

static int collect(void *ctx, const struct sq_ply_chunk *c, struct sq_err *err)
{
	struct pts *p = ctx;

	(void)err;
	p->v = xrealloc(p->v, 3 * (p->n + c->n) * sizeof(*p->v));
	for (size_t i = 0; i < 3 * c->n; i++)
		p->v[3 * p->n + i] = (float)c->xyz[i];
	p->n += c->n;
	return 0;
}

static double cmp_voxel;

/* By output cell: a cell's mean lies in it, so the order does not hang on the
 * last bit of the mean. */
static int cmp_cell_of(const void *a, const void *b)
{
	const float *x = a, *y = b;

	for (int k = 0; k < 3; k++) {
		double cx = floor(x[k] / cmp_voxel), cy = floor(y[k] / cmp_voxel);

		if (cx != cy)
			return cx < cy ? -1 : 1;
	}
	return 0;
}

/* Large inputs are merged through bucket files: forced here on small ones, the
 * output must hold the cells of the in-memory merge (their means may differ in
 * the last bit, summed in another order). A bucket keeps the isolated cells
 * whose neighbourhood reaches past its tiles: it may hold as many more cells
 * as it dropped fewer, and no other. */
static void test_bucketed_merge(char **paths)
{
	char *a = xasprintf("%s/mem.ply", tmp), *b = xasprintf("%s/buckets.ply", tmp);
	struct sq_stitch_result ra, rb;
	struct pts pa = {0}, pb = {0};
	struct sq_err err = {0};
	size_t differ = 0, found = 0;

	T_EQ_INT(run_stitch((const char **)paths, 2, a, &ra, 0), 0);
	T_EQ_INT(run_stitch((const char **)paths, 2, b, &rb, 1000), 0);
	T_CHECK(sq_ply_stream(a, NULL, collect, &pa, &err) == 0);
	T_CHECK(sq_ply_stream(b, NULL, collect, &pb, &err) == 0);
	T_CHECK(pa.n > 1000);
	T_CHECK(ra.outliers > 0 && rb.outliers > 0 && rb.outliers <= ra.outliers);
	T_EQ_INT(pb.n - pa.n, ra.outliers - rb.outliers);
	if (pa.n > 0 && ra.voxel > 0) {
		cmp_voxel = ra.voxel;
		qsort(pa.v, pa.n, 3 * sizeof(float), cmp_cell_of);
		qsort(pb.v, pb.n, 3 * sizeof(float), cmp_cell_of);
		for (size_t i = 0, j = 0; i < pa.n && j < pb.n;) {
			int c = cmp_cell_of(&pa.v[3 * i], &pb.v[3 * j]);

			if (c > 0) { /* a cell only the buckets kept */
				j++;
				continue;
			}
			for (int k = 0; c == 0 && k < 3; k++)
				differ += fabsf(pa.v[3 * i + k] - pb.v[3 * j + k]) >
					  1e-5f * (1 + fabsf(pa.v[3 * i + k]));
			found += c == 0;
			i++;
			j += c == 0;
		}
	}
	T_EQ_INT(found, pa.n);
	T_EQ_INT(differ, 0);
	sq_stitch_result_release(&ra);
	sq_stitch_result_release(&rb);
	free(pa.v);
	free(pb.v);
	free(a);
	free(b);
}

/* Patches 0 and 1, and between them a patch of another seabed in patch 2's place. */
static void test_stranger(const struct cg_scene *sc, char **paths)
{
	struct synth_terrain *other = cg_terrain_new(sc->o.terrain_seed + 1000, sc->box);
	uint64_t rng = cg_rng_seed(99, 0);
	struct sq_stitch_result res;
	struct sq_err err = {0};
	struct sq_sim G;
	char *stranger = xasprintf("%s/stranger.ply", tmp), *out = xasprintf("%s/m2.ply", tmp);
	const char *in[3] = {paths[0], stranger, paths[1]};
	size_t map[3] = {0, (size_t)-1, 1};
	int ref;

	cg_random_sim(&rng, 0.3, 3.0, 50.0, &G);
	T_CHECK(cg_patch_write_from(sc, other, sc->p[2].box, &G, 77, stranger, NULL, &err) == 0);
	T_EQ_INT(run_stitch(in, 3, out, &res, 0), 0);
	T_EQ_INT(res.n, 3);
	T_EQ_INT(res.placed, 2);
	if (res.n == 3) {
		T_EQ_INT(res.p[1].placed, 0);
		T_CHECK(res.p[1].why[0] != '\0');
		fprintf(stderr, "stranger: %s\n", res.p[1].why);
	}
	ref = res.p ? find_ref(&res) : -1;
	if (ref >= 0 && ref != 1)
		for (size_t k = 0; k < 3; k += 2)
			check_placement(sc, &res, k, map[k], map[ref]);
	sq_stitch_result_release(&res);
	synth_terrain_free(other);
	free(stranger);
	free(out);
}

int main(void)
{
	struct cg_opts o;
	struct cg_scene sc;
	char *paths[PATCHES] = {0};

	tmp = getenv("SCANQ_TMP");
	if (!tmp)
		tmp = "/tmp";
	scene_opts(&o);
	cg_scene_plan(&o, &sc);
	if (write_patches(&sc, "patch", paths) == 0) {
		test_recovers(&sc, paths);
		test_stranger(&sc, paths);
		test_bucketed_merge(paths);
	} else {
		T_CHECK(!"test clouds written");
	}
	for (size_t i = 0; i < PATCHES; i++)
		free(paths[i]);
	cg_scene_release(&sc);
	return t_done();
}
