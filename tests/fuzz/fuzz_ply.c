/* fuzz_ply.c - the PLY reader (lib/cloud/ply.c): header and vertex data, ASCII
 * and binary of both byte orders.
 *
 * Input: one PLY file. Besides memory errors and hangs, checks what ply.h
 * promises: the header read alone agrees with the header of a full read; a full
 * read delivers exactly the vertex count the header declares, in chunks of at
 * most SQ_PLY_CHUNK, with colour and normals as the header says; and a failure
 * comes with a message naming the file. */
#include "fuzz.h"

#include "cloud/ply.h"

#include <stdlib.h>
#include <string.h>

struct seen {
	size_t n;
	const struct sq_ply_info *info;
};

static int on_chunk(void *ctx, const struct sq_ply_chunk *c, struct sq_err *err)
{
	struct seen *s = ctx;

	(void)err;
	if (c->n > SQ_PLY_CHUNK)
		fz_fail("a chunk of %zu points", c->n);
	if (!c->rgb != !s->info->has_rgb || !c->nrm != !s->info->has_nrm)
		fz_fail("a chunk's colour or normals differ from the header's");
	/* every value delivered must be readable (ASan checks the bounds) */
	for (size_t i = 0; i < 3 * c->n; i++) {
		fz_sink += c->xyz[i];
		if (c->rgb)
			fz_sink += c->rgb[i];
		if (c->nrm)
			fz_sink += c->nrm[i];
	}
	s->n += c->n;
	return 0;
}

static void check_error(const char *path, const struct sq_err *err)
{
	if (err->code == SQ_OK || !strstr(err->msg, path))
		fz_fail("a failed read with no message naming the file: '%s'", err->msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fz_write("in.ply", data, size);
	struct sq_ply_info head, full;
	struct sq_err err = {SQ_OK, ""};
	struct seen s = {0, &full};
	int head_rc, rc;

	head_rc = sq_ply_read_info(path, &head, &err);
	if (head_rc < 0)
		check_error(path, &err);
	err.code = SQ_OK;
	rc = sq_ply_stream(path, &full, on_chunk, &s, &err);
	if (rc < 0) {
		check_error(path, &err);
	} else {
		if (head_rc < 0)
			fz_fail("the header fails alone but the whole file reads");
		if (head.count != full.count || head.has_rgb != full.has_rgb ||
		    head.has_nrm != full.has_nrm || head.format != full.format)
			fz_fail("the header read alone differs from a full read");
		if (s.n != full.count)
			fz_fail("%zu points delivered of %zu declared", s.n, full.count);
	}
	free(path);
	return 0;
}
