/* stitch_run.h - one builtin stitch in progress: what stitch.c (sampling,
 * units, chaining, merge) and stitch_pair.c (placing inputs pair by pair)
 * share. Private to those two files. */
#ifndef SQ_STITCH_RUN_H
#define SQ_STITCH_RUN_H

#include "cloud/ply.h"
#include "cloud/register.h"
#include "cloud/register_check.h"
#include "stitch/stitch.h"
#include "stitch/stitch_internal.h"

#include <stdint.h>

struct stitch_part {
	const struct sq_stitch_input *in;
	struct sq_ply_info info; /* its PLY's header: count and attributes */
	struct sq_cloud sample;
	size_t points;
	uint64_t rng;
	double spacing; /* full cloud, own units */
	double unit;
	int have_up;
	double up[3];
	struct sq_stitch_cams cams;
	struct sq_siftpts sift; /* points with image descriptors, if the input has them */
	struct sq_reg_cloud reg, fine;
	double noise;		/* scatter of the raw points about fine (sq_reg_noise) */
	double self_share;	/* of them on fine by the check's distance */
	unsigned char *salient; /* per raw point (reg.raw): in relief (sq_reg_salient) */
	unsigned char *relief;	/* the same per point of reg */
	int unusable;		/* its points are no surface to place (why says how) */
	char why[300];		/* when it cannot be placed: the most telling reason */
	int why_rank;		/* stitch_note's */
	int ambiguous;		/* left out as ambiguous: alt[0], alt[1] onto input alt_on */
	struct sq_sim alt[2];
	int alt_on;
	int reg_ready, comp;
};

struct stitch_edge {
	int a, b; /* T takes a into b */
	struct sq_sim T;
	double weight;
	struct sq_reg_fit fit;
	char method[32];
	double confidence;
	struct sq_stitch_evidence ev;
};

struct stitch_state {
	const struct sq_stitch_opts *o;
	struct stitch_part *v;
	size_t n;
	struct stitch_edge *e;
	size_t ne, ecap;
	int by_cameras;	  /* units are altitudes (every input has cameras) */
	int colour_desc;  /* sparse coloured inputs: colour in the descriptors */
	int colour_later; /* dense coloured inputs: colour when shape alone fails */
	double vox_phys;
};

/* A line for the stitch's log (the caller's log callback), printf-style. */
void stitch_say(const struct stitch_state *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* -1 with SQ_ERR_CANCEL when the caller asked to stop, else 0. */
int stitch_cancelled(const struct stitch_state *r, struct sq_err *err);

/* stitch_sanity.c: whether an input is a surface the stitch can measure. On
 * the sample just read (before any distance is taken): too few finite points,
 * coordinates beyond +-1e15, all at one place or a span lost to rounding
 * mark v unusable with the reason (-1). After its spacing: points that mostly
 * coincide, or lie on a line. */
int stitch_check_sample(struct stitch_part *v);
void stitch_check_spread(struct stitch_part *v);

/* Tries every candidate pair of prepared inputs, later onto earlier: shared
 * cameras, then descriptor matches, then global registration; each accepted
 * pair becomes an edge of r. -1 only when cancelled. */
int stitch_register_pairs(struct stitch_state *r, struct sq_err *err);

/* --- stitch_verify.c ------------------------------------------------------------ */

#define STITCH_PLACE 0.5 /* least confidence of a placement */

/* A placement of one input onto another, judged by the clouds. */
struct judged {
	struct sq_sim T; /* a -> b */
	struct sq_reg_fit fit;
	struct sq_stitch_evidence ev;
	struct sq_reg_check chk;
	double score;	   /* how well the clouds agree (compares placements of a pair) */
	double confidence; /* 0..1; placed from STITCH_PLACE */
	int consistent;	   /* the clouds agree with it (it may still be too loose) */
	char why[200];	   /* why it is not placed, or "" */
};

/* What the clouds say of T (a -> b): fills ev and, when chk is not NULL, the
 * check it came from. */
void stitch_evidence(const struct stitch_part *va, const struct stitch_part *vb,
		     const struct sq_sim *T, const struct sq_reg_fit *fit,
		     struct sq_stitch_evidence *ev, struct sq_reg_check *chk);
/* A quick look at a placement ICP has only roughly refined: the coherence of
 * a's points over b (relative to what a right placement reaches). */
double stitch_glance(const struct stitch_part *va, const struct stitch_part *vb,
		     const struct sq_sim *T);
/* Judges T: evidence, confidence and, below STITCH_PLACE, why. fit may be NULL. */
void stitch_judge(const struct stitch_part *va, const struct stitch_part *vb,
		  const struct sq_sim *T, const struct sq_reg_fit *fit, struct judged *j);
/* j's placement turned over about its overlap's axes (the other way a smooth
 * or ribbed surface fits): writes up to 3, returns how many. */
int stitch_twins(const struct judged *j, struct sq_sim twins[3]);
/* 1 when A and B (a -> b) place a differently (beyond a couple of b's voxels
 * somewhere over a's extent). */
int stitch_distinct(const struct stitch_part *va, const struct stitch_part *vb,
		    const struct sq_sim *A, const struct sq_sim *B);
/* Lowers best's confidence by how close the best distinct other placement
 * (NULL: none) came; 1 when that makes it ambiguous. */
int stitch_weigh_ambiguity(struct judged *best, const struct judged *other);
/* A placement by shared cameras (n of them, agreeing to rel of their spread)
 * or by descriptor matches (agree of them, where chance gives up to chance):
 * that evidence sets j's confidence; the clouds' check is reported with it
 * and overrules it only where a wide overlap mostly does not coincide
 * (sparse clouds from structure from motion fit each other more loosely than
 * the cameras do). */
void stitch_cameras_weigh(struct judged *j, size_t n, double rel);
void stitch_matches_weigh(struct judged *j, size_t agree, double chance);
/* One line for the log: j's evidence, confidence and reason. */
void stitch_describe(const struct judged *j, char *buf, size_t len);
/* Keeps the most telling reason input v could not be placed (higher rank
 * wins: 1 nothing found, 2 the clouds disagree, 3 too loose, 4 ambiguous). */
void stitch_note(struct stitch_part *v, int rank, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Hands a judged candidate to the caller's hook, if any. */
void stitch_report_candidate(const struct stitch_state *r, int a, int b, const char *method,
			     const struct judged *j);

#endif
