/* stitch_inputs.c - what the builtin stitch is told of each input, read from
 * the input's records through the store (the stitch itself opens no stage's
 * files): a task's registered cameras with the video and instant each came
 * from (reconstruct.json joined with frames.json), a group stitch's placed
 * camera centres (stitch.json), and the input's descriptor file. */
#include "stage/stage_int.h"
#include "base/xalloc.h"
#include "task/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

static char *read_record(struct sq_store *st, const char *dir, const char *name)
{
	char *path = sq_layout_path(dir, name), *text = sq_store_read(st, path, NULL, NULL);

	free(path);
	return text;
}

/* The frame a camera entry is of (frame_000012.jpg: index 11), or -1. */
static long frame_index(const char *file, size_t nframes)
{
	char want[SQ_LAYOUT_FRAME_NAME_MAX];
	unsigned long n;

	if (sscanf(file, "frame_%lu.jpg", &n) != 1 || n == 0 || n > nframes)
		return -1;
	sq_layout_frame_name(want, n);
	return strcmp(want, file) == 0 ? (long)(n - 1) : -1;
}

static void cams_alloc(struct sq_stitch_cams *c, size_t n)
{
	c->c = xcalloc(3 * n + 3, sizeof(*c->c));
	c->q = xcalloc(4 * n + 4, sizeof(*c->q));
	c->t = xcalloc(n + 1, sizeof(*c->t));
	c->src = xcalloc(n + 1, sizeof(*c->src));
}

/* A task: every registered camera, with the source and instant its frame was
 * decoded from (a command backend records no cameras: none). */
static void task_cams(const struct sq_reconstruct_record *rr, const struct sq_frames_record *fr,
		      struct sq_stitch_cams *c)
{
	cams_alloc(c, rr->nframes);
	c->has_q = 1;
	c->sources = xcalloc(fr->nsources + 1, sizeof(*c->sources));
	for (size_t i = 0; i < fr->nsources; i++)
		c->sources[i] = xstrdup(fr->sources[i]);
	c->nsources = fr->nsources;
	for (size_t i = 0; i < rr->nframes; i++) {
		const struct sq_camera_entry *e = &rr->frames[i];
		long f = frame_index(e->file, fr->nframes);

		if (!e->registered)
			continue;
		memcpy(&c->c[3 * c->n], e->centre, sizeof(e->centre));
		memcpy(&c->q[4 * c->n], e->q, sizeof(e->q));
		c->src[c->n] = f < 0 ? -1 : fr->frames[f].source;
		c->t[c->n] = f < 0 ? 0 : fr->frames[f].source_pts_s;
		c->n++;
	}
}

static int task_evidence(struct sq_store *st, const char *dir, const char *rtext,
			 struct sq_stitch_cams *c, struct sq_err *err)
{
	char *ftext = read_record(st, dir, SQ_LAYOUT_FRAMES_RECORD);
	struct sq_reconstruct_record rr = {0};
	struct sq_frames_record fr = {0};
	int rc = -1;

	if (sq_reconstruct_record_parse(&rr, rtext, err) < 0)
		goto out;
	if (rr.nframes && sq_frames_record_parse(&fr, ftext, err) < 0)
		goto out;
	if (rr.nframes)
		task_cams(&rr, &fr, c);
	rc = 0;
out:
	sq_frames_record_release(&fr);
	sq_reconstruct_record_release(&rr);
	free(ftext);
	return rc;
}

/* A group stitch: the camera centres it placed, without orientation, time
 * or source. */
static int group_evidence(const char *text, struct sq_stitch_cams *c, struct sq_err *err)
{
	struct sq_stitch_record sr;
	int rc = sq_stitch_record_parse(&sr, text, err);

	if (rc == 0 && sr.ncams) {
		cams_alloc(c, sr.ncams);
		memcpy(c->c, sr.cams, 3 * sr.ncams * sizeof(*c->c));
		for (size_t i = 0; i < sr.ncams; i++)
			c->src[i] = -1;
		c->n = sr.ncams;
	}
	if (rc == 0)
		sq_stitch_record_release(&sr);
	return rc;
}

int sq_stage_stitch_evidence(struct sq_store *st, const char *dir, int is_task, const char *record,
			     const char *local_dir, struct sq_stitch_cams *cams, char **sift,
			     struct sq_err *err)
{
	char stamp[SQ_STORE_STAMP_MAX];
	char *sift_path =
	    sq_layout_path(dir, is_task ? SQ_LAYOUT_RECON_SIFT : SQ_LAYOUT_STITCH_SIFT);
	int copied, rc = -1;

	memset(cams, 0, sizeof(*cams));
	*sift = NULL;
	sq_store_stamp(record, stamp);
	if ((is_task ? task_evidence(st, dir, record, cams, err)
		     : group_evidence(record, cams, err)) < 0) {
		sq_err_prefix(err, "stitch input '%s'", dir);
		goto out;
	}
	if (sq_store_exists(st, sift_path, NULL) == 1 &&
	    !(*sift = sq_store_localize(st, sift_path, stamp, local_dir, &copied, err)))
		goto out;
	rc = 0;
out:
	if (rc < 0)
		sq_stitch_cams_release(cams);
	free(sift_path);
	return rc;
}
