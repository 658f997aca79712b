/* detail.c - one job's outputs on disk joined to its Redis state (see detail.h).
 *
 * Nothing here trusts the disk to be complete: a missing or unparseable record
 * is null, a missing log is absent, and the job is shown all the same. */
#include "ops/detail.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "queue/job_state.h"
#include "stage/preview.h"
#include "stage/quality.h"
#include "stage/record.h"
#include "stage/store.h"
#include "task/layout.h"
#include "task/task.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/banned.h"

#define TAIL_MAX_BYTES 65536

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *sget(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* The last `lines` lines of the len bytes at buf (a new string). */
static char *tail_of(const char *buf, size_t len, int lines)
{
	const char *p = buf + len;

	if (p > buf && p[-1] == '\n')
		p--;
	for (int seen = 0; p > buf; p--)
		if (p[-1] == '\n' && ++seen == lines)
			break;
	return xstrdup(p);
}

/* A log's tail: read in place when local, whole through the store when not. */
static char *log_tail(struct sq_store *store, const char *path, int lines)
{
	size_t len = 0;
	char *text, *tail;

	if (!sq_store_path_is_remote(path))
		return sq_detail_tail(path, lines);
	if (!(text = sq_store_read(store, path, &len, NULL)))
		return NULL;
	tail = tail_of(text, len, lines);
	free(text);
	return tail;
}

char *sq_detail_tail(const char *path, int lines)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf, *p;
	ssize_t n;
	off_t from;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return NULL;
	}
	from = st.st_size > TAIL_MAX_BYTES ? st.st_size - TAIL_MAX_BYTES : 0;
	buf = xmalloc(TAIL_MAX_BYTES + 1);
	n = pread(fd, buf, TAIL_MAX_BYTES, from);
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	p = tail_of(buf, (size_t)n, lines);
	free(buf);
	return p;
}

/* The warnings the queue kept (warnings.<stage> fields, JSON arrays as text). */
static size_t stored_warnings(const cJSON *job, char ***list, size_t n)
{
	for (int s = 0; s < SQ_STAGE_COUNT; s++) {
		char key[64], *doc;

		snprintf(key, sizeof(key), "warnings.%s", sq_stage_name((enum sq_stage)s));
		if (!*sget(job, key))
			continue;
		doc = xasprintf("{\"warnings\":%s}", sget(job, key));
		n = sq_quality_warnings(doc, list, n);
		free(doc);
	}
	return n;
}

/* A sample of at most max frame files of frames.json, evenly spread. */
static cJSON *thumbnails(const cJSON *frames, size_t max)
{
	cJSON *out = cJSON_CreateArray();
	size_t n = (size_t)cJSON_GetArraySize(frames), step_num = n > 1 ? n - 1 : 1;
	size_t want = n < max ? n : max;

	for (size_t i = 0; i < want; i++) {
		size_t k = want > 1 ? i * step_num / (want - 1) : 0;
		const char *file = sget(cJSON_GetArrayItem(frames, (int)k), "file");
		char *rel;

		if (!*file || strchr(file, '/'))
			continue; /* frames.json names files, never paths */
		rel = xasprintf("frames/%s", file);
		cJSON_AddItemToArray(out, cJSON_CreateString(rel));
		free(rel);
	}
	return out;
}

static cJSON *cameras_json(const char *record)
{
	size_t n = 0;
	double *c = sq_preview_cameras(record, &n);
	cJSON *out = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(out, cJSON_CreateDoubleArray(c + 3 * i, 3));
	free(c);
	return out;
}

struct disk {
	cJSON *obj, *records;
	struct sq_store *store; /* NULL: the local store */
	const char *outdir;
	char **warnings;
	size_t nwarnings, max_thumbs;
	int log_lines;
};

/* Reads one stage's record and log into d. */
static void read_stage(struct disk *d, enum sq_stage stage)
{
	const char *name = sq_stage_name(stage);
	char *path = sq_layout_path(d->outdir, sq_layout_record(stage));
	char *text = sq_store_read(d->store, path, NULL, NULL), *log, *tail;
	cJSON *rec = text ? cJSON_Parse(text) : NULL;

	if (cJSON_IsObject(rec)) {
		d->nwarnings = sq_quality_warnings(text, &d->warnings, d->nwarnings);
		if (stage == SQ_STAGE_EXTRACT)
			cJSON_AddItemToObject(d->obj, "thumbnails",
					      thumbnails(get(rec, "frames"), d->max_thumbs));
		else
			cJSON_AddItemToObject(d->obj, "cameras", cameras_json(text));
		cJSON_DeleteItemFromObjectCaseSensitive(rec, "frames");
		cJSON_DeleteItemFromObjectCaseSensitive(rec, "cameras");
		cJSON_AddItemToObject(d->records, name, rec);
	} else {
		cJSON_Delete(rec);
		cJSON_AddNullToObject(d->records, name);
	}
	log = sq_layout_log(stage) ? sq_layout_path(d->outdir, sq_layout_log(stage)) : NULL;
	if (log && (tail = log_tail(d->store, log, d->log_lines))) {
		cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(d->obj, "logs"), name,
					tail);
		free(tail);
	}
	free(log);
	free(text);
	free(path);
}

/* name, if outdir/name exists, else null. */
static void add_file(struct disk *d, const char *key, const char *name)
{
	char *p = sq_path_join(d->outdir, name);

	if (sq_store_exists(d->store, p, NULL) == 1)
		cJSON_AddStringToObject(d->obj, key, name);
	else
		cJSON_AddNullToObject(d->obj, key);
	free(p);
}

static void read_disk(struct disk *d, int is_task)
{
	cJSON_AddObjectToObject(d->obj, "logs");
	d->records = cJSON_AddObjectToObject(d->obj, "records");
	if (is_task) {
		read_stage(d, SQ_STAGE_EXTRACT);
		read_stage(d, SQ_STAGE_RECONSTRUCT);
	} else {
		read_stage(d, SQ_STAGE_STITCH);
	}
	add_file(d, "ply", sq_layout_main_output(is_task ? SQ_STAGE_RECONSTRUCT : SQ_STAGE_STITCH));
	add_file(d, "preview_png", SQ_LAYOUT_PREVIEW_PNG);
	add_file(d, "preview_ply", SQ_LAYOUT_PREVIEW_PLY);
}

char *sq_detail_job(const char *show_json, const struct sq_detail_opts *o, struct sq_err *err)
{
	cJSON *doc = show_json ? cJSON_Parse(show_json) : NULL, *w;
	const cJSON *job = get(doc, "job");
	struct disk d = {.max_thumbs = o && o->max_thumbs ? o->max_thumbs : SQ_DETAIL_THUMBS,
			 .log_lines = o && o->log_lines > 0 ? o->log_lines : SQ_DETAIL_LOG_LINES};
	char *text;
	int readable;

	if (!cJSON_IsObject(job)) {
		cJSON_Delete(doc);
		sq_error(err, SQ_ERR_INVALID, "not a job document");
		return NULL;
	}
	d.outdir = sget(job, "outdir");
	d.store = o ? o->store : NULL;
	readable = *d.outdir == '/' || (d.store && sq_store_path_is_remote(d.outdir));
	d.obj = cJSON_AddObjectToObject(doc, "disk");
	cJSON_AddStringToObject(d.obj, "outdir", d.outdir);
	cJSON_AddBoolToObject(d.obj, "local", readable);
	d.nwarnings = stored_warnings(job, &d.warnings, 0);
	if (readable)
		read_disk(&d, strcmp(sget(job, "kind"), "task") == 0);
	w = cJSON_AddArrayToObject(d.obj, "warnings");
	for (size_t i = 0; i < d.nwarnings; i++)
		cJSON_AddItemToArray(w, cJSON_CreateString(d.warnings[i]));
	if (d.nwarnings && sq_job_state_parse(sget(job, "state")) == SQ_JOB_DONE)
		cJSON_ReplaceItemInObjectCaseSensitive(doc, "status",
						       cJSON_CreateString("done with warnings"));
	sq_quality_free(d.warnings, d.nwarnings);
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (!text)
		abort(); /* cJSON fails here only when out of memory */
	return text;
}
