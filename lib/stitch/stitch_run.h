/* stitch_run.h - one builtin stitch in progress: what stitch.c (sampling,
 * units, chaining, merge) and stitch_pair.c (placing inputs pair by pair)
 * share. Private to those two files. */
#ifndef SQ_STITCH_RUN_H
#define SQ_STITCH_RUN_H

#include "cloud/ply.h"
#include "cloud/register.h"
#include "stitch/stitch.h"
#include "stitch/stitch_internal.h"

#include <stdint.h>

struct input {
	const struct sq_stitch_input *in;
	struct sq_ply_info info; /* its PLY's header: count and attributes */
	struct sq_cloud sample;
	size_t points;
	uint64_t rng;
	double spacing; /* full cloud, own units */
	double unit;
	int have_up;
	double up[3];
	struct stitch_cams cams;
	struct sq_siftpts sift; /* points with image descriptors, if the input has them */
	struct sq_reg_cloud reg, fine;
	int reg_ready, comp;
};

struct edge {
	int a, b; /* T takes a into b */
	struct sq_sim T;
	double weight;
	struct sq_reg_fit fit;
	char method[32];
};

struct run {
	const struct sq_stitch_opts *o;
	struct input *v;
	size_t n;
	struct edge *e;
	size_t ne, ecap;
	int by_cameras;	 /* units are altitudes (every input has cameras) */
	int colour_desc; /* sparse coloured inputs: colour in the descriptors */
	double vox_phys;
};

/* A line for the stitch's log (the caller's log callback), printf-style. */
void stitch_say(const struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* -1 with SQ_ERR_CANCEL when the caller asked to stop, else 0. */
int stitch_cancelled(const struct run *r, struct sq_err *err);

/* Tries every candidate pair of prepared inputs, later onto earlier: shared
 * cameras, then descriptor matches, then global registration; each accepted
 * pair becomes an edge of r. -1 only when cancelled. */
int stitch_register_pairs(struct run *r, struct sq_err *err);

#endif
