/* fuzz_frames.c - the frames.json reader, which says what extract made and
 * what a reconstruct backend is given (lib/stage/record_frames.c:
 * sq_frames_record_parse).
 *
 * Input: one frames.json text. Besides memory errors and hangs, checks what
 * its users rely on: every frame's source indexes the record's sources (when
 * it has any), until_s has one entry per source, and a failure leaves nothing
 * allocated. (fuzz_record checks the round trip through the writer.) */
#include "fuzz.h"

#include "stage/record.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_strndup(data, size);
	struct sq_frames_record r;
	struct sq_err err = {SQ_OK, ""};

	if (sq_frames_record_parse(&r, text, &err) == 0) {
		for (size_t i = 0; i < r.nframes; i++) {
			const struct sq_frame_entry *f = &r.frames[i];

			if (r.nsources && (f->source < 0 || (size_t)f->source >= r.nsources))
				fz_fail("frame %zu has source %d of %zu", i, f->source, r.nsources);
			fz_sink += f->pts_s + f->source_pts_s;
		}
		for (size_t i = 0; i < r.nsources; i++)
			fz_sink += r.until_s[i] + (double)strlen(r.sources[i]);
		sq_frames_record_release(&r);
	} else if (err.code == SQ_OK || r.nframes || r.frames || r.sources || r.nsources) {
		fz_fail("a failed parse without a message, or with frames left");
	}
	free(text);
	return 0;
}
