/* fuzz_siftpts.c - the SIFT point file reader (lib/cloud/siftpts.c).
 *
 * Input: one .sift file. Besides memory errors and hangs (the count in the
 * header is the file's word, not a promise), checks that a read file holds
 * exactly the points its header counts and its size allows, and that a
 * malformed one is an error with nothing left allocated. */
#include "fuzz.h"

#include "cloud/siftpts.h"

#include <stdlib.h>
#include <string.h>

#define HEAD 16
#define RECORD (3 * 4 + SQ_SIFT_DIM)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fz_write("in.sift", data, size);
	struct sq_siftpts s;
	struct sq_err err = {SQ_OK, ""};
	uint64_t declared = 0;
	int rc;

	rc = sq_siftpts_read(&s, path, &err);
	if (size >= HEAD)
		for (int i = 0; i < 8; i++)
			declared |= (uint64_t)data[8 + i] << (8 * i);
	if (rc == 1) {
		if (s.n != declared || size < HEAD + s.n * RECORD)
			fz_fail("%zu points read from %zu bytes declaring %llu", s.n, size,
				(unsigned long long)declared);
		for (size_t i = 0; i < s.n * SQ_SIFT_DIM; i++)
			fz_sink += s.desc[i];
		for (size_t i = 0; i < 3 * s.n; i++)
			fz_sink += (unsigned)(s.xyz[i] == s.xyz[i]);
	} else if (rc < 0) {
		if (err.code == SQ_OK || s.n || s.xyz || s.desc)
			fz_fail("a failed read without a message, or with points left");
	} else {
		fz_fail("an existing file read as missing");
	}
	sq_siftpts_release(&s);
	free(path);
	return 0;
}
