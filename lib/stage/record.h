/* record.h - stage records: the .json file each stage writes last, as proof it
 * is done, and the one module that writes and reads them.
 *
 * Each record is a typed struct here with one writer (sq_*_record_format) and
 * one reader (sq_*_record_parse); parsers do no I/O. Nothing else in scanq
 * prints or parses a record. File names: task/layout.h.
 *
 * Every record is a JSON object with "stage", "version" (the task or stitch
 * version it was made from), "created_ms", "host" and "provenance" (struct
 * sq_provenance). Nothing but a current record (present, parseable, same
 * stage and version) counts as done.
 *
 * If you change what a record holds, keep the JSON names readers outside
 * scanq rely on (tests/bench, operators' scripts), add new members rather
 * than rename old ones, and bump SQ_RECORD_FORMAT when a reader of the old
 * format would misread the new one. */
#ifndef SQ_RECORD_H
#define SQ_RECORD_H

#include "base/err.h"
#include "base/json.h"
#include "stage/colmap.h"
#include "stage/stride.h"
#include "stitch/stitch.h"
#include "task/task.h"

#include <stddef.h>

#define SQ_RECORD_FORMAT 2 /* 1: records before provenance */

/* Where a record's outputs come from: written by every stage. */
struct sq_provenance {
	int format;	       /* SQ_RECORD_FORMAT of the writer; 1 when absent */
	char *scanq_version;   /* the writing build: version and git describe */
	char *host;	       /* the host that ran the stage */
	char *worker;	       /* the worker id ("host:pid:n"); "local" for --local */
	char *backend;	       /* "libav", "colmap", "command", "builtin" */
	char *backend_version; /* what the tool says of itself; "" if it cannot say */
	char *params_json;     /* the stage's settings (a JSON object, canonical) */
	/* the task's videos (task stages; none for a stitch): nsources paths and
	 * identities (an identity of size -1: not known, the task has none) */
	char **source_paths;
	struct sq_video_id *source_ids;
	size_t nsources;
	long long created_ms;
};

void sq_provenance_release(struct sq_provenance *p);

/* What the record header holds, for any stage: enough to judge "done". */
struct sq_record_head {
	enum sq_stage stage;
	char version[SQ_VERSION_LEN + 1];
	long long created_ms;
	char host[256];
};

/* Parses the header of any record (its text). -1 when it is not a record. */
int sq_record_head_parse(const char *text, struct sq_record_head *h, struct sq_err *err);

/* 1 if text is a record of `stage` made from `version` (NULL: any), else 0. */
int sq_record_text_is_current(const char *text, enum sq_stage stage, const char *version);

/* 1 if the record file at path is current (sq_record_text_is_current). */
int sq_record_is_current(const char *path, enum sq_stage stage, const char *version);

/* --- extract: frames.json ----------------------------------------------------- */

struct sq_frame_entry {
	double pts_s;	     /* seconds in the task's chapters joined */
	int source;	     /* index into the record's sources */
	double source_pts_s; /* seconds in that source, from its start */
};

struct sq_frames_record {
	struct sq_provenance prov;
	char version[SQ_VERSION_LEN + 1];
	char *acquisition, *group, *task;
	double duration_s;
	int fps_num, fps_den, width, height, quality;
	char **sources;	 /* the task's videos, nsources */
	double *until_s; /* nsources: seconds decoded of that video; < 0: all of it */
	size_t nsources;
	char **warnings;
	size_t nwarnings;
	struct sq_frame_entry *frames; /* frame i is file sq_layout_frame_name(i + 1) */
	size_t nframes;
};

void sq_frames_record_release(struct sq_frames_record *r);
/* Returns new JSON text (free with free()). */
char *sq_frames_record_format(const struct sq_frames_record *r);
/* Fills a zeroed r from text. */
int sq_frames_record_parse(struct sq_frames_record *r, const char *text, struct sq_err *err);

/* --- reconstruct: reconstruct.json -------------------------------------------- */

/* A frame the backend was given, and where it put its camera. */
struct sq_camera_entry {
	char file[32]; /* frame file name (frames/) */
	double pts_s;
	int registered;
	double centre[3]; /* camera centre, model frame */
	double q[4];	  /* camera-to-world rotation, qw qx qy qz */
};

/* What the colmap backend ran with and found. */
struct sq_colmap_report {
	char camera_model[SQ_COLMAP_MODEL_MAX];
	int threads, max_image_size, max_features, overlap;
	int models, model; /* models COLMAP made, the one kept */
	int has_camera;	   /* the intrinsics COLMAP used: */
	int intrinsics_given;
	char cam_model[SQ_COLMAP_MODEL_MAX];
	int cam_width, cam_height;
	double cam_params[16];
	int cam_nparams;
	long long steps_ms[4]; /* features, matching, mapping, export */
	struct sq_colmap_quality quality;
};

struct sq_reconstruct_record {
	struct sq_provenance prov;
	char version[SQ_VERSION_LEN + 1];
	long long wall_ms;
	int done_by_marker; /* command: ended by its done_when marker */
	struct sq_stride stride;
	int has_colmap;
	struct sq_colmap_report colmap;
	struct sq_camera_entry *frames; /* colmap: every frame used; command: none */
	size_t nframes;
	char **warnings;
	size_t nwarnings;
};

void sq_reconstruct_record_release(struct sq_reconstruct_record *r);
char *sq_reconstruct_record_format(const struct sq_reconstruct_record *r);
int sq_reconstruct_record_parse(struct sq_reconstruct_record *r, const char *text,
				struct sq_err *err);

/* --- stitch: stitch.json ----------------------------------------------------- */

/* One input of a builtin stitch: where it went, how, how sure, or why not. */
struct sq_stitch_record_input {
	char *name, *ply;
	size_t points;
	double unit; /* the input's own scale unit */
	int placed;
	char *why;	   /* left out: the reason */
	char method[32];   /* "reference", "shared-cameras", ... */
	double confidence; /* 0..1; NAN when not recorded */
	char *placed_on;   /* the input it was placed against; NULL: the reference */
	double inlier_share, residual;
	int has_evidence;
	struct sq_stitch_evidence ev; /* behind the placement on placed_on */
	struct sq_sim T;	      /* input frame -> common frame */
	int ambiguous;		      /* left out as ambiguous: two placements onto */
	char *ambiguous_on;	      /*   this input explain the data about as well */
	struct sq_sim alt[2];
};

struct sq_stitch_record {
	struct sq_provenance prov;
	char version[SQ_VERSION_LEN + 1];
	int builtin; /* 1: the builtin stitch; 0: a command backend */
	long long wall_ms;
	/* builtin */
	size_t placed, points, outliers;
	double voxel, unit; /* output cell and the common frame's unit */
	double confidence;  /* the least sure placement (1: the reference alone) */
	struct sq_stitch_record_input *inputs;
	size_t ninputs;
	double *cams; /* 3 * ncams placed camera centres, common frame */
	size_t ncams;
	/* command */
	int done_by_marker;
	char **input_plys;
	size_t ninput_plys;
	char **warnings;
	size_t nwarnings;
};

void sq_stitch_record_release(struct sq_stitch_record *r);
char *sq_stitch_record_format(const struct sq_stitch_record *r);
int sq_stitch_record_parse(struct sq_stitch_record *r, const char *text, struct sq_err *err);

/* The record of a builtin stitch's result (in[i] named input i). */
void sq_stitch_record_of_result(struct sq_stitch_record *rec, const struct sq_stitch_input *in,
				const struct sq_stitch_result *res);

/* The stage's figures for the queue, the members without braces: "placed",
 * "inputs", "points", "unplaced" (names), "confidence", "placements"
 * ([{name, confidence, method, placed_on}]), "left_out" (names) and
 * "left_out_reasons" ({name: why}). New string. */
char *sq_stitch_record_figures(const struct sq_stitch_record *r);

/* Adds a warning (a copy of the formatted text) to a list. */
void sq_record_warn(char ***warnings, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* --- the parts every record shares (record.c, for the record_*.c files) ------- */

/* Adds the header and provenance to doc, a record's root object. */
void sq_record_put_head(cJSON *doc, enum sq_stage stage, const char *version,
			const struct sq_provenance *p);
/* Reads provenance and version back (absent provenance: format 1, empty). */
int sq_record_get_head(const cJSON *doc, enum sq_stage stage, char version[SQ_VERSION_LEN + 1],
		       struct sq_provenance *p, struct sq_err *err);

#endif
