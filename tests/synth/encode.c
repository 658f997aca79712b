/* encode.c - libav MP4 writer for the synthetic survey (see encode.h). */
#include "encode.h"
#include "base/fsutil.h"
#include "base/xalloc.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/banned.h"

struct synth_encoder {
	char *path, *tmp_path;
	AVFormatContext *fmt;
	AVCodecContext *cc;
	AVStream *st;
	AVFrame *frame;
	AVPacket *pkt;
	struct SwsContext *sws;
	long long next_pts;
};

/* Our codec names to libavcodec encoder names. */
static const struct {
	const char *name, *encoder;
} codecs[] = {
    {"h264", "libx264"},
    {"hevc", "libx265"},
    {"mpeg4", "mpeg4"},
};

static const char *encoder_name(const char *codec)
{
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
		if (!strcmp(codecs[i].name, codec))
			return codecs[i].encoder;
	return NULL;
}

static int av_fail(struct sq_err *err, int averr, const char *what, const char *path)
{
	char buf[AV_ERROR_MAX_STRING_SIZE];

	av_strerror(averr, buf, sizeof(buf));
	return sq_error(err, SQ_ERR_MEDIA, "cannot %s '%s': %s", what, path, buf);
}

int synth_encode_check(const char *codec, struct sq_err *err)
{
	const char *name = encoder_name(codec);

	if (!name)
		return sq_error(err, SQ_ERR_INVALID, "unknown codec '%s' (use h264, hevc or mpeg4)",
				codec);
	if (!avcodec_find_encoder_by_name(name))
		return sq_error(err, SQ_ERR_MEDIA,
				"codec '%s' is not available: libavcodec has no '%s'", codec, name);
	return 0;
}

/* Encoder-specific quality and threading: one thread keeps output reproducible. */
static void tune(AVCodecContext *cc, const char *codec)
{
	cc->thread_count = 1;
	if (!strcmp(codec, "h264")) {
		av_opt_set(cc->priv_data, "preset", "veryfast", 0);
		av_opt_set(cc->priv_data, "crf", "18", 0);
	} else if (!strcmp(codec, "hevc")) {
		av_opt_set(cc->priv_data, "preset", "ultrafast", 0);
		av_opt_set(cc->priv_data, "crf", "20", 0);
		av_opt_set(cc->priv_data, "x265-params",
			   "log-level=error:pools=none:frame-threads=1", 0);
	} else {
		cc->flags |= AV_CODEC_FLAG_QSCALE;
		cc->global_quality = FF_QP2LAMBDA * 3;
	}
}

static int open_codec(struct synth_encoder *e, const struct synth_encode_opts *o,
		      struct sq_err *err)
{
	const AVCodec *codec = avcodec_find_encoder_by_name(encoder_name(o->codec));
	int ret;

	if (!codec)
		return synth_encode_check(o->codec, err);
	e->cc = avcodec_alloc_context3(codec);
	if (!e->cc)
		return sq_error(err, SQ_ERR_MEDIA, "cannot allocate encoder '%s'", o->codec);
	e->cc->width = o->width;
	e->cc->height = o->height;
	e->cc->pix_fmt = AV_PIX_FMT_YUV420P;
	e->cc->time_base = (AVRational){o->fps_den, o->fps_num};
	e->cc->framerate = (AVRational){o->fps_num, o->fps_den};
	e->cc->gop_size = o->gop;
	e->cc->max_b_frames = o->bframes;
	e->cc->color_range = AVCOL_RANGE_MPEG;
	e->cc->colorspace = AVCOL_SPC_SMPTE170M; /* what swscale's RGB->YUV uses */
	e->cc->flags |= AV_CODEC_FLAG_BITEXACT;
	if (e->fmt->oformat->flags & AVFMT_GLOBALHEADER)
		e->cc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	tune(e->cc, o->codec);
	ret = avcodec_open2(e->cc, codec, NULL);
	if (ret < 0)
		return av_fail(err, ret, "open the encoder for", e->path);
	ret = avcodec_parameters_from_context(e->st->codecpar, e->cc);
	if (ret < 0)
		return av_fail(err, ret, "set up the stream of", e->path);
	e->st->time_base = e->cc->time_base;
	e->st->avg_frame_rate = e->cc->framerate;
	return 0;
}

static int open_frame(struct synth_encoder *e, const struct synth_encode_opts *o,
		      struct sq_err *err)
{
	e->frame = av_frame_alloc();
	e->pkt = av_packet_alloc();
	if (!e->frame || !e->pkt)
		return sq_error(err, SQ_ERR_MEDIA, "cannot allocate frames for '%s'", e->path);
	e->frame->format = AV_PIX_FMT_YUV420P;
	e->frame->width = o->width;
	e->frame->height = o->height;
	if (av_frame_get_buffer(e->frame, 0) < 0)
		return sq_error(err, SQ_ERR_MEDIA, "cannot allocate frames for '%s'", e->path);
	e->sws = sws_getContext(o->width, o->height, AV_PIX_FMT_RGB24, o->width, o->height,
				AV_PIX_FMT_YUV420P, SWS_BILINEAR | SWS_ACCURATE_RND | SWS_BITEXACT,
				NULL, NULL, NULL);
	if (!e->sws)
		return sq_error(err, SQ_ERR_MEDIA, "cannot set up colour conversion for '%s'",
				e->path);
	return 0;
}

struct synth_encoder *synth_encoder_open(const char *path, const struct synth_encode_opts *o,
					 struct sq_err *err)
{
	struct synth_encoder *e = xcalloc(1, sizeof(*e));
	int ret;

	e->path = xstrdup(path);
	e->tmp_path = xasprintf("%s.tmp.%ld", path, (long)getpid());
	ret = avformat_alloc_output_context2(&e->fmt, NULL, "mp4", e->tmp_path);
	if (ret < 0) {
		av_fail(err, ret, "set up the muxer for", path);
		goto fail;
	}
	e->fmt->flags |= AVFMT_FLAG_BITEXACT; /* no library version or dates in the file */
	e->st = avformat_new_stream(e->fmt, NULL);
	if (!e->st) {
		sq_error(err, SQ_ERR_MEDIA, "cannot add a stream to '%s'", path);
		goto fail;
	}
	if (open_codec(e, o, err) < 0 || open_frame(e, o, err) < 0)
		goto fail;
	ret = avio_open(&e->fmt->pb, e->tmp_path, AVIO_FLAG_WRITE);
	if (ret < 0) {
		av_fail(err, ret, "create", e->tmp_path);
		goto fail;
	}
	ret = avformat_write_header(e->fmt, NULL);
	if (ret < 0) {
		av_fail(err, ret, "write the header of", path);
		goto fail;
	}
	return e;
fail:
	synth_encoder_abort(e);
	return NULL;
}

/* Sends frame (NULL flushes) and writes every packet the encoder has ready. */
static int drain(struct synth_encoder *e, AVFrame *frame, struct sq_err *err)
{
	int ret = avcodec_send_frame(e->cc, frame);

	if (ret < 0)
		return av_fail(err, ret, "encode a frame of", e->path);
	for (;;) {
		ret = avcodec_receive_packet(e->cc, e->pkt);
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			return 0;
		if (ret < 0)
			return av_fail(err, ret, "encode a frame of", e->path);
		if (e->pkt->duration == 0)
			e->pkt->duration = 1; /* one frame, in the codec time base */
		av_packet_rescale_ts(e->pkt, e->cc->time_base, e->st->time_base);
		e->pkt->stream_index = e->st->index;
		ret = av_interleaved_write_frame(e->fmt, e->pkt);
		if (ret < 0)
			return av_fail(err, ret, "write", e->tmp_path);
	}
}

int synth_encoder_write(struct synth_encoder *e, const unsigned char *rgb, struct sq_err *err)
{
	const uint8_t *src[1] = {rgb};
	int stride[1] = {e->cc->width * 3};

	if (av_frame_make_writable(e->frame) < 0)
		return sq_error(err, SQ_ERR_MEDIA, "cannot reuse a frame of '%s'", e->path);
	sws_scale(e->sws, src, stride, 0, e->cc->height, e->frame->data, e->frame->linesize);
	e->frame->pts = e->next_pts++;
	return drain(e, e->frame, err);
}

static void release(struct synth_encoder *e)
{
	if (e->fmt && e->fmt->pb)
		avio_closep(&e->fmt->pb);
	avformat_free_context(e->fmt);
	avcodec_free_context(&e->cc);
	av_frame_free(&e->frame);
	av_packet_free(&e->pkt);
	sws_freeContext(e->sws);
	free(e->path);
	free(e->tmp_path);
	free(e);
}

int synth_encoder_close(struct synth_encoder *e, struct sq_err *err)
{
	int ret;

	if (drain(e, NULL, err) < 0)
		goto fail;
	ret = av_write_trailer(e->fmt);
	if (ret < 0) {
		av_fail(err, ret, "finish", e->tmp_path);
		goto fail;
	}
	ret = avio_closep(&e->fmt->pb);
	if (ret < 0) {
		av_fail(err, ret, "close", e->tmp_path);
		goto fail;
	}
	/* not fsynced: a crash leaves a .tmp file, never a truncated video under
	 * the real name, and test data is cheap to render again */
	if (sq_rename_durable(e->tmp_path, e->path, err) < 0)
		goto fail;
	release(e);
	return 0;
fail:
	synth_encoder_abort(e);
	return -1;
}

void synth_encoder_abort(struct synth_encoder *e)
{
	if (!e)
		return;
	if (e->fmt && e->fmt->pb)
		avio_closep(&e->fmt->pb);
	unlink(e->tmp_path);
	release(e);
}
