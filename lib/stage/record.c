/* record.c - stage records: the last file a stage writes, proof that it is done. */
#include "stage/record.h"
#include "base/fsutil.h"
#include "base/xalloc.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

static const char *const task_records[] = {
	[SQ_STAGE_EXTRACT] = "frames.json",
	[SQ_STAGE_RECONSTRUCT] = "reconstruct.json",
};

static const char *const task_outputs[] = {
	[SQ_STAGE_EXTRACT] = "frames",
	[SQ_STAGE_RECONSTRUCT] = "reconstruction.ply",
};

char *sq_record_task_path(const char *outdir, enum sq_stage stage)
{
	if (stage != SQ_STAGE_EXTRACT && stage != SQ_STAGE_RECONSTRUCT)
		return NULL;
	return sq_path_join(outdir, task_records[stage]);
}

char *sq_record_task_output(const char *outdir, enum sq_stage stage)
{
	if (stage != SQ_STAGE_EXTRACT && stage != SQ_STAGE_RECONSTRUCT)
		return NULL;
	return sq_path_join(outdir, task_outputs[stage]);
}

char *sq_record_stitch_path(const char *outdir)
{
	return sq_path_join(outdir, "stitch.json");
}

char *sq_record_stitch_output(const char *outdir)
{
	return sq_path_join(outdir, "stitch.ply");
}

int sq_record_is_current(const char *path, enum sq_stage stage, const char *version)
{
	char *text = sq_read_file(path, NULL, NULL);
	cJSON *doc = text ? cJSON_Parse(text) : NULL;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "stage");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(doc, "version");
	int ok = 0;

	if (cJSON_IsString(st) && strcmp(st->valuestring, sq_stage_name(stage)) == 0 &&
	    cJSON_IsString(ver) && (!version || strcmp(ver->valuestring, version) == 0))
		ok = 1;
	cJSON_Delete(doc);
	free(text);
	return ok;
}

int sq_record_write(const char *path, enum sq_stage stage, const char *version,
		    const char *fields_json, struct sq_err *err)
{
	cJSON *doc = fields_json ? cJSON_Parse(fields_json) : cJSON_CreateObject();
	char *text = NULL;
	int rc = -1;

	if (!cJSON_IsObject(doc)) {
		sq_error(err, SQ_ERR_INVALID, "record for '%s' is not a JSON object", path);
		goto out;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "stage");
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "version");
	cJSON_AddStringToObject(doc, "stage", sq_stage_name(stage));
	cJSON_AddStringToObject(doc, "version", version);
	cJSON_AddNumberToObject(doc, "created_ms", (double)sq_now_ms());
	cJSON_AddStringToObject(doc, "host", sq_hostname());
	text = cJSON_Print(doc);
	if (!text) {
		sq_error(err, SQ_ERR_INVALID, "cannot serialise record '%s'", path);
		goto out;
	}
	rc = sq_write_file_atomic(path, text, strlen(text), err);
out:
	free(text);
	cJSON_Delete(doc);
	return rc;
}
