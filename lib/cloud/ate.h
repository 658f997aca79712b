/* ate.h - absolute trajectory error: estimated camera centres against true ones.
 *
 * A reconstruction lives in its own frame (COLMAP's: arbitrary position,
 * orientation and scale), so the estimate is first aligned to the truth by the
 * best similarity transform (least squares, Umeyama 1991; solved with Horn's
 * quaternion method, which never returns a reflection), then the RMSE of the
 * remaining distances is the error. It is quoted as a fraction of the length of
 * the true path, so that surveys of any size compare.
 *
 * The truth is tests/synth's truth/<vehicle>-poses.csv; the estimate is the
 * cameras of a reconstruct.json (read by stage/record.h). Frames are matched
 * by timestamp. */
#ifndef SQ_ATE_H
#define SQ_ATE_H

#include "base/err.h"

#include <stddef.h>

struct sq_ate {
	size_t n;      /* point pairs */
	double scale;  /* ref ~ scale * rot * est + trans */
	double rot[9]; /* row-major */
	double trans[3];
	double rmse;   /* after alignment, in reference units (metres) */
	double max;    /* largest remaining distance */
	double length; /* of the reference path through the pairs, in their order */
	double rel;    /* rmse / length; 0 when the path has no length */
};

/* Aligns n estimated points (est: 3n values) to their reference points (ref: 3n)
 * and measures what is left. Needs n >= 3 and an estimate that is not a single
 * point (SQ_ERR_INVALID otherwise). Collinear points are fine: the rotation
 * about their line is then arbitrary, and so irrelevant to the error. */
int sq_ate_align(const double *est, const double *ref, size_t n, struct sq_ate *out,
		 struct sq_err *err);

/* True camera centres by time, sorted by t_s. */
struct sq_ate_truth {
	double *t_s; /* n */
	double *c;   /* 3n */
	size_t n;
};

/* Parses the poses CSV (header: chapter,frame,t_s,x,y,z,...). chapter > 0 keeps
 * that chapter's rows with times counted from its first frame, as a task made of
 * that chapter alone sees them; chapter 0 keeps every row with t_s as written (a
 * task of all chapters in order). Fills an empty t. */
int sq_ate_truth_parse(struct sq_ate_truth *t, const char *csv, int chapter, struct sq_err *err);
void sq_ate_truth_release(struct sq_ate_truth *t);

struct sq_ate_report {
	size_t frames;	   /* frames the backend was given */
	size_t registered; /* of those, with a camera pose */
	size_t matched;	   /* registered frames with a true pose at their time */
	int stride;	   /* from the record; 1 when absent */
	struct sq_ate ate; /* over the matched frames */
};

/* A camera a reconstruction recorded (record.h's camera entries, as the
 * caller reads them): its frame's time and, if registered, its centre. */
struct sq_ate_cam {
	double pts_s;
	int registered;
	double centre[3];
};

/* Compares n recorded cameras (of a reconstruction that used every stride-th
 * frame) with the truth. A frame matches the true pose nearest its pts_s
 * when it is closer than half the truth's frame interval. Fails when fewer
 * than 3 frames match. */
int sq_ate_check(const struct sq_ate_cam *cams, size_t n, int stride,
		 const struct sq_ate_truth *truth, struct sq_ate_report *rep, struct sq_err *err);

#endif
