/* siftpts.c - the points-with-descriptors file (see siftpts.h). */
#include "cloud/siftpts.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"

#define MAGIC "SQSIFT1\n"
#define MAGIC_LEN 8
#define RECORD (3 * 4 + SQ_SIFT_DIM)

void sq_siftpts_push(struct sq_siftpts *s, const float xyz[3], const uint8_t *desc)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->xyz = xrealloc(s->xyz, 3 * s->cap * sizeof(*s->xyz));
		s->desc = xrealloc(s->desc, SQ_SIFT_DIM * s->cap);
	}
	memcpy(&s->xyz[3 * s->n], xyz, 3 * sizeof(*xyz));
	memcpy(&s->desc[SQ_SIFT_DIM * s->n], desc, SQ_SIFT_DIM);
	s->n++;
}

void sq_siftpts_release(struct sq_siftpts *s)
{
	free(s->xyz);
	free(s->desc);
	memset(s, 0, sizeof(*s));
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int sq_siftpts_write(const struct sq_siftpts *s, const char *path, struct sq_err *err)
{
	FILE *f = fopen(path, "wb");
	uint8_t head[MAGIC_LEN + 8], rec[RECORD];
	int ok;

	if (!f)
		return sq_error(err, SQ_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
	memcpy(head, MAGIC, MAGIC_LEN);
	put_le(head + MAGIC_LEN, s->n, 8);
	ok = fwrite(head, sizeof(head), 1, f) == 1;
	for (size_t i = 0; ok && i < s->n; i++) {
		for (int k = 0; k < 3; k++) {
			uint32_t bits;

			memcpy(&bits, &s->xyz[3 * i + (size_t)k], 4);
			put_le(rec + 4 * k, bits, 4);
		}
		memcpy(rec + 12, &s->desc[SQ_SIFT_DIM * i], SQ_SIFT_DIM);
		ok = fwrite(rec, sizeof(rec), 1, f) == 1;
	}
	ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok)
		return sq_error(err, errno == ENOSPC ? SQ_ERR_NOSPC : SQ_ERR_IO,
				"cannot write '%s': %s", path, strerror(errno));
	return 0;
}

int sq_siftpts_read(struct sq_siftpts *s, const char *path, struct sq_err *err)
{
	FILE *f = fopen(path, "rb");
	uint8_t head[MAGIC_LEN + 8], rec[RECORD];
	uint64_t n;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return sq_error(err, SQ_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
	}
	if (fread(head, sizeof(head), 1, f) != 1 || memcmp(head, MAGIC, MAGIC_LEN) != 0) {
		sq_error(err, SQ_ERR_INVALID, "'%s': not a scanq descriptor file (bad header)",
			 path);
		goto out;
	}
	n = get_le(head + MAGIC_LEN, 8);
	for (uint64_t i = 0; i < n; i++) {
		float xyz[3];

		if (fread(rec, sizeof(rec), 1, f) != 1) {
			sq_error(err, SQ_ERR_INVALID,
				 "'%s': truncated at point %llu of %llu (%d bytes each)", path,
				 (unsigned long long)i, (unsigned long long)n, RECORD);
			goto out;
		}
		for (int k = 0; k < 3; k++) {
			uint32_t bits = (uint32_t)get_le(rec + 4 * k, 4);

			memcpy(&xyz[k], &bits, 4);
		}
		sq_siftpts_push(s, xyz, rec + 12);
	}
	rc = 1;
out:
	if (rc < 0)
		sq_siftpts_release(s);
	fclose(f);
	return rc;
}
