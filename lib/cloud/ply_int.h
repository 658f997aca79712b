/* ply_int.h - what ply.c (the data) and ply_input.c (opening, buffered input,
 * the header) share; not for other modules. */
#ifndef SQ_PLY_INT_H
#define SQ_PLY_INT_H

#include "cloud/ply.h"

#include <locale.h>
#include <stddef.h>

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

#define PLY_TYPE_SIZES                                                                             \
	{                                                                                          \
		0, 1, 1, 2, 2, 4, 4, 4, 8                                                          \
	}

/* What a vertex property is used for; the order is the order of the chunk arrays. */
enum role { R_X, R_Y, R_Z, R_RED, R_GREEN, R_BLUE, R_NX, R_NY, R_NZ, R_COUNT };

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

/* "'a.ply': line 4: msg" for header problems (line > 0), "'a.ply': msg"
 * otherwise; returns -1. */
int sq_ply_fail(const struct reader *r, struct sq_err *err, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A file that ends before its element does. */
int sq_ply_truncated(const struct reader *r, struct sq_err *err, size_t done, const struct elem *e);

/* Buffered input: open (and the C locale), close, read more, make n bytes
 * available at buf + pos, skip n bytes, take the next line (NUL-terminated in
 * place, at most max bytes). */
int sq_ply_rd_open(struct reader *r, const char *path, struct sq_err *err);
void sq_ply_rd_close(struct reader *r);
int sq_ply_rd_more(struct reader *r, struct sq_err *err);
int sq_ply_rd_need(struct reader *r, size_t n, struct sq_err *err);
int sq_ply_rd_skip(struct reader *r, size_t n, struct sq_err *err);
int sq_ply_rd_line(struct reader *r, size_t max, char **line, struct sq_err *err);

/* Reads and checks the header: elements, properties, the vertex element's
 * roles; leaves the input at the first data byte. */
int sq_ply_parse_header(struct reader *r, struct sq_err *err);
void sq_ply_fill_info(const struct reader *r, struct sq_ply_info *info);

#endif
