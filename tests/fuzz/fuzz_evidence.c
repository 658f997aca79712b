/* fuzz_evidence.c - what reads reconstruct.json and stitch.json: the builtin
 * stitch's camera evidence (lib/stage/stitch_inputs.c, which joins a task's
 * reconstruct.json with its frames.json, or reads a group's stitch.json, through
 * the typed record readers; lib/stitch/stitch_evidence.c, which takes the
 * cameras and pairs them) and the
 * trajectory check (lib/cloud/ate.c: sq_ate_check, given the cameras the
 * record reader read).
 *
 * Input: an input folder's records in one file. "#--- stitch.json" as the
 * first line: the rest is a group's stitch.json. Otherwise the text up to a line
 * "#--- frames.json" is reconstruct.json and the rest frames.json (none without
 * that line). The cameras read are then paired with themselves and fitted, as
 * the stitch does with two inputs that share frames, and the reconstruct record
 * is checked against a made-up true path.
 *
 * Besides memory errors, hangs and undefined behaviour (numbers from a file
 * are the file's word), checks that the cameras read are consistent: sources
 * indices in range, and a fit that succeeds gives finite numbers. */
#include "fuzz.h"

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "cloud/ate.h"
#include "stage/record.h"
#include "stage/stage_int.h"
#include "stage/store.h"
#include "stitch/stitch_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STITCH_HEAD "#--- stitch.json\n"
#define FRAMES_SEP "#--- frames.json\n"

/* The records of one input folder, as the input says. */
static char *write_records(const uint8_t *data, size_t size, const uint8_t **rec, size_t *rec_len,
			   int *is_task)
{
	char *dir = sq_path_join(fz_dir(), "input");
	const uint8_t *frames;
	size_t frames_len;
	size_t hl = strlen(STITCH_HEAD);

	mkdir(dir, 0755);
	fz_remove("input/reconstruct.json");
	fz_remove("input/frames.json");
	fz_remove("input/stitch.json");
	*rec = NULL;
	*rec_len = 0;
	*is_task = 1;
	if (size >= hl && memcmp(data, STITCH_HEAD, hl) == 0) {
		*is_task = 0;
		free(fz_write("input/stitch.json", data + hl, size - hl));
		return dir;
	}
	fz_split(data, size, FRAMES_SEP, rec, rec_len, &frames, &frames_len);
	free(fz_write("input/reconstruct.json", *rec, *rec_len));
	if (frames)
		free(fz_write("input/frames.json", frames, frames_len));
	return dir;
}

static void check_cams(const struct sq_stitch_cams *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->src[i] < -1 || c->src[i] >= (int)c->nsources)
			fz_fail("camera %zu has source %d of %zu", i, c->src[i], c->nsources);
}

static void fit_with_itself(const struct sq_stitch_cams *c)
{
	struct stitch_pairs p;
	struct sq_sim T;
	double rel = 0;

	stitch_cams_shared(c, c, &p);
	if (stitch_cams_fit(&p, &T, &rel) == 0) {
		if (!isfinite(T.s) || !isfinite(rel))
			fz_fail("a fit of %zu pairs gives scale %g, rms %g", p.n, T.s, rel);
	}
	stitch_pairs_release(&p);
}

/* The trajectory check as ate-check runs it (tests/bench/ate_check.c): the
 * record's cameras through the record reader, against a straight true path,
 * one camera a second along x. */
static void ate_check(const uint8_t *rec, size_t len)
{
	double t_s[10], c[30];
	struct sq_ate_truth truth = {t_s, c, 10};
	struct sq_reconstruct_record r;
	struct sq_ate_report rep;
	struct sq_err err = {SQ_OK, ""};
	struct sq_ate_cam *cams;
	char *text = fz_strndup(rec, len);

	for (int i = 0; i < 10; i++) {
		t_s[i] = i;
		c[3 * i] = i, c[3 * i + 1] = 0, c[3 * i + 2] = 0;
	}
	if (sq_reconstruct_record_parse(&r, text, NULL) == 0) {
		cams = xcalloc(r.nframes + 1, sizeof(*cams));
		for (size_t i = 0; i < r.nframes; i++) {
			cams[i].pts_s = r.frames[i].pts_s;
			cams[i].registered = r.frames[i].registered;
			memcpy(cams[i].centre, r.frames[i].centre, sizeof(cams[i].centre));
		}
		if (sq_ate_check(cams, r.nframes, r.stride.k, &truth, &rep, &err) < 0 &&
		    err.code == SQ_OK)
			fz_fail("a failed trajectory check without a message");
		free(cams);
		sq_reconstruct_record_release(&r);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *rec;
	size_t rec_len;
	int is_task;
	char *dir = write_records(data, size, &rec, &rec_len, &is_task), *sift = NULL;
	char *path = sq_path_join(dir, is_task ? "reconstruct.json" : "stitch.json");
	char *record = sq_read_file(path, NULL, NULL); /* as the stage reads it */
	struct sq_stitch_cams given;
	struct sq_stitch_cams cams;
	struct sq_err err = {SQ_OK, ""};

	if (sq_stage_stitch_evidence(sq_store_local(), dir, is_task, record, fz_dir(), &given,
				     &sift, &err) == 0) {
		stitch_cams_copy(&cams, &given);
		check_cams(&cams);
		fit_with_itself(&cams);
		sq_stitch_cams_release(&cams);
		sq_stitch_cams_release(&given);
		free(sift);
	} else if (err.code == SQ_OK) {
		fz_fail("records refused without a message");
	}
	if (rec)
		ate_check(rec, rec_len);
	free(record);
	free(path);
	free(dir);
	return 0;
}
