/* colmap.h - the `colmap` reconstruct backend: Debian's colmap 3.8 on the CPU.
 *
 * colmap.c runs the pipeline through proc.h (feature_extractor, sequential_matcher
 * for video, mapper, model_converter to PLY and TXT); colmap_model.c reads the
 * TXT model back and judges it. The judging matters: COLMAP's exit status and a
 * sparse/0 folder say little. On a degenerate input (a flat test pattern) it
 * "registers" every frame with cameras scattered at random, so a reconstruction
 * must also show enough registered frames, tracks seen by several frames, a small
 * reprojection error and a camera path that moves smoothly inside the scene.
 *
 * Conventions: COLMAP's images.txt holds the world-to-camera rotation q and
 * translation t of each image; the camera centre is -R(q)^T t. What scanq records
 * is the centre and the camera-to-world rotation (the inverse of q), the frame
 * convention of tests/synth's poses. The model's world frame is COLMAP's own: a
 * similarity transform away from the truth (see ate.h to compare). */
#ifndef SQ_COLMAP_H
#define SQ_COLMAP_H

#include "base/err.h"
#include "base/hooks.h"
#include "stage/stride.h"
#include "task/task.h"

struct sq_frames_record;      /* record.h */
struct sq_reconstruct_record; /* record.h */

#include <stddef.h>

/* --- the TXT model (colmap_model.c) ------------------------------------------- */

struct sq_colmap_camera {
	int id;
	char model[SQ_COLMAP_MODEL_MAX];
	int width, height;
	double params[16]; /* nparams used: f / fx fy, cx cy, distortion */
	int nparams;
};

struct sq_colmap_image {
	int id;
	int camera_id;
	double q[4];	     /* world-to-camera rotation, qw qx qy qz */
	double t[3];	     /* world-to-camera translation */
	char *name;	     /* file name relative to the image folder, new */
	size_t observations; /* keypoints with a 3D point */
};

struct sq_colmap_point {
	double xyz[3];
	double error_px; /* mean reprojection error over its track */
	int track;	 /* number of images seeing it */
	size_t obs;	 /* its track: model->obs[obs, obs + track) */
};

/* One observation of a point: keypoint point2d of image `image` (the
 * database's numbering, which the model keeps). */
struct sq_colmap_obs {
	long image, point2d;
};

struct sq_colmap_model {
	struct sq_colmap_camera *cameras;
	size_t ncameras;
	struct sq_colmap_image *images;
	size_t nimages;
	struct sq_colmap_point *points;
	size_t npoints;
	struct sq_colmap_obs *obs;
	size_t nobs, obs_alloc;
};

/* Parsers for the three files model_converter --output_type TXT writes. They do
 * no I/O; each appends to m (start from a zeroed model) and fails with the line
 * number of the first malformed line. */
int sq_colmap_parse_cameras(struct sq_colmap_model *m, const char *text, struct sq_err *err);
int sq_colmap_parse_images(struct sq_colmap_model *m, const char *text, struct sq_err *err);
int sq_colmap_parse_points(struct sq_colmap_model *m, const char *text, struct sq_err *err);

/* Reads cameras.txt, images.txt and points3D.txt of dir into a zeroed m. */
int sq_colmap_model_load(struct sq_colmap_model *m, const char *dir, struct sq_err *err);
void sq_colmap_model_release(struct sq_colmap_model *m);

/* Writes to `out` (siftpts.h) every point of m whose track has descriptors in
 * the COLMAP database db_path, with the mean of them; *written (may be NULL)
 * gets how many. */
int sq_colmap_write_sift(const struct sq_colmap_model *m, const char *db_path, const char *out,
			 size_t *written, struct sq_err *err);

/* Camera centre (-R^T t) and camera-to-world rotation (qw qx qy qz, qw >= 0) of
 * an image. */
void sq_colmap_image_pose(const struct sq_colmap_image *im, double centre[3], double q_c2w[4]);

/* --- judging ------------------------------------------------------------------ */

/* Per used frame, what the model says. */
struct sq_colmap_pose {
	int registered;
	double centre[3];
	double q[4]; /* camera-to-world */
};

/* Figures of a model against the frames it was given. Lengths are in model units
 * (COLMAP's arbitrary scale): only their ratios are judged. */
struct sq_colmap_quality {
	size_t frames;	   /* frames given to COLMAP */
	size_t registered; /* of those, in the model */
	size_t points;
	double registered_share;
	double mean_track; /* images per 3D point */
	double mean_reproj_px;
	double scene_extent; /* diagonal of the points' 2nd-98th percentile box */
	double path_extent;  /* diagonal of the camera centres' 5th-95th percentile box */
	double median_step;  /* median camera move per frame between registered frames */
	double jump_share;   /* share of moves far larger than the median (scattering) */
};

/* Matches the model's images to the frames by file name (names[i], n of them, in
 * temporal order); fills poses[i] (n entries, may be NULL) and q. */
void sq_colmap_assess(const struct sq_colmap_model *m, const char *const *names, size_t n,
		      struct sq_colmap_pose *poses, struct sq_colmap_quality *q);

/* The limits a reconstruction must meet (besides min_registered_pct per task). */
#define SQ_COLMAP_MIN_TRACK 2.5	      /* mean images per point */
#define SQ_COLMAP_MAX_REPROJ_PX 2.0   /* mean reprojection error */
#define SQ_COLMAP_MAX_PATH_RATIO 3.0  /* camera path extent / scene extent */
#define SQ_COLMAP_MAX_STEP_RATIO 0.25 /* median move per frame / scene extent */
#define SQ_COLMAP_MAX_JUMP_SHARE 0.1  /* share of moves > 10x the median */

/* 0 if q meets every limit; else -1 with SQ_ERR_BACKEND and an error naming each
 * limit missed and all the figures. */
int sq_colmap_judge(const struct sq_colmap_quality *q, int min_registered_pct, struct sq_err *err);

/* --- running it (colmap.c) ---------------------------------------------------- */

struct sq_colmap_run {
	const struct sq_colmap_spec *spec;
	const struct sq_stride_spec *stride;
	const char *frames_dir;			/* extract's frames/ */
	const struct sq_frames_record *frames;	/* extract's record */
	const char *workdir;	 /* an empty folder of the caller's, removed by it */
	const char *output;	 /* the PLY to write */
	const char *sift_output; /* its points with descriptors (siftpts.h), or NULL */
	const char *log_path;	 /* every step's output is appended here */
	const char *program;	 /* NULL: "colmap" looked up in PATH */
	struct sq_hooks hooks;
};

/* Runs COLMAP over the frames (every k-th one when the memory budget says so),
 * writes the PLY, judges the model. Returns 0 and fills rec's body (wall_ms,
 * stride, the colmap report with its quality figures, one camera entry per
 * frame used; provenance and version are the caller's). Returns -1 when a step
 * fails, no model comes out, or the model fails sq_colmap_judge(). */
int sq_colmap_run(const struct sq_colmap_run *r, struct sq_reconstruct_record *rec,
		  struct sq_err *err);

/* What `colmap` (program, NULL: from PATH) says of its version: its first line
 * of help ("COLMAP 3.8 (Commit Unknown ...)"), new string; "" when it cannot
 * be run. scratch is a folder for its output. */
char *sq_colmap_version(const char *program, const char *scratch);

#endif
