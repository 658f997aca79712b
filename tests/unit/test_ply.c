/* test_ply.c - PLY reading and writing, point clouds, voxel grids. */
#include "cloud/cloud.h"
#include "base/err.h"
#include "cloud/ply.h"
#include "cloud/voxel.h"
#include "base/xalloc.h"
#include "t.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Everything the reader delivered, concatenated. */
struct got {
	size_t n, chunks, max_chunk, cap;
	double *xyz;
	unsigned char *rgb;
	float *nrm;
	int rgb_seen, nrm_seen;
	size_t fail_at; /* make the callback fail on this chunk (1-based), 0: never */
};

static int collect(void *ctx, const struct sq_ply_chunk *c, struct sq_err *err)
{
	struct got *g = ctx;

	g->chunks++;
	if (g->fail_at && g->chunks == g->fail_at)
		return sq_error(err, SQ_ERR_CANCEL, "stopped at chunk %zu", g->chunks);
	if (c->n > g->max_chunk)
		g->max_chunk = c->n;
	if (g->n + c->n > g->cap) {
		g->cap = (g->n + c->n) * 2;
		g->xyz = xrealloc(g->xyz, g->cap * 3 * sizeof(double));
		g->rgb = xrealloc(g->rgb, g->cap * 3);
		g->nrm = xrealloc(g->nrm, g->cap * 3 * sizeof(float));
	}
	memcpy(g->xyz + 3 * g->n, c->xyz, c->n * 3 * sizeof(double));
	if (c->rgb)
		memcpy(g->rgb + 3 * g->n, c->rgb, c->n * 3);
	if (c->nrm)
		memcpy(g->nrm + 3 * g->n, c->nrm, c->n * 3 * sizeof(float));
	g->rgb_seen |= c->rgb != NULL;
	g->nrm_seen |= c->nrm != NULL;
	g->n += c->n;
	return 0;
}

static void got_free(struct got *g)
{
	free(g->xyz);
	free(g->rgb);
	free(g->nrm);
	memset(g, 0, sizeof(*g));
}

static char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", t_tmpdir(), name);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	T_CHECK(f != NULL);
	if (!f)
		return;
	T_EQ_INT(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* Reads path and returns its stream's result; g is filled (free with got_free). */
static int read_ply(const char *path, struct sq_ply_info *info, struct got *g, struct sq_err *err)
{
	memset(err, 0, sizeof(*err));
	return sq_ply_stream(path, info, collect, g, err);
}

/* Writes n points of a simple pattern (x = i, y = -i/4, z = 1e5 + i/8: exact in
 * float) with the given optional arrays. */
static int write_pattern(const char *path, size_t n, int rgb, int nrm, struct sq_err *err)
{
	struct sq_ply_writer *w = sq_ply_writer_open(path, rgb, nrm, err);
	double *xyz = xmalloc(3 * n * sizeof(double) + 1);
	unsigned char *col = xmalloc(3 * n + 1);
	float *nr = xmalloc(3 * n * sizeof(float) + 1);
	struct sq_ply_chunk c = {n, xyz, rgb ? col : NULL, nrm ? nr : NULL};
	int rc = -1;

	for (size_t i = 0; i < n; i++) {
		xyz[3 * i] = (double)i;
		xyz[3 * i + 1] = -(double)i / 4;
		xyz[3 * i + 2] = 1e5 + (double)(i % 1000) / 8;
		for (int k = 0; k < 3; k++) {
			col[3 * i + k] = (unsigned char)(i * 7 + (size_t)k * 50);
			nr[3 * i + k] = k == (int)(i % 3) ? 1.0f : 0.0f;
		}
	}
	if (w && sq_ply_writer_add(w, &c, err) == 0)
		rc = sq_ply_writer_close(w, err);
	else
		sq_ply_writer_abort(w);
	free(xyz);
	free(col);
	free(nr);
	return rc;
}

static int pattern_ok(const struct got *g, size_t n, int rgb, int nrm)
{
	for (size_t i = 0; i < n; i++) {
		if (g->xyz[3 * i] != (double)i || g->xyz[3 * i + 1] != -(double)i / 4 ||
		    g->xyz[3 * i + 2] != 1e5 + (double)(i % 1000) / 8)
			return 0;
		for (int k = 0; k < 3; k++) {
			if (rgb && g->rgb[3 * i + k] != (unsigned char)(i * 7 + (size_t)k * 50))
				return 0;
			if (nrm && g->nrm[3 * i + k] != (k == (int)(i % 3) ? 1.0f : 0.0f))
				return 0;
		}
	}
	return 1;
}

static void test_round_trip(void)
{
	char *path = tmp_path("rt.ply");
	struct sq_err err;

	for (int mode = 0; mode < 4; mode++) {
		int rgb = mode & 1, nrm = mode >> 1;
		struct sq_ply_info info;
		struct got g = {0};

		memset(&err, 0, sizeof(err));
		T_EQ_INT(write_pattern(path, 1000, rgb, nrm, &err), 0);
		T_EQ_INT(sq_ply_read_info(path, &info, &err), 0);
		T_EQ_INT(info.count, 1000);
		T_EQ_INT(info.has_rgb, rgb);
		T_EQ_INT(info.has_nrm, nrm);
		T_EQ_INT(info.format, SQ_PLY_BINARY_LE);
		T_EQ_INT(read_ply(path, NULL, &g, &err), 0);
		T_EQ_INT(g.n, 1000);
		T_EQ_INT(g.rgb_seen, rgb);
		T_EQ_INT(g.nrm_seen, nrm);
		T_CHECK(pattern_ok(&g, 1000, rgb, nrm));
		got_free(&g);
	}
	free(path);
}

/* The header as written: the count is a zero-padded field patched on close. */
static void test_writer_header(void)
{
	char *path = tmp_path("hdr.ply");
	struct sq_err err = {0};
	struct sq_ply_chunk none = {0, NULL, NULL, NULL};
	struct sq_ply_writer *w;
	char *text;
	size_t len;
	FILE *f;

	T_EQ_INT(write_pattern(path, 12, 1, 1, &err), 0);
	text = xmalloc(4096);
	f = fopen(path, "rb");
	len = f ? fread(text, 1, 4095, f) : 0;
	if (f)
		fclose(f);
	text[len] = '\0';
	T_CHECK(!strncmp(text, "ply\nformat binary_little_endian 1.0\n", 36));
	T_CONTAINS(text, "\nelement vertex 0000000012\nproperty float x\nproperty float y\n"
			 "property float z\nproperty uchar red\nproperty uchar green\n"
			 "property uchar blue\nproperty float nx\nproperty float ny\n"
			 "property float nz\nend_header\n");
	T_EQ_INT(len, strlen(text) + 12 * 27);
	free(text);
	/* an empty cloud is a valid file; abort removes what was written */
	w = sq_ply_writer_open(path, 0, 0, &err);
	T_EQ_INT(sq_ply_writer_add(w, &none, &err), 0);
	T_EQ_INT(sq_ply_writer_close(w, &err), 0);
	T_EQ_INT(sq_ply_read_info(path, &(struct sq_ply_info){0}, &err), 0);
	w = sq_ply_writer_open(path, 0, 0, &err);
	sq_ply_writer_abort(w);
	T_EQ_INT(access(path, F_OK), -1);
	free(path);
	path = tmp_path("no/such/dir.ply");
	T_CHECK(sq_ply_writer_open(path, 0, 0, &err) == NULL);
	text = xasprintf("cannot create '%s': no such file or directory", path);
	T_EQ_STR(err.msg, text);
	free(text);
	free(path);
}

/* A write that fails (file size limit: EFBIG, like a full disk) removes the file. */
static void test_writer_failure(void)
{
	char *path = tmp_path("big.ply");
	struct sq_err err = {0};
	struct rlimit old, lim;
	void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);

	T_EQ_INT(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 100000;
	T_EQ_INT(setrlimit(RLIMIT_FSIZE, &lim), 0);
	T_EQ_INT(write_pattern(path, 200000, 1, 0, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_NOSPC);
	T_CONTAINS(err.msg, "cannot write '");
	T_EQ_INT(access(path, F_OK), -1);
	T_EQ_INT(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_sig);
	free(path);
}

static void test_ascii(void)
{
	static const char text[] = "ply\r\n"
				   "format ascii 1.0\r\n"
				   "comment made by hand\r\n"
				   "obj_info nothing to see\r\n"
				   "element vertex 3\r\n"
				   "property float x\r\n"
				   "property float y\r\n"
				   "property double z\r\n"
				   "property float diffuse_red\r\n"
				   "property float diffuse_green\r\n"
				   "property float diffuse_blue\r\n"
				   "property float nx\r\n"
				   "property float ny\r\n"
				   "property float nz\r\n"
				   "end_header\r\n"
				   "1.5 -2 3e2 0 0.5 1 0 0 1\r\n"
				   "\r\n"
				   "  -0.25\t4 5   1 1 1 0 1 0\r\n"
				   "7 8 9 2 -1 0.2 1 0 0";
	char *path = tmp_path("hand.ply");
	struct sq_ply_info info;
	struct sq_err err;
	struct got g = {0};

	write_bytes(path, text, strlen(text));
	T_EQ_INT(read_ply(path, &info, &g, &err), 0);
	T_EQ_INT(info.format, SQ_PLY_ASCII);
	T_EQ_INT(info.count, 3);
	T_CHECK(info.has_rgb && info.has_nrm);
	T_EQ_INT(g.n, 3);
	T_CHECK(g.xyz[0] == 1.5 && g.xyz[1] == -2 && g.xyz[2] == 300);
	T_CHECK(g.xyz[3] == -0.25 && g.xyz[4] == 4 && g.xyz[5] == 5);
	T_CHECK(g.xyz[6] == 7 && g.xyz[8] == 9);
	/* float colours 0..1 scale to 0..255, clamped */
	T_CHECK(g.rgb[0] == 0 && g.rgb[1] == 128 && g.rgb[2] == 255);
	T_CHECK(g.rgb[6] == 255 && g.rgb[7] == 0 && g.rgb[8] == 51);
	T_CHECK(g.nrm[2] == 1 && g.nrm[4] == 1 && g.nrm[6] == 1);
	got_free(&g);
	free(path);
}

/* An ASCII "uchar" is whatever number the file holds: clamped to 0..255, as
 * the other integer types are (found by tests/fuzz/fuzz_ply: converting 307 to
 * unsigned char is undefined, and gave 51 here). */
static void test_ascii_uchar_range(void)
{
	static const char text[] = "ply\nformat ascii 1.0\nelement vertex 2\n"
				   "property float x\nproperty float y\nproperty float z\n"
				   "property uchar red\nproperty uchar green\nproperty uchar blue\n"
				   "end_header\n"
				   "0 0 0 307 -1 nan\n"
				   "0 0 0 1e300 254.9 -1e300\n";
	char *path = tmp_path("uchar.ply");
	struct sq_err err;
	struct got g = {0};

	write_bytes(path, text, strlen(text));
	T_EQ_INT(read_ply(path, NULL, &g, &err), 0);
	T_EQ_INT(g.n, 2);
	T_CHECK(g.rgb[0] == 255 && g.rgb[1] == 0 && g.rgb[2] == 0);
	T_CHECK(g.rgb[3] == 255 && g.rgb[4] == 254 && g.rgb[5] == 0);
	got_free(&g);
	free(path);
}

/* A byte buffer for building binary files by hand. */
struct bytes {
	unsigned char b[4096];
	size_t n;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put_s(struct bytes *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_be(struct bytes *b, uint64_t v, int size)
{
	for (int i = size - 1; i >= 0; i--)
		b->b[b->n++] = (unsigned char)(v >> (8 * i));
}

static void put_le(struct bytes *b, uint64_t v, int size)
{
	for (int i = 0; i < size; i++)
		b->b[b->n++] = (unsigned char)(v >> (8 * i));
}

static uint32_t f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static uint64_t f64_bits(double d)
{
	uint64_t u;

	memcpy(&u, &d, 8);
	return u;
}

static void test_big_endian(void)
{
	char *path = tmp_path("be.ply");
	struct bytes b = {.n = 0};
	struct sq_ply_info info;
	struct sq_err err;
	struct got g = {0};

	put_s(&b, "ply\nformat binary_big_endian 1.0\nelement vertex 2\n"
		  "property float32 x\nproperty float32 y\nproperty float32 z\n"
		  "property int16 intensity\nproperty ushort red\nproperty ushort green\n"
		  "property ushort blue\nproperty double nx\nproperty double ny\n"
		  "property double nz\nend_header\n");
	for (int i = 0; i < 2; i++) {
		put_be(&b, f32_bits(1.25f + (float)i), 4);
		put_be(&b, f32_bits(-1000.5f), 4);
		put_be(&b, f32_bits(3e-3f), 4);
		put_be(&b, (uint16_t)-7, 2);
		put_be(&b, i ? 65535 : 0, 2);
		put_be(&b, 257 * 100, 2);
		put_be(&b, 1000, 2);
		put_be(&b, f64_bits(0.6), 8);
		put_be(&b, f64_bits(-0.8), 8);
		put_be(&b, f64_bits(i ? 1 : 0), 8);
	}
	write_bytes(path, b.b, b.n);
	T_EQ_INT(read_ply(path, &info, &g, &err), 0);
	T_EQ_INT(info.format, SQ_PLY_BINARY_BE);
	T_EQ_INT(g.n, 2);
	T_CHECK(g.xyz[0] == 1.25 && g.xyz[1] == -1000.5 && g.xyz[2] == (double)3e-3f);
	T_CHECK(g.xyz[3] == 2.25);
	/* 16-bit colour scales to 8 bits */
	T_CHECK(g.rgb[0] == 0 && g.rgb[1] == 100 && g.rgb[2] == 4 && g.rgb[3] == 255);
	T_CHECK(g.nrm[0] == 0.6f && g.nrm[1] == -0.8f && g.nrm[2] == 0 && g.nrm[5] == 1);
	got_free(&g);
	free(path);
}

/* Faces before the vertices (lists walked), extra properties, double xyz, uint8
 * colour, an element after the vertices whose data is missing (never read). */
static void test_face_first(void)
{
	char *path = tmp_path("faces.ply");
	struct bytes b = {.n = 0};
	struct sq_ply_info info;
	struct sq_err err;
	struct got g = {0};
	static const int lens[3] = {3, 0, 5};

	put_s(&b, "ply\nformat binary_little_endian 1.0\ncomment faces first\n"
		  "element face 3\nproperty list uchar int vertex_indices\nproperty uint8 flags\n"
		  "property list ushort double weights\n"
		  "element vertex 2\nproperty double x\nproperty double y\nproperty double z\n"
		  "property uint8 red\nproperty uint8 green\nproperty uint8 blue\n"
		  "property uint8 alpha\nproperty float32 quality\n"
		  "element edge 5\nproperty int vertex1\nproperty int vertex2\nend_header\n");
	for (int f = 0; f < 3; f++) {
		put_le(&b, (uint64_t)lens[f], 1);
		for (int k = 0; k < lens[f]; k++)
			put_le(&b, (uint64_t)k, 4);
		put_le(&b, 0xee, 1);
		put_le(&b, (uint64_t)f, 2);
		for (int k = 0; k < f; k++)
			put_le(&b, f64_bits(99), 8);
	}
	for (int v = 0; v < 2; v++) {
		put_le(&b, f64_bits(0.1 + v), 8);
		put_le(&b, f64_bits(-123456.789), 8);
		put_le(&b, f64_bits(1e-9), 8);
		put_le(&b, 10 + (uint64_t)v, 1);
		put_le(&b, 20, 1);
		put_le(&b, 30, 1);
		put_le(&b, 40, 1);
		put_le(&b, f32_bits(0.5f), 4);
	}
	write_bytes(path, b.b, b.n);
	T_EQ_INT(read_ply(path, &info, &g, &err), 0);
	T_EQ_INT(info.count, 2);
	T_CHECK(info.has_rgb && !info.has_nrm);
	T_EQ_INT(g.n, 2);
	T_CHECK(g.xyz[0] == 0.1 && g.xyz[1] == -123456.789 && g.xyz[2] == 1e-9);
	T_CHECK(g.xyz[3] == 0.1 + 1);
	T_CHECK(g.rgb[0] == 10 && g.rgb[1] == 20 && g.rgb[2] == 30 && g.rgb[3] == 11);
	T_EQ_INT(g.nrm_seen, 0);
	got_free(&g);
	free(path);
}

/* A vertex element with a list of its own (no fixed record size), in binary and
 * ASCII, after an ASCII face element. */
static void test_vertex_list(void)
{
	char *path = tmp_path("vlist.ply");
	struct bytes b = {.n = 0};
	static const char text[] =
	    "ply\nformat ascii 1.0\nelement face 2\n"
	    "property list uchar int vertex_indices\n"
	    "element vertex 2\nproperty float x\nproperty list uchar float tags\n"
	    "property float y\nproperty float z\nend_header\n"
	    "3 0 1 2\n4 0 1 2 3\n1 2 9 9 2 3\n4 0 5 6\n";
	struct sq_err err;
	struct got g = {0};

	put_s(&b,
	      "ply\nformat binary_little_endian 1.0\nelement vertex 2\nproperty float x\n"
	      "property list uint8 float tags\nproperty float y\nproperty float z\nend_header\n");
	for (int v = 0; v < 2; v++) {
		put_le(&b, f32_bits((float)v + 1), 4);
		put_le(&b, (uint64_t)v * 2, 1);
		for (int k = 0; k < v * 2; k++)
			put_le(&b, f32_bits(99), 4);
		put_le(&b, f32_bits(2), 4);
		put_le(&b, f32_bits(3), 4);
	}
	write_bytes(path, b.b, b.n);
	T_EQ_INT(read_ply(path, NULL, &g, &err), 0);
	T_EQ_INT(g.n, 2);
	T_CHECK(g.xyz[0] == 1 && g.xyz[1] == 2 && g.xyz[2] == 3);
	T_CHECK(g.xyz[3] == 2 && g.xyz[4] == 2 && g.xyz[5] == 3);
	got_free(&g);
	write_bytes(path, text, strlen(text));
	T_EQ_INT(read_ply(path, NULL, &g, &err), 0);
	T_EQ_INT(g.n, 2);
	T_CHECK(g.xyz[0] == 1 && g.xyz[1] == 2 && g.xyz[2] == 3);
	T_CHECK(g.xyz[3] == 4 && g.xyz[4] == 5 && g.xyz[5] == 6);
	got_free(&g);
	free(path);
}

/* Writes content, reads it, expects failure with exactly "'<path>': <msg>". */
static void expect_error(const char *content, size_t len, const char *msg)
{
	char *path = tmp_path("bad.ply"), *want = xasprintf("'%s': %s", path, msg);
	struct sq_err err;
	struct got g = {0};

	write_bytes(path, content, len);
	T_EQ_INT(read_ply(path, NULL, &g, &err), -1);
	T_EQ_STR(err.msg, want);
	T_EQ_INT(err.code, SQ_ERR_INVALID);
	got_free(&g);
	free(want);
	free(path);
}

#define EXPECT_ERROR(text, msg) expect_error(text, sizeof(text) - 1, msg)

static void test_header_errors(void)
{
	EXPECT_ERROR("plx\nformat ascii 1.0\n", "line 1: not a PLY file (no 'ply' magic)");
	EXPECT_ERROR("", "line 1: not a PLY file (no 'ply' magic)");
	EXPECT_ERROR("ply\nformat ascii 1.0\nelement vertex 1\nproperty float y\n"
		     "property float z\nend_header\n1 2\n",
		     "line 3: element 'vertex' has no property 'x'");
	EXPECT_ERROR("ply\nformat ascii 1.0\nelement vertex 1\nproperty flt x\n",
		     "line 4: unknown property type 'flt'");
	EXPECT_ERROR("ply\nformat ascii 2.0\n", "line 2: unsupported format version '2.0'");
	EXPECT_ERROR("ply\nformat binary_middle_endian 1.0\n",
		     "line 2: unknown format 'binary_middle_endian'");
	EXPECT_ERROR("ply\nformat ascii 1.0\nproperty float x\n",
		     "line 3: property before any element");
	EXPECT_ERROR("ply\nformat ascii 1.0\nelement vertex -1\n",
		     "line 3: bad element count '-1'");
	EXPECT_ERROR("ply\nformat ascii 1.0\nelement vertex 1\nproperty list float int x\n",
		     "line 4: list length type 'float' is not an integer");
	EXPECT_ERROR("ply\nformat ascii 1.0\nelement vertex 1\nproperty list uchar float x\n"
		     "property float y\nproperty float z\nend_header\n",
		     "line 4: property 'x' is a list");
	EXPECT_ERROR("ply\nformat ascii 1.0\nelement vertex 1\nelemnt face 2\n",
		     "line 4: unknown header keyword 'elemnt'");
	EXPECT_ERROR("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n",
		     "line 4: file ends inside the header");
	EXPECT_ERROR("ply\nformat ascii 1.0\nelement face 1\nend_header\n",
		     "line 4: no 'vertex' element");
	EXPECT_ERROR("ply\nelement vertex 1\nproperty float x\nend_header\n",
		     "line 4: no format line before end_header");
}

static void test_data_errors(void)
{
	static const char trunc_bin[] = "ply\nformat binary_little_endian 1.0\nelement vertex 3\n"
					"property float x\nproperty float y\nproperty float z\n"
					"end_header\n"
					"aaaabbbbccccddddeeeeffffgggghhhhii";

	EXPECT_ERROR(trunc_bin, "ends after 2 of 3 vertices");
	EXPECT_ERROR("ply\nformat binary_big_endian 1.0\nelement face 3\n"
		     "property list uchar int vertex_indices\nelement vertex 1\n"
		     "property float x\nproperty float y\nproperty float z\nend_header\n"
		     "\x01\0\0\0\x07\x02\0\0\0\x01\0\0\0",
		     "ends after 1 of 3 'face' elements");
	EXPECT_ERROR("ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\n"
		     "property float y\nproperty float z\nend_header\n1 2 3\n4 5 6\n",
		     "ends after 2 of 3 vertices");
	EXPECT_ERROR("ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\n"
		     "property float y\nproperty float z\nend_header\n1 2 3\n4 abc 6\n",
		     "vertex 1: bad number 'abc'");
	EXPECT_ERROR("ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\n"
		     "property float y\nproperty uchar red\nproperty uchar green\n"
		     "property uchar blue\nproperty float z\nend_header\n1 2 3 4 5 6\n7 8 9\n",
		     "vertex 1: expected 6 values, got 3");
	EXPECT_ERROR("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n"
		     "property float y\nproperty float z\nend_header\n1 2 3 4\n",
		     "vertex 0: expected 3 values, got 4");
}

static void test_other_failures(void)
{
	char *path = tmp_path("none.ply"), *want;
	struct sq_err err;
	struct got g = {0};

	T_EQ_INT(read_ply(path, NULL, &g, &err), -1);
	want = xasprintf("cannot open '%s': no such file or directory", path);
	T_EQ_STR(err.msg, want);
	T_EQ_INT(err.code, SQ_ERR_IO);
	free(want);
	/* the callback's error stops the read and is returned as is */
	T_EQ_INT(write_pattern(path, 3 * SQ_PLY_CHUNK, 0, 0, &err), 0);
	g.fail_at = 2;
	T_EQ_INT(read_ply(path, NULL, &g, &err), -1);
	T_EQ_STR(err.msg, "stopped at chunk 2");
	T_EQ_INT(err.code, SQ_ERR_CANCEL);
	T_EQ_INT(g.chunks, 2);
	got_free(&g);
	free(path);
}

static void test_chunks(void)
{
	char *path = tmp_path("chunks.ply");
	struct sq_err err;
	struct got g = {0};
	size_t n = 150000;
	FILE *f;

	T_EQ_INT(write_pattern(path, n, 1, 1, &err), 0);
	T_EQ_INT(read_ply(path, NULL, &g, &err), 0);
	T_EQ_INT(g.n, n);
	T_EQ_INT(g.chunks, (n + SQ_PLY_CHUNK - 1) / SQ_PLY_CHUNK);
	T_EQ_INT(g.max_chunk, SQ_PLY_CHUNK);
	T_CHECK(pattern_ok(&g, n, 1, 1));
	got_free(&g);
	/* the same in ASCII */
	f = fopen(path, "w");
	T_CHECK(f != NULL);
	if (!f)
		return;
	fprintf(f,
		"ply\nformat ascii 1.0\nelement vertex %zu\nproperty float x\n"
		"property float y\nproperty float z\nend_header\n",
		n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%zu %.17g %.17g\n", i, -(double)i / 4, 1e5 + (double)(i % 1000) / 8);
	fclose(f);
	T_EQ_INT(read_ply(path, NULL, &g, &err), 0);
	T_EQ_INT(g.n, n);
	T_EQ_INT(g.chunks, (n + SQ_PLY_CHUNK - 1) / SQ_PLY_CHUNK);
	T_CHECK(pattern_ok(&g, n, 0, 0));
	got_free(&g);
	free(path);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_only(void *ctx, const struct sq_ply_chunk *c, struct sq_err *err)
{
	(void)err;
	*(size_t *)ctx += c->n;
	return 0;
}

/* Not asserted: printed so a slow reader shows in the test log. */
static void speed_check(void)
{
	char *path = tmp_path("speed.ply");
	struct sq_err err;
	size_t n = 2000000, got = 0;
	double t;

	T_EQ_INT(write_pattern(path, n, 1, 0, &err), 0);
	t = now_s();
	T_EQ_INT(sq_ply_stream(path, NULL, count_only, &got, &err), 0);
	t = now_s() - t;
	T_EQ_INT(got, n);
	printf("read %zu binary xyz+rgb points in %.3f s: %.1f M points/s\n", n, t,
	       (double)n / t / 1e6);
	unlink(path);
	free(path);
}

static void test_cloud(void)
{
	struct sq_cloud c;
	const float p[3] = {1, 2, 3}, nrm[3] = {0, 0, 1};
	const unsigned char rgb[3] = {9, 8, 7};

	sq_cloud_init(&c, 1, 0);
	T_CHECK(c.rgb != NULL && c.nrm == NULL && c.n == 0);
	for (int i = 0; i < 1000; i++)
		sq_cloud_push(&c, p, i % 2 ? rgb : NULL, nrm);
	T_EQ_INT(c.n, 1000);
	T_CHECK(c.xyz[3 * 999 + 2] == 3 && c.rgb[0] == 0 && c.rgb[2] == 0 && c.rgb[3] == 9 &&
		c.rgb[3 * 999] == 9);
	sq_cloud_want_normals(&c);
	T_CHECK(c.nrm != NULL && c.nrm[3 * 999 + 2] == 0);
	sq_cloud_push(&c, p, NULL, nrm);
	T_CHECK(c.nrm[3 * 1000 + 2] == 1 && c.n == 1001);
	sq_cloud_release(&c);
	T_CHECK(c.n == 0 && c.xyz == NULL && c.rgb == NULL);
}

static void test_voxel_means(void)
{
	struct sq_voxel_grid *g = sq_voxel_new(1.0, 1, 1);
	const double a[3] = {0.1, 0.2, 0.3}, b[3] = {0.3, 0.4, 0.5}, c[3] = {0.5, 0.6, 0.7};
	const unsigned char ca[3] = {10, 20, 30}, cb[3] = {20, 31, 41};
	const float na[3] = {1, 0, 0}, nb[3] = {0, 1, 0};
	struct sq_cloud out;

	sq_voxel_add(g, a, ca, na);
	sq_voxel_add(g, b, cb, nb);
	sq_voxel_add(g, c, NULL, NULL); /* counts for position only */
	T_EQ_INT(sq_voxel_count(g), 1);
	sq_cloud_init(&out, 1, 1);
	sq_voxel_to_cloud(g, &out);
	T_EQ_INT(out.n, 1);
	T_CHECK(fabs(out.xyz[0] - 0.3) < 1e-6 && fabs(out.xyz[1] - 0.4) < 1e-6 &&
		fabs(out.xyz[2] - 0.5) < 1e-6);
	T_CHECK(out.rgb[0] == 15 && out.rgb[1] == 26 && out.rgb[2] == 36);
	T_CHECK(fabs(out.nrm[0] - 0.70710678) < 1e-6 && fabs(out.nrm[1] - 0.70710678) < 1e-6 &&
		out.nrm[2] == 0);
	sq_cloud_release(&out);
	sq_voxel_free(g);
}

/* floor, not truncation: -0.5 and 0.5 are in different cells, -1 is in cell -1. */
static void test_voxel_negative(void)
{
	struct sq_voxel_grid *g = sq_voxel_new(0.5, 0, 0);
	const double p[][3] = {{-0.25, 0.1, 0.1},   {0.25, 0.1, 0.1},  {-0.5, 0.1, 0.1},
			       {-0.5001, 0.1, 0.1}, {-0.75, 0.1, 0.1}, {0.1, -3e9, 0.1}};
	struct sq_cloud out;

	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		sq_voxel_add(g, p[i], NULL, NULL);
	T_EQ_INT(sq_voxel_count(g), 4); /* cells x: -1, 0, -1, -2, -2, and y far away */
	sq_cloud_init(&out, 0, 0);
	sq_voxel_to_cloud(g, &out);
	T_EQ_INT(out.n, 4);
	/* sorted by cell: x=-2 (mean of -0.5001, -0.75), x=-1, x=0 with y=-6e9, x=0 */
	T_CHECK(fabs(out.xyz[0] - (-0.5001 - 0.75) / 2) < 1e-6);
	T_CHECK(fabs(out.xyz[3] - (-0.375)) < 1e-6);
	T_CHECK(out.xyz[6] == 0.1f && out.xyz[7] == -3e9f);
	T_CHECK(out.xyz[9] == 0.25f && out.xyz[10] == 0.1f);
	sq_cloud_release(&out);
	sq_voxel_free(g);
}

static uint64_t rng(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 11;
}

/* The number of cells is bounded by the grid, whatever the number of points; the
 * output order does not depend on the insertion order. */
static void test_voxel_bound_order(void)
{
	struct sq_voxel_grid *g1 = sq_voxel_new(1.0, 1, 0), *g2 = sq_voxel_new(1.0, 1, 0);
	struct sq_cloud o1, o2;
	double *pts = xmalloc(200000 * 3 * sizeof(double));
	uint64_t s = 42;
	int sorted = 1;

	for (size_t i = 0; i < 200000 * 3; i++)
		pts[i] = (double)(rng(&s) % 1000000) / 1e5 - 5; /* [-5, 5) */
	for (size_t i = 0; i < 200000; i++)
		sq_voxel_add(g1, pts + 3 * i, (const unsigned char *)"abc", NULL);
	for (size_t i = 200000; i-- > 0;)
		sq_voxel_add(g2, pts + 3 * i, (const unsigned char *)"abc", NULL);
	T_EQ_INT(sq_voxel_count(g1), 1000);
	T_EQ_INT(sq_voxel_count(g2), 1000);
	sq_cloud_init(&o1, 1, 0);
	sq_cloud_init(&o2, 1, 0);
	sq_voxel_to_cloud(g1, &o1);
	sq_voxel_to_cloud(g2, &o2);
	T_EQ_INT(o1.n, 1000);
	T_CHECK(o2.n == o1.n && !memcmp(o1.rgb, o2.rgb, 3 * o1.n));
	for (size_t i = 0; i < o1.n * 3 && o2.n == o1.n; i++)
		T_CHECK(fabsf(o1.xyz[i] - o2.xyz[i]) < 1e-5f);
	for (size_t i = 1; i < o1.n; i++) {
		const float *a = o1.xyz + 3 * (i - 1), *b = o1.xyz + 3 * i;
		double ka[3], kb[3];

		for (int k = 0; k < 3; k++) {
			ka[k] = floor(a[k]);
			kb[k] = floor(b[k]);
		}
		sorted &= ka[0] < kb[0] ||
			  (ka[0] == kb[0] && (ka[1] < kb[1] || (ka[1] == kb[1] && ka[2] < kb[2])));
	}
	T_CHECK(sorted);
	T_CHECK(o1.rgb[0] == 'a' && o1.rgb[2] == 'c');
	sq_cloud_release(&o1);
	sq_cloud_release(&o2);
	sq_voxel_free(g1);
	sq_voxel_free(g2);
	free(pts);
}

/* Many cells: the table grows (rehashes) and still finds every cell. */
static void test_voxel_growth(void)
{
	struct sq_voxel_grid *g = sq_voxel_new(0.01, 0, 1);
	const float nrm[3] = {0, 0, -3};
	struct sq_cloud out;
	int ok = 1;

	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < 300000; i++) {
			double p[3] = {(i % 100) * 0.01 + 0.005, (i / 100 % 100) * -0.01 - 0.005,
				       (i / 10000) * 0.01 + 0.005};

			sq_voxel_add(g, p, NULL, nrm);
		}
	T_EQ_INT(sq_voxel_count(g), 300000);
	sq_cloud_init(&out, 0, 1);
	sq_voxel_to_cloud(g, &out);
	T_EQ_INT(out.n, 300000);
	for (size_t i = 0; i < out.n; i++)
		ok &= out.nrm[3 * i + 2] == -1.0f;
	T_CHECK(ok);
	sq_cloud_release(&out);
	sq_voxel_free(g);
}

int main(void)
{
	test_round_trip();
	test_writer_header();
	test_writer_failure();
	test_ascii();
	test_ascii_uchar_range();
	test_big_endian();
	test_face_first();
	test_vertex_list();
	test_header_errors();
	test_data_errors();
	test_other_failures();
	test_chunks();
	test_cloud();
	test_voxel_means();
	test_voxel_negative();
	test_voxel_bound_order();
	test_voxel_growth();
	speed_check();
	return t_done();
}
