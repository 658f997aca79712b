/* stitch_verify.c - judging a placement by the clouds alone, whatever found
 * it (register_check.h), the confidence it earns, and the other ways the data
 * could be explained.
 *
 * A placement is published only when the clouds agree with it and it is the
 * only one they agree with:
 *   - the surfaces coincide over their overlap, both ways (coherence), and
 *     where the surface has relief (boulders, ridges) the relief coincides
 *     too: a flat surface with a few features fits itself anywhere but there;
 *   - the overlap fixes the placement: its predicted rotation and scale
 *     errors (from how the overlap's shape constrains point-to-plane
 *     residuals) stay well inside what would make it wrong, and it is more
 *     than a strip;
 *   - no distinct placement does nearly as well: the same surface turned
 *     over about the overlap's axes (a smooth or ribbed surface fits its own
 *     mirror) and the other candidates registration found are judged alike;
 *     when one of them scores close to the best, the input is left out as
 *     ambiguous and both are named.
 * Each factor maps to a confidence in 0..1 that is 0.5 at its gate; a
 * placement's confidence is the smallest, so it is placed when at least 0.5
 * and the reason names the factor that failed. */
#include "stitch/stitch_run.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/banned.h"

/* Gates, and the values where a factor is fully convincing. */
/* Share of the overlap where the surfaces coincide, relative to what a right
 * placement of these clouds reaches (their own noise and outliers): right
 * placements 0.995-1, the wrong ones that come nearest 0.976-0.988. */
#define COHERENCE_GATE 0.985
#define COHERENCE_GOOD 0.995
#define RELIEF_GATE 0.65 /* the same over the points in relief */
#define RELIEF_GOOD 0.85
#define COLOUR_GATE 0.6 /* brightness correlation where both are coloured: right 0.78- */
#define COLOUR_GOOD 0.8
#define ROT_LIMIT_DEG 0.5 /* predicted 3-sigma errors must stay within these */
#define SCALE_LIMIT 0.005
#define TWO_WAY_DEG 1.0 /* and ICP's two ways must end this close */
#define TWO_WAY_SCALE 0.01
#define SIGMAS 3.0
#define PRECISION_GOOD 0.25 /* predicted error at this share of its limit: convincing */
#define WIDTH_GATE_VOX 4.0  /* an overlap narrower than this is a strip */
/* Ambiguity: how many times more of the overlap a distinct runner-up leaves
 * unexplained (1 - score) than the best does, each plus UNEXPLAINED_FLOOR (so
 * that two near-perfect fits count as alike). At AMBIGUOUS or below the two
 * explain the data about equally well (a plane, a sinusoid: 1.0-1.1); a right
 * placement leaves 5-25 times less unexplained than the wrong ones that come
 * nearest on ripples or flat sand. */
#define AMBIGUOUS 2.0
#define DISTINCT_GOOD 5.0
#define UNEXPLAINED_FLOOR 0.005
#define DISTINCT_VOX 2.0   /* placements further apart than this are distinct */
#define GLANCE_POINTS 2000 /* raw points a glance at a coarse placement counts */
/* Shared cameras: their fit's residual as a share of their spread (stitch_pair.c
 * takes none beyond 5 %), and how many. */
#define CAM_REL_GATE 0.05
#define CAM_REL_GOOD 0.02
#define CAM_COUNT_GATE 6.0
#define CAM_COUNT_GOOD 12.0
/* Descriptor matches that agree, as a multiple of what chance gives. */
#define MATCHES_GATE 1.0
#define MATCHES_GOOD 2.0
/* Sparse clouds from structure from motion fit each other more loosely than
 * shared cameras do (on the synthetic survey: coherence 1.0 where they
 * overlap widely, 0.8-0.9 across a strip 2-4 voxels wide): they overrule
 * cameras or matches only where a wide overlap mostly does not coincide. */
#define CONTRADICT_WIDTH_VOX 8.0
#define CONTRADICT_COH 0.5
#define CONTRADICTED 0.25

static void side_of(const struct stitch_part *v, struct sq_reg_side *s)
{
	s->surf = &v->fine;
	s->raw = v->reg.raw;
	s->nraw = v->reg.nraw;
	s->noise = v->noise;
	s->self_share = v->self_share;
	s->salient = v->salient;
}

/* The smaller of two shares, NAN counting as unknown (the other one), each
 * relative to what a right placement reaches (and at most 1). */
static double min_share(double a, double a_max, double b, double b_max)
{
	/* (fmin of NAN and 1 is 1: the unknown must stay unknown) */
	a = isnan(a) ? NAN : fmin(1, a / fmax(a_max, 0.5));
	b = isnan(b) ? NAN : fmin(1, b / fmax(b_max, 0.5));
	if (isnan(a))
		return b;
	return isnan(b) ? a : fmin(a, b);
}

double stitch_glance(const struct stitch_part *va, const struct stitch_part *vb,
		     const struct sq_sim *T)
{
	struct sq_reg_side a, b;
	double c;

	side_of(va, &a);
	side_of(vb, &b);
	c = sq_reg_coherence(&a, &b, T, GLANCE_POINTS);
	return isnan(c) ? 0 : fmin(1, c / fmax(va->self_share, 0.5));
}

void stitch_evidence(const struct stitch_part *va, const struct stitch_part *vb,
		     const struct sq_sim *T, const struct sq_reg_fit *fit,
		     struct sq_stitch_evidence *ev, struct sq_reg_check *chk)
{
	struct sq_reg_side a, b;
	struct sq_reg_check c;

	side_of(va, &a);
	side_of(vb, &b);
	sq_reg_check(&a, &b, T, &c);
	memset(ev, 0, sizeof(*ev));
	ev->checked = 1;
	ev->coherence = min_share(c.coherence[0], va->self_share, c.coherence[1], vb->self_share);
	if (isnan(ev->coherence))
		ev->coherence = 0;
	ev->relief_coherence = min_share(c.salient_coherence[0], va->self_share,
					 c.salient_coherence[1], vb->self_share);
	ev->overlap = va->reg.nraw ? (double)c.over[0] / (double)va->reg.nraw : 0;
	ev->off_above = c.above, ev->off_below = c.below;
	ev->width = c.width_vox * vb->fine.voxel / vb->reg.voxel;
	ev->normal_deg = c.normal_deg;
	ev->rot_sd_deg = c.rot_sd_deg, ev->scale_sd = c.scale_sd;
	ev->shift_sd = c.shift_sd / fmax(c.width_vox * vb->fine.voxel, 1e-300);
	ev->colour = fit ? fit->colour : NAN;
	ev->two_way_deg = fit ? fit->two_way_deg : 0;
	ev->two_way_scale = fit ? fit->two_way_scale : 0;
	if (chk)
		*chk = c;
}

/* 0.5 at the gate, 1 at good and beyond, falling linearly below (higher is
 * better when good > gate, lower when good < gate). */
static double factor(double x, double gate, double good)
{
	double c = 0.5 + 0.5 * (x - gate) / (good - gate);

	return isnan(c) ? 0 : c < 0 ? 0 : c > 1 ? 1 : c;
}

/* The placement's likely error as a share of what is allowed (rotation or
 * scale, which ever is worse); <= 1 passes. Two estimates: the fit's
 * covariance (3 sigma), which assumes independent residuals and is
 * optimistic (0.03 degree predicted where 0.6 was made), and how far ICP one
 * way and the other end apart, which is not: right placements mostly end
 * under 0.3 degree and 1 % apart, and the near misses coherence cannot see
 * (flat ground slid 2.6 % in scale, ripples shifted by a wavelength, a
 * sloped field turned over that ICP pulls 2 % apart) further. */
static double precision_ratio(const struct sq_stitch_evidence *ev)
{
	double cov =
	    fmax(SIGMAS * ev->rot_sd_deg / ROT_LIMIT_DEG, SIGMAS * ev->scale_sd / SCALE_LIMIT);

	return fmax(cov, fmax(ev->two_way_deg / TWO_WAY_DEG, ev->two_way_scale / TWO_WAY_SCALE));
}

static void say_why(struct judged *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say_why(struct judged *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->why, sizeof(j->why), fmt, ap);
	va_end(ap);
}

/* The weakest factor's confidence and its reason. */
static void weigh(struct judged *j)
{
	const struct sq_stitch_evidence *ev = &j->ev;
	double coh = factor(ev->coherence, COHERENCE_GATE, COHERENCE_GOOD);
	double rel = isnan(ev->relief_coherence)
			 ? 1
			 : factor(ev->relief_coherence, RELIEF_GATE, RELIEF_GOOD);
	double col = isnan(ev->colour) ? 1 : factor(ev->colour, COLOUR_GATE, COLOUR_GOOD);
	double pr = precision_ratio(ev), prec = factor(pr, 1.0, PRECISION_GOOD);
	double wid = ev->width >= WIDTH_GATE_VOX ? 1 : 0;

	j->consistent = coh >= 0.5 && rel >= 0.5 && col >= 0.5;
	j->score = ev->coherence * (isnan(ev->relief_coherence) ? 1 : ev->relief_coherence);
	j->confidence = fmin(fmin(coh, fmin(rel, col)), fmin(prec, wid));
	j->why[0] = '\0';
	if (coh < 0.5)
		say_why(j,
			"the surfaces coincide over %.1f %% of their overlap (%.1f %% off above, "
			"%.1f %% below)",
			100 * ev->coherence, 100 * ev->off_above, 100 * ev->off_below);
	else if (rel < 0.5)
		say_why(j, "the relief does not match: %.0f %% of the points in relief coincide",
			100 * ev->relief_coherence);
	else if (col < 0.5)
		say_why(j, "the colours do not match (correlation %.2f)", ev->colour);
	else if (wid < 0.5)
		say_why(j, "the overlap is a strip %.1f voxels wide", ev->width);
	else if (prec < 0.5)
		say_why(j,
			"the overlap does not fix the placement: rotation +-%.2g deg, scale "
			"+-%.2g %% (3 sigma); ICP one way and the other end %.2g deg and %.2g %% "
			"apart",
			SIGMAS * ev->rot_sd_deg, 100 * SIGMAS * ev->scale_sd, ev->two_way_deg,
			100 * ev->two_way_scale);
}

void stitch_judge(const struct stitch_part *va, const struct stitch_part *vb,
		  const struct sq_sim *T, const struct sq_reg_fit *fit, struct judged *j)
{
	memset(j, 0, sizeof(*j));
	j->T = *T;
	if (fit)
		j->fit = *fit;
	stitch_evidence(va, vb, T, fit, &j->ev, &j->chk);
	weigh(j);
}

/* T, then half a turn about the line through c along unit u (b's frame). */
static void turned(const struct sq_sim *T, const double c[3], const double u[3], struct sq_sim *out)
{
	struct sq_sim H;

	sq_sim_identity(&H);
	sq_rot_axis_angle(u, M_PI, H.R);
	for (int i = 0; i < 3; i++) /* H(x) = R (x - c) + c */
		H.t[i] = c[i] - (H.R[3 * i] * c[0] + H.R[3 * i + 1] * c[1] + H.R[3 * i + 2] * c[2]);
	/* the turn is about the overlap in b's frame: H after T */
	sq_sim_compose(&H, T, out);
}

int stitch_twins(const struct judged *j, struct sq_sim twins[3])
{
	const struct sq_reg_check *c = &j->chk;

	if (!(c->area_vox2 > 0))
		return 0;
	turned(&j->T, c->centre, c->axis_long, &twins[0]);
	turned(&j->T, c->centre, c->axis_short, &twins[1]);
	turned(&j->T, c->centre, c->normal, &twins[2]);
	return 3;
}

int stitch_distinct(const struct stitch_part *va, const struct stitch_part *vb,
		    const struct sq_sim *A, const struct sq_sim *B)
{
	const struct sq_cloud *c = &va->fine.c;
	double lim2 = DISTINCT_VOX * vb->reg.voxel * DISTINCT_VOX * vb->reg.voxel;

	/* far apart somewhere over a's extent: its points' bounding corners */
	double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};

	for (size_t i = 0; i < c->n; i++)
		for (int k = 0; k < 3; k++)
			lo[k] = fmin(lo[k], c->xyz[3 * i + (size_t)k]),
			hi[k] = fmax(hi[k], c->xyz[3 * i + (size_t)k]);
	for (int corner = 0; corner < 8; corner++) {
		double x[3] = {corner & 1 ? hi[0] : lo[0], corner & 2 ? hi[1] : lo[1],
			       corner & 4 ? hi[2] : lo[2]},
		       ya[3], yb[3], d2 = 0;

		sq_sim_apply(A, x, ya);
		sq_sim_apply(B, x, yb);
		for (int k = 0; k < 3; k++)
			d2 += (ya[k] - yb[k]) * (ya[k] - yb[k]);
		if (d2 > lim2)
			return 1;
	}
	return 0;
}

int stitch_weigh_ambiguity(struct judged *best, const struct judged *other)
{
	double x, amb;

	if (!other) {
		best->ev.runner_up = INFINITY;
		return 0;
	}
	x = (1 - other->score + UNEXPLAINED_FLOOR) / (1 - best->score + UNEXPLAINED_FLOOR);
	amb = factor(x, AMBIGUOUS, DISTINCT_GOOD);
	best->ev.runner_up = x;
	if (amb < best->confidence)
		best->confidence = amb;
	if (amb >= 0.5)
		return 0;
	say_why(best,
		"ambiguous: another placement fits about as well (it leaves %.1f times as "
		"much of the overlap unexplained)",
		x);
	return 1;
}

/* The clouds overrule other evidence only when they plainly contradict it: a
 * wide overlap where the surfaces mostly do not coincide. */
static void contradiction(struct judged *j)
{
	const struct sq_stitch_evidence *ev = &j->ev;

	if (!ev->checked || ev->width < CONTRADICT_WIDTH_VOX || ev->coherence >= CONTRADICT_COH)
		return;
	j->confidence = fmin(j->confidence, CONTRADICTED);
	say_why(j,
		"the clouds contradict it: they coincide over %.0f %% of an overlap %.0f "
		"voxels wide",
		100 * ev->coherence, ev->width);
}

void stitch_cameras_weigh(struct judged *j, size_t n, double rel)
{
	j->confidence = fmin(factor(rel, CAM_REL_GATE, CAM_REL_GOOD),
			     factor((double)n, CAM_COUNT_GATE, CAM_COUNT_GOOD));
	j->why[0] = '\0';
	if (j->confidence < STITCH_PLACE)
		say_why(j, "%zu shared cameras agreeing to %.1f %% of their spread", n, 100 * rel);
	contradiction(j);
}

void stitch_matches_weigh(struct judged *j, size_t agree, double chance)
{
	j->confidence = factor((double)agree / fmax(chance, 1), MATCHES_GATE, MATCHES_GOOD);
	j->why[0] = '\0';
	if (j->confidence < STITCH_PLACE)
		say_why(j, "%zu descriptor matches agree, chance gives up to %.0f", agree, chance);
	contradiction(j);
}

void stitch_describe(const struct judged *j, char *buf, size_t len)
{
	const struct sq_stitch_evidence *ev = &j->ev;

	snprintf(buf, len,
		 "coherence %.3f, relief %.3f, width %.0f voxels, rotation +-%.2g deg, scale "
		 "+-%.2g %%, two ways %.2g deg %.2g %%, colour %.2f: confidence %.2f%s%s",
		 ev->coherence, ev->relief_coherence, ev->width, SIGMAS * ev->rot_sd_deg,
		 100 * SIGMAS * ev->scale_sd, ev->two_way_deg, 100 * ev->two_way_scale, ev->colour,
		 j->confidence, j->why[0] ? ": " : "", j->why);
}

void stitch_note(struct stitch_part *v, int rank, const char *fmt, ...)
{
	va_list ap;

	if (rank < v->why_rank)
		return;
	v->why_rank = rank;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
}

void stitch_report_candidate(const struct stitch_state *r, int a, int b, const char *method,
			     const struct judged *j)
{
	struct sq_stitch_candidate c = {.src = a,
					.dst = b,
					.T = j->T,
					.method = method,
					.ev = j->ev,
					.confidence = j->confidence,
					.accepted = j->confidence >= 0.5,
					.why = j->why[0] ? j->why : NULL};

	if (r->o->candidate)
		r->o->candidate(r->o->hooks.ctx, &c);
}
