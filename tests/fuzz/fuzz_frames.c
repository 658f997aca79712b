/* fuzz_frames.c - the frames.json reader that hands frames to a reconstruct
 * backend (lib/stage/stride.c: sq_frame_list_parse).
 *
 * Input: one frames.json text. Besides memory errors and hangs, checks what
 * stride.h relies on: every frame read is a plain file name in the frames
 * folder (it is joined to that folder and linked into a backend's), never a
 * path that leaves it, and a failure leaves nothing allocated. */
#include "fuzz.h"

#include "stage/stride.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *json = fz_strndup(data, size);
	struct sq_frame_list fl;
	struct sq_err err = {SQ_OK, ""};

	if (sq_frame_list_parse(&fl, json, &err) == 0) {
		for (size_t i = 0; i < fl.n; i++) {
			const char *f = fl.files[i];

			if (!*f || strchr(f, '/') || strcmp(f, ".") == 0 || strcmp(f, "..") == 0)
				fz_fail("frame %zu is '%s', not a file name in the frames folder",
					i, f);
			fz_sink += fl.pts_s[i];
		}
		sq_frame_list_release(&fl);
	} else if (err.code == SQ_OK || fl.n || fl.files || fl.pts_s) {
		fz_fail("a failed parse without a message, or with frames left");
	}
	free(json);
	return 0;
}
