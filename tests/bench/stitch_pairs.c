/* stitch_pairs.c - bench-stitch --pairs: random pairs of clouds over terrain
 * families the stitch was not tuned on (surfgen.h), as a `command` backend
 * writes them, through scanq's stitch and Open3D's pipeline (given the true
 * relative scale), counted per family and overlap band.
 *
 * Pair k of a run is of family k mod F (so every family gets as many), its
 * overlap drawn within band (k / F) mod 3, everything else drawn from the
 * pair's seed (run seed x 1000003 + k): rotation, scale 0.3-3x per cloud,
 * noise 0.5-2 cm, up to 2 % outliers, colour or not. A placement is right
 * when its rotation is within 1 degree, its scale within 1 % and every corner
 * of the placed cloud's box within 1 % of the pair's diagonal; wrong when
 * placed otherwise; left out when scanq did not place it. */
#include "stitch_bench.h"
#include "surfgen.h"
#include "stitch/stitch.h"
#include "base/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/banned.h"

#define BANDS 3
#define RIGHT_ROT_DEG 1.0
#define RIGHT_SCALE_REL 0.01
#define RIGHT_POS_REL 0.01

static const double band_lo[BANDS] = {0.25, 0.35, 0.45}, band_hi[BANDS] = {0.35, 0.45, 0.60};

enum { V_RIGHT, V_WRONG, V_OUT, VERDICTS };

struct tally {
	size_t n[METHODS][VERDICTS];
	size_t pairs;
};

struct pair_run {
	struct sg_pair p;
	char *paths[2], *merged;
	int verdict[METHODS];
	struct cg_err e[METHODS];
	double wall_s[METHODS], confidence;
	char why[SQ_ERR_MSG_MAX + 256];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "    stitch: %s\n", line);
}

static int judge(const struct sg_pair *p, const struct sq_sim *est, struct cg_err *e)
{
	sg_pair_compare(p, est, e);
	return e->rot_deg <= RIGHT_ROT_DEG && e->scale_rel <= RIGHT_SCALE_REL &&
		       e->pos_rel <= RIGHT_POS_REL
		   ? V_RIGHT
		   : V_WRONG;
}

/* --calib: every candidate the stitch judged, with what the truth says of it. */
static void calib_hook(void *ctx, const struct sq_stitch_candidate *c)
{
	const struct pair_run *pr = ctx;
	const struct sq_stitch_evidence *e = &c->ev;
	struct sq_sim est;
	struct cg_err err;
	int v;

	est = c->T;
	if (c->src == 0)
		cg_sim_invert(&c->T, &est);
	v = judge(&pr->p, &est, &err);
	printf("  cand %-8s %3.0f %-3s %-5s %-3s coh %.3f rel %.3f ovl %.2f ab %.3f be %.3f w "
	       "%5.1f nd %5.2f "
	       "rsd %.4f ssd %.5f tsd %.4f twd %.4f tws %.5f col %5.2f run %.2f conf %.2f  err "
	       "%.2f/%.2f/%.2f %s\n",
	       sg_family_name(pr->p.o.family), 100 * pr->p.overlap, pr->p.colour ? "rgb" : "-",
	       v == V_RIGHT ? "RIGHT" : "wrong", c->accepted ? "ACC" : "rej", e->coherence,
	       e->relief_coherence, e->overlap, e->off_above, e->off_below, e->width, e->normal_deg,
	       e->rot_sd_deg, e->scale_sd, e->shift_sd, e->two_way_deg, e->two_way_scale, e->colour,
	       e->runner_up, c->confidence, err.rot_deg, 100 * err.scale_rel, 100 * err.pos_rel,
	       c->why ? c->why : "");
}

/* scanq on the pair: cloud 1 placed into cloud 0's frame (whichever input
 * the stitch took as its reference). */
static void run_scanq(const struct bench *b, struct pair_run *pr)
{
	struct sq_stitch_input in[2] = {{.name = "a", .ply = pr->paths[0]},
					{.name = "b", .ply = pr->paths[1]}};
	struct sq_stitch_opts so = {.seed = 1,
				    .hooks = {.log = b->verbose ? log_line : NULL, .ctx = pr},
				    .candidate = b->calib ? calib_hook : NULL};
	struct sq_stitch_result res;
	struct sq_err err = {0};
	double t0 = now_s();
	int rc = sq_stitch_run(in, 2, pr->merged, &so, &res, &err);

	pr->wall_s[SCANQ] = now_s() - t0;
	pr->verdict[SCANQ] = V_OUT;
	pr->confidence = NAN;
	if (rc < 0 || res.placed < 2) {
		/* the stitch's error names the input that failed it and why; else
		 * the second input's own reason */
		const char *why = res.n == 2 ? res.p[1].why : "";

		snprintf(pr->why, sizeof(pr->why), "%s", rc < 0 || !why[0] ? err.msg : why);
	} else {
		struct sq_sim inv0, est;

		cg_sim_invert(&res.p[0].T, &inv0);
		cg_sim_compose(&inv0, &res.p[1].T, &est);
		pr->verdict[SCANQ] = judge(&pr->p, &est, &pr->e[SCANQ]);
		pr->confidence = res.p[res.p[0].parent < 0 ? 1 : 0].confidence;
	}
	sq_stitch_result_release(&res);
}

static void run_open3d(const struct bench *b, struct pair_run *pr, unsigned seed)
{
	double pre[2] = {1.0 / pr->p.G[0].s, 1.0 / pr->p.G[1].s};
	struct estimate est;
	struct outcome o;

	memset(&o, 0, sizeof(o));
	sb_run_o3d(b, pr->paths, 2, seed, pre, &est, &o);
	pr->wall_s[O3D] = o.wall_s;
	pr->verdict[O3D] = o.ran && est.have[1] ? judge(&pr->p, &est.T[1], &pr->e[O3D]) : V_OUT;
}

static const char *verdict_name(int v)
{
	return v == V_RIGHT ? "right" : v == V_WRONG ? "WRONG" : "left out";
}

static void print_row(const struct bench *b, size_t k, const struct pair_run *pr)
{
	const struct sg_pair *p = &pr->p;

	printf("%4zu %-8s %4.0f %6.2f %-3s %5.1f  %-8s", k, sg_family_name(p->o.family),
	       100 * p->overlap, p->G[0].s / p->G[1].s, p->colour ? "rgb" : "-", 100 * p->noise_m,
	       verdict_name(pr->verdict[SCANQ]));
	if (pr->verdict[SCANQ] == V_OUT)
		printf(" %27s", "");
	else
		printf(" %8.3f %8.3f %8.3f", pr->e[SCANQ].rot_deg, 100 * pr->e[SCANQ].scale_rel,
		       100 * pr->e[SCANQ].pos_rel);
	printf(" %5.2f %6.3f", pr->confidence, pr->wall_s[SCANQ]);
	if (b->o3d)
		printf(" | %-8s %8.3f %8.3f %8.3f %6.3f", verdict_name(pr->verdict[O3D]),
		       pr->e[O3D].rot_deg, 100 * pr->e[O3D].scale_rel, 100 * pr->e[O3D].pos_rel,
		       pr->wall_s[O3D]);
	if (pr->verdict[SCANQ] == V_OUT)
		printf("  [%s]", pr->why);
	printf("\n");
	fflush(stdout);
}

static int run_one(const struct bench *b, size_t k, const struct sg_pair_opts *po,
		   struct pair_run *pr)
{
	struct sq_err err = {0};
	int rc = -1;

	memset(pr, 0, sizeof(*pr));
	sg_pair_plan(po, &pr->p);
	for (int i = 0; i < 2; i++)
		pr->paths[i] = xasprintf("%s/pair%zu-%d.ply", b->work, k, i);
	pr->merged = xasprintf("%s/pair%zu-merged.ply", b->work, k);
	if (sg_pair_write(&pr->p, 0, pr->paths[0], &err) < 0 ||
	    sg_pair_write(&pr->p, 1, pr->paths[1], &err) < 0) {
		fprintf(stderr, "bench-stitch: %s\n", err.msg);
		goto out;
	}
	run_scanq(b, pr);
	if (b->o3d && po->defect == SG_OK)
		run_open3d(b, pr, (unsigned)(k + 1));
	print_row(b, k, pr);
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (!b->keep)
			remove(pr->paths[i]);
		free(pr->paths[i]);
	}
	remove(pr->merged);
	free(pr->merged);
	sg_pair_release(&pr->p);
	return rc;
}

static void print_header(const struct bench *b)
{
	printf("%4s %-8s %4s %6s %-3s %5s  %-8s %8s %8s %8s %5s %6s", "pair", "family", "ovl%",
	       "scale", "col", "nz_cm", "scanq", "rot_deg", "scale_%", "pos_%", "conf", "wall_s");
	if (b->o3d)
		printf(" | %-8s %8s %8s %8s %6s", "open3d", "rot_deg", "scale_%", "pos_%", "wall_s");
	printf("\n");
}

static void print_tally_row(const struct bench *b, const char *fam, const char *band,
			    const struct tally *t)
{
	const size_t *s = t->n[SCANQ], *o = t->n[O3D];

	printf("%-8s %-7s %5zu   %5zu %5zu %5zu  %4.0f %%", fam, band, t->pairs, s[V_RIGHT],
	       s[V_WRONG], s[V_OUT], t->pairs ? 100.0 * (double)s[V_RIGHT] / (double)t->pairs : 0);
	if (b->o3d)
		printf("   | %5zu %5zu", o[V_RIGHT], o[V_WRONG] + o[V_OUT]);
	printf("\n");
}

static void add(struct tally *t, const struct pair_run *pr)
{
	t->pairs++;
	for (int m = 0; m < METHODS; m++)
		t->n[m][pr->verdict[m]]++;
}

static double median_of(double *v, size_t n)
{
	for (size_t i = 1; i < n; i++) /* insertion sort: a few hundred values */
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];

			v[j] = v[j - 1], v[j - 1] = t;
		}
	return n ? (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2])) : NAN;
}

static void print_tables(const struct bench *b, struct tally (*t)[BANDS], const double *walls,
			 size_t n)
{
	char band[16];

	printf("\n%-8s %-7s %5s   %5s %5s %5s  %6s", "family", "overlap", "pairs", "right", "wrong",
	       "out", "right");
	if (b->o3d)
		printf("   | %5s %5s", "o3d_r", "o3d_w");
	printf("\n");
	for (int f = 0; f < SG_ALL_FAMILIES; f++) {
		struct tally all = {0};

		for (int k = 0; k < BANDS; k++) {
			if (!t[f][k].pairs)
				continue;
			snprintf(band, sizeof(band), "%.0f-%.0f%%", 100 * band_lo[k],
				 100 * band_hi[k]);
			print_tally_row(b, sg_family_name(f), band, &t[f][k]);
			all.pairs += t[f][k].pairs;
			for (int m = 0; m < METHODS; m++)
				for (int v = 0; v < VERDICTS; v++)
					all.n[m][v] += t[f][k].n[m][v];
		}
		if (all.pairs)
			print_tally_row(b, sg_family_name(f), "all", &all);
	}
	if (b->o3d && n) {
		double sq = median_of((double *)walls, n), o3 = median_of((double *)walls + n, n);

		printf("median wall per pair: scanq %.3f s, open3d %.3f s (ratio %.3f)\n", sq, o3,
		       sq / o3);
	}
}

static int parse_families(const char *s, int *fams)
{
	int n = 0;

	while (s && *s && n < SG_ALL_FAMILIES) {
		const char *comma = strchr(s, ',');
		char name[32];
		int f;

		snprintf(name, sizeof(name), "%.*s", comma ? (int)(comma - s) : (int)strlen(s), s);
		if ((f = sg_family_parse(name)) < 0)
			return -1;
		fams[n++] = f;
		s = comma ? comma + 1 : NULL;
	}
	return n;
}

int sb_run_pairs(const struct bench *b)
{
	int fams[SG_ALL_FAMILIES], nf;
	struct tally t[SG_ALL_FAMILIES][BANDS];
	double *walls = xcalloc(2 * (size_t)b->npairs + 2, sizeof(*walls));
	size_t nw = 0;
	int rc = 0;

	nf = b->families ? parse_families(b->families, fams) : SG_FAMILIES;
	for (int f = 0; !b->families && f < SG_FAMILIES; f++)
		fams[f] = f;
	if (nf <= 0) {
		fprintf(stderr, "bench-stitch: bad --families '%s'\n", b->families);
		free(walls);
		return -1;
	}
	memset(t, 0, sizeof(t));
	printf("%d random pairs, run seed %u, %zu points per cloud\n", b->npairs, b->run_seed,
	       b->points);
	print_header(b);
	for (size_t k = 0; k < (size_t)b->npairs && rc == 0; k++) {
		struct sg_pair_opts po;
		struct pair_run pr;
		int band = (int)((k / (size_t)nf) % BANDS);

		if (b->only >= 0 && k != (size_t)b->only)
			continue;
		sg_pair_opts_default(&po);
		po.family = fams[k % (size_t)nf];
		po.seed = b->run_seed * 1000003u + (uint32_t)k;
		po.points = b->points;
		po.overlap_min = band_lo[band], po.overlap_max = band_hi[band];
		rc = run_one(b, k, &po, &pr);
		if (rc == 0)
			add(&t[po.family][band], &pr);
		if (rc == 0 && b->o3d)
			walls[nw] = pr.wall_s[SCANQ], walls[b->npairs + nw++] = pr.wall_s[O3D];
	}
	if (rc == 0) {
		memmove(walls + nw, walls + b->npairs, nw * sizeof(*walls));
		print_tables(b, t, walls, nw);
	}
	free(walls);
	return rc;
}

/* Every defect of the second cloud, and the degenerate families, on a few
 * pairs each: scanq must leave the input out (or fail with a clear error),
 * never place it, never crash. */
int sb_run_defects(const struct bench *b)
{
	int rc = 0;

	printf("defects: the second cloud broken on purpose; placed is a failure\n");
	print_header(b);
	for (int d = 1; d < SG_DEFECTS + 2 && rc == 0; d++)
		for (uint32_t s = 1; s <= 3 && rc == 0; s++) {
			struct sg_pair_opts po;
			struct pair_run pr;

			sg_pair_opts_default(&po);
			po.points = b->points;
			po.seed = b->run_seed * 7u + s;
			po.family =
			    d < SG_DEFECTS ? (int)(s % SG_FAMILIES) : SG_PLANE + d - SG_DEFECTS;
			po.defect = d < SG_DEFECTS ? d : SG_OK;
			po.colour = d < SG_DEFECTS ? -1 : 0;
			printf("-- %s\n",
			       d < SG_DEFECTS ? sg_defect_name(d) : sg_family_name(po.family));
			rc = run_one(b, (size_t)s, &po, &pr);
		}
	return rc;
}
