/* stride.c - the frames a reconstruct backend is given and the RAM-aware stride
 * (see stride.h). */
#include "stage/stride.h"
#include "base/fsutil.h"
#include "base/xalloc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/banned.h"

void sq_frame_list_release(struct sq_frame_list *fl)
{
	for (size_t i = 0; i < fl->n; i++)
		free(fl->files[i]);
	free(fl->files);
	free(fl->pts_s);
	memset(fl, 0, sizeof(*fl));
}

/* One entry of "frames": {"file": "frame_000001.jpg", "pts_s": 0.13}. The name
 * must be a plain file name: it is joined to the frames folder. */
static int frame_entry(struct sq_frame_list *fl, const cJSON *f, struct sq_err *err)
{
	const cJSON *file = cJSON_GetObjectItemCaseSensitive(f, "file");
	const cJSON *pts = cJSON_GetObjectItemCaseSensitive(f, "pts_s");

	if (!cJSON_IsString(file) || !cJSON_IsNumber(pts) || !*file->valuestring ||
	    strchr(file->valuestring, '/') || file->valuestring[0] == '.')
		return sq_error(err, SQ_ERR_INVALID,
				"invalid frames record: frame %zu needs a file name and pts_s",
				fl->n + 1);
	fl->files[fl->n] = xstrdup(file->valuestring);
	fl->pts_s[fl->n] = pts->valuedouble;
	fl->n++;
	return 0;
}

int sq_frame_list_parse(struct sq_frame_list *fl, const char *json, struct sq_err *err)
{
	cJSON *doc = json ? cJSON_Parse(json) : NULL;
	const cJSON *frames = cJSON_GetObjectItemCaseSensitive(doc, "frames"), *f;
	size_t n;
	int rc = -1;

	memset(fl, 0, sizeof(*fl));
	if (!cJSON_IsArray(frames)) {
		sq_error(err, SQ_ERR_INVALID, "invalid frames record: no 'frames' list");
		goto out;
	}
	n = (size_t)cJSON_GetArraySize(frames);
	fl->files = xcalloc(n + 1, sizeof(*fl->files));
	fl->pts_s = xcalloc(n + 1, sizeof(*fl->pts_s));
	cJSON_ArrayForEach(f, frames)
	{
		if (frame_entry(fl, f, err) < 0) {
			sq_frame_list_release(fl);
			goto out;
		}
	}
	rc = 0;
out:
	cJSON_Delete(doc);
	return rc;
}

long long sq_stride_host_memory(void)
{
	char *text = sq_read_file("/proc/meminfo", NULL, NULL);
	const char *line = text ? strstr(text, "MemAvailable:") : NULL;
	long long kib = 0, pages, page;

	if (line && sscanf(line, "MemAvailable: %lld kB", &kib) == 1 && kib > 0) {
		free(text);
		return kib * 1024;
	}
	free(text);
	/* kernels before 3.14 have no MemAvailable: free memory is the next best */
	pages = sysconf(_SC_AVPHYS_PAGES);
	page = sysconf(_SC_PAGESIZE);
	return pages > 0 && page > 0 ? pages * page : 0;
}

int sq_stride_pick(const struct sq_stride_spec *spec, long long default_bytes_per_frame,
		   size_t nframes, long long host_bytes, struct sq_stride *out, struct sq_err *err)
{
	long long budget = spec->memory_budget_bytes, allowed;

	memset(out, 0, sizeof(*out));
	out->k = 1;
	out->frames_total = nframes;
	out->bytes_per_frame =
	    spec->bytes_per_frame ? spec->bytes_per_frame : default_bytes_per_frame;
	if (host_bytes > 0 && (budget == 0 || budget > host_bytes))
		budget = host_bytes;
	if (spec->stride > 0) {
		out->k = spec->stride;
		out->fixed = 1;
	} else if (out->bytes_per_frame > 0 && budget > 0) {
		out->budget_bytes = budget;
		allowed = budget / out->bytes_per_frame;
		if (allowed < 2)
			return sq_error(err, SQ_ERR_INVALID,
					"memory budget of %lld MiB holds less than 2 frames of "
					"%lld MiB each: nothing to reconstruct with",
					budget >> 20, out->bytes_per_frame >> 20);
		if ((long long)nframes > allowed)
			out->k = (int)(((long long)nframes + allowed - 1) / allowed);
	}
	out->frames_used = nframes ? (nframes + (size_t)out->k - 1) / (size_t)out->k : 0;
	return 0;
}

char *sq_stride_record(const char *fields_json, const struct sq_stride *s)
{
	cJSON *doc = fields_json ? cJSON_Parse(fields_json) : NULL, *st;
	char *text, *out;

	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		doc = cJSON_CreateObject();
	}
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "stride");
	st = cJSON_AddObjectToObject(doc, "stride");
	cJSON_AddNumberToObject(st, "k", s->k);
	cJSON_AddBoolToObject(st, "fixed", s->fixed);
	cJSON_AddNumberToObject(st, "frames_total", (double)s->frames_total);
	cJSON_AddNumberToObject(st, "frames_used", (double)s->frames_used);
	cJSON_AddNumberToObject(st, "bytes_per_frame", (double)s->bytes_per_frame);
	cJSON_AddNumberToObject(st, "budget_bytes", (double)s->budget_bytes);
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (!text)
		abort(); /* cJSON only fails here when out of memory */
	out = xstrdup(text);
	cJSON_free(text);
	return out;
}

int sq_stride_link_frames(const char *frames_dir, const struct sq_frame_list *fl, int k,
			  const char *dir, struct sq_err *err)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < fl->n; i += (size_t)(k > 0 ? k : 1)) {
		char *from = sq_path_join(frames_dir, fl->files[i]);
		char *to = sq_path_join(dir, fl->files[i]);

		if (symlink(from, to) < 0)
			rc = sq_error_errno(err, errno, "cannot link frame '%s' into '%s'", from,
					    dir);
		free(from);
		free(to);
	}
	return rc;
}

int sq_stride_frames_dir(const struct sq_stride_spec *spec, long long default_bytes_per_frame,
			 const char *frames_dir, const char *frames_json, const char *workdir,
			 struct sq_stride *out, char **dir, struct sq_err *err)
{
	struct sq_frame_list fl;
	char *sub = NULL;
	int rc = -1;

	*dir = NULL;
	if (sq_frame_list_parse(&fl, frames_json, err) < 0)
		return -1;
	if (sq_stride_pick(spec, default_bytes_per_frame, fl.n, sq_stride_host_memory(), out, err) <
	    0)
		goto out;
	if (out->k == 1) {
		*dir = xstrdup(frames_dir);
		rc = 0;
		goto out;
	}
	sub = sq_path_join(workdir, "frames");
	if (sq_mkdir_p(sub, err) < 0 ||
	    sq_stride_link_frames(frames_dir, &fl, out->k, sub, err) < 0)
		goto out;
	*dir = sub;
	sub = NULL;
	rc = 0;
out:
	free(sub);
	sq_frame_list_release(&fl);
	return rc;
}
