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
 * The writer is in ply_write.c. */
#include "cloud/ply.h"
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

#define BUF_BYTES ((size_t)1 << 20)
#define HEADER_LINE_MAX ((size_t)64 << 10)
#define ASCII_LINE_MAX ((size_t)64 << 20) /* longer: not a point cloud we can use */
#define MAX_WORDS 5

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_BE 1
#else
#define HOST_BE 0
#endif

enum ptype { T_NONE, T_I8, T_U8, T_I16, T_U16, T_I32, T_U32, T_F32, T_F64 };

static const struct {
	const char *name;
	enum ptype type;
} type_names[] = {
    {"char", T_I8},   {"int8", T_I8},	  {"uchar", T_U8},   {"uint8", T_U8},
    {"short", T_I16}, {"int16", T_I16},	  {"ushort", T_U16}, {"uint16", T_U16},
    {"int", T_I32},   {"int32", T_I32},	  {"uint", T_U32},   {"uint32", T_U32},
    {"float", T_F32}, {"float32", T_F32}, {"double", T_F64}, {"float64", T_F64},
};

static const size_t type_size[] = {0, 1, 1, 2, 2, 4, 4, 4, 8};

/* What a vertex property is used for; the order is the order of the chunk arrays. */
enum role { R_X, R_Y, R_Z, R_RED, R_GREEN, R_BLUE, R_NX, R_NY, R_NZ, R_COUNT };

static const char *const role_names[R_COUNT][2] = {
    {"x", NULL},
    {"y", NULL},
    {"z", NULL},
    {"red", "diffuse_red"},
    {"green", "diffuse_green"},
    {"blue", "diffuse_blue"},
    {"nx", NULL},
    {"ny", NULL},
    {"nz", NULL},
};

struct prop {
	char *name;
	enum ptype type;     /* a scalar's type, or a list's item type */
	enum ptype len_type; /* T_NONE for a scalar, else the list's length type */
	int line;	     /* header line declaring it */
	int role;	     /* enum role in the vertex element, else -1 */
	size_t off;	     /* byte offset in a fixed-size binary record */
};

struct elem {
	char *name;
	size_t count;
	struct prop *props;
	size_t nprops, props_cap;
	int line;
	int has_list;
	size_t rec_bytes; /* binary record size when !has_list */
};

struct reader {
	const char *path;
	int fd;
	unsigned char *buf; /* cap + 1 bytes: room for the NUL of an unterminated last line */
	size_t cap, pos, len;
	int eof;
	int line; /* lines read so far */
	int have_format, swap;
	enum sq_ply_format format;
	struct elem *elems;
	size_t nelems, elems_cap;
	struct elem *vtx;
	int role_prop[R_COUNT]; /* index in vtx->props, -1 when absent */
	int has_rgb, has_nrm;
	locale_t c_locale;
};

/* One chunk being filled for the callback. */
struct chunker {
	double *xyz;
	unsigned char *rgb;
	float *nrm;
	size_t n;
	sq_ply_chunk_fn fn;
	void *ctx;
};

static int ply_error(const struct reader *r, struct sq_err *err, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "'a.ply': line 4: msg" for header problems (line > 0), "'a.ply': msg" otherwise. */
static int ply_error(const struct reader *r, struct sq_err *err, int line, const char *fmt, ...)
{
	char msg[SQ_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		return sq_error(err, SQ_ERR_INVALID, "'%s': line %d: %s", r->path, line, msg);
	return sq_error(err, SQ_ERR_INVALID, "'%s': %s", r->path, msg);
}

static int truncated(const struct reader *r, struct sq_err *err, size_t done, const struct elem *e)
{
	if (e == r->vtx)
		return ply_error(r, err, 0, "ends after %zu of %zu vertices", done, e->count);
	return ply_error(r, err, 0, "ends after %zu of %zu '%s' elements", done, e->count, e->name);
}

/* ---- buffered input ---- */

static int rd_open(struct reader *r, const char *path, struct sq_err *err)
{
	memset(r, 0, sizeof(*r));
	r->path = path;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return sq_error_errno(err, errno, "cannot open '%s'", path);
	r->cap = BUF_BYTES;
	r->buf = xmalloc(r->cap + 1);
	r->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (r->c_locale == (locale_t)0) {
		close(r->fd);
		free(r->buf);
		return sq_error_errno(err, errno, "cannot read '%s': no C locale", path);
	}
	return 0;
}

static void rd_close(struct reader *r)
{
	for (size_t i = 0; i < r->nelems; i++) {
		for (size_t j = 0; j < r->elems[i].nprops; j++)
			free(r->elems[i].props[j].name);
		free(r->elems[i].props);
		free(r->elems[i].name);
	}
	free(r->elems);
	free(r->buf);
	freelocale(r->c_locale);
	close(r->fd);
}

/* Moves unread bytes to the front and reads once into the free space, which the
 * caller has made non-empty; sets eof at end of file. */
static int rd_more(struct reader *r, struct sq_err *err)
{
	ssize_t got;

	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	do
		got = read(r->fd, r->buf + r->len, r->cap - r->len);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return sq_error_errno(err, errno, "cannot read '%s'", r->path);
	if (got == 0)
		r->eof = 1;
	r->len += (size_t)got;
	return 0;
}

static void rd_grow(struct reader *r, size_t need)
{
	while (r->cap < need)
		r->cap *= 2;
	r->buf = xrealloc(r->buf, r->cap + 1);
}

/* Makes n bytes available at buf + pos: 0, 1 when the file ends first, -1 on error. */
static int rd_need(struct reader *r, size_t n, struct sq_err *err)
{
	if (n > r->cap)
		rd_grow(r, n);
	while (r->len - r->pos < n) {
		if (r->eof)
			return 1;
		if (rd_more(r, err) < 0)
			return -1;
	}
	return 0;
}

/* Consumes n bytes without keeping them: 0, 1 when the file ends first, -1 on error. */
static int rd_skip(struct reader *r, size_t n, struct sq_err *err)
{
	for (;;) {
		size_t have = r->len - r->pos, k = have < n ? have : n;

		r->pos += k;
		n -= k;
		if (n == 0)
			return 0;
		if (r->eof)
			return 1;
		r->pos = r->len = 0;
		if (rd_more(r, err) < 0)
			return -1;
	}
}

/* Next line, NUL-terminated, without its "\n" or "\r\n": 1, 0 at end of file, -1 on
 * error. The line lives in the buffer until the next read. */
static int rd_line(struct reader *r, size_t max, char **line, struct sq_err *err)
{
	size_t scanned = 0;
	unsigned char *nl;

	for (;;) {
		nl = memchr(r->buf + r->pos + scanned, '\n', r->len - r->pos - scanned);
		if (nl)
			break;
		if (r->eof) {
			if (r->pos == r->len)
				return 0;
			nl = r->buf + r->len; /* last line without newline: the spare byte */
			break;
		}
		scanned = r->len - r->pos;
		if (scanned >= max)
			return ply_error(r, err, 0, "line %d is longer than %zu bytes", r->line + 1,
					 max);
		if (scanned == r->cap)
			rd_grow(r, r->cap * 2);
		if (rd_more(r, err) < 0)
			return -1;
	}
	*line = (char *)r->buf + r->pos;
	r->pos = (size_t)(nl - r->buf) + (nl < r->buf + r->len);
	*nl = '\0';
	if (nl > (unsigned char *)*line && nl[-1] == '\r')
		nl[-1] = '\0';
	r->line++;
	return 1;
}

/* ---- header ---- */

/* Splits s at blanks; returns the word count, MAX_WORDS + 1 when there are more. */
static size_t split_words(char *s, char **w)
{
	size_t n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return n;
		if (n == MAX_WORDS)
			return MAX_WORDS + 1;
		w[n++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = '\0';
	}
}

static enum ptype parse_type(const char *s)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (!strcmp(s, type_names[i].name))
			return type_names[i].type;
	return T_NONE;
}

static int parse_format(struct reader *r, char **w, size_t nw, struct sq_err *err)
{
	if (nw != 3)
		return ply_error(r, err, r->line, "bad format line");
	if (!strcmp(w[1], "ascii"))
		r->format = SQ_PLY_ASCII;
	else if (!strcmp(w[1], "binary_little_endian"))
		r->format = SQ_PLY_BINARY_LE;
	else if (!strcmp(w[1], "binary_big_endian"))
		r->format = SQ_PLY_BINARY_BE;
	else
		return ply_error(r, err, r->line, "unknown format '%s'", w[1]);
	if (strcmp(w[2], "1.0") && strcmp(w[2], "1"))
		return ply_error(r, err, r->line, "unsupported format version '%s'", w[2]);
	r->have_format = 1;
	r->swap = r->format != SQ_PLY_ASCII && (r->format == SQ_PLY_BINARY_BE) != HOST_BE;
	return 0;
}

static int parse_element(struct reader *r, char **w, size_t nw, struct sq_err *err)
{
	unsigned long long count;
	struct elem *e;
	char *end;

	if (nw != 3)
		return ply_error(r, err, r->line, "bad element line");
	errno = 0;
	count = strtoull(w[2], &end, 10);
	if (*end || end == w[2] || w[2][0] == '-' || errno || count > SIZE_MAX)
		return ply_error(r, err, r->line, "bad element count '%s'", w[2]);
	xgrow((void **)&r->elems, &r->elems_cap, r->nelems + 1, sizeof(*r->elems));
	e = &r->elems[r->nelems++];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(w[1]);
	e->count = (size_t)count;
	e->line = r->line;
	return 0;
}

static int parse_property(struct reader *r, char **w, size_t nw, struct sq_err *err)
{
	int list = nw >= 2 && !strcmp(w[1], "list");
	struct elem *e = r->nelems ? &r->elems[r->nelems - 1] : NULL;
	struct prop p = {.len_type = T_NONE, .line = r->line, .role = -1};

	if (!e)
		return ply_error(r, err, r->line, "property before any element");
	if (nw != (list ? 5u : 3u))
		return ply_error(r, err, r->line, "bad property line");
	if (list) {
		p.len_type = parse_type(w[2]);
		if (p.len_type == T_NONE)
			return ply_error(r, err, r->line, "unknown property type '%s'", w[2]);
		if (p.len_type == T_F32 || p.len_type == T_F64)
			return ply_error(r, err, r->line, "list length type '%s' is not an integer",
					 w[2]);
	}
	p.type = parse_type(w[list ? 3 : 1]);
	if (p.type == T_NONE)
		return ply_error(r, err, r->line, "unknown property type '%s'", w[list ? 3 : 1]);
	p.name = xstrdup(w[list ? 4 : 2]);
	xgrow((void **)&e->props, &e->props_cap, e->nprops + 1, sizeof(*e->props));
	e->props[e->nprops++] = p;
	return 0;
}

/* Handles one header line; sets *done at end_header. */
static int parse_header_line(struct reader *r, char *line, int *done, struct sq_err *err)
{
	char *w[MAX_WORDS];
	size_t nw = split_words(line, w);

	if (nw == 0 || !strcmp(w[0], "comment") || !strcmp(w[0], "obj_info"))
		return 0;
	if (!strcmp(w[0], "format"))
		return parse_format(r, w, nw, err);
	if (!strcmp(w[0], "element"))
		return parse_element(r, w, nw, err);
	if (!strcmp(w[0], "property"))
		return parse_property(r, w, nw, err);
	if (!strcmp(w[0], "end_header")) {
		*done = 1;
		return 0;
	}
	return ply_error(r, err, r->line, "unknown header keyword '%.40s'", w[0]);
}

/* Finds the property playing role in the vertex element; -1 when there is none. */
static int find_role(const struct elem *e, int role)
{
	for (size_t i = 0; i < e->nprops; i++) {
		const char *n = e->props[i].name;

		if (e->props[i].role < 0 &&
		    (!strcmp(n, role_names[role][0]) ||
		     (role_names[role][1] && !strcmp(n, role_names[role][1]))))
			return (int)i;
	}
	return -1;
}

/* Keeps a group of roles (colour, normals) only when all three are scalars. */
static int keep_group(struct reader *r, int first)
{
	for (int k = first; k < first + 3; k++) {
		int i = r->role_prop[k];

		if (i < 0 || r->vtx->props[i].len_type != T_NONE)
			return 0;
	}
	for (int k = first; k < first + 3; k++)
		r->vtx->props[r->role_prop[k]].role = k;
	return 1;
}

static int assign_roles(struct reader *r, struct sq_err *err)
{
	struct elem *v = r->vtx;

	for (int k = 0; k < R_COUNT; k++)
		r->role_prop[k] = find_role(v, k);
	for (int k = R_X; k <= R_Z; k++) {
		int i = r->role_prop[k];

		if (i < 0)
			return ply_error(r, err, v->line, "element 'vertex' has no property '%s'",
					 role_names[k][0]);
		if (v->props[i].len_type != T_NONE)
			return ply_error(r, err, v->props[i].line, "property '%s' is a list",
					 role_names[k][0]);
		v->props[i].role = k;
	}
	r->has_rgb = keep_group(r, R_RED);
	r->has_nrm = keep_group(r, R_NX);
	return 0;
}

/* After end_header: locates the vertex element and lays out fixed-size records. */
static int finish_header(struct reader *r, struct sq_err *err)
{
	if (!r->have_format)
		return ply_error(r, err, r->line, "no format line before end_header");
	for (size_t i = 0; i < r->nelems && !r->vtx; i++)
		if (!strcmp(r->elems[i].name, "vertex"))
			r->vtx = &r->elems[i];
	if (!r->vtx)
		return ply_error(r, err, r->line, "no 'vertex' element");
	for (size_t i = 0; i < r->nelems; i++) {
		struct elem *e = &r->elems[i];

		for (size_t j = 0; j < e->nprops; j++) {
			e->props[j].off = e->rec_bytes;
			e->rec_bytes += type_size[e->props[j].type];
			e->has_list |= e->props[j].len_type != T_NONE;
		}
	}
	return assign_roles(r, err);
}

static int parse_header(struct reader *r, struct sq_err *err)
{
	int rc, done = 0;
	char *line;

	rc = rd_need(r, 4, err);
	if (rc < 0)
		return -1;
	/* checked before any line is split: a binary file may have no newline for megabytes */
	if (rc > 0 || memcmp(r->buf, "ply", 3) || (r->buf[3] != '\n' && r->buf[3] != '\r'))
		return ply_error(r, err, 1, "not a PLY file (no 'ply' magic)");
	if (rd_line(r, HEADER_LINE_MAX, &line, err) < 0)
		return -1;
	while (!done) {
		rc = rd_line(r, HEADER_LINE_MAX, &line, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return ply_error(r, err, r->line, "file ends inside the header");
		if (parse_header_line(r, line, &done, err) < 0)
			return -1;
	}
	return finish_header(r, err);
}

static void fill_info(const struct reader *r, struct sq_ply_info *info)
{
	if (!info)
		return;
	info->count = r->vtx->count;
	info->has_rgb = r->has_rgb;
	info->has_nrm = r->has_nrm;
	info->format = r->format;
}

/* ---- values ---- */

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

static inline unsigned char to_u8(double v, enum ptype t)
{
	if (t == T_U8)
		return (unsigned char)v;
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
		int rc = rd_need(r, type_size[p->len_type == T_NONE ? p->type : p->len_type], err);

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
			return ply_error(r, err, 0, "%s: negative list length %.0f",
					 item_name(r, e, idx, what, sizeof(what)), v);
		rc = rd_skip(r, (size_t)v * sz, err); /* < 2^32 * 8: no overflow */
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
		int rc = rd_need(r, rec, err);

		if (rc < 0)
			return -1;
		if (rc > 0)
			return truncated(r, err, done, e);
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
			return truncated(r, err, done, e);
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
		return ply_error(r, err, 0, "vertex %zu: bad number '%.*s'", idx,
				 (int)(strcspn(s, " \t") < 40 ? strcspn(s, " \t") : 40), s);
	return ply_error(r, err, 0, "vertex %zu: expected %zu values, got %zu", idx, want,
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
			return ply_error(r, err, 0, "vertex %zu: bad list length %g", idx, v);
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

	while ((rc = rd_line(r, ASCII_LINE_MAX, line, err)) > 0 && is_blank(*line))
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
			return truncated(r, err, done, e);
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

	if (rd_open(&r, path, err) < 0)
		return -1;
	rc = parse_header(&r, err);
	if (rc == 0)
		fill_info(&r, info);
	rd_close(&r);
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

	if (rd_open(&r, path, err) < 0)
		return -1;
	if (parse_header(&r, err) < 0) {
		rd_close(&r);
		return -1;
	}
	fill_info(&r, info);
	chunker_init(&ch, &r, fn, ctx);
	if (read_data(&r, &ch, err) == 0)
		rc = chunk_flush(&ch, err);
	chunker_release(&ch);
	rd_close(&r);
	return rc;
}
