/* surfgen.h - terrain families for testing the stitch on surfaces it was not
 * tuned on, and random pairs of clouds cut from them as a `command`
 * reconstruction backend would write them: a PLY only (no cameras, so no up
 * side and no shared frames), any rotation, scale 0.3-3x, centimetre noise,
 * outliers, with or without colour.
 *
 * A family is a height field h(x, y) in metres and a colour, functions of a
 * seed; each pair draws its own surface of its family (parameters included),
 * so no two pairs see the same terrain. The families:
 *   seabed  - tests/synth's seabed (rocks, ridges, broad undulation): what the
 *             stitch was developed on;
 *   flat    - flat sand (1 cm relief) with scattered boulders;
 *   swells  - long sinusoidal swells and a few broad mounds: smooth everywhere;
 *   ripples - quasi-periodic sand ripples (crests that wander and split) on a
 *             gentle undulation;
 *   sloped  - a 5-25 degree slope with ripples and mounds;
 *   rough   - multi-scale relief (fractal sum and ridges), steep in places.
 * Two more are degenerate on purpose (never a right answer from geometry):
 *   plane   - a perfect plane;
 *   sine    - a perfect sinusoid (every wavelength along it fits as well).
 *
 * Everything is a function of the seeds; the tests' similarity arithmetic is
 * cloudgen.h's (not lib/cloud/simil.c, which is under test). */
#ifndef SQ_SURFGEN_H
#define SQ_SURFGEN_H

#include "base/err.h"
#include "cloudgen.h"

#include <stddef.h>
#include <stdint.h>

enum sg_family {
	SG_SEABED,
	SG_FLAT,
	SG_SWELLS,
	SG_RIPPLES,
	SG_SLOPED,
	SG_ROUGH,
	SG_FAMILIES, /* the families the targets are about */
	SG_PLANE = SG_FAMILIES,
	SG_SINE,
	SG_ALL_FAMILIES
};

/* "seabed", "flat", ...; NULL past the end. */
const char *sg_family_name(int family);
/* The family named s, or -1. */
int sg_family_parse(const char *s);

struct sg_surface;

/* A surface of the family drawn from seed, defined at least over box (x0, y0,
 * x1, y1, metres) plus a margin. Returns new (free with sg_surface_free()). */
struct sg_surface *sg_surface_new(int family, uint32_t seed, const double box[4]);
void sg_surface_free(struct sg_surface *s);
double sg_height(const struct sg_surface *s, double x, double y);
/* Colour of the surface at (x, y), rgb 0..255. */
void sg_colour(const struct sg_surface *s, double x, double y, unsigned char rgb[3]);
/* Distance from w to the surface (vertical offset times the slope's cosine). */
double sg_surface_dist(const struct sg_surface *s, const double w[3]);

/* Ways a pair's second cloud is broken on purpose (the stitch must leave it
 * out with a reason, or fail with a clear error, and never abort). */
enum sg_defect {
	SG_OK,
	SG_IDENTICAL, /* every point the same */
	SG_HUGE,      /* coordinates near 1e37 */
	SG_TINY,      /* coordinates near 1e-40 (float denormals) */
	SG_NAN,	      /* a quarter of the points NaN or infinite */
	SG_ALL_NAN,   /* every point NaN */
	SG_FEW,	      /* 5 points */
	SG_LINE,      /* every point on one line */
	SG_STRANGER,  /* a patch of another surface: overlaps nothing */
	SG_DEFECTS
};

const char *sg_defect_name(int defect);

struct sg_pair_opts {
	int family;
	uint32_t seed;			 /* terrain, layout, transforms, sampling, noise */
	size_t points;			 /* per cloud (0: 30000) */
	double overlap_min, overlap_max; /* shared share of the first cloud's area */
	double scale_min, scale_max;	 /* scale of each cloud's frame, log-uniform */
	double noise_min_m, noise_max_m; /* Gaussian sigma per axis, drawn per pair */
	double outliers_max;		 /* outlier share drawn in [0, max] per cloud */
	int colour;			 /* 1, 0, or -1: drawn per pair */
	int defect;			 /* enum sg_defect, for the second cloud */
};

/* The bench's and the CI test's draw: overlap 25-60 %, scale 0.3-3, noise
 * 0.5-2 cm, up to 2 % outliers, colour drawn, no defect. */
void sg_pair_opts_default(struct sg_pair_opts *o);

struct sg_pair {
	struct sg_pair_opts o;
	struct sg_surface *surf;
	double box[2][4];   /* world footprints */
	struct sq_sim G[2]; /* world -> cloud i's frame */
	double overlap;	    /* share of box 0's area in box 1 */
	double noise_m, outliers[2];
	int colour;
	double diag_m; /* union footprint x height range: position errors are a share */
	double zmin_m, zmax_m;
};

/* Draws the pair (nothing is written). Release with sg_pair_release(). */
void sg_pair_plan(const struct sg_pair_opts *o, struct sg_pair *p);
void sg_pair_release(struct sg_pair *p);
/* Writes cloud i (0 or 1) of p as a binary PLY at path. */
int sg_pair_write(const struct sg_pair *p, int i, const char *path, struct sq_err *err);
/* The true transform of cloud 1's frame into cloud 0's. */
void sg_pair_truth(const struct sg_pair *p, struct sq_sim *T);
/* Errors of est (cloud 1 -> cloud 0) against the truth: rotation, scale, and
 * the largest position error over the corners of cloud 1's world box (z over
 * the height range), as a share of the pair's diagonal in cloud 0's units. */
void sg_pair_compare(const struct sg_pair *p, const struct sq_sim *est, struct cg_err *e);

#endif
