/* media_png.c - PNG pictures through libavcodec's png encoder.
 *
 * The previews a stage leaves for operators (preview.png) are encoded here, so
 * that libav stays the only image library scanq links. */
#include "media/media.h"
#include "base/fsutil.h"
#include "media/media_internal.h"

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <string.h>

#include "base/banned.h"

#define PNG_MAX_SIDE 16384

/* Opens the png encoder for width x height RGB24. */
static AVCodecContext *open_png(int width, int height, struct sq_err *err)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
	AVCodecContext *c;

	if (!codec) {
		sq_error(err, SQ_ERR_MEDIA, "this libavcodec has no png encoder");
		return NULL;
	}
	if (!(c = avcodec_alloc_context3(codec))) {
		sq_error(err, SQ_ERR_MEDIA, "out of memory for the png encoder");
		return NULL;
	}
	c->width = width;
	c->height = height;
	c->pix_fmt = AV_PIX_FMT_RGB24;
	c->time_base = (AVRational){1, 1};
	c->thread_count = 1;
	if (avcodec_open2(c, codec, NULL) < 0) {
		avcodec_free_context(&c);
		sq_error(err, SQ_ERR_MEDIA, "cannot open the png encoder for %dx%d", width, height);
		return NULL;
	}
	return c;
}

/* A frame of the encoder's size whose rows are copied from rgb. */
static AVFrame *rgb_frame(const unsigned char *rgb, int width, int height)
{
	AVFrame *f = av_frame_alloc();

	if (!f)
		return NULL;
	f->format = AV_PIX_FMT_RGB24;
	f->width = width;
	f->height = height;
	if (av_frame_get_buffer(f, 0) < 0) {
		av_frame_free(&f);
		return NULL;
	}
	for (int y = 0; y < height; y++)
		memcpy(f->data[0] + (size_t)y * (size_t)f->linesize[0],
		       rgb + (size_t)y * (size_t)width * 3, (size_t)width * 3);
	return f;
}

int sq_media_write_png(const char *path, const unsigned char *rgb, int width, int height,
		       struct sq_err *err)
{
	AVCodecContext *c = NULL;
	AVFrame *f = NULL;
	AVPacket *pkt = NULL;
	int ret, rc = -1;

	if (width <= 0 || height <= 0 || width > PNG_MAX_SIDE || height > PNG_MAX_SIDE)
		return sq_error(err, SQ_ERR_INVALID, "cannot write '%s': bad picture size %dx%d",
				path, width, height);
	if (!(c = open_png(width, height, err)))
		goto out;
	if (!(f = rgb_frame(rgb, width, height)) || !(pkt = av_packet_alloc())) {
		sq_error(err, SQ_ERR_MEDIA, "out of memory for '%s'", path);
		goto out;
	}
	ret = avcodec_send_frame(c, f);
	if (ret >= 0)
		ret = avcodec_receive_packet(c, pkt);
	if (ret < 0) {
		char buf[128];

		sq_error(err, SQ_ERR_MEDIA, "cannot encode '%s': %s", path,
			 sq_media_av_err(ret, buf, sizeof(buf)));
		goto out;
	}
	rc = sq_write_file_atomic(path, pkt->data, (size_t)pkt->size, err);
out:
	av_packet_free(&pkt);
	av_frame_free(&f);
	avcodec_free_context(&c);
	return rc;
}
