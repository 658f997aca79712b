/* media.c - libav: probing videos and extracting frames. */
#include "media.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <stdio.h>
#include <string.h>

#include "banned.h"

static const char *av_err(int code, char *buf, size_t len)
{
	av_strerror(code, buf, len);
	return buf;
}

int sq_media_probe(const char *url, struct sq_media_info *info, struct sq_err *err)
{
	AVFormatContext *fmt = NULL;
	char ebuf[128];
	int rc = -1, ret, idx;
	const AVStream *st;

	av_log_set_level(AV_LOG_QUIET);
	ret = avformat_open_input(&fmt, url, NULL, NULL);
	if (ret < 0)
		return sq_error(err, SQ_ERR_MEDIA, "cannot open '%s': %s", url,
				av_err(ret, ebuf, sizeof(ebuf)));
	ret = avformat_find_stream_info(fmt, NULL);
	if (ret < 0) {
		sq_error(err, SQ_ERR_MEDIA, "cannot read '%s': %s", url,
			 av_err(ret, ebuf, sizeof(ebuf)));
		goto out;
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
	avformat_close_input(&fmt);
	return rc;
}
