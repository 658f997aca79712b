/* fuzz_record.c - stage records as repair, the stages and the console read
 * them (lib/stage/record*.c): the header every record has, and the typed
 * readers of frames.json and reconstruct.json.
 *
 * Input: one record file (frames.json, reconstruct.json or stitch.json).
 * Besides memory errors and hangs, checks what record.h promises: a record is
 * current for at most one stage, for the stage and version its header names,
 * whether read from text or from the file; a record its typed reader accepts
 * is current for the version that reader read (two readers, one verdict);
 * and what the typed reader read, written back by the one writer, reads back
 * to the same record (format -> parse -> format is a fixed point). */
#include "fuzz.h"

#include "stage/record.h"

#include <stdlib.h>
#include <string.h>

static const enum sq_stage stages[] = {SQ_STAGE_EXTRACT, SQ_STAGE_RECONSTRUCT, SQ_STAGE_STITCH};
#define NSTAGES (sizeof(stages) / sizeof(stages[0]))
#define VERSION "0123456789abcdef"

static void check_head(const char *text, const char *path)
{
	struct sq_record_head h;
	int head_ok = sq_record_head_parse(text, &h, NULL) == 0, any = 0;

	for (size_t i = 0; i < NSTAGES; i++) {
		int cur = sq_record_text_is_current(text, stages[i], NULL);
		int ver = sq_record_text_is_current(text, stages[i], VERSION);

		if (cur != (head_ok && h.stage == stages[i]))
			fz_fail("is_current %d for stage %d, header says %d", cur, stages[i],
				head_ok ? (int)h.stage : -1);
		if (ver && (!cur || strcmp(h.version, VERSION) != 0))
			fz_fail("current for version " VERSION " but the header says '%s'",
				h.version);
		if (sq_record_is_current(path, stages[i], NULL) != cur)
			fz_fail("the file and its text disagree (NUL inside?)");
		if (cur && any)
			fz_fail("a record current for two stages");
		any |= cur;
	}
}

static void check_frames(const char *text)
{
	struct sq_frames_record r, back;
	char *once, *twice;

	if (sq_frames_record_parse(&r, text, NULL) < 0)
		return;
	if (!sq_record_text_is_current(text, SQ_STAGE_EXTRACT, r.version))
		fz_fail("a frames record that reads, for version '%s', is not current for it",
			r.version);
	once = sq_frames_record_format(&r);
	if (sq_frames_record_parse(&back, once, NULL) < 0)
		fz_fail("a frames record written by scanq does not read back:\n%s", once);
	twice = sq_frames_record_format(&back);
	if (strcmp(once, twice) != 0)
		fz_fail("a frames record changes on its way back:\n%s\n%s", once, twice);
	free(once);
	free(twice);
	sq_frames_record_release(&back);
	sq_frames_record_release(&r);
}

static void check_reconstruct(const char *text)
{
	struct sq_reconstruct_record r, back;
	char *once, *twice;

	if (sq_reconstruct_record_parse(&r, text, NULL) < 0)
		return;
	if (!sq_record_text_is_current(text, SQ_STAGE_RECONSTRUCT, r.version))
		fz_fail("a reconstruct record that reads, for version '%s', is not current for it",
			r.version);
	once = sq_reconstruct_record_format(&r);
	if (sq_reconstruct_record_parse(&back, once, NULL) < 0)
		fz_fail("a reconstruct record written by scanq does not read back:\n%s", once);
	twice = sq_reconstruct_record_format(&back);
	if (strcmp(once, twice) != 0)
		fz_fail("a reconstruct record changes on its way back:\n%s\n%s", once, twice);
	free(once);
	free(twice);
	sq_reconstruct_record_release(&back);
	sq_reconstruct_record_release(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fz_write("record.json", data, size);
	char *text = fz_strndup(data, size);

	/* a NUL inside: the file reader and a text reader would see different
	 * records, which is not the readers' fault */
	if (strlen(text) == size) {
		check_head(text, path);
		check_frames(text);
		check_reconstruct(text);
	}
	free(text);
	free(path);
	return 0;
}
