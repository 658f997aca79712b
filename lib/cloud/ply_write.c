/* ply_write.c - the PLY writer: binary_little_endian x,y,z float (+ uchar
 * red,green,blue, + float nx,ny,nz).
 *
 * The header is written with the vertex count as a fixed-width zero-padded field
 * ("element vertex 0000000000"), so the points can be streamed out before their
 * number is known and the count patched in place with pwrite() on close. Any
 * reader that parses the count as a decimal integer (rply/Open3D, plyfile, PCL)
 * reads the padded field. */
#include "cloud/ply.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/banned.h"

#define BUF_BYTES ((size_t)1 << 20)
#define COUNT_DIGITS 10		/* the vertex count field */
#define COUNT_MAX 9999999999ULL /* what COUNT_DIGITS can hold */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_BE 1
#else
#define HOST_BE 0
#endif

struct sq_ply_writer {
	int fd;
	char *path;
	int has_rgb, has_nrm;
	int failed; /* a write failed: the file can only be removed */
	size_t count;
	size_t count_off; /* offset of the count field in the file */
	unsigned char *buf;
	size_t len;
};

static int write_all(struct sq_ply_writer *w, const void *data, size_t n, off_t at,
		     struct sq_err *err)
{
	const unsigned char *p = data;

	while (n > 0) {
		ssize_t k = at < 0 ? write(w->fd, p, n) : pwrite(w->fd, p, n, at);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			w->failed = 1;
			return sq_error_errno(err, k < 0 ? errno : EIO, "cannot write '%s'",
					      w->path);
		}
		p += k;
		n -= (size_t)k;
		at = at < 0 ? at : at + k;
	}
	return 0;
}

static int w_flush(struct sq_ply_writer *w, struct sq_err *err)
{
	int rc = write_all(w, w->buf, w->len, -1, err);

	w->len = 0;
	return rc;
}

static void w_puts(struct sq_ply_writer *w, const char *s)
{
	size_t n = strlen(s);

	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void w_header(struct sq_ply_writer *w)
{
	char count[COUNT_DIGITS + 2];

	w_puts(w, "ply\nformat binary_little_endian 1.0\ncomment written by scanq\n"
		  "element vertex ");
	w->count_off = w->len;
	snprintf(count, sizeof(count), "%0*d\n", COUNT_DIGITS, 0);
	w_puts(w, count);
	w_puts(w, "property float x\nproperty float y\nproperty float z\n");
	if (w->has_rgb)
		w_puts(w, "property uchar red\nproperty uchar green\nproperty uchar blue\n");
	if (w->has_nrm)
		w_puts(w, "property float nx\nproperty float ny\nproperty float nz\n");
	w_puts(w, "end_header\n");
}

struct sq_ply_writer *sq_ply_writer_open(const char *path, int has_rgb, int has_nrm,
					 struct sq_err *err)
{
	struct sq_ply_writer *w;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);

	if (fd < 0) {
		sq_error_errno(err, errno, "cannot create '%s'", path);
		return NULL;
	}
	w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->path = xstrdup(path);
	w->has_rgb = has_rgb;
	w->has_nrm = has_nrm;
	w->buf = xmalloc(BUF_BYTES);
	w_header(w);
	return w;
}

static unsigned char *put_f32(unsigned char *q, double v)
{
	float f = (float)v;
	uint32_t u;

	memcpy(&u, &f, 4);
	u = HOST_BE ? __builtin_bswap32(u) : u;
	memcpy(q, &u, 4);
	return q + 4;
}

int sq_ply_writer_add(struct sq_ply_writer *w, const struct sq_ply_chunk *c, struct sq_err *err)
{
	size_t rec = 12 + (w->has_rgb ? 3 : 0) + (w->has_nrm ? 12 : 0);
	static const unsigned char zero[3];

	if (w->failed)
		return sq_error(err, SQ_ERR_IO, "cannot write '%s': an earlier write failed",
				w->path);
	if (c->n > COUNT_MAX - w->count)
		return sq_error(err, SQ_ERR_INVALID, "cannot write '%s': too many points", w->path);
	for (size_t i = 0; i < c->n; i++) {
		unsigned char *q;

		if (BUF_BYTES - w->len < rec && w_flush(w, err) < 0)
			return -1;
		q = w->buf + w->len;
		for (int k = 0; k < 3; k++)
			q = put_f32(q, c->xyz[3 * i + k]);
		if (w->has_rgb) {
			memcpy(q, c->rgb ? c->rgb + 3 * i : zero, 3);
			q += 3;
		}
		for (int k = 0; w->has_nrm && k < 3; k++)
			q = put_f32(q, c->nrm ? c->nrm[3 * i + k] : 0.0);
		w->len = (size_t)(q - w->buf);
	}
	w->count += c->n;
	return 0;
}

static void w_free(struct sq_ply_writer *w, int unlink_it)
{
	if (unlink_it)
		unlink(w->path);
	free(w->path);
	free(w->buf);
	free(w);
}

int sq_ply_writer_close(struct sq_ply_writer *w, struct sq_err *err)
{
	char count[COUNT_DIGITS + 1];
	int rc = -1;

	if (w->failed) {
		sq_error(err, SQ_ERR_IO, "cannot write '%s': an earlier write failed", w->path);
		goto out;
	}
	snprintf(count, sizeof(count), "%0*zu", COUNT_DIGITS, w->count);
	if (w_flush(w, err) < 0 || write_all(w, count, COUNT_DIGITS, (off_t)w->count_off, err) < 0)
		goto out;
	if (fsync(w->fd) < 0) {
		sq_error_errno(err, errno, "cannot sync '%s'", w->path);
		goto out;
	}
	rc = 0;
out:
	if (close(w->fd) < 0 && rc == 0)
		rc = sq_error_errno(err, errno, "cannot close '%s'", w->path);
	w_free(w, rc < 0);
	return rc;
}

void sq_ply_writer_abort(struct sq_ply_writer *w)
{
	if (!w)
		return;
	close(w->fd);
	w_free(w, 1);
}
