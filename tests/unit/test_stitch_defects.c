/* test_stitch_defects.c - the builtin stitch never aborts on a broken cloud.
 *
 * A `command` backend that fails can write a cloud of identical points (a
 * GPU model writing zeros), coordinates near 1e37 or 1e-40, NaN or infinite
 * values, a handful of points, or points on a line. Each such input must be
 * left out of the stitch with a reason that says what is wrong with it, while
 * the good inputs beside it are still placed (and placed right); with nothing
 * good to pair with, the stitch fails with a clear error. A cloud with some
 * NaN points is placed right or left out, never wrong (a patch of another
 * surface, left out, is test_register's). The clouds come from
 * tests/bench/surfgen.c. */
#include "cloudgen.h"
#include "surfgen.h"
#include "stage/record.h"
#include "stitch/stitch.h"
#include "t.h"
#include "base/xalloc.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

#define POINTS 12000
#define GOOD 2 /* inputs 0 and 1: a good pair */

static const char *tmp;

/* What the reason for each broken second cloud must say. */
static const struct {
	int defect;
	const char *says; /* NULL: any reason */
} cases[] = {
    {SG_IDENTICAL, "at one place"},
    {SG_HUGE, "coordinates reach"},
    {SG_TINY, "too little"},
    {SG_ALL_NAN, "finite points"},
    {SG_FEW, "too few"},
    {SG_LINE, "on a line"},
    {SG_NAN, NULL},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "  stitch: %s\n", line);
}

static void pair_opts(struct sg_pair_opts *o, int defect)
{
	sg_pair_opts_default(o);
	o->family = SG_SEABED;
	o->seed = 5;
	o->points = POINTS;
	o->overlap_min = o->overlap_max = 0.5;
	o->colour = 1;
	o->defect = defect;
}

/* paths[0], paths[1]: the good pair; paths[GOOD + k]: case k's broken cloud. */
static int write_inputs(struct sg_pair *p, char **paths)
{
	struct sq_err err = {0};
	struct sg_pair_opts o;

	pair_opts(&o, SG_OK);
	sg_pair_plan(&o, p);
	for (int i = 0; i < 2; i++) {
		paths[i] = xasprintf("%s/good%d.ply", tmp, i);
		if (sg_pair_write(p, i, paths[i], &err) < 0)
			goto fail;
	}
	for (size_t k = 0; k < NCASES; k++) {
		struct sg_pair q;

		pair_opts(&o, cases[k].defect);
		sg_pair_plan(&o, &q);
		paths[GOOD + k] = xasprintf("%s/%s.ply", tmp, sg_defect_name(cases[k].defect));
		if (sg_pair_write(&q, 1, paths[GOOD + k], &err) < 0) {
			sg_pair_release(&q);
			goto fail;
		}
		sg_pair_release(&q);
	}
	return 0;
fail:
	fprintf(stderr, "cannot write test cloud: %s\n", err.msg);
	return -1;
}

static int run(char **paths, const int *which, size_t n, struct sq_stitch_result *res,
	       struct sq_err *err)
{
	struct sq_stitch_input in[GOOD + NCASES];
	struct sq_stitch_opts o = {.seed = 1, .hooks = {.log = log_line}};
	char *out = xasprintf("%s/merged.ply", tmp);
	int rc;

	for (size_t i = 0; i < n; i++)
		in[i] = (struct sq_stitch_input){
		    .name = which[i] < GOOD ? (which[i] ? "good1" : "good0")
					    : sg_defect_name(cases[which[i] - GOOD].defect),
		    .ply = paths[which[i]]};
	rc = sq_stitch_run(in, n, out, &o, res, err);
	free(out);
	return rc;
}

/* Input k (a broken cloud when k >= GOOD) is placed right or left out as
 * its case says. */
static void check_input(const struct sg_pair *p, const struct sq_stitch_result *res, size_t k,
			int ref)
{
	const struct sq_stitch_placement *pl = &res->p[k];
	const char *says = k >= GOOD ? cases[k - GOOD].says : NULL;
	struct sq_sim inv, est;
	struct cg_err e;

	fprintf(stderr, "input %zu: %s%s\n", k,
		pl->placed ? "placed" : "left out: ", pl->placed ? "" : pl->why);
	if (!pl->placed) {
		T_CHECK(k >= GOOD && pl->why[0]);
		if (says)
			T_CHECK(strstr(pl->why, says) != NULL);
		return;
	}
	/* placed: only the good pair, or the cloud that lost some points to
	 * NaN, and then right (a shared frame: cloud 1's transform onto 0's) */
	T_CHECK(k < GOOD || cases[k - GOOD].defect == SG_NAN);
	(void)ref;
	cg_sim_invert(&res->p[0].T, &inv);
	cg_sim_compose(&inv, &pl->T, &est);
	if (k == 0)
		return;
	sg_pair_compare(p, &est, &e);
	fprintf(stderr, "  rotation %.3f deg, scale %.3f %%, position %.3f %%\n", e.rot_deg,
		100 * e.scale_rel, 100 * e.pos_rel);
	T_CHECK(e.rot_deg <= 1 && e.scale_rel <= 0.01 && e.pos_rel <= 0.01);
	T_CHECK(pl->confidence >= 0.5 && pl->confidence <= 1);
}

/* The stage's figures name every left-out input with its reason, and say
 * how sure each placement is; each left-out input is a warning. */
static void check_figures(char **paths, const int *which, const struct sq_stitch_result *res)
{
	struct sq_stitch_input in[GOOD + NCASES];
	struct sq_stitch_record rec = {0};
	char *members, *text;
	cJSON *doc;
	size_t out = 0;

	for (size_t i = 0; i < res->n; i++)
		in[i] = (struct sq_stitch_input){
		    .name = sg_defect_name(cases[i >= GOOD ? i - GOOD : 0].defect),
		    .ply = paths[which[i]]};
	in[0].name = "good0", in[1].name = "good1";
	sq_stitch_record_of_result(&rec, in, res);
	members = sq_stitch_record_figures(&rec);
	sq_stitch_record_release(&rec);
	text = xasprintf("{%s}", members);
	doc = cJSON_Parse(text);
	T_CHECK(doc != NULL);
	for (size_t i = 0; i < res->n; i++)
		out += !res->p[i].placed;
	T_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "left_out")), out);
	T_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "left_out_reasons")), out);
	T_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "placements")), res->n - out);
	T_CHECK(cJSON_IsNumber(cJSON_GetObjectItem(doc, "confidence")));
	T_CHECK(cJSON_IsString(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "left_out_reasons"), "identical")));
	T_CHECK(sq_stitch_warnings(in, res, NULL, NULL) >= out);
	cJSON_Delete(doc);
	free(members);
	free(text);
}

/* Every broken cloud beside a good pair: one stitch, the pair placed. */
static void test_beside_good(const struct sg_pair *p, char **paths)
{
	int which[GOOD + NCASES];
	struct sq_stitch_result res;
	struct sq_err err = {0};
	int ref = -1;

	for (size_t i = 0; i < GOOD + NCASES; i++)
		which[i] = (int)i;
	T_EQ_INT(run(paths, which, GOOD + NCASES, &res, &err), 0);
	if (!res.p)
		return;
	for (size_t i = 0; i < res.n; i++)
		if (res.p[i].placed && res.p[i].parent < 0)
			ref = (int)i;
	T_CHECK(ref == 0 || ref == 1);
	T_CHECK(res.p[0].placed && res.p[1].placed);
	for (size_t k = 0; ref >= 0 && k < res.n; k++)
		check_input(p, &res, k, ref);
	check_figures(paths, which, &res);
	sq_stitch_result_release(&res);
}

/* A broken cloud with only one good one: a clear error naming it. */
static void test_alone(char **paths)
{
	for (size_t k = 0; k < NCASES; k++) {
		int which[2] = {0, (int)(GOOD + k)};
		struct sq_stitch_result res;
		struct sq_err err = {0};

		if (!cases[k].says)
			continue;
		T_CHECK(run(paths, which, 2, &res, &err) < 0);
		fprintf(stderr, "%s alone: %s\n", sg_defect_name(cases[k].defect), err.msg);
		T_CHECK(strstr(err.msg, cases[k].says) != NULL);
		T_CHECK(res.n == 2 && !res.p[1].placed);
		sq_stitch_result_release(&res);
	}
}

int main(void)
{
	char *paths[GOOD + NCASES] = {0};
	struct sg_pair p;

	tmp = getenv("SCANQ_TMP");
	if (!tmp)
		tmp = "/tmp";
	memset(&p, 0, sizeof(p));
	if (write_inputs(&p, paths) == 0) {
		test_beside_good(&p, paths);
		test_alone(paths);
	} else {
		T_CHECK(!"test clouds written");
	}
	for (size_t i = 0; i < GOOD + NCASES; i++)
		free(paths[i]);
	sg_pair_release(&p);
	return t_done();
}
