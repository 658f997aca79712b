/* test_terrains.c - the builtin stitch on terrain it was not tuned on never
 * publishes a wrong placement.
 *
 * A fixed sample of pairs of clouds as a `command` backend writes them (no
 * cameras, any rotation, scale 0.3-3x per cloud, 0.5-2 cm noise, up to 2 %
 * outliers), two per terrain family of tests/bench/surfgen.c (one coloured,
 * one not; overlaps 25-60 %), then two surfaces no placement can be read
 * from: a perfect plane and a perfect sinusoid. bench-stitch --pairs draws
 * hundreds of such pairs at random; this is its fixed sample for CI.
 *
 * Every pair must be placed right (rotation within 1 degree, scale within 1 %,
 * every corner within 1 % of the pair's diagonal) or left out with a reason;
 * a placed pair has a confidence of at least 0.5; at least MIN_RIGHT of the
 * family pairs are placed; the plane and the sinusoid are left out. */
#include "cloudgen.h"
#include "surfgen.h"
#include "stitch/stitch.h"
#include "t.h"
#include "base/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

#define POINTS 12000	       /* per cloud of a family pair */
#define DEGENERATE_POINTS 6000 /* per cloud of the plane and the sinusoid */
#define MIN_RIGHT 10	       /* of the 12 family pairs */

static const char *tmp;

struct sample {
	int family, colour;
	uint32_t seed;
	double overlap;
};

/* Two pairs per family (coloured at the wider overlap), then the two that
 * cannot be placed. */
static const struct sample samples[] = {
    {SG_SEABED, 1, 101, 0.45},	{SG_SEABED, 0, 102, 0.30},  {SG_FLAT, 1, 103, 0.50},
    {SG_FLAT, 0, 104, 0.40},	{SG_SWELLS, 1, 105, 0.45},  {SG_SWELLS, 0, 106, 0.55},
    {SG_RIPPLES, 1, 107, 0.40}, {SG_RIPPLES, 0, 108, 0.55}, {SG_SLOPED, 1, 109, 0.30},
    {SG_SLOPED, 0, 110, 0.45},	{SG_ROUGH, 1, 111, 0.35},   {SG_ROUGH, 0, 112, 0.25},
    {SG_PLANE, 0, 113, 0.50},	{SG_SINE, 0, 114, 0.50},
};
#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

enum { RIGHT, WRONG, LEFT_OUT };

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "  stitch: %s\n", line);
}

static int run_pair(const struct sample *sm, struct sq_stitch_result *res, struct sg_pair *p,
		    char *why, size_t whylen)
{
	struct sg_pair_opts o;
	struct sq_err err = {0};
	char *paths[2], *out = xasprintf("%s/terrain-merged.ply", tmp);
	struct sq_stitch_input in[2] = {{.name = "a"}, {.name = "b"}};
	struct sq_stitch_opts so = {.seed = 1, .hooks = {.log = log_line}};
	int rc = -1;

	sg_pair_opts_default(&o);
	o.family = sm->family, o.colour = sm->colour, o.seed = sm->seed;
	o.points = sm->family < SG_FAMILIES ? POINTS : DEGENERATE_POINTS;
	o.overlap_min = o.overlap_max = sm->overlap;
	sg_pair_plan(&o, p);
	for (int i = 0; i < 2; i++) {
		paths[i] = xasprintf("%s/terrain%d.ply", tmp, i);
		in[i].ply = paths[i];
		if (sg_pair_write(p, i, paths[i], &err) < 0)
			fprintf(stderr, "cannot write test cloud: %s\n", err.msg);
	}
	rc = sq_stitch_run(in, 2, out, &so, res, &err);
	snprintf(why, whylen, "%s", rc < 0 ? err.msg : "");
	for (int i = 0; i < 2; i++) {
		remove(paths[i]);
		free(paths[i]);
	}
	remove(out);
	free(out);
	return rc;
}

static int judge(const struct sample *sm, double *conf)
{
	struct sq_stitch_result res;
	struct sg_pair p;
	struct sq_sim inv, est;
	struct cg_err e;
	char why[SQ_ERR_MSG_MAX];
	int v = LEFT_OUT;

	*conf = NAN;
	if (run_pair(sm, &res, &p, why, sizeof(why)) == 0 && res.placed == 2) {
		cg_sim_invert(&res.p[0].T, &inv);
		cg_sim_compose(&inv, &res.p[1].T, &est);
		sg_pair_compare(&p, &est, &e);
		v = e.rot_deg <= 1 && e.scale_rel <= 0.01 && e.pos_rel <= 0.01 ? RIGHT : WRONG;
		*conf = res.p[res.p[0].parent < 0 ? 1 : 0].confidence;
		snprintf(why, sizeof(why), "rotation %.3f deg, scale %.3f %%, position %.3f %%",
			 e.rot_deg, 100 * e.scale_rel, 100 * e.pos_rel);
	} else if (res.n == 2 && !why[0]) {
		snprintf(why, sizeof(why), "%s", res.p[res.p[0].placed ? 1 : 0].why);
	}
	fprintf(stderr, "%-8s %-3s overlap %.0f %%: %s in %lld ms (%s)\n",
		sg_family_name(sm->family), sm->colour ? "rgb" : "-", 100 * p.overlap,
		v == RIGHT   ? "right"
		: v == WRONG ? "WRONG"
			     : "left out",
		res.wall_ms, why);
	sq_stitch_result_release(&res);
	sg_pair_release(&p);
	return v;
}

int main(void)
{
	size_t right = 0;

	tmp = getenv("SCANQ_TMP");
	if (!tmp)
		tmp = "/tmp";
	for (size_t k = 0; k < NSAMPLES; k++) {
		double conf;
		int v = judge(&samples[k], &conf);

		T_CHECK(v != WRONG);
		if (v == RIGHT)
			T_CHECK(conf >= 0.5 && conf <= 1);
		if (samples[k].family >= SG_FAMILIES)
			T_EQ_INT(v, LEFT_OUT);
		else
			right += v == RIGHT;
	}
	fprintf(stderr, "placed right: %zu of %d family pairs\n", right, 2 * SG_FAMILIES);
	T_CHECK(right >= MIN_RIGHT);
	return t_done();
}
