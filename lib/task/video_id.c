/* video_id.c - source video identities in a task's canonical JSON (see
 * struct sq_video_id in task.h). */
#include "task/task_int.h"
#include "base/xalloc.h"

#include <string.h>

#include "base/banned.h"

static cJSON *id_json(const struct sq_video_id *id)
{
	cJSON *o = cJSON_CreateObject();

	/* keys in sorted order: the task JSON is canonical */
	cJSON_AddStringToObject(o, "head_sha256", id->head_sha256);
	cJSON_AddNumberToObject(o, "mtime_s", (double)id->mtime_s);
	cJSON_AddNumberToObject(o, "size_bytes", (double)id->size_bytes);
	cJSON_AddStringToObject(o, "tail_sha256", id->tail_sha256);
	return o;
}

void sq_task_ids_to_json(cJSON *o, const struct sq_task *t)
{
	cJSON *arr;

	if (!t->video_ids)
		return;
	arr = cJSON_AddArrayToObject(o, "video_ids");
	for (size_t i = 0; i < t->nvideos; i++)
		cJSON_AddItemToArray(arr, id_json(&t->video_ids[i]));
}

static int is_sha256_hex(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n == 64 && s[n] == '\0';
}

static int id_from(const cJSON *v, struct sq_video_id *id, struct sq_err *err)
{
	const char *what = "invalid spec json: 'video_ids'", *head, *tail;

	if (sq_json_get_ll(v, "size_bytes", 0, 1LL << 52, &id->size_bytes, what, err) < 0 ||
	    sq_json_get_ll(v, "mtime_s", -(1LL << 52), 1LL << 52, &id->mtime_s, what, err) < 0 ||
	    sq_json_get_str(v, "head_sha256", &head, what, err) < 0 ||
	    sq_json_get_str(v, "tail_sha256", &tail, what, err) < 0)
		return -1;
	if (!is_sha256_hex(head) || !is_sha256_hex(tail))
		return sq_error(err, SQ_ERR_INVALID, "%s: hashes must be 64 hex digits", what);
	memcpy(id->head_sha256, head, sizeof(id->head_sha256));
	memcpy(id->tail_sha256, tail, sizeof(id->tail_sha256));
	return 0;
}

int sq_task_ids_from_json(const cJSON *o, struct sq_task *t, struct sq_err *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "video_ids"), *v;
	size_t i = 0;

	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) != t->nvideos)
		return sq_error(err, SQ_ERR_INVALID,
				"invalid spec json: 'video_ids' must list one identity per video");
	t->video_ids = xcalloc(t->nvideos, sizeof(*t->video_ids));
	cJSON_ArrayForEach(v, arr)
	{
		if (id_from(v, &t->video_ids[i++], err) < 0)
			return -1;
	}
	return 0;
}
