/* stitch_pair.c - the builtin stitch's pairs (see stitch.c for the whole):
 * each candidate pair of inputs is placed one onto the other by the best
 * evidence it has, and an accepted placement becomes an edge for the spanning
 * tree.
 *   - Shared cameras: the same instants of the same video in both.
 *   - Descriptor matches: their points' SIFT descriptors (stitch_sift.c).
 *   - Global registration of the clouds (register.h), each candidate refined by
 *     ICP and judged on its fit. */
#include "stitch/stitch_run.h"
#include "base/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

#define MIN_SHARED_CAMS 6
/* Edge weights for the spanning tree: evidence comes in tiers, each above any
 * edge of the tiers below whatever its count (shared cameras fix a link to
 * 0.05 %; descriptor matches across a narrow overlap strip to ~1 degree; a
 * cloud fit on sparse clouds wanders further), then the count within a tier. */
#define TIER 1e9
#define CAMERA_TIER 2.0	    /* + shared cameras */
#define SIFT_TIER 1.0	    /* + agreeing descriptor matches */
			    /* cloud fits: their inlier points */
#define MIN_SIFT_MATCHES 24 /* descriptor matches worth a RANSAC */
#define MIN_SIFT_INLIERS 16 /* of them agreeing with the placement */
#define SCALE_SLACK 2.5	    /* the scale may differ from the units' ratio by this factor */
#define MIN_FITNESS 0.08    /* accepted pair: share of source points on the target, */
#define MIN_CORR_INLIERS 12 /* feature matches agreeing (global registration), */
#define CHANCE_THR_VOX 1.5  /* RANSAC's inlier distance (register.c) */
#define CHANCE_FACTOR 2.5   /* agreeing matches must exceed 2.5x chance + 8 */
#define CHANCE_MARGIN 8.0
#define MAX_UP_ANGLE_DEG 30.0 /* placed up sides of two inputs with cameras */
#define MAX_RMS_VOX 0.3 /* a wrong fit on a smooth seabed leaves ~0.4 voxel, a right one ~0.15 */
#define MIN_COLOUR_CORR 0.3  /* brightness correlation of paired points */
#define MAX_CAM_REL_RMS 0.05 /* shared cameras must agree to 5 % of their spread */
#define GLOBAL_ROUNDS 3	     /* RANSAC runs (other seeds) before a pair is given up */
#define ALL_PAIRS_MAX 10     /* up to this many inputs every pair is tried */
#define SEARCH_POINTS 2000   /* points a twin's first ICP moves */
#define COARSE_POINTS 2500   /* points a candidate's first ICP moves */
#define GLANCE_MIN 0.85	     /* coarsely refined, the surfaces coincide over this much */
#define RELIEF_MIN 40	     /* points in relief worth matching alone, */
#define RELIEF_SHARE 0.5     /* when they are at most this share of the cloud */
#define AGAIN_DEG 0.25	     /* ICP's two ways this far apart: once more */
#define AGAIN_SCALE 0.0025
/* Once a placement holds, candidates with less than this share of the best
 * candidate's agreeing matches are not tried. */
#define WEAK_SHARE 0.25
#define NEIGHBOUR_SPAN 3 /* beyond: each input against the next few */

/* ICP of a onto b at the coarse voxel, moving up to max_points of a's (0:
 * all). */
static void refine_coarse(const struct stitch_part *va, const struct stitch_part *vb,
			  size_t max_points, struct sq_sim *T, struct sq_reg_fit *fit)
{
	sq_reg_icp(&va->reg, &vb->reg, max_points, T, fit);
}

/* Then between their fine clouds both ways (sq_reg_icp_symmetric: one way
 * alone leaves the scale 0.3-1 % off on smooth noisy surfaces), once more
 * from their midpoint when the two ways end apart: a slow convergence along
 * a weakly constrained direction, not a loose overlap (of 15 pairs left out
 * as too loose, 3 right placements came within bounds; no wrong one did). */
static void refine_fine(const struct stitch_part *va, const struct stitch_part *vb,
			struct sq_sim *T, struct sq_reg_fit *fit)
{
	struct sq_reg_fit f;

	sq_reg_icp_symmetric(&va->fine, &vb->fine, T, &f);
	if (f.two_way_deg > AGAIN_DEG || f.two_way_scale > AGAIN_SCALE)
		sq_reg_icp_symmetric(&va->fine, &vb->fine, T, &f);
	sq_reg_evaluate(&va->reg, &vb->reg, T, 1.0, fit);
	fit->two_way_deg = f.two_way_deg, fit->two_way_scale = f.two_way_scale;
}

/* --- 3. pairs ----------------------------------------------------------------------- */

/* Enough overlap, a tight fit, and where both are coloured, colours that agree. */
static int good_fit(const struct sq_reg_fit *f, const struct stitch_part *dst)
{
	return f->fitness >= MIN_FITNESS && f->rms <= MAX_RMS_VOX * dst->reg.voxel &&
	       (isnan(f->colour) || f->colour >= MIN_COLOUR_CORR);
}

static void add_edge(struct stitch_state *r, int a, int b, const struct sq_sim *T,
		     const struct sq_reg_fit *fit, double weight, const char *method)
{
	struct stitch_edge *e;

	if (r->ne == r->ecap) {
		r->ecap = r->ecap ? 2 * r->ecap : 16;
		r->e = xrealloc(r->e, r->ecap * sizeof(*r->e));
	}
	e = &r->e[r->ne++];
	memset(e, 0, sizeof(*e));
	e->a = a, e->b = b, e->T = *T, e->fit = *fit, e->weight = weight;
	snprintf(e->method, sizeof(e->method), "%s", method);
}

/* a onto b by the cameras both saw at the same instants. Returns 1 when an edge
 * was added, 0 when the pair shares too few cameras. The cameras alone are
 * trusted: on the synthetic surveys they fix a neighbour to 0.05 % in scale,
 * where ICP on two sparse clouds overlapping by a few seconds of track wanders
 * by 1 %. The clouds only confirm the placement (fit and colour). */
static int pair_by_cameras(struct stitch_state *r, int a, int b)
{
	struct stitch_part *va = &r->v[a], *vb = &r->v[b];
	struct stitch_pairs sp;
	double rel = 1;
	struct sq_sim T;
	struct sq_reg_fit fit;
	struct judged j;
	char line[400];
	int rc = 0;

	stitch_cams_shared(&va->cams, &vb->cams, &sp);
	if (sp.n < MIN_SHARED_CAMS || stitch_cams_fit(&sp, &T, &rel) < 0 || rel > MAX_CAM_REL_RMS)
		goto out;
	sq_reg_evaluate(&va->reg, &vb->reg, &T, 1.0, &fit);
	stitch_judge(va, vb, &T, &fit, &j);
	stitch_cameras_weigh(&j, sp.n, rel);
	stitch_report_candidate(r, a, b, "shared-cameras", &j);
	stitch_describe(&j, line, sizeof(line));
	stitch_say(r, "'%s' -> '%s': %zu shared cameras (rms %.2f%% of their spread); clouds: %s",
		   va->in->name, vb->in->name, sp.n, 100 * rel, line);
	add_edge(r, a, b, &T, &fit, CAMERA_TIER * TIER + (double)sp.n, "shared-cameras");
	r->e[r->ne - 1].confidence = j.confidence;
	r->e[r->ne - 1].ev = j.ev;
	rc = 1;
out:
	stitch_pairs_release(&sp);
	return rc;
}

/* How many feature matches could agree by chance. A wrong transform still puts
 * each source point somewhere on the target, within RANSAC's threshold of its
 * match with probability about pi thr^2 / (target area), and the target has
 * about one point per voxel^2 of area: the expected count is lambda below. The
 * best of thousands of hypotheses does better than expected, so the bound is
 * well above lambda (a sparse cloud of a few hundred points has lambda ~ 6). */
static double chance_bound(size_t corr, size_t target_points)
{
	double lambda = (double)corr * M_PI * CHANCE_THR_VOX * CHANCE_THR_VOX /
			(double)(target_points ? target_points : 1);

	return CHANCE_FACTOR * lambda + CHANCE_MARGIN;
}

/* With cameras on both sides, a placement must keep a's cameras on the side b
 * was seen from (a flat seabed matched upside down fits its planes well). */
static int same_side(const struct stitch_part *va, const struct stitch_part *vb,
		     const struct sq_sim *T)
{
	double u[3], dot = 0;

	if (!va->have_up || !vb->have_up)
		return 1;
	for (int k = 0; k < 3; k++)
		u[k] = T->R[3 * k] * va->up[0] + T->R[3 * k + 1] * va->up[1] +
		       T->R[3 * k + 2] * va->up[2];
	for (int k = 0; k < 3; k++)
		dot += u[k] * vb->up[k];
	return dot >= cos(MAX_UP_ANGLE_DEG * M_PI / 180);
}

/* Cheap checks before the clouds are compared: agreeing matches beyond what
 * chance gives (when the placement came from matches), the scale within
 * bounds, cameras on the side they were, and some fit. ICP may shrink a
 * source that fits nowhere onto one spot of the target: hence the scale
 * bounds; coloured clouds must have colours to compare. */
static int plausible(const struct stitch_part *va, const struct stitch_part *vb,
		     const struct sq_reg_global_opts *go, const struct sq_sim *T,
		     const struct sq_reg_fit *fit, size_t target)
{
	size_t agree = fit->corr_inliers, corr = fit->corr;

	return (!corr ||
		(agree >= MIN_CORR_INLIERS && (double)agree >= chance_bound(corr, target))) &&
	       good_fit(fit, vb) && same_side(va, vb, T) && T->s >= go->scale_lo &&
	       T->s <= go->scale_hi && (!va->reg.c.rgb || !vb->reg.c.rgb || !isnan(fit->colour));
}

/* The placements of a pair the clouds agree with, distinct from each other. */
struct pool {
	struct judged j[2 * SQ_REG_CANDIDATES * GLOBAL_ROUNDS + 8];
	size_t n;
};

static void pool_add(struct pool *p, const struct stitch_part *va, const struct stitch_part *vb,
		     const struct judged *j)
{
	for (size_t k = 0; k < p->n; k++)
		if (!stitch_distinct(va, vb, &p->j[k].T, &j->T)) {
			if (j->score > p->j[k].score)
				p->j[k] = *j;
			return;
		}
	if (p->n < sizeof(p->j) / sizeof(p->j[0]))
		p->j[p->n++] = *j;
}

/* 1 when T places a as one of the pool's placements does. */
static int in_pool(const struct pool *p, const struct stitch_part *va, const struct stitch_part *vb,
		   const struct sq_sim *T)
{
	for (size_t k = 0; k < p->n; k++)
		if (!stitch_distinct(va, vb, &p->j[k].T, T))
			return 1;
	return 0;
}

/* Where a candidate placement came from. */
struct origin {
	size_t corr, agree; /* feature matches tried and agreeing (0, 0: not matches) */
	size_t target;	    /* target points the matches could land on (chance_bound's) */
	int search;	    /* a guess to try cheaply first (a twin) */
};

/* Refines one candidate placement of a onto b and judges it; one the clouds
 * agree with joins the pool. */
static void consider(struct stitch_state *r, int a, int b, const struct sq_reg_global_opts *go,
		     const struct origin *from, struct sq_sim T, struct pool *pool)
{
	struct stitch_part *va = &r->v[a], *vb = &r->v[b];
	size_t corr = from->corr, agree = from->agree;
	struct sq_reg_fit fit;
	struct judged j;
	char line[400];
	double glance;

	refine_coarse(va, vb, from->search ? SEARCH_POINTS : COARSE_POINTS, &T, &fit);
	fit.corr = corr, fit.corr_inliers = agree;
	if (!plausible(va, vb, go, &T, &fit, from->target)) {
		stitch_say(r,
			   "'%s' -> '%s': %zu/%zu feature matches agree (chance: %.0f), fitness "
			   "%.2f, rms %.2f voxels, colour %.2f: rejected",
			   va->in->name, vb->in->name, agree, corr,
			   chance_bound(corr, from->target), fit.fitness, fit.rms / vb->reg.voxel,
			   fit.colour);
		stitch_note(va, 1,
			    "onto '%s': no placement found that fits (feature matches no more than "
			    "chance, or the clouds apart)",
			    vb->in->name);
		return;
	}
	if (in_pool(pool, va, vb, &T))
		return; /* another candidate led there: judged already */
	if ((glance = stitch_glance(va, vb, &T)) < GLANCE_MIN) {
		stitch_say(r,
			   "'%s' -> '%s': %zu/%zu feature matches agree; the surfaces coincide "
			   "over %.0f %% of the overlap: rejected",
			   va->in->name, vb->in->name, agree, corr, 100 * glance);
		stitch_note(va, 2, "onto '%s': the surfaces coincide over %.0f %% of the overlap",
			    vb->in->name, 100 * glance);
		return;
	}
	refine_fine(va, vb, &T, &fit);
	fit.corr = corr, fit.corr_inliers = agree;
	stitch_judge(va, vb, &T, &fit, &j);
	stitch_report_candidate(r, a, b, "global+icp", &j);
	stitch_describe(&j, line, sizeof(line));
	stitch_say(r, "'%s' -> '%s': %zu/%zu feature matches agree; %s", va->in->name, vb->in->name,
		   agree, corr, line);
	if (!j.consistent) {
		stitch_note(va, 2, "onto '%s': %s", vb->in->name, j.why);
		return;
	}
	pool_add(pool, va, vb, &j);
}

/* Global registration of a onto b, matching the points of ra onto rb (their
 * prepared clouds, or subsets of them): its best few placements in each
 * round (other seeds, then one-way matches) until the clouds agree with one. */
static void try_global(struct stitch_state *r, int a, int b, const struct sq_reg_cloud *ra,
		       const struct sq_reg_cloud *rb, struct pool *pool)
{
	struct stitch_part *va = &r->v[a], *vb = &r->v[b];
	double s0 = vb->unit / va->unit;
	struct sq_reg_global_opts go = {
	    .scale_lo = s0 / SCALE_SLACK, .scale_hi = s0 * SCALE_SLACK, .seed = r->o->seed};
	struct sq_reg_candidates c;

	if (va->have_up && vb->have_up)
		go.up_src = va->up, go.up_dst = vb->up;
	for (int round = 0; round < GLOBAL_ROUNDS && !pool->n; round++, go.seed += 7919) {
		go.one_way = round > 0;
		if (sq_reg_global(ra, rb, &go, &c) < 0) {
			stitch_say(r, "'%s' -> '%s': no consistent feature matches", va->in->name,
				   vb->in->name);
			stitch_note(va, 1, "onto '%s': no consistent feature matches",
				    vb->in->name);
			return;
		}
		for (size_t k = 0; k < c.n; k++) {
			struct origin from = {c.corr, c.inliers[k], rb->c.n, 0};

			if (!pool->n || c.inliers[k] >= WEAK_SHARE * (double)c.inliers[0])
				consider(r, a, b, &go, &from, c.T[k], pool);
		}
	}
}

/* How many of n flags are set. */
static size_t count_set(const unsigned char *f, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; f && i < n; i++)
		k += f[i];
	return k;
}

/* Where the surface is mostly flat, the features of its few boulders or
 * mounds drown among the flat stretch's alike ones: matching only the points
 * in relief finds the placement the whole clouds hide. */
static void try_relief(struct stitch_state *r, int a, int b, struct pool *pool)
{
	struct stitch_part *va = &r->v[a], *vb = &r->v[b];
	size_t na = count_set(va->relief, va->reg.c.n), nb = count_set(vb->relief, vb->reg.c.n);
	struct sq_reg_cloud sa, sb;

	if (na < RELIEF_MIN || nb < RELIEF_MIN || na > RELIEF_SHARE * (double)va->reg.c.n ||
	    nb > RELIEF_SHARE * (double)vb->reg.c.n)
		return;
	stitch_say(r, "'%s' -> '%s': matching the %zu and %zu points in relief", va->in->name,
		   vb->in->name, na, nb);
	sq_reg_subset(&va->reg, va->relief, &sa);
	sq_reg_subset(&vb->reg, vb->relief, &sb);
	try_global(r, a, b, &sa, &sb, pool);
	sq_reg_release(&sa);
	sq_reg_release(&sb);
}

/* The other ways the pool's best could be explained: itself turned over
 * about the overlap's axes, refined and judged like any candidate. */
static void try_twins(struct stitch_state *r, int a, int b, struct pool *pool)
{
	struct stitch_part *va = &r->v[a], *vb = &r->v[b];
	double s0 = vb->unit / va->unit;
	struct sq_reg_global_opts go = {.scale_lo = s0 / SCALE_SLACK, .scale_hi = s0 * SCALE_SLACK};
	struct sq_sim tw[3];
	size_t best = 0;
	int n;

	for (size_t k = 1; k < pool->n; k++)
		if (pool->j[k].score > pool->j[best].score)
			best = k;
	n = stitch_twins(&pool->j[best], tw);
	for (int k = 0; k < n; k++) {
		struct origin from = {0, 0, vb->reg.c.n, 1};

		consider(r, a, b, &go, &from, tw[k], pool);
	}
}

static void describe(const struct sq_sim *T, char *buf, size_t len)
{
	snprintf(buf, len, "turned %.1f deg, scale %.4g, shift (%.4g, %.4g, %.4g)",
		 sq_rot_angle_deg(T->R), T->s, T->t[0], T->t[1], T->t[2]);
}

/* The pool's verdict: the best placement, unless a distinct one comes close
 * (ambiguous: both are named) or it is too loose. */
static void decide(struct stitch_state *r, int a, int b, struct pool *pool)
{
	struct stitch_part *va = &r->v[a], *vb = &r->v[b];
	struct judged *best = NULL, *other = NULL;
	char d1[120], d2[120];
	int ambiguous;

	for (size_t k = 0; k < pool->n; k++)
		if (!best || pool->j[k].score > best->score)
			best = &pool->j[k];
	if (!best)
		return;
	for (size_t k = 0; k < pool->n; k++)
		if (&pool->j[k] != best && (!other || pool->j[k].score > other->score))
			other = &pool->j[k];
	ambiguous = stitch_weigh_ambiguity(best, other);
	if (best->confidence >= STITCH_PLACE) {
		add_edge(r, a, b, &best->T, &best->fit, (double)best->fit.inliers, "global+icp");
		r->e[r->ne - 1].confidence = best->confidence;
		r->e[r->ne - 1].ev = best->ev;
		return;
	}
	if (ambiguous) {
		describe(&best->T, d1, sizeof(d1));
		describe(&other->T, d2, sizeof(d2));
		stitch_note(va, 4,
			    "ambiguous onto '%s': two placements fit about equally well "
			    "(coherence %.3f and %.3f): %s; or %s",
			    vb->in->name, best->ev.coherence, other->ev.coherence, d1, d2);
		va->ambiguous = 1, va->alt[0] = best->T, va->alt[1] = other->T, va->alt_on = b;
		return;
	}
	stitch_note(va, 3, "onto '%s' (confidence %.2f): %s", vb->in->name, best->confidence,
		    best->why);
}

/* a onto b by the image descriptors of their points (stitch_sift.c): RANSAC
 * over the matches, the best placement that enough of them agree with, more
 * than chance allows. Like shared cameras, the matches are trusted over ICP on
 * the sparse clouds; the clouds only report their fit. 1 when an edge was
 * added. */
static int pair_by_features(struct stitch_state *r, int a, int b)
{
	struct stitch_part *va = &r->v[a], *vb = &r->v[b];
	double s0 = vb->unit / va->unit;
	struct sq_reg_global_opts go = {
	    .scale_lo = s0 / SCALE_SLACK, .scale_hi = s0 * SCALE_SLACK, .seed = r->o->seed};
	struct sq_cloud ca = {.n = va->sift.n, .xyz = va->sift.xyz},
			cb = {.n = vb->sift.n, .xyz = vb->sift.xyz};
	struct stitch_matches m;
	struct sq_reg_candidates c;
	struct sq_reg_fit fit;
	int ok = 0;

	if (va->sift.n < MIN_SIFT_MATCHES || vb->sift.n < MIN_SIFT_MATCHES)
		return 0;
	if (va->have_up && vb->have_up)
		go.up_src = va->up, go.up_dst = vb->up;
	stitch_sift_match(&va->sift, &vb->sift, &m);
	if (m.n < MIN_SIFT_MATCHES || sq_reg_global_matched(&ca, va->reg.voxel, &cb, vb->reg.voxel,
							    m.a, m.b, m.n, &go, &c) < 0) {
		stitch_say(r, "'%s' -> '%s': %zu descriptor matches of %zu and %zu points: too few",
			   va->in->name, vb->in->name, m.n, va->sift.n, vb->sift.n);
		goto out;
	}
	for (size_t k = 0; k < c.n && !ok; k++) {
		const struct sq_sim *T = &c.T[k];
		double chance = chance_bound(m.n, vb->reg.c.n);

		ok = c.inliers[k] >= MIN_SIFT_INLIERS && (double)c.inliers[k] >= chance &&
		     same_side(va, vb, T) && T->s >= go.scale_lo && T->s <= go.scale_hi;
		sq_reg_evaluate(&va->reg, &vb->reg, T, 1.0, &fit);
		fit.corr = m.n, fit.corr_inliers = c.inliers[k];
		stitch_say(r,
			   "'%s' -> '%s': %zu/%zu descriptor matches agree (chance: %.0f); clouds: "
			   "fitness %.2f, rms %.2f voxels, colour %.2f%s",
			   va->in->name, vb->in->name, c.inliers[k], m.n, chance, fit.fitness,
			   fit.rms / vb->reg.voxel, fit.colour, ok ? "" : ": rejected");
		if (ok) {
			struct judged j;
			char line[400];

			stitch_judge(va, vb, T, &fit, &j);
			stitch_matches_weigh(&j, c.inliers[k], chance);
			stitch_report_candidate(r, a, b, "shared-features", &j);
			stitch_describe(&j, line, sizeof(line));
			stitch_say(r, "'%s' -> '%s': clouds: %s", va->in->name, vb->in->name, line);
			add_edge(r, a, b, T, &fit, SIFT_TIER * TIER + (double)c.inliers[k],
				 "shared-features");
			r->e[r->ne - 1].confidence = j.confidence;
			r->e[r->ne - 1].ev = j.ev;
		}
	}
out:
	stitch_matches_release(&m);
	return ok;
}

/* a onto b by features, then ICP, judged by the clouds. When a's up side is
 * unknown (no cameras) its normals are a guess: if no placement holds, a is
 * turned over and tried again (and stays turned, for its other pairs). */
static void pair_global(struct stitch_state *r, int a, int b)
{
	struct stitch_part *va = &r->v[a], *vb = &r->v[b];
	struct pool *pool = xcalloc(1, sizeof(*pool));

	try_global(r, a, b, &va->reg, &vb->reg, pool);
	if (!pool->n && r->colour_later && (!va->reg.colour_desc || !vb->reg.colour_desc)) {
		stitch_say(r, "'%s' -> '%s': colour in the descriptors", va->in->name,
			   vb->in->name);
		sq_reg_set_colour(&va->reg, 1);
		sq_reg_set_colour(&vb->reg, 1);
		try_global(r, a, b, &va->reg, &vb->reg, pool);
	}
	if (!pool->n)
		try_relief(r, a, b, pool);
	if (!pool->n && !va->have_up) {
		sq_reg_flip(&va->reg);
		try_global(r, a, b, &va->reg, &vb->reg, pool);
		if (!pool->n)
			try_relief(r, a, b, pool);
	}
	if (pool->n)
		try_twins(r, a, b, pool);
	decide(r, a, b, pool);
	free(pool);
}

static int candidate(const struct stitch_state *r, size_t a, size_t b)
{
	return r->n <= ALL_PAIRS_MAX || b - a <= NEIGHBOUR_SPAN;
}

int stitch_register_pairs(struct stitch_state *r, struct sq_err *err)
{
	for (size_t b = 1; b < r->n; b++)
		for (size_t a = 0; a < b; a++) {
			if (stitch_cancelled(r, err) < 0)
				return -1;
			if (r->v[a].unusable || r->v[b].unusable)
				continue;
			/* the later input onto the earlier: cameras first */
			if (pair_by_cameras(r, (int)b, (int)a) || !candidate(r, a, b))
				continue;
			/* then the texture both saw, then the shapes */
			if (!pair_by_features(r, (int)b, (int)a))
				pair_global(r, (int)b, (int)a);
		}
	return 0;
}
