/* stitch_bench.h - bench-stitch's pieces shared by its two files: running
 * the two methods, judging their transforms and printing (stitch_eval.c), and
 * the cases, modes and options (stitch.c). */
#ifndef SQ_STITCH_BENCH_H
#define SQ_STITCH_BENCH_H

#include "cloudgen.h"
#include "base/strbuf.h"

#include <stddef.h>
#include <sys/resource.h>

#define MAX_PATCHES 16
#define MAX_SEEDS 200
#define MAX_SIZES 16
#define ROT_OK_DEG 0.5 /* "correct": the unit test's tolerances */
#define SCALE_OK_REL 0.01
#define POS_OK_REL 0.01
#define RMS_SLACK 1.05 /* "no worse": median RMS within 5 % (the metric's own noise) */

enum { MODE_EQUAL = 1, MODE_DIFFERING = 2 };
enum { SCANQ, O3D, METHODS };

struct bench {
	size_t points;
	int patches, seeds, modes;
	double ov_min, ov_max, noise, outliers;
	int o3d, mutual, verbose;
	double o3d_voxel;
	const char *python, *script, *keep;
	int pair_mode;
	const char *pair[3]; /* REF.ply SRC.ply TRUTH (SRC -> REF) */
	size_t sizes[MAX_SIZES];
	int nsizes;
	const char *stitch_only; /* internal: the child of --sizes */
	int npairs;		 /* --pairs: random pairs over terrain families */
	const char *families;	 /* --families: which (NULL: all) */
	unsigned run_seed;	 /* --run-seed: draws of --pairs and --defects */
	int defects;		 /* --defects: broken and degenerate second clouds */
	int calib;		 /* --calib: every candidate judged, against the truth */
	int only;		 /* --only K: pair K of --pairs alone (-1: all) */
	char *work;		 /* where cases are written */
};

/* Transforms of inputs 1..K-1 into input 0's frame. */
struct estimate {
	struct sq_sim T[MAX_PATCHES];
	int have[MAX_PATCHES];
};

/* What one method made of one case. */
struct outcome {
	int ran;
	size_t placed, want; /* non-reference inputs placed / to place */
	struct cg_err worst; /* INFINITY when not all were placed */
	double rms_m, far_share;
	double wall_s, load_s;
	long rss_kb; /* peak RSS of the process that ran it (--sizes) */
	int correct;
	char note[SQ_ERR_MSG_MAX + 256];
};

extern const char *const sb_method_name[METHODS];

/* Runs argv (fork/exec, no shell) with its stdout into out when out is not
 * NULL; ru (may be NULL) gets its resource usage. Returns its exit status
 * (128 + signal), -1 when it could not run. */
int sb_spawn(char *const argv[], struct sq_strbuf *out, struct rusage *ru);

/* sq_stitch_run() on paths in this process (timed), writing the merged cloud
 * to out; est gets the inputs' transforms into input 0's frame. */
void sb_run_scanq(const struct bench *b, char **paths, size_t n, const char *out, unsigned seed,
		  struct estimate *est, struct outcome *o);
/* stitch_o3d.py on paths (each onto the previous one), chained into est.
 * prescale (NULL: none): a factor per input applied as it is loaded, so that
 * Open3D's rigid pipeline is given the true relative scale. */
void sb_run_o3d(const struct bench *b, char **paths, size_t n, unsigned seed,
		const double *prescale, struct estimate *est, struct outcome *o);

/* Errors of est against the truth of sc and the surface fit of the patches it
 * places (inputs 1..K-1); sets o->correct. */
void sb_evaluate(const struct cg_scene *sc, char **paths, const struct estimate *est,
		 struct outcome *o);
/* The same for the true transforms: the floor of the RMS. */
void sb_truth_fit(const struct cg_scene *sc, char **paths, struct outcome *o);
/* --pair: input 1 of est against truth over corners (24 values), diag the
 * reference's diagonal. No surface is known, so no RMS. */
void sb_pair_eval(const struct estimate *est, const struct sq_sim *truth, const double *corners,
		  double diag, struct outcome *o);
/* The 8 corners of a PLY's bounding box (24 values) and its diagonal. */
int sb_ply_corners(const char *path, double *corners, double *diag);

void sb_print_header(void);
void sb_print_outcome(const char *seed, const char *ovl, const char *name, const struct outcome *o);
void sb_print_method_summary(const char *name, const struct outcome *o, size_t n);
/* Both methods' medians, the wall-time ratio and the targets of the mode. */
void sb_print_summary(const struct bench *b, int mode, struct outcome *const res[METHODS],
		      const struct outcome *truth, size_t n);
/* --pairs and --defects (stitch_pairs.c). */
int sb_run_pairs(const struct bench *b);
int sb_run_defects(const struct bench *b);

/* Median of field over n outcomes. */
double sb_med_of(const struct outcome *o, size_t n, double (*field)(const struct outcome *));
double sb_f_wall(const struct outcome *o);

#endif
