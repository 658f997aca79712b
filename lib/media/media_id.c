/* media_id.c - identities for provenance: the libav libraries this build runs
 * with, and a source video's identity (see struct sq_video_id). */
#include "media/media.h"
#include "media/media_internal.h"
#include "base/hash.h"
#include "base/xalloc.h"
#include "media/sftp.h"

#include <errno.h>
#include <fcntl.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/banned.h"

static char version[128];
static pthread_once_t version_once = PTHREAD_ONCE_INIT;

static void v3(char *buf, size_t len, const char *name, unsigned v)
{
	snprintf(buf, len, "%s %u.%u.%u", name, v >> 16, (v >> 8) & 0xff, v & 0xff);
}

static void make_version(void)
{
	char f[40], c[40], s[40];

	v3(f, sizeof(f), "libavformat", avformat_version());
	v3(c, sizeof(c), "libavcodec", avcodec_version());
	v3(s, sizeof(s), "libswscale", swscale_version());
	snprintf(version, sizeof(version), "%s, %s, %s", f, c, s);
}

const char *sq_media_version(void)
{
	pthread_once(&version_once, make_version);
	return version;
}

/* SHA-256 of len bytes read by rd at offset off (len may be 0). */
struct reader {
	long (*read)(void *h, long long off, void *buf, size_t len, struct sq_err *err);
	void *h;
};

static int hash_span(const struct reader *rd, long long off, long long len, char hex[65],
		     struct sq_err *err)
{
	unsigned char *buf = xmalloc(SQ_VIDEO_ID_SPAN + 1);
	long long got = 0;
	int rc = 0;

	while (got < len) {
		long n = rd->read(rd->h, off + got, buf + got, (size_t)(len - got), err);

		if (n <= 0) {
			rc = n < 0 ? -1 : sq_error(err, SQ_ERR_IO, "file shrank while being read");
			break;
		}
		got += n;
	}
	if (rc == 0)
		sq_hash_sha256_hex(buf, (size_t)len, hex);
	free(buf);
	return rc;
}

/* Both ends of a file of size bytes. */
static int hash_ends(const struct reader *rd, long long size, struct sq_video_id *id,
		     struct sq_err *err)
{
	long long span = size < SQ_VIDEO_ID_SPAN ? size : SQ_VIDEO_ID_SPAN;

	id->size_bytes = size;
	if (hash_span(rd, 0, span, id->head_sha256, err) < 0 ||
	    hash_span(rd, size - span, span, id->tail_sha256, err) < 0)
		return -1;
	return 0;
}

static long fd_read(void *h, long long off, void *buf, size_t len, struct sq_err *err)
{
	ssize_t n = pread(*(int *)h, buf, len, (off_t)off);

	if (n < 0)
		return sq_error_errno(err, errno, "cannot read");
	return (long)n;
}

static int identify_local(const char *path, struct sq_video_id *id, struct sq_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct reader rd = {.read = fd_read, .h = &fd};
	struct stat st;
	int rc = -1;

	if (fd < 0)
		return sq_error_errno(err, errno, "cannot read video '%s'", path);
	if (fstat(fd, &st) < 0) {
		sq_error_errno(err, errno, "cannot read video '%s'", path);
		goto out;
	}
	id->mtime_s = (long long)st.st_mtime;
	rc = hash_ends(&rd, (long long)st.st_size, id, err);
	if (rc < 0)
		sq_err_prefix(err, "cannot read video '%s'", path);
out:
	close(fd);
	return rc;
}

static long sftp_rd(void *h, long long off, void *buf, size_t len, struct sq_err *err)
{
	sq_sftp_seek(h, off);
	return sq_sftp_read(h, buf, len, err);
}

static int identify_sftp(const char *url, struct sq_video_id *id, struct sq_err *err)
{
	struct sq_sftp_opts o = {.stall_ms = sq_media_stall_ms()};
	struct sq_sftp_file *f = sq_sftp_open(url, &o, err);
	struct reader rd = {.read = sftp_rd, .h = f};
	int rc;

	if (!f)
		return -1;
	id->mtime_s = sq_sftp_mtime(f);
	rc = hash_ends(&rd, sq_sftp_size(f), id, err);
	sq_sftp_close(f);
	return rc;
}

int sq_media_identify(const char *url, struct sq_video_id *id, struct sq_err *err)
{
	memset(id, 0, sizeof(*id));
	return sq_sftp_is_url(url) ? identify_sftp(url, id, err) : identify_local(url, id, err);
}

int sq_media_check_identity(const char *url, const struct sq_video_id *want, struct sq_err *err)
{
	struct sq_video_id now;

	if (sq_media_identify(url, &now, err) < 0)
		return -1;
	if (now.size_bytes != want->size_bytes || strcmp(now.head_sha256, want->head_sha256) ||
	    strcmp(now.tail_sha256, want->tail_sha256))
		return sq_error(err, SQ_ERR_INVALID,
				"video '%s' changed since it was enqueued (%lld bytes, was %lld): "
				"enqueue its task directory again",
				url, now.size_bytes, want->size_bytes);
	return 0;
}
