/* ply_input.c - opening a PLY file: buffered input and the header (the
 * elements, their properties, and which vertex properties are the position,
 * colour and normal). The data after the header is ply.c's. */
#include "cloud/ply_int.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"

static const size_t type_size[] = PLY_TYPE_SIZES;

static const struct {
	const char *name;
	enum ptype type;
} type_names[] = {
    {"char", T_I8},   {"int8", T_I8},	  {"uchar", T_U8},   {"uint8", T_U8},
    {"short", T_I16}, {"int16", T_I16},	  {"ushort", T_U16}, {"uint16", T_U16},
    {"int", T_I32},   {"int32", T_I32},	  {"uint", T_U32},   {"uint32", T_U32},
    {"float", T_F32}, {"float32", T_F32}, {"double", T_F64}, {"float64", T_F64},
};

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

/* "'a.ply': line 4: msg" for header problems (line > 0), "'a.ply': msg" otherwise. */
int sq_ply_fail(const struct reader *r, struct sq_err *err, int line, const char *fmt, ...)
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

int sq_ply_truncated(const struct reader *r, struct sq_err *err, size_t done, const struct elem *e)
{
	if (e == r->vtx)
		return sq_ply_fail(r, err, 0, "ends after %zu of %zu vertices", done, e->count);
	return sq_ply_fail(r, err, 0, "ends after %zu of %zu '%s' elements", done, e->count,
			   e->name);
}

/* ---- buffered input ---- */

int sq_ply_rd_open(struct reader *r, const char *path, struct sq_err *err)
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

void sq_ply_rd_close(struct reader *r)
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
int sq_ply_rd_more(struct reader *r, struct sq_err *err)
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
int sq_ply_rd_need(struct reader *r, size_t n, struct sq_err *err)
{
	if (n > r->cap)
		rd_grow(r, n);
	while (r->len - r->pos < n) {
		if (r->eof)
			return 1;
		if (sq_ply_rd_more(r, err) < 0)
			return -1;
	}
	return 0;
}

/* Consumes n bytes without keeping them: 0, 1 when the file ends first, -1 on error. */
int sq_ply_rd_skip(struct reader *r, size_t n, struct sq_err *err)
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
		if (sq_ply_rd_more(r, err) < 0)
			return -1;
	}
}

/* Next line, NUL-terminated, without its "\n" or "\r\n": 1, 0 at end of file, -1 on
 * error. The line lives in the buffer until the next read. */
int sq_ply_rd_line(struct reader *r, size_t max, char **line, struct sq_err *err)
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
			return sq_ply_fail(r, err, 0, "line %d is longer than %zu bytes",
					   r->line + 1, max);
		if (scanned == r->cap)
			rd_grow(r, r->cap * 2);
		if (sq_ply_rd_more(r, err) < 0)
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
		return sq_ply_fail(r, err, r->line, "bad format line");
	if (!strcmp(w[1], "ascii"))
		r->format = SQ_PLY_ASCII;
	else if (!strcmp(w[1], "binary_little_endian"))
		r->format = SQ_PLY_BINARY_LE;
	else if (!strcmp(w[1], "binary_big_endian"))
		r->format = SQ_PLY_BINARY_BE;
	else
		return sq_ply_fail(r, err, r->line, "unknown format '%s'", w[1]);
	if (strcmp(w[2], "1.0") && strcmp(w[2], "1"))
		return sq_ply_fail(r, err, r->line, "unsupported format version '%s'", w[2]);
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
		return sq_ply_fail(r, err, r->line, "bad element line");
	errno = 0;
	count = strtoull(w[2], &end, 10);
	if (*end || end == w[2] || w[2][0] == '-' || errno || count > SIZE_MAX)
		return sq_ply_fail(r, err, r->line, "bad element count '%s'", w[2]);
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
		return sq_ply_fail(r, err, r->line, "property before any element");
	if (nw != (list ? 5u : 3u))
		return sq_ply_fail(r, err, r->line, "bad property line");
	if (list) {
		p.len_type = parse_type(w[2]);
		if (p.len_type == T_NONE)
			return sq_ply_fail(r, err, r->line, "unknown property type '%s'", w[2]);
		if (p.len_type == T_F32 || p.len_type == T_F64)
			return sq_ply_fail(r, err, r->line,
					   "list length type '%s' is not an integer", w[2]);
	}
	p.type = parse_type(w[list ? 3 : 1]);
	if (p.type == T_NONE)
		return sq_ply_fail(r, err, r->line, "unknown property type '%s'", w[list ? 3 : 1]);
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
	return sq_ply_fail(r, err, r->line, "unknown header keyword '%.40s'", w[0]);
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
			return sq_ply_fail(r, err, v->line, "element 'vertex' has no property '%s'",
					   role_names[k][0]);
		if (v->props[i].len_type != T_NONE)
			return sq_ply_fail(r, err, v->props[i].line, "property '%s' is a list",
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
		return sq_ply_fail(r, err, r->line, "no format line before end_header");
	for (size_t i = 0; i < r->nelems && !r->vtx; i++)
		if (!strcmp(r->elems[i].name, "vertex"))
			r->vtx = &r->elems[i];
	if (!r->vtx)
		return sq_ply_fail(r, err, r->line, "no 'vertex' element");
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

int sq_ply_parse_header(struct reader *r, struct sq_err *err)
{
	int rc, done = 0;
	char *line;

	rc = sq_ply_rd_need(r, 4, err);
	if (rc < 0)
		return -1;
	/* checked before any line is split: a binary file may have no newline for megabytes */
	if (rc > 0 || memcmp(r->buf, "ply", 3) || (r->buf[3] != '\n' && r->buf[3] != '\r'))
		return sq_ply_fail(r, err, 1, "not a PLY file (no 'ply' magic)");
	if (sq_ply_rd_line(r, HEADER_LINE_MAX, &line, err) < 0)
		return -1;
	while (!done) {
		rc = sq_ply_rd_line(r, HEADER_LINE_MAX, &line, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return sq_ply_fail(r, err, r->line, "file ends inside the header");
		if (parse_header_line(r, line, &done, err) < 0)
			return -1;
	}
	return finish_header(r, err);
}

void sq_ply_fill_info(const struct reader *r, struct sq_ply_info *info)
{
	if (!info)
		return;
	info->count = r->vtx->count;
	info->has_rgb = r->has_rgb;
	info->has_nrm = r->has_nrm;
	info->format = r->format;
}

/* ---- values ---- */
