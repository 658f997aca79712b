/* fuzz_record.c - stage records as repair and the stages judge them
 * (lib/stage/record.c: sq_record_is_current).
 *
 * Input: one record file (frames.json, reconstruct.json or stitch.json). It is
 * asked whether it is a current record of each stage, for any version and for
 * one given version. Besides memory errors and hangs, checks the rule of
 * record.h: a record is current only if it parses as a JSON object whose
 * "stage" and "version" strings say so, so a record current for one stage is
 * current for no other, and one current for a version is current for any. */
#include "fuzz.h"

#include "stage/record.h"

#include <stdlib.h>

static const enum sq_stage stages[] = {SQ_STAGE_EXTRACT, SQ_STAGE_RECONSTRUCT, SQ_STAGE_STITCH};
#define NSTAGES (sizeof(stages) / sizeof(stages[0]))
#define VERSION "0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fz_write("record.json", data, size);
	int any = 0;

	for (size_t i = 0; i < NSTAGES; i++) {
		int cur = sq_record_is_current(path, stages[i], NULL);
		int ver = sq_record_is_current(path, stages[i], VERSION);

		if ((cur != 0 && cur != 1) || (ver != 0 && ver != 1))
			fz_fail("is_current answered %d, %d", cur, ver);
		if (ver && !cur)
			fz_fail("current for version " VERSION " but not for any version");
		if (cur && any)
			fz_fail("a record current for two stages");
		any |= cur;
	}
	free(path);
	return 0;
}
