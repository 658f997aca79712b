/* stage.c - running one stage of one job crash-safely (see stage.h for the rules). */
#include "stage/stage.h"
#include "stage/colmap.h"
#include "base/fsutil.h"
#include "media/media.h"
#include "stage/proc.h"
#include "stage/record.h"
#include "stage/stage_stitch.h"
#include "base/strbuf.h"
#include "stage/stride.h"
#include "base/xalloc.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/banned.h"

static void stage_log(const struct sq_stage_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void stage_log(const struct sq_stage_ctx *ctx, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!ctx->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ctx->log(ctx->ctx, line);
}

/* Removes leftovers of killed attempts: entries named "<prefix>..." that hold
 * ".tmp." or ".old." (frames.tmp.123, frames.json.tmp.123, stitch.ply.old.9). */
static int clean_leftovers(const char *dir, const char *prefix, struct sq_err *err)
{
	size_t plen = strlen(prefix);
	struct dirent *e;
	DIR *d = opendir(dir);
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : sq_error_errno(err, errno, "cannot open '%s'", dir);
	while (rc == 0 && (e = readdir(d))) {
		if (strncmp(e->d_name, prefix, plen) != 0 ||
		    (!strstr(e->d_name + plen, ".tmp.") && !strstr(e->d_name + plen, ".old.")))
			continue;
		char *p = sq_path_join(dir, e->d_name);
		rc = sq_rm_rf(p, err);
		free(p);
	}
	closedir(d);
	return rc;
}

/* Unlinks a record durably: from here on the stage counts as not done. */
static int drop_record(const char *record, struct sq_err *err)
{
	if (unlink(record) < 0 && errno != ENOENT)
		return sq_error_errno(err, errno, "cannot remove '%s'", record);
	return sq_fsync_dir(record, err);
}

/* Puts tmp in place of dst (file or directory), removing the old one. */
static int swap_into_place(const char *tmp, const char *dst, struct sq_err *err)
{
	char *old = xasprintf("%s.old.%ld", dst, (long)getpid());
	int rc = -1;

	if (rename(dst, old) < 0 && errno != ENOENT) {
		sq_error_errno(err, errno, "cannot move '%s' aside", dst);
		goto out;
	}
	if (sq_rename_durable(tmp, dst, err) < 0)
		goto out;
	rc = sq_rm_rf(old, err);
out:
	free(old);
	return rc;
}

/* swap_into_place for an output the backend may not make (the builtin
 * backends' descriptor files): nothing to do when tmp is absent. */
static int swap_if_made(const char *tmp, const char *dst, struct sq_err *err)
{
	return access(tmp, F_OK) == 0 ? swap_into_place(tmp, dst, err) : 0;
}

static cJSON *string_array(const char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

/* frames.json: count, params, "sources" (the task's videos), "until_s" (parallel
 * to sources: seconds of that video decoded, from its start, when the task file
 * cut it with `until`; null = the whole file), warnings, and per frame "file",
 * "pts_s" (seconds in the chapters joined), "source" (index into sources) and
 * "source_pts_s" (seconds in that source, from its start): frames of the same
 * video at the same source_pts_s in two tasks are the same picture. */
static char *frames_record_json(const struct sq_task *t, const struct sq_extract_result *r)
{
	cJSON *doc = cJSON_CreateObject(), *frames = cJSON_CreateArray(), *params, *until;
	char *text;

	cJSON_AddStringToObject(doc, "acquisition", t->acquisition);
	cJSON_AddStringToObject(doc, "group", t->group);
	cJSON_AddStringToObject(doc, "task", t->name);
	cJSON_AddNumberToObject(doc, "count", (double)r->nframes);
	cJSON_AddNumberToObject(doc, "duration_s", r->duration_s);
	params = cJSON_AddObjectToObject(doc, "params");
	cJSON_AddNumberToObject(params, "fps_num", t->extract.fps_num);
	cJSON_AddNumberToObject(params, "fps_den", t->extract.fps_den);
	cJSON_AddNumberToObject(params, "width", r->out_width);
	cJSON_AddNumberToObject(params, "height", r->out_height);
	cJSON_AddNumberToObject(params, "quality", t->extract.quality);
	cJSON_AddItemToObject(doc, "sources",
			      string_array((const char *const *)t->videos, t->nvideos));
	until = cJSON_AddArrayToObject(doc, "until_s");
	for (size_t i = 0; i < t->nvideos; i++)
		cJSON_AddItemToArray(until, t->video_until_ms && t->video_until_ms[i] > 0
						? cJSON_CreateNumber(t->video_until_ms[i] / 1000.0)
						: cJSON_CreateNull());
	cJSON_AddItemToObject(doc, "warnings",
			      string_array((const char *const *)r->warnings, r->nwarnings));
	for (size_t i = 0; i < r->nframes; i++) {
		cJSON *f = cJSON_CreateObject();
		char name[32];

		snprintf(name, sizeof(name), "frame_%06zu.jpg", i + 1);
		cJSON_AddStringToObject(f, "file", name);
		cJSON_AddNumberToObject(f, "pts_s", r->pts_s[i]);
		cJSON_AddNumberToObject(f, "source", (double)r->source[i]);
		cJSON_AddNumberToObject(f, "source_pts_s", r->source_pts_s[i]);
		cJSON_AddItemToArray(frames, f);
	}
	cJSON_AddItemToObject(doc, "frames", frames);
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return text;
}

static int run_extract(const struct sq_task *t, struct sq_stage_ctx *ctx, struct sq_err *err)
{
	char *record = sq_record_task_path(t->outdir, SQ_STAGE_EXTRACT);
	char *frames = sq_record_task_output(t->outdir, SQ_STAGE_EXTRACT);
	char *tmp = xasprintf("%s.tmp.%ld", frames, (long)getpid());
	struct sq_extract_result res = {0};
	struct sq_extract_opts eo = {
	    .spec = &t->extract,
	    .inputs = (const char *const *)t->videos,
	    .ninputs = t->nvideos,
	    .input_until_ms = t->video_until_ms,
	    .frames_dir = tmp,
	    .hwaccel = ctx->hwaccel,
	    .progress = ctx->progress,
	    .cancelled = ctx->cancelled,
	    .log = ctx->log,
	    .ctx = ctx->ctx,
	};
	char *json = NULL;
	int rc = -1;

	if (sq_mkdir_p(t->outdir, err) < 0 || drop_record(record, err) < 0 ||
	    clean_leftovers(t->outdir, "frames", err) < 0 || sq_mkdir_p(tmp, err) < 0)
		goto out;
	if (sq_media_extract(&eo, &res, err) < 0)
		goto out;
	if (res.nframes == 0) {
		sq_error(err, SQ_ERR_MEDIA, "no frame extracted from '%s'", t->videos[0]);
		goto out;
	}
	json = frames_record_json(t, &res);
	if (swap_into_place(tmp, frames, err) < 0 ||
	    sq_record_write(record, SQ_STAGE_EXTRACT, t->version, json, err) < 0)
		goto out;
	ctx->result_json = xasprintf("{\"frames\":%zu}", res.nframes);
	stage_log(ctx, "extracted %zu frames%s", res.nframes,
		  res.nwarnings ? " (with warnings, see frames.json)" : "");
	rc = 0;
out:
	if (rc < 0)
		sq_rm_rf(tmp, NULL);
	sq_extract_result_release(&res);
	free(json);
	free(tmp);
	free(frames);
	free(record);
	return rc;
}

/* 1 if path is a non-empty file starting with the PLY magic. */
static int looks_like_ply(const char *path)
{
	char magic[4] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, magic, sizeof(magic));
	close(fd);
	return n == 4 && memcmp(magic, "ply", 3) == 0 && (magic[3] == '\n' || magic[3] == '\r');
}

struct command_run {
	const struct sq_backend_spec *backend;
	struct sq_proc_vars vars;
	const char *log_path;
	const char *sift; /* where a builtin backend puts its descriptors (siftpts.h) */
	struct sq_proc_result res;
};

static int run_command(struct command_run *cr, struct sq_stage_ctx *ctx, struct sq_err *err)
{
	const struct sq_command_spec *cmd = &cr->backend->cmd;
	char **argv = sq_argv_expand(cmd, &cr->vars, err);
	char *done_file = NULL, *env[2] = {NULL, NULL};
	struct sq_proc_opts po = {0};
	int rc = -1;

	if (!argv)
		goto out;
	if (cmd->done_file && !(done_file = sq_template_expand(cmd->done_file, &cr->vars, err)))
		goto out;
	if (ctx->gpu)
		env[0] = xasprintf("CUDA_VISIBLE_DEVICES=%s", ctx->gpu);
	po.argv = argv;
	po.cwd = cr->vars.workdir;
	po.log_path = cr->log_path;
	po.env_extra = env;
	po.timeout_ms = cmd->timeout_ms;
	po.done_log = cmd->done_log;
	po.done_file = done_file;
	po.cancelled = ctx->cancelled;
	po.ctx = ctx->ctx;
	stage_log(ctx, "running '%s', log in '%s'", argv[0], cr->log_path);
	rc = sq_proc_run(&po, &cr->res, err);
out:
	free(env[0]);
	free(done_file);
	sq_argv_free(argv);
	return rc;
}

/* Appends an attempt header to the stage log so attempts can be told apart. */
static void log_attempt_header(const char *log_path)
{
	char *line = xasprintf("=== scanq attempt on %s pid %ld at %lld ms ===\n", sq_hostname(),
			       (long)getpid(), sq_now_ms());
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd >= 0) {
		if (write(fd, line, strlen(line)) < 0) {
			/* the log is best effort; the backend's own writes will say more */
		}
		close(fd);
	}
	free(line);
}

static char *command_record_json(const struct command_run *cr, size_t ninputs)
{
	cJSON *doc = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(doc, "backend", sq_backend_name(cr->backend->kind));
	cJSON_AddNumberToObject(doc, "wall_ms", (double)cr->res.wall_ms);
	cJSON_AddBoolToObject(doc, "done_by_marker", cr->res.done_by_marker);
	if (ninputs)
		cJSON_AddItemToObject(doc, "inputs", string_array(cr->vars.inputs, ninputs));
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return text;
}

static int reconstruct_colmap(const struct sq_task *t, const struct command_run *cr,
			      const char *frames_json, struct sq_stage_ctx *ctx, char **json,
			      struct sq_err *err)
{
	struct sq_colmap_run co = {
	    .spec = &t->reconstruct.colmap,
	    .stride = &t->reconstruct.stride,
	    .frames_dir = cr->vars.frames,
	    .frames_json = frames_json,
	    .workdir = cr->vars.workdir,
	    .output = cr->vars.output,
	    .sift_output = cr->sift,
	    .log_path = cr->log_path,
	    .cancelled = ctx->cancelled,
	    .progress = ctx->progress,
	    .log = ctx->log,
	    .ctx = ctx->ctx,
	};

	stage_log(ctx, "running colmap, log in '%s'", cr->log_path);
	return sq_colmap_run(&co, json, err);
}

/* A command backend has no default memory figure per frame: it strides only when
 * the task gives bytes_per_frame or a fixed stride. */
static int reconstruct_command(const struct sq_task *t, struct command_run *cr,
			       const char *frames_json, struct sq_stage_ctx *ctx, char **json,
			       struct sq_err *err)
{
	char *used = NULL, *cmd_json;
	struct sq_stride st;
	int rc;

	if (sq_stride_frames_dir(&t->reconstruct.stride, 0, cr->vars.frames, frames_json,
				 cr->vars.workdir, &st, &used, err) < 0)
		return -1;
	if (st.k > 1)
		stage_log(ctx, "memory budget: every %d frames, %zu of %zu", st.k, st.frames_used,
			  st.frames_total);
	cr->vars.frames = used;
	rc = run_command(cr, ctx, err);
	if (rc == 0) {
		cmd_json = command_record_json(cr, 0);
		*json = sq_stride_record(cmd_json, &st);
		free(cmd_json);
	}
	free(used);
	return rc;
}

static int run_reconstruct(const struct sq_task *t, struct sq_stage_ctx *ctx, struct sq_err *err)
{
	char *frames_rec = sq_record_task_path(t->outdir, SQ_STAGE_EXTRACT);
	char *record = sq_record_task_path(t->outdir, SQ_STAGE_RECONSTRUCT);
	char *output = sq_record_task_output(t->outdir, SQ_STAGE_RECONSTRUCT);
	char *frames = sq_record_task_output(t->outdir, SQ_STAGE_EXTRACT);
	char *work = xasprintf("%s/reconstruct.tmp.%ld", t->outdir, (long)getpid());
	char *tmp_out = sq_path_join(work, "reconstruction.ply");
	char *sift = sq_path_join(t->outdir, SQ_RECONSTRUCT_SIFT);
	char *tmp_sift = sq_path_join(work, SQ_RECONSTRUCT_SIFT);
	char *log_path = sq_path_join(t->outdir, "reconstruct.log");
	char *json = NULL, *frames_json = NULL;
	struct command_run cr = {
	    .backend = &t->reconstruct, .log_path = log_path, .sift = tmp_sift};
	int rc = -1;

	if (!sq_record_is_current(frames_rec, SQ_STAGE_EXTRACT, t->version)) {
		sq_error(err, SQ_ERR_INVALID, "frames of task '%s' are missing or stale ('%s')",
			 t->name, frames_rec);
		goto out;
	}
	/* the descriptors belong to the PLY they came with: an old file must not
	 * outlive a new reconstruction (a command backend writes none) */
	if (drop_record(record, err) < 0 || drop_record(sift, err) < 0 ||
	    clean_leftovers(t->outdir, "reconstruct", err) < 0 || sq_mkdir_p(work, err) < 0)
		goto out;
	log_attempt_header(log_path);
	if (!(frames_json = sq_read_file(frames_rec, NULL, err)))
		goto out;
	cr.vars = (struct sq_proc_vars){
	    .frames = frames, .output = tmp_out, .workdir = work, .gpu = ctx->gpu ? ctx->gpu : ""};
	if (t->reconstruct.kind == SQ_BACKEND_COLMAP
		? reconstruct_colmap(t, &cr, frames_json, ctx, &json, err) < 0
		: reconstruct_command(t, &cr, frames_json, ctx, &json, err) < 0)
		goto out;
	if (!looks_like_ply(tmp_out)) {
		sq_error(err, SQ_ERR_BACKEND, "backend '%s' produced no PLY at '%s' (log: '%s')",
			 t->reconstruct.kind == SQ_BACKEND_COLMAP ? "colmap"
								  : t->reconstruct.cmd.argv[0],
			 tmp_out, log_path);
		goto out;
	}
	if (swap_into_place(tmp_out, output, err) < 0 || swap_if_made(tmp_sift, sift, err) < 0 ||
	    sq_record_write(record, SQ_STAGE_RECONSTRUCT, t->version, json, err) < 0)
		goto out;
	rc = 0;
out:
	sq_rm_rf(work, NULL);
	free(sift);
	free(tmp_sift);
	free(frames_json);
	free(json);
	free(log_path);
	free(tmp_out);
	free(work);
	free(frames);
	free(output);
	free(record);
	free(frames_rec);
	return rc;
}

int sq_stage_run_task(const struct sq_task *t, enum sq_stage stage, struct sq_stage_ctx *ctx,
		      struct sq_err *err)
{
	if (stage == SQ_STAGE_EXTRACT)
		return run_extract(t, ctx, err);
	if (stage == SQ_STAGE_RECONSTRUCT)
		return run_reconstruct(t, ctx, err);
	return sq_error(err, SQ_ERR_INVALID, "stage '%s' is not a task stage",
			sq_stage_name(stage) ? sq_stage_name(stage) : "?");
}

int sq_stage_task_done(const struct sq_task *t, enum sq_stage stage)
{
	char *record = sq_record_task_path(t->outdir, stage);
	int done = record && sq_record_is_current(record, stage, t->version);

	free(record);
	return done;
}

/* Resolves the PLY of every input dir, checking each has its record. Returns a new
 * array of new strings (free with sq_argv_free) or NULL. */
static char **stitch_input_plys(const struct sq_stitch_spec *s, const char *const *inputs, size_t n,
				struct sq_err *err)
{
	enum sq_stage st = s->group ? SQ_STAGE_RECONSTRUCT : SQ_STAGE_STITCH;
	char **plys = xcalloc(n + 1, sizeof(*plys));

	for (size_t i = 0; i < n; i++) {
		char *rec = s->group ? sq_record_task_path(inputs[i], st)
				     : sq_record_stitch_path(inputs[i]);
		int ok = sq_record_is_current(rec, st, NULL);

		plys[i] = s->group ? sq_record_task_output(inputs[i], st)
				   : sq_record_stitch_output(inputs[i]);
		if (!ok) {
			sq_error(err, SQ_ERR_INVALID,
				 "stitch input '%s' is not done ('%s' missing)", inputs[i], rec);
			free(rec);
			sq_argv_free(plys);
			return NULL;
		}
		free(rec);
	}
	return plys;
}

/* The command backend, or the builtin one (stage_stitch.c), which also gives
 * the record body. */
static int stitch_produce(const struct sq_stitch_spec *s, struct command_run *cr,
			  const char *const *dirs, struct sq_stage_ctx *ctx, char **json,
			  struct sq_err *err)
{
	if (s->backend.kind != SQ_BACKEND_COMMAND)
		return sq_stage_builtin_stitch(dirs, cr->vars.inputs, cr->vars.ninputs,
					       cr->vars.output, cr->sift, cr->log_path, ctx, json,
					       err);
	if (run_command(cr, ctx, err) < 0)
		return -1;
	*json = command_record_json(cr, cr->vars.ninputs);
	return 0;
}

int sq_stage_run_stitch(const struct sq_stitch_spec *s, const char *const *inputs, size_t ninputs,
			struct sq_stage_ctx *ctx, struct sq_err *err)
{
	char *record = sq_record_stitch_path(s->outdir);
	char *output = sq_record_stitch_output(s->outdir);
	char *work = xasprintf("%s/stitch.tmp.%ld", s->outdir, (long)getpid());
	char *tmp_out = sq_path_join(work, "stitch.ply");
	char *sift = sq_path_join(s->outdir, SQ_STITCH_SIFT);
	char *tmp_sift = sq_path_join(work, SQ_STITCH_SIFT);
	char *log_path = sq_path_join(s->outdir, "stitch.log");
	char **plys = NULL, *json = NULL;
	struct command_run cr = {.backend = &s->backend, .log_path = log_path, .sift = tmp_sift};
	int rc = -1;

	if (ninputs == 0) {
		sq_error(err, SQ_ERR_INVALID, "stitch of '%s' has no inputs", s->outdir);
		goto out;
	}
	if (!(plys = stitch_input_plys(s, inputs, ninputs, err)))
		goto out;
	if (sq_mkdir_p(s->outdir, err) < 0 || drop_record(record, err) < 0 ||
	    drop_record(sift, err) < 0 || clean_leftovers(s->outdir, "stitch", err) < 0 ||
	    sq_mkdir_p(work, err) < 0)
		goto out;
	log_attempt_header(log_path);
	cr.vars = (struct sq_proc_vars){.output = tmp_out,
					.workdir = work,
					.gpu = ctx->gpu ? ctx->gpu : "",
					.inputs = (const char *const *)plys,
					.ninputs = ninputs};
	if (stitch_produce(s, &cr, inputs, ctx, &json, err) < 0)
		goto out;
	if (!looks_like_ply(tmp_out)) {
		sq_error(err, SQ_ERR_BACKEND, "stitch produced no PLY at '%s' (log: '%s')", tmp_out,
			 log_path);
		goto out;
	}
	if (swap_into_place(tmp_out, output, err) < 0 || swap_if_made(tmp_sift, sift, err) < 0 ||
	    sq_record_write(record, SQ_STAGE_STITCH, s->version, json, err) < 0)
		goto out;
	stage_log(ctx, "stitched %zu input%s into '%s'", ninputs, ninputs == 1 ? "" : "s", output);
	rc = 0;
out:
	sq_rm_rf(work, NULL);
	free(sift);
	free(tmp_sift);
	sq_argv_free(plys);
	free(json);
	free(log_path);
	free(tmp_out);
	free(work);
	free(output);
	free(record);
	return rc;
}
