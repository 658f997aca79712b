/* task.h - the task model: one camera recording of one vehicle, fully resolved.
 *
 * A struct sq_task is what a task file means once acquisition.yaml defaults are
 * applied and relative paths resolved. It travels through Redis as canonical JSON
 * (sq_task_to_json), and its identity (`version`) is the SHA-256 of that JSON, so
 * the same task enqueued twice is recognised and changed content is a new version.
 * Stitch jobs carry a struct sq_stitch_spec built the same way.
 *
 * The JSON is task_json.c's, through base/json.h, which wraps cJSON for every
 * module. */
#ifndef SQ_TASK_H
#define SQ_TASK_H

#include "base/err.h"

#include <stddef.h>

#define SQ_NAME_MAX 64
#define SQ_VERSION_LEN 16 /* hex digits of the content hash used as the version */

enum sq_stage {
	SQ_STAGE_EXTRACT = 0,
	SQ_STAGE_RECONSTRUCT,
	SQ_STAGE_STITCH,
	SQ_STAGE_COUNT,
};

/* The names of stages, backends and COLMAP camera models below are names.c's. */

/* "extract", "reconstruct", "stitch"; NULL for out-of-range. */
const char *sq_stage_name(enum sq_stage stage);
/* Returns the stage for name, or -1. */
int sq_stage_parse(const char *name);

enum sq_backend_kind {
	SQ_BACKEND_COLMAP = 0, /* reconstruct only */
	SQ_BACKEND_COMMAND,    /* reconstruct and stitch */
	SQ_BACKEND_BUILTIN,    /* stitch only */
};

const char *sq_backend_name(enum sq_backend_kind kind);

/* A `command` backend: argv template (placeholders expanded by proc.c). */
struct sq_command_spec {
	char **argv; /* argc entries, each new */
	size_t argc;
	long long timeout_ms; /* 0 = none */
	char *done_log;	      /* stop when a log line contains this; NULL = not used */
	char *done_file;      /* stop when this (template) file exists; NULL = not used */
};

/* A `colmap` backend (lib/stage/colmap.h runs it). */
#define SQ_COLMAP_MODEL_MAX 32
#define SQ_COLMAP_PARAMS_MAX 12 /* the most parameters a COLMAP camera model has */

/* The camera models COLMAP 3.8 knows, NULL-terminated ("OPENCV", ...). */
extern const char *const sq_colmap_camera_models[];

/* What a camera model's parameter list holds, in COLMAP's order. */
struct sq_colmap_model_info {
	const char *model;  /* "OPENCV" */
	int nparams;	    /* how many numbers camera_params takes */
	int nfocal;	    /* the first nfocal are focal lengths (px, > 0) */
	const char *params; /* their names: "fx, fy, cx, cy, k1, k2, p1, p2" */
};

/* The camera model called name (static storage), or NULL if it is not one of
 * sq_colmap_camera_models. */
const struct sq_colmap_model_info *sq_colmap_model_find(const char *name);

struct sq_colmap_spec {
	int threads;		/* 0 = every core */
	int max_image_size;	/* px: frames are scaled so their longest side is at most this */
	int max_features;	/* SIFT features per frame */
	int overlap;		/* sequential matching: each frame against the next `overlap` */
	int min_registered_pct; /* fewer frames registered than this fails the task */
	char camera_model[SQ_COLMAP_MODEL_MAX]; /* one COLMAP camera model for every frame */
	/* Known intrinsics in camera_model's order, in pixels of the extracted
	 * frames; COLMAP then holds them fixed instead of estimating them. */
	double camera_params[SQ_COLMAP_PARAMS_MAX];
	int ncamera_params; /* 0: COLMAP estimates the intrinsics */
};

/* RAM-aware stride (reconstruct, any backend): when the frames would need more
 * memory than the budget, every k-th frame is given to the backend. */
struct sq_stride_spec {
	int stride;		       /* k >= 1: fixed; 0 = chosen from the budget */
	long long bytes_per_frame;     /* memory the backend needs per frame; 0 = its default */
	long long memory_budget_bytes; /* 0 = the host's available memory */
};

struct sq_backend_spec {
	enum sq_backend_kind kind;
	struct sq_command_spec cmd;   /* kind == SQ_BACKEND_COMMAND */
	struct sq_colmap_spec colmap; /* kind == SQ_BACKEND_COLMAP */
	struct sq_stride_spec stride; /* reconstruct only */
	long long min_vram_mib;	      /* 0 = no requirement */
	long long min_ram_mib;
};

struct sq_extract_spec {
	int fps_num, fps_den; /* output frame rate as a rational */
	int width, height;    /* output size; -1 keeps aspect from the other, both -1 = source */
	int quality;	      /* mjpeg -q:v, 2..31 */
};

struct sq_retry_spec {
	int max_attempts;     /* total tries per stage, >= 1 */
	long long backoff_ms; /* first retry delay; doubles each retry */
};

/* What identifies a source video's content, cheaply: a video replaced at the
 * same path is a different video, and so a different task version. */
struct sq_video_id {
	long long size_bytes;
	long long mtime_s;	/* modification time, seconds since the epoch */
	char head_sha256[65]; /* SHA-256 of its first MiB, hex */
	char tail_sha256[65]; /* of its last MiB (the whole file when smaller) */
};

#define SQ_VIDEO_ID_SPAN (1 << 20) /* bytes hashed at each end */

struct sq_task {
	char *acquisition;
	char *group;
	char *name;
	char *output_root; /* absolute */
	char *outdir;	   /* absolute: <output_root>/<group>/<name> */
	char **videos;	   /* absolute local paths or sftp:// URLs, in order */
	size_t nvideos;
	/* NULL, or nvideos entries: decode video i only up to this many ms from its
	 * start (task file `until`, e.g. the first seconds of the next chapter);
	 * 0 = the whole file. In the canonical JSON only when some entry is set. */
	long long *video_until_ms;
	/* NULL, or nvideos identities (enqueue fills them when it probes the
	 * videos); part of the canonical JSON, so of the version, when set. */
	struct sq_video_id *video_ids;
	struct sq_extract_spec extract;
	struct sq_backend_spec reconstruct;
	struct sq_backend_spec stitch; /* the acquisition's stitch config */
	struct sq_retry_spec retry;
	char version[SQ_VERSION_LEN + 1]; /* filled by sq_task_finalize */
	char *source_file;		  /* the task YAML it came from (not hashed) */
};

/* Stitch job: one group (kind "group") or the whole acquisition ("acquisition"). */
struct sq_stitch_spec {
	char *acquisition;
	char *group;  /* NULL for the acquisition stitch */
	char *outdir; /* group: <root>/<group>; acquisition: <root> */
	struct sq_backend_spec backend;
	struct sq_retry_spec retry;
	char version[SQ_VERSION_LEN + 1];
};

void sq_task_init(struct sq_task *t);
void sq_task_release(struct sq_task *t);
void sq_stitch_spec_init(struct sq_stitch_spec *s);
void sq_stitch_spec_release(struct sq_stitch_spec *s);
void sq_backend_spec_release(struct sq_backend_spec *b);

/* Deep copy of a backend spec into to (which holds nothing to free). */
void sq_backend_spec_copy(struct sq_backend_spec *to, const struct sq_backend_spec *from);

/* The spec of one stitch job, the one way it is made: the acquisition's
 * stitch template tmpl (group NULL, outdir the output root) for a group
 * (group != NULL: outdir <root>/<group>) or for the acquisition (group NULL),
 * finalized; a deep copy into out (init'ed; what it held is released). */
void sq_stitch_spec_derive(const struct sq_stitch_spec *tmpl, const char *group,
			   struct sq_stitch_spec *out);

/* The group stitch spec of a task's group, from the task's own settings (a
 * task run alone, without its acquisition's other files). */
void sq_stitch_spec_of_task(const struct sq_task *t, struct sq_stitch_spec *out);

/* Computes outdir and version from the other fields. Call after filling a task. */
void sq_task_finalize(struct sq_task *t);
void sq_stitch_spec_finalize(struct sq_stitch_spec *s);

/* Canonical JSON (keys sorted, no whitespace, source_file and version left out).
 * Returns new string (free with free()). */
char *sq_task_to_json(const struct sq_task *t);
char *sq_stitch_spec_to_json(const struct sq_stitch_spec *s);

/* The settings of one stage as canonical JSON (for records' provenance): new
 * string (free with free()). */
char *sq_extract_spec_json(const struct sq_extract_spec *e);
char *sq_backend_spec_json(const struct sq_backend_spec *b);

/* Parses what sq_*_to_json wrote into an init'ed struct and finalizes it. */
int sq_task_from_json(struct sq_task *t, const char *json, struct sq_err *err);
int sq_stitch_spec_from_json(struct sq_stitch_spec *s, const char *json, struct sq_err *err);

/* The largest min_vram_mib / min_ram_mib a task needs for a given stage. */
long long sq_task_need_vram_mib(const struct sq_task *t, enum sq_stage stage);
long long sq_task_need_ram_mib(const struct sq_task *t, enum sq_stage stage);

/* 1 if name matches [A-Za-z0-9._-]{1,64}, else 0. */
int sq_name_valid(const char *name);

#endif
