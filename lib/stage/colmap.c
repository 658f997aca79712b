/* colmap.c - running the colmap backend (see colmap.h).
 *
 * Every step is one `colmap` command run through proc.h (its own process group,
 * output appended to the task's reconstruct.log, stopped on cancel). The work
 * folder holds the database, the sparse models and their TXT copies; the caller
 * removes it. Only the PLY and the record leave it. */
#include "stage/colmap.h"
#include "stage/record.h"
#include "task/layout.h"
#include "base/fsutil.h"
#include "stage/proc.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/banned.h"

#define NSTEPS 4 /* features, matching, mapping, export: the progress total */

/* A growing argv. */
struct args {
	char **v;
	size_t n, alloc;
};

static void add(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct args *a, const char *fmt, ...)
{
	va_list ap, again;
	int len;
	char *s;

	va_start(ap, fmt);
	va_copy(again, ap);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	s = xmalloc(len < 0 ? 1 : (size_t)len + 1);
	if (len < 0)
		s[0] = '\0';
	else
		vsnprintf(s, (size_t)len + 1, fmt, again);
	va_end(again);
	xgrow((void **)&a->v, &a->alloc, a->n + 2, sizeof(*a->v));
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void args_release(struct args *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* State of one run: the paths in the work folder and what was learnt so far. */
struct colmap_state {
	const struct sq_colmap_run *r;
	char *db, *list, *sparse;
	struct sq_stride stride;
	char (*used)[SQ_LAYOUT_FRAME_NAME_MAX]; /* the frames given to COLMAP, in order */
	size_t nused;
	long long step_ms[NSTEPS];
	int threads; /* COLMAP's -1 is every core */
};

/* Runs `colmap <a...>` as step number step (for progress and timing). */
static int run_step(struct colmap_state *ru, int step, struct args *a, struct sq_err *err)
{
	const struct sq_colmap_run *r = ru->r;
	struct sq_proc_opts po = {0};
	struct sq_proc_result res;
	int rc;

	po.argv = a->v;
	po.cwd = r->workdir;
	po.log_path = r->log_path;
	po.hooks = r->hooks;
	sq_hooks_progress(&r->hooks, step, NSTEPS);
	sq_hooks_log(&ru->r->hooks, "colmap %s (%zu frames)", a->v[1], ru->nused);
	rc = sq_proc_run(&po, &res, err);
	ru->step_ms[step] += res.wall_ms;
	return rc;
}

static void start_args(const struct colmap_state *ru, struct args *a, const char *command)
{
	memset(a, 0, sizeof(*a));
	add(a, "%s", ru->r->program ? ru->r->program : "colmap");
	add(a, "%s", command);
}

static int extract_features(struct colmap_state *ru, struct sq_err *err)
{
	const struct sq_colmap_spec *s = ru->r->spec;
	struct args a;
	int rc;

	start_args(ru, &a, "feature_extractor");
	add(&a, "--database_path=%s", ru->db);
	add(&a, "--image_path=%s", ru->r->frames_dir);
	add(&a, "--image_list_path=%s", ru->list);
	add(&a, "--ImageReader.single_camera=1"); /* one camera filmed the whole task */
	add(&a, "--ImageReader.camera_model=%s", s->camera_model);
	if (s->ncamera_params > 0) { /* known intrinsics: the mapper holds them fixed */
		struct sq_strbuf p = SQ_STRBUF_INIT;

		for (int i = 0; i < s->ncamera_params; i++)
			sq_strbuf_addf(&p, "%s%.17g", i ? "," : "", s->camera_params[i]);
		add(&a, "--ImageReader.camera_params=%s", p.buf);
		sq_strbuf_release(&p);
	}
	add(&a, "--SiftExtraction.use_gpu=0");
	add(&a, "--SiftExtraction.num_threads=%d", ru->threads);
	add(&a, "--SiftExtraction.max_image_size=%d", s->max_image_size);
	add(&a, "--SiftExtraction.max_num_features=%d", s->max_features);
	rc = run_step(ru, 0, &a, err);
	args_release(&a);
	return rc;
}

/* Video frames overlap their neighbours in time: each is matched against the
 * next `overlap` frames instead of all of them. Loop detection needs a vocabulary
 * tree file Debian does not ship. */
static int match_features(struct colmap_state *ru, struct sq_err *err)
{
	struct args a;
	int rc;

	start_args(ru, &a, "sequential_matcher");
	add(&a, "--database_path=%s", ru->db);
	add(&a, "--SiftMatching.use_gpu=0");
	add(&a, "--SiftMatching.num_threads=%d", ru->threads);
	add(&a, "--SequentialMatching.overlap=%d", ru->r->spec->overlap);
	add(&a, "--SequentialMatching.loop_detection=0");
	rc = run_step(ru, 1, &a, err);
	args_release(&a);
	return rc;
}

/* Number of models the mapper wrote (sparse/0, sparse/1, ...). */
static int count_models(const struct colmap_state *ru)
{
	int n = 0;

	for (;; n++) {
		char *dir = xasprintf("%s/%d/images.bin", ru->sparse, n);
		int there = sq_path_exists(dir);

		free(dir);
		if (!there)
			return n;
	}
}

/* The mapper exits 1 when it finds no model at all: that is the input's fault
 * (no texture, no motion), said as such rather than as a crashed command. */
static int map(struct colmap_state *ru, int *nmodels, struct sq_err *err)
{
	struct sq_err e = {SQ_OK, ""};
	struct args a;
	int rc;

	if (sq_mkdir_p(ru->sparse, err) < 0)
		return -1;
	start_args(ru, &a, "mapper");
	add(&a, "--database_path=%s", ru->db);
	add(&a, "--image_path=%s", ru->r->frames_dir);
	add(&a, "--image_list_path=%s", ru->list);
	add(&a, "--output_path=%s", ru->sparse);
	add(&a, "--Mapper.num_threads=%d", ru->threads);
	/* COLMAP re-runs global bundle adjustment each time the model grows by 10%;
	 * a video adds frames one by one, and every 40% keeps the result (same
	 * reprojection error on the synthetic surveys) at about half the time */
	add(&a, "--Mapper.ba_global_images_ratio=1.4");
	add(&a, "--Mapper.ba_global_points_ratio=1.4");
	/* known intrinsics are a calibration: held fixed (principal point already is) */
	if (ru->r->spec->ncamera_params > 0) {
		add(&a, "--Mapper.ba_refine_focal_length=0");
		add(&a, "--Mapper.ba_refine_extra_params=0");
	}
	rc = run_step(ru, 2, &a, &e);
	args_release(&a);
	*nmodels = count_models(ru);
	if (*nmodels == 0 && (rc == 0 || e.code == SQ_ERR_PROC))
		return sq_error(err, SQ_ERR_BACKEND,
				"colmap found no model in %zu frames (no pair of frames to start "
				"from: too little texture or motion?); see '%s'",
				ru->nused, ru->r->log_path);
	if (rc < 0 && err)
		*err = e;
	return rc;
}

static int convert(struct colmap_state *ru, int model, const char *out, const char *type, struct sq_err *err)
{
	struct args a;
	int rc;

	start_args(ru, &a, "model_converter");
	add(&a, "--input_path=%s/%d", ru->sparse, model);
	add(&a, "--output_path=%s", out);
	add(&a, "--output_type=%s", type);
	rc = run_step(ru, 3, &a, err);
	args_release(&a);
	return rc;
}

/* Converts every model to TXT and keeps the one that registered most frames (the
 * mapper starts a new model where the chain of matches breaks). */
static int best_model(struct colmap_state *ru, int nmodels, struct sq_colmap_model *best, int *which,
		      struct sq_err *err)
{
	int rc = 0;

	memset(best, 0, sizeof(*best));
	*which = -1;
	for (int i = 0; rc == 0 && i < nmodels; i++) {
		char *txt = xasprintf("%s/txt-%d", ru->sparse, i);
		struct sq_colmap_model m;

		rc = sq_mkdir_p(txt, err);
		if (rc == 0)
			rc = convert(ru, i, txt, "TXT", err);
		if (rc == 0)
			rc = sq_colmap_model_load(&m, txt, err);
		if (rc == 0 && m.nimages > best->nimages) {
			sq_colmap_model_release(best);
			*best = m;
			*which = i;
		} else if (rc == 0) {
			sq_colmap_model_release(&m);
		}
		free(txt);
	}
	return rc;
}

/* Reads the frames, picks the stride and writes the image list COLMAP reads. */
static int prepare(struct colmap_state *ru, struct sq_err *err)
{
	const struct sq_colmap_run *r = ru->r;
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	int rc = -1;

	if (sq_stride_pick(r->stride, SQ_STRIDE_COLMAP_BYTES_PER_FRAME, r->frames->nframes,
			   sq_stride_host_memory(), &ru->stride, err) < 0)
		return -1;
	ru->used = xcalloc(ru->stride.frames_used + 1, sizeof(*ru->used));
	for (size_t i = 0; i < r->frames->nframes; i += (size_t)ru->stride.k) {
		sq_layout_frame_name(ru->used[ru->nused], i + 1);
		sq_strbuf_addf(&sb, "%s\n", ru->used[ru->nused++]);
	}
	if (ru->nused < 2) {
		sq_error(err, SQ_ERR_INVALID, "colmap needs at least 2 frames, got %zu", ru->nused);
		goto out;
	}
	rc = sq_write_file_atomic(ru->list, sb.buf, sb.len, err);
	if (ru->stride.k > 1)
		sq_hooks_log(&ru->r->hooks, "using every %d%s frame: %zu of %zu", ru->stride.k,
			ru->stride.k == 2   ? "nd"
			: ru->stride.k == 3 ? "rd"
					    : "th",
			ru->nused, r->frames->nframes);
out:
	sq_strbuf_release(&sb);
	return rc;
}

/* What COLMAP ran with and which model was kept, for the record. */
static void report(const struct colmap_state *ru, const struct sq_colmap_model *m, int model, int nmodels,
		   struct sq_colmap_report *c)
{
	const struct sq_colmap_spec *s = ru->r->spec;

	snprintf(c->camera_model, sizeof(c->camera_model), "%s", s->camera_model);
	c->threads = s->threads;
	c->max_image_size = s->max_image_size;
	c->max_features = s->max_features;
	c->overlap = s->overlap;
	c->models = nmodels;
	c->model = model;
	if (m->ncameras) { /* the intrinsics COLMAP used, in its model's order */
		const struct sq_colmap_camera *cam = &m->cameras[0];

		c->has_camera = 1;
		c->intrinsics_given = s->ncamera_params > 0; /* else refined */
		snprintf(c->cam_model, sizeof(c->cam_model), "%s", cam->model);
		c->cam_width = cam->width;
		c->cam_height = cam->height;
		c->cam_nparams = cam->nparams;
		memcpy(c->cam_params, cam->params, sizeof(c->cam_params));
	}
	memcpy(c->steps_ms, ru->step_ms, sizeof(c->steps_ms));
}

/* One entry per frame used: where COLMAP put its camera, if anywhere. */
static void cameras(const struct colmap_state *ru, const struct sq_colmap_pose *poses,
		    struct sq_reconstruct_record *rec)
{
	rec->frames = xcalloc(ru->nused + 1, sizeof(*rec->frames));
	rec->nframes = ru->nused;
	for (size_t i = 0, f = 0; i < ru->nused; i++, f += (size_t)ru->stride.k) {
		struct sq_camera_entry *e = &rec->frames[i];

		snprintf(e->file, sizeof(e->file), "%s", ru->used[i]);
		e->pts_s = ru->r->frames->frames[f].pts_s;
		e->registered = poses[i].registered;
		memcpy(e->centre, poses[i].centre, sizeof(e->centre));
		memcpy(e->q, poses[i].q, sizeof(e->q));
	}
}

static void fill_record(const struct colmap_state *ru, const struct sq_colmap_model *m, int model,
			int nmodels, const struct sq_colmap_quality *q,
			const struct sq_colmap_pose *poses, struct sq_reconstruct_record *rec)
{
	rec->wall_ms = 0;
	for (int i = 0; i < NSTEPS; i++)
		rec->wall_ms += ru->step_ms[i];
	rec->stride = ru->stride;
	rec->has_colmap = 1;
	report(ru, m, model, nmodels, &rec->colmap);
	rec->colmap.quality = *q;
	cameras(ru, poses, rec);
}

/* Model in hand: assess it, judge it, write the PLY and the record. */
static int finish(struct colmap_state *ru, const struct sq_colmap_model *m, int model, int nmodels,
		  struct sq_reconstruct_record *rec, struct sq_err *err)
{
	struct sq_colmap_pose *poses = xcalloc(ru->nused + 1, sizeof(*poses));
	struct sq_colmap_quality q;
	int rc = -1;

	const char **names = xcalloc(ru->nused + 1, sizeof(*names));

	for (size_t i = 0; i < ru->nused; i++)
		names[i] = ru->used[i];
	sq_colmap_assess(m, names, ru->nused, poses, &q);
	free(names);
	sq_hooks_log(&ru->r->hooks, "colmap model %d of %d: %zu/%zu frames registered, %zu points", model + 1,
		nmodels, q.registered, q.frames, q.points);
	if (sq_colmap_judge(&q, ru->r->spec->min_registered_pct, err) < 0)
		goto out;
	if (convert(ru, model, ru->r->output, "PLY", err) < 0)
		goto out;
	if (ru->r->sift_output) {
		size_t n = 0;

		if (sq_colmap_write_sift(m, ru->db, ru->r->sift_output, &n, err) < 0)
			goto out;
		sq_hooks_log(&ru->r->hooks, "%zu of %zu points with descriptors in '%s'", n, m->npoints,
			ru->r->sift_output);
	}
	fill_record(ru, m, model, nmodels, &q, poses, rec);
	rc = 0;
out:
	free(poses);
	return rc;
}

int sq_colmap_run(const struct sq_colmap_run *r, struct sq_reconstruct_record *rec,
		  struct sq_err *err)
{
	struct colmap_state ru = {.r = r, .threads = r->spec->threads > 0 ? r->spec->threads : -1};
	struct sq_colmap_model m = {0};
	int nmodels = 0, model = -1, rc = -1;

	ru.db = sq_path_join(r->workdir, "database.db");
	ru.list = sq_path_join(r->workdir, "image-list.txt");
	ru.sparse = sq_path_join(r->workdir, "sparse");
	if (prepare(&ru, err) < 0 || extract_features(&ru, err) < 0 ||
	    match_features(&ru, err) < 0 || map(&ru, &nmodels, err) < 0 ||
	    best_model(&ru, nmodels, &m, &model, err) < 0)
		goto out;
	if (model < 0) {
		sq_error(err, SQ_ERR_BACKEND, "colmap models of %zu frames are empty; see '%s'",
			 ru.nused, r->log_path);
		goto out;
	}
	rc = finish(&ru, &m, model, nmodels, rec, err);
	if (rc == 0)
		sq_hooks_progress(&r->hooks, NSTEPS, NSTEPS);
out:
	sq_colmap_model_release(&m);
	free(ru.used);
	free(ru.sparse);
	free(ru.list);
	free(ru.db);
	return rc;
}

char *sq_colmap_version(const char *program, const char *scratch)
{
	char *argv[] = {(char *)(program ? program : "colmap"), "-h", NULL};
	char *log = sq_path_join(scratch, "colmap-version.log"), *text, *nl, *out;
	struct sq_proc_opts po = {.argv = argv, .log_path = log, .timeout_ms = 10000};
	struct sq_proc_result res;

	if (sq_proc_run(&po, &res, NULL) < 0 || !(text = sq_read_file(log, NULL, NULL))) {
		free(log);
		return xstrdup("");
	}
	for (out = text; *out == '\n' || *out == ' '; out++)
		;
	if ((nl = strchr(out, '\n')))
		*nl = '\0';
	out = xstrdup(strncmp(out, "COLMAP", 6) == 0 ? out : "");
	unlink(log);
	free(text);
	free(log);
	return out;
}
