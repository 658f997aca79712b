/* media_io.c - opening an input so that a stalled read gives up instead of hanging.
 *
 * libav's file protocol blocks in open() and read() without asking the
 * interrupt callback, so a FIFO or a dead network mount that never delivers a
 * byte would hang the probe or the extraction for ever. Local paths are
 * therefore read through our own AVIOContext: the file is opened non-blocking
 * and every read waits in poll() for at most the stall timeout, counted afresh
 * after each read that got data. sftp:// URLs are streamed by sftp.c through
 * an AVIOContext of ours too (libav's own sftp protocol reads one request at a
 * time and checks no host key), under the same timeout and cancellation. Other
 * URLs (libav protocols) get the same limit through their rw_timeout option.
 * The timeout is 30 s unless the caller's options say otherwise (the programs'
 * --stall-timeout; tests shorten it). */
#include "base/fsutil.h"
#include "base/clock.h"
#include "media/media_internal.h"
#include "media/sftp.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libavformat/avformat.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/banned.h"

#define IO_BUFFER_BYTES 65536
#define STALL_DEFAULT_MS 30000
#define POLL_SLICE_MS 100 /* how often a waiting read looks at cancellation */

const char *sq_media_av_err(int code, char *buf, size_t len)
{
	av_strerror(code, buf, len);
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

/* A path without a scheme, or file:, is read by us; anything else by libav. */
static const char *local_path(const char *url)
{
	if (strncmp(url, "file:", 5) == 0)
		return url + 5;
	return strstr(url, "://") ? NULL : url;
}

static int io_read(void *opaque, uint8_t *buf, int size)
{
	struct sq_media_io *io = opaque;
	long long deadline = sq_mono_ms() + io->stall_ms;

	for (;;) {
		struct pollfd pfd = {.fd = io->fd, .events = POLLIN};
		ssize_t n = read(io->fd, buf, (size_t)size);
		long long left;

		if (n > 0)
			return (int)n;
		if (n == 0)
			return AVERROR_EOF;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return AVERROR(errno);
		if (sq_hooks_cancelled(&io->hooks))
			return AVERROR_EXIT;
		left = deadline - sq_mono_ms();
		if (left <= 0) {
			io->stalled = 1;
			return AVERROR(ETIMEDOUT);
		}
		poll(&pfd, 1, left < POLL_SLICE_MS ? (int)left : POLL_SLICE_MS);
	}
}

static int64_t io_seek(void *opaque, int64_t offset, int whence)
{
	struct sq_media_io *io = opaque;
	struct stat st;
	off_t r;

	if (whence == AVSEEK_SIZE) {
		if (fstat(io->fd, &st) < 0 || !S_ISREG(st.st_mode))
			return AVERROR(ENOSYS);
		return st.st_size;
	}
	r = lseek(io->fd, (off_t)offset, whence & ~AVSEEK_FORCE);
	return r < 0 ? AVERROR(errno) : r;
}

static int interrupt_cb(void *opaque)
{
	const struct sq_media_io *io = opaque;

	return sq_hooks_cancelled(&io->hooks);
}

static int open_local(struct sq_media_io *io, const char *path, AVFormatContext *fmt,
		      struct sq_err *err)
{
	struct stat st;
	uint8_t *buf;

	io->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (io->fd < 0) {
		char ebuf[128];

		return sq_error(err, SQ_ERR_MEDIA, "cannot open '%s': %s", path,
				sq_media_av_err(AVERROR(errno), ebuf, sizeof(ebuf)));
	}
	if (fstat(io->fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
		return sq_error(err, SQ_ERR_MEDIA, "cannot open '%s': empty file (0 bytes)", path);
	buf = av_malloc(IO_BUFFER_BYTES);
	io->pb =
	    buf ? avio_alloc_context(buf, IO_BUFFER_BYTES, 0, io, io_read, NULL, io_seek) : NULL;
	if (!io->pb) {
		av_free(buf);
		return sq_error(err, SQ_ERR_MEDIA, "out of memory opening '%s'", path);
	}
	if (fstat(io->fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		io->pb->seekable = 0; /* a FIFO: demuxers must not try */
	fmt->pb = io->pb;
	return 0;
}

static int remote_read(void *opaque, uint8_t *buf, int size)
{
	struct sq_media_io *io = opaque;
	struct sq_err err;
	long n = sq_sftp_read(io->sftp, buf, (size_t)size, &err);

	if (n > 0)
		return (int)n;
	if (n == 0)
		return AVERROR_EOF;
	if (err.code == SQ_ERR_TIMEOUT)
		io->stalled = 1;
	return err.code == SQ_ERR_TIMEOUT  ? AVERROR(ETIMEDOUT)
	       : err.code == SQ_ERR_CANCEL ? AVERROR_EXIT
					   : AVERROR(EIO);
}

static int64_t remote_seek(void *opaque, int64_t offset, int whence)
{
	struct sq_media_io *io = opaque;
	long long size = sq_sftp_size(io->sftp), pos;

	switch (whence & ~AVSEEK_FORCE) {
	case AVSEEK_SIZE:
		return size;
	case SEEK_SET:
		pos = offset;
		break;
	case SEEK_CUR:
		pos = sq_sftp_tell(io->sftp) + offset;
		break;
	case SEEK_END:
		pos = size + offset;
		break;
	default:
		return AVERROR(EINVAL);
	}
	if (pos < 0)
		return AVERROR(EINVAL);
	sq_sftp_seek(io->sftp, pos);
	return pos;
}

/* An sftp:// input: sftp.c connects, checks and streams it; nothing of it
 * touches the local disk. */
static int open_remote(struct sq_media_io *io, const char *url, AVFormatContext *fmt,
		       struct sq_err *err)
{
	struct sq_sftp_opts so = {.ssh = io->ssh, .stall_ms = io->stall_ms, .hooks = io->hooks};
	uint8_t *buf;

	io->sftp = sq_sftp_open(url, &so, err);
	if (!io->sftp)
		return -1;
	buf = av_malloc(IO_BUFFER_BYTES);
	io->pb =
	    buf ? avio_alloc_context(buf, IO_BUFFER_BYTES, 0, io, remote_read, NULL, remote_seek)
		: NULL;
	if (!io->pb) {
		av_free(buf);
		return sq_error(err, SQ_ERR_MEDIA, "out of memory opening '%s'", url);
	}
	fmt->pb = io->pb;
	return 0;
}

/* The error for a failed libav call on io's input: the stall when there was one. */
static int io_error(struct sq_media_io *io, const char *url, const char *what, int ret,
		    struct sq_err *err)
{
	struct sq_err remote;
	char ebuf[128];

	/* a remote input's own account of its failure says the most */
	if (io->sftp && sq_sftp_failed(io->sftp, &remote) < 0)
		return sq_error(err, remote.code, "%s", remote.msg);
	if (io->stalled || ret == AVERROR(ETIMEDOUT))
		return sq_error(err, SQ_ERR_TIMEOUT,
				"cannot read '%s': no data for %lld ms (stalled)", url,
				io->stall_ms);
	if (ret == AVERROR_EXIT && sq_hooks_cancelled(&io->hooks))
		return sq_error(err, SQ_ERR_CANCEL, "extraction cancelled");
	if (ret == AVERROR_INVALIDDATA && strcmp(what, "open") == 0)
		return sq_error(err, SQ_ERR_MEDIA,
				"cannot open '%s': not a video (no container format recognised)",
				url);
	return sq_error(err, SQ_ERR_MEDIA, "cannot %s '%s': %s", what, url,
			sq_media_av_err(ret, ebuf, sizeof(ebuf)));
}

int sq_media_io_open(struct sq_media_io *io, const char *url, AVFormatContext **out,
		     struct sq_err *err)
{
	AVFormatContext *fmt = avformat_alloc_context();
	AVDictionary *opts = NULL;
	const char *path = local_path(url);
	int ret, rc;

	io->fd = -1;
	io->pb = NULL;
	io->sftp = NULL;
	io->stalled = 0;
	if (io->stall_ms <= 0)
		io->stall_ms = STALL_DEFAULT_MS;
	if (!fmt)
		return sq_error(err, SQ_ERR_MEDIA, "out of memory opening '%s'", url);
	fmt->interrupt_callback.callback = interrupt_cb;
	fmt->interrupt_callback.opaque = io;
	if ((path && open_local(io, path, fmt, err) < 0) ||
	    (sq_sftp_is_url(url) && open_remote(io, url, fmt, err) < 0)) {
		avformat_free_context(fmt); /* fmt->pb is set only on success */
		fmt = NULL;
		rc = -1;
		goto out;
	}
	if (!path && !io->sftp)
		av_dict_set_int(&opts, "rw_timeout", io->stall_ms * 1000, 0);
	ret = avformat_open_input(&fmt, url, NULL, &opts); /* frees fmt on failure */
	av_dict_free(&opts);
	if (ret < 0) {
		rc = io_error(io, url, "open", ret, err);
		goto out;
	}
	ret = avformat_find_stream_info(fmt, NULL);
	if (ret < 0) {
		rc = io_error(io, url, "read", ret, err);
		goto out;
	}
	*out = fmt;
	return 0;
out:
	sq_media_io_close(io, &fmt);
	return rc;
}

int sq_media_io_failed(struct sq_media_io *io, const char *url, int ret, struct sq_err *err)
{
	/* a remote file cut short by a lost connection must fail, not end early */
	if (io->sftp && sq_sftp_failed(io->sftp, NULL) < 0)
		return io_error(io, url, "read", ret, err);
	if (!io->stalled && !(ret == AVERROR_EXIT && sq_hooks_cancelled(&io->hooks)))
		return 0;
	return io_error(io, url, "read", ret, err);
}

void sq_media_io_close(struct sq_media_io *io, AVFormatContext **fmt)
{
	avformat_close_input(fmt);
	if (io->pb) {
		av_freep(&io->pb->buffer);
		avio_context_free(&io->pb);
	}
	if (io->fd >= 0)
		close(io->fd);
	io->fd = -1;
	sq_sftp_close(io->sftp);
	io->sftp = NULL;
}
