/* media_probe.c - knowing a video without extracting it: probing it (a video
 * stream, a duration; a recording cut off before its index told apart from a
 * file that is no video), its identity (struct sq_video_id), and the libav
 * libraries this build runs with, for provenance. */
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
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/banned.h"

/* 1 if the local file at path starts like an MP4 (ftyp, or QuickTime's wide,
 * free or mdat) but none of its top-level boxes is the 'moov' index: what a
 * camera leaves when it stops without closing the file (power lost, card
 * pulled), as the index is written last. A box reaching past the end of the
 * file is where the recording stopped. */
static int mp4_cut_before_index(const char *path)
{
	static const char *const starts[] = {"ftyp", "wide", "free", "mdat"};
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), known = 0, moov = 0;
	unsigned char h[16] = {0};
	struct stat st;
	uint64_t pos = 0, size = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	for (int n = 0; n < 100000 && pos + 8 <= (uint64_t)st.st_size; n++, pos += size) {
		if (pread(fd, h, 16, (off_t)pos) < 8)
			break;
		size = (uint64_t)h[0] << 24 | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 8 | h[3];
		if (size == 1) { /* a 64-bit size follows the type */
			size = 0;
			for (int i = 8; i < 16; i++)
				size = size << 8 | h[i];
		}
		for (size_t i = 0; n == 0 && i < sizeof(starts) / sizeof(starts[0]); i++)
			known |= !memcmp(h + 4, starts[i], 4);
		moov |= !memcmp(h + 4, "moov", 4);
		if (!known || size < 8 || size > (uint64_t)st.st_size - pos) /* 0: to the end */
			break;
	}
out:
	if (fd >= 0)
		close(fd);
	return known && !moov;
}

int sq_media_probe(const char *url, const struct sq_media_read_opts *read,
		   struct sq_media_info *info, struct sq_err *err)
{
	struct sq_media_io io = {.stall_ms = read ? read->stall_ms : 0,
				 .ssh = read ? &read->ssh : NULL};
	AVFormatContext *fmt = NULL;
	int rc = -1, idx;
	const AVStream *st;

	av_log_set_level(AV_LOG_QUIET);
	if (sq_media_io_open(&io, url, &fmt, err) < 0) {
		/* the commonest camera failure deserves better than "not a video" */
		if (!strstr(url, "://") && mp4_cut_before_index(url))
			sq_error(err, SQ_ERR_MEDIA,
				 "cannot open '%s': the recording was cut off before its index "
				 "was written (an MP4 without its 'moov' box, as a camera leaves "
				 "it when it loses power or its card is pulled while recording)",
				 url);
		return -1;
	}
	idx = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	if (idx < 0) {
		sq_error(err, SQ_ERR_MEDIA, "'%s' has no video stream", url);
		goto out;
	}
	st = fmt->streams[idx];
	if (fmt->duration <= 0 && st->duration <= 0) {
		sq_error(err, SQ_ERR_MEDIA, "'%s' has no duration (empty or not a video)", url);
		goto out;
	}
	if (info) {
		info->duration_s = fmt->duration > 0 ? (double)fmt->duration / AV_TIME_BASE
						     : (double)st->duration * av_q2d(st->time_base);
		info->width = st->codecpar->width;
		info->height = st->codecpar->height;
		info->fps = st->avg_frame_rate.den ? av_q2d(st->avg_frame_rate) : 0;
		snprintf(info->codec, sizeof(info->codec), "%s",
			 avcodec_get_name(st->codecpar->codec_id));
	}
	rc = 0;
out:
	sq_media_io_close(&io, &fmt);
	return rc;
}

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

static int identify_sftp(const char *url, const struct sq_media_read_opts *read,
			 struct sq_video_id *id, struct sq_err *err)
{
	struct sq_sftp_opts o = {.ssh = read ? &read->ssh : NULL,
				 .stall_ms = read ? read->stall_ms : 0};
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

int sq_media_identify(const char *url, const struct sq_media_read_opts *read,
		      struct sq_video_id *id, struct sq_err *err)
{
	memset(id, 0, sizeof(*id));
	return sq_sftp_is_url(url) ? identify_sftp(url, read, id, err)
				   : identify_local(url, id, err);
}

int sq_media_check_identity(const char *url, const struct sq_media_read_opts *read,
			    const struct sq_video_id *want, struct sq_err *err)
{
	struct sq_video_id now;

	if (sq_media_identify(url, read, &now, err) < 0)
		return -1;
	if (now.size_bytes != want->size_bytes || strcmp(now.head_sha256, want->head_sha256) ||
	    strcmp(now.tail_sha256, want->tail_sha256))
		return sq_error(err, SQ_ERR_INVALID,
				"video '%s' changed since it was enqueued (%lld bytes, was %lld): "
				"enqueue its task directory again",
				url, now.size_bytes, want->size_bytes);
	return 0;
}
