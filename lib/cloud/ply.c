/* ply.c - streaming PLY reader (ASCII and binary of either byte order).
 *
 * The reader parses the header into a table of elements and properties, skips
 * every element before "vertex" (walking their lists in binary files), then
 * decodes the vertex element in chunks of SQ_PLY_CHUNK points. Binary data is
 * read with large read()s into one buffer and decoded in place with memcpy (and a
 * byte swap when the file's byte order is not the host's); ASCII data is split
 * into lines in the same buffer and parsed with strtod in the C locale. Elements
 * after the vertex element are never read.
 *
 * Colour conversion: uchar is taken as is, float/double are 0..1 scaled to
 * 0..255, ushort is 0..65535 scaled to 0..255 (16-bit colour, as LAS-derived
 * files carry), every other integer type is clamped to 0..255.
 *
 * Opening the file and its header are ply_input.c's; the writer is in
 * ply_write.c. */
#include "cloud/ply_int.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/banned.h"

static const size_t type_size[] = PLY_TYPE_SIZES;

/* One chunk being filled for the callback. */
struct chunker {
	double *xyz;
	unsigned char *rgb;
	float *nrm;
	size_t n;
	sq_ply_chunk_fn fn;
	void *ctx;
};

static inline double get_num(const unsigned char *p, enum ptype t, int swap)
{
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	float f;
	double d;

	switch (t) {
	case T_I8:
		return (int8_t)p[0];
	case T_U8:
		return p[0];
	case T_I16:
	case T_U16:
		memcpy(&u16, p, 2);
		u16 = swap ? __builtin_bswap16(u16) : u16;
		return t == T_I16 ? (double)(int16_t)u16 : (double)u16;
	case T_I32:
	case T_U32:
		memcpy(&u32, p, 4);
		u32 = swap ? __builtin_bswap32(u32) : u32;
		return t == T_I32 ? (double)(int32_t)u32 : (double)u32;
	case T_F32:
		memcpy(&u32, p, 4);
		u32 = swap ? __builtin_bswap32(u32) : u32;
		memcpy(&f, &u32, 4);
		return f;
	case T_F64:
		memcpy(&u64, p, 8);
		u64 = swap ? __builtin_bswap64(u64) : u64;
		memcpy(&d, &u64, 8);
		return d;
	default:
		return 0;
	}
}

/* Clamps whatever the file holds: an ASCII file's "uchar" is any number
 * ("307", "-1", "nan"), and converting one out of range is undefined. */
static inline unsigned char to_u8(double v, enum ptype t)
{
	if (t == T_F32 || t == T_F64)
		v = v * 255.0 + 0.5;
	else if (t == T_U16)
		v = v / 257.0 + 0.5;
	if (!(v > 0)) /* also NaN */
		return 0;
	return v >= 255 ? 255 : (unsigned char)v;
}

/* ---- chunks ---- */

static void chunker_init(struct chunker *ch, const struct reader *r, sq_ply_chunk_fn fn, void *ctx)
{
	ch->xyz = xmalloc(3 * SQ_PLY_CHUNK * sizeof(*ch->xyz));
	ch->rgb = r->has_rgb ? xmalloc(3 * SQ_PLY_CHUNK) : NULL;
	ch->nrm = r->has_nrm ? xmalloc(3 * SQ_PLY_CHUNK * sizeof(*ch->nrm)) : NULL;
	ch->n = 0;
	ch->fn = fn;
	ch->ctx = ctx;
}

static void chunker_release(struct chunker *ch)
{
	free(ch->xyz);
	free(ch->rgb);
	free(ch->nrm);
}

static int chunk_flush(struct chunker *ch, struct sq_err *err)
{
	struct sq_ply_chunk c = {ch->n, ch->xyz, ch->rgb, ch->nrm};

	if (ch->n == 0)
		return 0;
	ch->n = 0;
	return ch->fn(ch->ctx, &c, err) < 0 ? -1 : 0;
}

/* Stores one point given as per-role values (vals[R_COUNT]). */
static int chunk_put(struct chunker *ch, const struct reader *r, const double *vals,
		     struct sq_err *err)
{
	size_t i = ch->n;

	memcpy(ch->xyz + 3 * i, vals + R_X, 3 * sizeof(double));
	for (int k = 0; ch->rgb && k < 3; k++)
		ch->rgb[3 * i + k] =
		    to_u8(vals[R_RED + k], r->vtx->props[r->role_prop[R_RED + k]].type);
	for (int k = 0; ch->nrm && k < 3; k++)
		ch->nrm[3 * i + k] = (float)vals[R_NX + k];
	if (++ch->n == SQ_PLY_CHUNK)
		return chunk_flush(ch, err);
	return 0;
}

/* ---- binary data ---- */

/* "vertex 12" or "'face' element 12": the record a data error is about. */
static const char *item_name(const struct reader *r, const struct elem *e, size_t idx, char *buf,
			     size_t len)
{
	if (e == r->vtx)
		snprintf(buf, len, "vertex %zu", idx);
	else
		snprintf(buf, len, "'%.40s' element %zu", e->name, idx);
	return buf;
}

/* Walks one record property by property (a record with lists has no fixed size),
 * storing the values of roles in vals unless it is NULL: 0, 1 at end of file, -1. */
static int bin_walk(struct reader *r, const struct elem *e, size_t idx, double *vals,
		    struct sq_err *err)
{
	for (size_t j = 0; j < e->nprops; j++) {
		const struct prop *p = &e->props[j];
		size_t sz = type_size[p->type];
		double v;
		char what[80];
		int rc = sq_ply_rd_need(r, type_size[p->len_type == T_NONE ? p->type : p->len_type],
					err);

		if (rc)
			return rc;
		if (p->len_type == T_NONE) {
			if (vals && p->role >= 0)
				vals[p->role] = get_num(r->buf + r->pos, p->type, r->swap);
			r->pos += sz;
			continue;
		}
		v = get_num(r->buf + r->pos, p->len_type, r->swap);
		r->pos += type_size[p->len_type];
		if (v < 0)
			return sq_ply_fail(r, err, 0, "%s: negative list length %.0f",
					   item_name(r, e, idx, what, sizeof(what)), v);
		rc = sq_ply_rd_skip(r, (size_t)v * sz, err); /* < 2^32 * 8: no overflow */
		if (rc)
			return rc;
	}
	return 0;
}

/* Decodes k fixed-size vertex records at p into the chunk. */
static void bin_decode(const struct reader *r, const unsigned char *p, size_t k, struct chunker *ch)
{
	const struct prop *pr[R_COUNT];
	size_t rec = r->vtx->rec_bytes;
	double *xyz = ch->xyz + 3 * ch->n;
	unsigned char *rgb = ch->rgb ? ch->rgb + 3 * ch->n : NULL;
	float *nrm = ch->nrm ? ch->nrm + 3 * ch->n : NULL;
	int swap = r->swap;

	for (int c = 0; c < R_COUNT; c++)
		pr[c] = r->role_prop[c] >= 0 ? &r->vtx->props[r->role_prop[c]] : NULL;
	for (size_t i = 0; i < k; i++, p += rec) {
		for (int c = 0; c < 3; c++)
			xyz[3 * i + c] = get_num(p + pr[c]->off, pr[c]->type, swap);
		for (int c = 0; rgb && c < 3; c++)
			rgb[3 * i + c] =
			    to_u8(get_num(p + pr[R_RED + c]->off, pr[R_RED + c]->type, swap),
				  pr[R_RED + c]->type);
		for (int c = 0; nrm && c < 3; c++)
			nrm[3 * i + c] =
			    (float)get_num(p + pr[R_NX + c]->off, pr[R_NX + c]->type, swap);
	}
}

/* Reads the count fixed-size records of e, decoding them into ch unless it is NULL. */
static int bin_fixed(struct reader *r, const struct elem *e, struct chunker *ch, struct sq_err *err)
{
	size_t rec = e->rec_bytes, done = 0;

	while (done < e->count) {
		size_t k = ch ? SQ_PLY_CHUNK - ch->n : SIZE_MAX;
		int rc = sq_ply_rd_need(r, rec, err);

		if (rc < 0)
			return -1;
		if (rc > 0)
			return sq_ply_truncated(r, err, done, e);
		if (rec && (r->len - r->pos) / rec < k)
			k = (r->len - r->pos) / rec;
		k = k < e->count - done ? k : e->count - done;
		if (ch)
			bin_decode(r, r->buf + r->pos, k, ch);
		r->pos += k * rec;
		done += k;
		if (ch && (ch->n += k) == SQ_PLY_CHUNK && chunk_flush(ch, err) < 0)
			return -1;
	}
	return 0;
}

/* Reads element e; its points go to ch unless ch is NULL (an element skipped). */
static int bin_elem(struct reader *r, const struct elem *e, struct chunker *ch, struct sq_err *err)
{
	double vals[R_COUNT] = {0};

	if (!e->has_list)
		return bin_fixed(r, e, ch, err);
	for (size_t done = 0; done < e->count; done++) {
		int rc = bin_walk(r, e, done, ch ? vals : NULL, err);

		if (rc < 0)
			return -1;
		if (rc > 0)
			return sq_ply_truncated(r, err, done, e);
		if (ch && chunk_put(ch, r, vals, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- ASCII data ---- */

static int is_blank(const char *s)
{
	return s[strspn(s, " \t")] == '\0';
}

static size_t count_words(const char *s)
{
	size_t n = 0;

	for (;;) {
		s += strspn(s, " \t");
		if (!*s)
			return n;
		n++;
		s += strcspn(s, " \t");
	}
}

/* Parses the next number at *s: 1, 0 at the end of the line, -1 when it is not a
 * number (then *s points at it). */
static int ascii_num(const struct reader *r, char **s, double *v)
{
	char *p = *s + strspn(*s, " \t"), *end;

	*s = p;
	if (!*p)
		return 0;
	*v = strtod_l(p, &end, r->c_locale);
	if (end == p || (*end && *end != ' ' && *end != '\t'))
		return -1;
	*s = end;
	return 1;
}

static int ascii_bad(const struct reader *r, size_t idx, const char *s, int rc, size_t want,
		     size_t got, struct sq_err *err)
{
	if (rc < 0)
		return sq_ply_fail(r, err, 0, "vertex %zu: bad number '%.*s'", idx,
				   (int)(strcspn(s, " \t") < 40 ? strcspn(s, " \t") : 40), s);
	return sq_ply_fail(r, err, 0, "vertex %zu: expected %zu values, got %zu", idx, want,
			   got + count_words(s));
}

/* Parses one vertex line into vals (per role). */
static int ascii_vertex(const struct reader *r, size_t idx, char *s, double *vals,
			struct sq_err *err)
{
	const struct elem *e = r->vtx;
	size_t want = e->nprops, got = 0;
	double v;
	int rc;

	for (size_t j = 0; j < e->nprops; j++) {
		const struct prop *p = &e->props[j];
		size_t items;

		if ((rc = ascii_num(r, &s, &v)) <= 0)
			return ascii_bad(r, idx, s, rc, want, got, err);
		got++;
		if (p->len_type == T_NONE) {
			if (p->role >= 0)
				vals[p->role] = v;
			continue;
		}
		if (!(v >= 0 && v <= 4294967295.0) || v != floor(v))
			return sq_ply_fail(r, err, 0, "vertex %zu: bad list length %g", idx, v);
		for (items = (size_t)v, want += items; items > 0; items--, got++)
			if ((rc = ascii_num(r, &s, &v)) <= 0)
				return ascii_bad(r, idx, s, rc, want, got, err);
	}
	if (!is_blank(s))
		return ascii_bad(r, idx, s, 0, want, got, err);
	return 0;
}

/* Reads the next non-blank line: 1, 0 at end of file, -1 on error. */
static int ascii_line(struct reader *r, char **line, struct sq_err *err)
{
	int rc;

	while ((rc = sq_ply_rd_line(r, ASCII_LINE_MAX, line, err)) > 0 && is_blank(*line))
		;
	return rc;
}

/* One element per line; an element without properties takes no line. */
static int ascii_elem(struct reader *r, const struct elem *e, struct chunker *ch,
		      struct sq_err *err)
{
	double vals[R_COUNT] = {0};
	char *line;

	for (size_t done = 0; e->nprops && done < e->count; done++) {
		int rc = ascii_line(r, &line, err);

		if (rc < 0)
			return -1;
		if (rc == 0)
			return sq_ply_truncated(r, err, done, e);
		if (ch &&
		    (ascii_vertex(r, done, line, vals, err) < 0 || chunk_put(ch, r, vals, err) < 0))
			return -1;
	}
	return 0;
}

/* ---- reading ---- */

int sq_ply_read_info(const char *path, struct sq_ply_info *info, struct sq_err *err)
{
	struct reader r;
	int rc;

	if (sq_ply_rd_open(&r, path, err) < 0)
		return -1;
	rc = sq_ply_parse_header(&r, err);
	if (rc == 0)
		sq_ply_fill_info(&r, info);
	sq_ply_rd_close(&r);
	return rc;
}

static int read_data(struct reader *r, struct chunker *ch, struct sq_err *err)
{
	for (struct elem *e = r->elems; e != r->vtx; e++) {
		int rc = r->format == SQ_PLY_ASCII ? ascii_elem(r, e, NULL, err)
						   : bin_elem(r, e, NULL, err);
		if (rc < 0)
			return -1;
	}
	if (r->format == SQ_PLY_ASCII)
		return ascii_elem(r, r->vtx, ch, err);
	return bin_elem(r, r->vtx, ch, err);
}

int sq_ply_stream(const char *path, struct sq_ply_info *info, sq_ply_chunk_fn fn, void *ctx,
		  struct sq_err *err)
{
	struct reader r;
	struct chunker ch;
	int rc = -1;

	if (sq_ply_rd_open(&r, path, err) < 0)
		return -1;
	if (sq_ply_parse_header(&r, err) < 0) {
		sq_ply_rd_close(&r);
		return -1;
	}
	sq_ply_fill_info(&r, info);
	chunker_init(&ch, &r, fn, ctx);
	if (read_data(&r, &ch, err) == 0)
		rc = chunk_flush(&ch, err);
	chunker_release(&ch);
	sq_ply_rd_close(&r);
	return rc;
}
