/* media_jpeg.c - from a chosen decoded frame to frame_%06d.jpg on disk.
 *
 * Mirrors what `ffmpeg ... -vf fps=F,scale=W:H -q:v Q out_%06d.jpg` does after the
 * fps filter, so that the files come out byte-identical to the CLI's:
 * - a source with a display matrix is first turned upright as the CLI's
 *   autorotation does (transpose, hflip, vflip; only multiples of 90 degrees);
 * - the output pixel format the CLI negotiates for mjpeg: the full-range
 *   yuvj420p/422p/444p closest to the source (yuvj420p for yuv420p);
 * - the scale filter's swscale setup: bicubic, MPEG-2 chroma siting for yuv420p
 *   input, the source's colour matrix kept on output (BT.601 when unspecified),
 *   the source range in, full range out, and the SAR adjusted for the new size;
 * - the mjpeg encoder with a fixed quantiser (AV_CODEC_FLAG_QSCALE, the quality
 *   set on every frame), single-threaded: with -q:v the CLI encodes with frame
 *   threads whose workers are single-threaded, which gives the same bitstream,
 *   whereas slice threads would add restart markers.
 * Files are written with plain open/write/close; the caller owns the directory
 * and makes it appear atomically. */
#include "media/media_internal.h"
#include "base/xalloc.h"
#include "base/fsutil.h"
#include "task/layout.h"

#include <errno.h>
#include <fcntl.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"

void sq_media_jpeg_init(struct sq_media_jpeg *j, const char *dir,
			const struct sq_extract_spec *spec)
{
	memset(j, 0, sizeof(*j));
	j->dir = dir;
	j->req_w = spec->width;
	j->req_h = spec->height;
	j->quality = spec->quality;
	av_reduce(&j->fps.num, &j->fps.den, spec->fps_num, spec->fps_den, INT_MAX);
	j->out_fmt = AV_PIX_FMT_NONE;
	j->sws_fmt = AV_PIX_FMT_NONE;
	j->jpeg_seq = -1;
}

void sq_media_jpeg_release(struct sq_media_jpeg *j)
{
	sws_freeContext(j->sws);
	j->sws = NULL;
	avcodec_free_context(&j->enc);
	av_frame_free(&j->scaled);
	av_frame_free(&j->upright);
	av_packet_free(&j->pkt);
	free(j->jpeg);
	j->jpeg = NULL;
	j->jpeg_len = j->jpeg_alloc = 0;
}

void sq_media_out_size(int req_w, int req_h, int in_w, int in_h, int *w, int *h)
{
	int ow = req_w == 0 ? in_w : req_w, oh = req_h == 0 ? in_h : req_h;
	int fw = ow < -1 ? -ow : 1, fh = oh < -1 ? -oh : 1; /* -N: divisible by N */

	if (ow < 0 && oh < 0) {
		ow = in_w;
		oh = in_h;
	}
	/* av_rescale rounds to nearest, as ff_scale_adjust_dimensions() does */
	if (ow < 0)
		ow = (int)av_rescale(oh, in_w, (int64_t)in_h * fw) * fw;
	if (oh < 0)
		oh = (int)av_rescale(ow, in_h, (int64_t)in_w * fh) * fh;
	*w = ow > 0 ? ow : 1;
	*h = oh > 0 ? oh : 1;
}

int sq_media_jpeg_orient(struct sq_media_jpeg *j, const int32_t *m, double *deg)
{
	struct sq_media_orient *o = &j->orient;
	double theta;

	memset(o, 0, sizeof(*o));
	*deg = 0;
	if (!m)
		return 0;
	/* the CLI's get_rotation(), then the filters it inserts for that angle */
	theta = -round(av_display_rotation_get(m));
	theta -= 360 * floor(theta / 360 + 0.9 / 360);
	*deg = theta;
	if (fabs(theta - 90) < 1.0) { /* transpose=clock, or cclock_flip when mirrored */
		o->transpose = 1;
		o->flip_rows = m[3] <= 0;
	} else if (fabs(theta - 180) < 1.0) { /* hflip and/or vflip */
		o->flip_cols = m[0] < 0;
		o->flip_rows = m[4] < 0;
	} else if (fabs(theta - 270) < 1.0) { /* transpose=cclock, or clock_flip */
		o->transpose = 1;
		o->flip_cols = 1;
		o->flip_rows = m[3] < 0;
	} else if (fabs(theta) > 1.0) {
		return -1;
	} else {
		o->flip_rows = m[4] < 0;
	}
	return 0;
}

/* One plane of w x h elements of px bytes, turned as o says into dst. */
static void orient_plane(const struct sq_media_orient *o, uint8_t *dst, int dls, const uint8_t *src,
			 int sls, int w, int h, int px)
{
	int ow = o->transpose ? h : w, oh = o->transpose ? w : h;

	for (int r = 0; r < oh; r++) {
		uint8_t *d = dst + (ptrdiff_t)r * dls;

		for (int c = 0; c < ow; c++) {
			int sr = o->transpose ? (o->flip_rows ? h - 1 - c : c)
					      : (o->flip_rows ? h - 1 - r : r);
			int sc = o->transpose ? (o->flip_cols ? w - 1 - r : r)
					      : (o->flip_cols ? w - 1 - c : c);
			const uint8_t *s = src + (ptrdiff_t)sr * sls + (ptrdiff_t)sc * px;

			if (px == 1)
				d[c] = *s;
			else
				memcpy(d + (ptrdiff_t)c * px, s, (size_t)px);
		}
	}
}

/* Bytes per element of plane p: the widest step of the components stored there. */
static int plane_px(const AVPixFmtDescriptor *d, int p)
{
	int px = 0;

	for (int i = 0; i < d->nb_components; i++)
		if (d->comp[i].plane == p && d->comp[i].step > px)
			px = d->comp[i].step;
	return px;
}

/* *out = in turned upright (j->upright), or in itself when nothing is to do. */
static int orient(struct sq_media_jpeg *j, const AVFrame *in, const AVFrame **out,
		  struct sq_err *err)
{
	const struct sq_media_orient *o = &j->orient;
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(in->format);
	AVFrame *f;

	*out = in;
	if (!o->transpose && !o->flip_rows && !o->flip_cols)
		return 0;
	if (!d || (d->flags & (AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_PAL)) ||
	    (o->transpose && d->log2_chroma_w != d->log2_chroma_h))
		return sq_error(err, SQ_ERR_MEDIA, "cannot turn %s pictures upright",
				av_get_pix_fmt_name(in->format));
	if (!j->upright && !(j->upright = av_frame_alloc()))
		return sq_error(err, SQ_ERR_MEDIA, "out of memory");
	f = j->upright;
	av_frame_unref(f);
	f->format = in->format;
	f->width = o->transpose ? in->height : in->width;
	f->height = o->transpose ? in->width : in->height;
	if (av_frame_get_buffer(f, 0) < 0 || av_frame_copy_props(f, in) < 0)
		return sq_error(err, SQ_ERR_MEDIA, "out of memory for a %dx%d frame", f->width,
				f->height);
	if (o->transpose && in->sample_aspect_ratio.num) /* as vf_transpose */
		f->sample_aspect_ratio = av_div_q(av_make_q(1, 1), in->sample_aspect_ratio);
	for (int p = 0; p < av_pix_fmt_count_planes(in->format); p++) {
		int chroma = p == 1 || p == 2;
		int w = AV_CEIL_RSHIFT(in->width, chroma ? d->log2_chroma_w : 0);
		int h = AV_CEIL_RSHIFT(in->height, chroma ? d->log2_chroma_h : 0);

		orient_plane(o, f->data[p], f->linesize[p], in->data[p], in->linesize[p], w, h,
			     plane_px(d, p));
	}
	*out = f;
	return 0;
}

/* The pixel format libavfilter picks for the encoder's input: the best of the
 * CLI's list for mjpeg, in its order, judged against the source format. */
static enum AVPixelFormat pick_out_fmt(enum AVPixelFormat src)
{
	static const enum AVPixelFormat cand[] = {AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUVJ422P,
						  AV_PIX_FMT_YUVJ444P};
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(src);
	int has_alpha = d && d->nb_components % 2 == 0;
	enum AVPixelFormat best = AV_PIX_FMT_NONE;

	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
		best = av_find_best_pix_fmt_of_2(best, cand[i], src, has_alpha, NULL);
	return best;
}

/* The YUV->RGB coefficients the scale filter uses for in_color_matrix=auto. */
static const int *matrix_for(enum AVColorSpace cs)
{
	if (cs < 1 || cs > 10 || cs == 8)
		cs = AVCOL_SPC_BT470BG;
	return sws_getCoefficients(cs);
}

static int make_scaler(struct sq_media_jpeg *j, const AVFrame *in, struct sq_err *err)
{
	struct SwsContext *s;

	sws_freeContext(j->sws);
	j->sws = s = sws_alloc_context();
	if (!s)
		return sq_error(err, SQ_ERR_MEDIA, "cannot allocate a scaler");
	av_opt_set_int(s, "srcw", in->width, 0);
	av_opt_set_int(s, "srch", in->height, 0);
	av_opt_set_int(s, "src_format", in->format, 0);
	av_opt_set_int(s, "dstw", j->out_w, 0);
	av_opt_set_int(s, "dsth", j->out_h, 0);
	av_opt_set_int(s, "dst_format", j->out_fmt, 0);
	av_opt_set_int(s, "sws_flags", SWS_BICUBIC, 0);
	av_opt_set_int(s, "threads", 1, 0);
	/* vf_scale: "MPEG-2 chroma positions are used by convention" for yuv420p */
	if (in->format == AV_PIX_FMT_YUV420P)
		av_opt_set_int(s, "src_v_chr_pos", 128, 0);
	if (sws_init_context(s, NULL, NULL) < 0) {
		sws_freeContext(s);
		j->sws = NULL;
		return sq_error(err, SQ_ERR_MEDIA, "cannot scale %dx%d %s to %dx%d", in->width,
				in->height, av_get_pix_fmt_name(in->format), j->out_w, j->out_h);
	}
	j->sws_w = in->width;
	j->sws_h = in->height;
	j->sws_fmt = in->format;
	return 0;
}

/* Per frame, like vf_scale's scale_frame(): the frame's own matrix and range. */
static void set_colorspace(struct sq_media_jpeg *j, const AVFrame *in, AVFrame *out)
{
	int *inv, *tab, in_full, out_full, bri = 0, con = 1 << 16, sat = 1 << 16;
	const int *coef = matrix_for(in->colorspace);

	if (sws_getColorspaceDetails(j->sws, &inv, &in_full, &tab, &out_full, &bri, &con, &sat) <
	    0) {
		in_full = in->format == AV_PIX_FMT_YUVJ420P || in->format == AV_PIX_FMT_YUVJ422P ||
			  in->format == AV_PIX_FMT_YUVJ444P;
		out_full = 1;
	}
	if (in->color_range != AVCOL_RANGE_UNSPECIFIED)
		in_full = in->color_range == AVCOL_RANGE_JPEG;
	sws_setColorspaceDetails(j->sws, coef, in_full, coef, out_full, bri, con, sat);
	out->color_range = out_full ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
}

/* Fills j->scaled from in. Returns 0, or -1 (err). */
static int scale(struct sq_media_jpeg *j, const AVFrame *in, struct sq_err *err)
{
	AVFrame *out = j->scaled;
	int ret;

	if (!j->out_w) {
		sq_media_out_size(j->req_w, j->req_h, in->width, in->height, &j->out_w, &j->out_h);
		j->out_fmt = pick_out_fmt(in->format);
	}
	av_frame_unref(out);
	if (in->width == j->out_w && in->height == j->out_h && in->format == j->out_fmt)
		return av_frame_ref(out, in) < 0 ? sq_error(err, SQ_ERR_MEDIA, "out of memory") : 0;
	if (!j->sws || in->width != j->sws_w || in->height != j->sws_h || in->format != j->sws_fmt)
		if (make_scaler(j, in, err) < 0)
			return -1;
	out->width = j->out_w;
	out->height = j->out_h;
	out->format = j->out_fmt;
	if (av_frame_get_buffer(out, 0) < 0 || av_frame_copy_props(out, in) < 0)
		return sq_error(err, SQ_ERR_MEDIA, "out of memory for a %dx%d frame", j->out_w,
				j->out_h);
	set_colorspace(j, in, out);
	av_reduce(&out->sample_aspect_ratio.num, &out->sample_aspect_ratio.den,
		  (int64_t)in->sample_aspect_ratio.num * j->out_h * in->width,
		  (int64_t)in->sample_aspect_ratio.den * j->out_w * in->height, INT_MAX);
	ret = sws_scale_frame(j->sws, out, in);
	if (ret < 0) {
		char buf[128];

		av_strerror(ret, buf, sizeof(buf));
		return sq_error(err, SQ_ERR_MEDIA, "cannot scale a frame: %s", buf);
	}
	return 0;
}

/* Opens the encoder the way the CLI does on its first filtered frame. */
static int open_encoder(struct sq_media_jpeg *j, const AVFrame *f, int unchanged,
			struct sq_err *err)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
	AVCodecContext *c;

	if (!codec)
		return sq_error(err, SQ_ERR_MEDIA, "this libavcodec has no mjpeg encoder");
	j->enc = c = avcodec_alloc_context3(codec);
	if (!c)
		return sq_error(err, SQ_ERR_MEDIA, "out of memory for the jpeg encoder");
	c->width = j->out_w;
	c->height = j->out_h;
	c->pix_fmt = j->out_fmt;
	c->time_base = av_inv_q(j->fps);
	c->framerate = j->fps;
	c->sample_aspect_ratio = f->sample_aspect_ratio;
	c->flags |= AV_CODEC_FLAG_QSCALE;
	c->global_quality = j->quality * FF_QP2LAMBDA;
	c->thread_count = 1;
	/* the CLI keeps the decoder's depth only when the picture passes unchanged */
	if (unchanged)
		c->bits_per_raw_sample = j->dec_bits < 8 ? j->dec_bits : 8;
	c->color_range = f->color_range;
	c->color_primaries = f->color_primaries;
	c->color_trc = f->color_trc;
	c->colorspace = f->colorspace;
	c->chroma_sample_location = f->chroma_location;
	if (f->interlaced_frame)
		c->field_order = f->top_field_first ? AV_FIELD_TT : AV_FIELD_BB;
	else
		c->field_order = AV_FIELD_PROGRESSIVE;
	if (avcodec_open2(c, codec, NULL) < 0)
		return sq_error(err, SQ_ERR_MEDIA, "cannot open the jpeg encoder for %dx%d %s",
				j->out_w, j->out_h, av_get_pix_fmt_name(j->out_fmt));
	return 0;
}

static int encode(struct sq_media_jpeg *j, const AVFrame *src, long long seq, struct sq_err *err)
{
	const AVFrame *in;
	int ret;

	if (!j->scaled && !(j->scaled = av_frame_alloc()))
		return sq_error(err, SQ_ERR_MEDIA, "out of memory");
	if (!j->pkt && !(j->pkt = av_packet_alloc()))
		return sq_error(err, SQ_ERR_MEDIA, "out of memory");
	if (orient(j, src, &in, err) < 0 || scale(j, in, err) < 0)
		return -1;
	if (!j->enc && open_encoder(j, j->scaled,
				    in->width == j->out_w && in->height == j->out_h &&
					in->format == j->out_fmt,
				    err) < 0)
		return -1;
	j->scaled->quality = j->enc->global_quality;
	j->scaled->pict_type = AV_PICTURE_TYPE_NONE;
	j->scaled->pts = (int64_t)j->nwritten;
	j->enc->sample_aspect_ratio = j->scaled->sample_aspect_ratio;
	ret = avcodec_send_frame(j->enc, j->scaled);
	if (ret >= 0)
		ret = avcodec_receive_packet(j->enc, j->pkt);
	if (ret < 0) {
		char buf[128];

		av_strerror(ret, buf, sizeof(buf));
		return sq_error(err, SQ_ERR_MEDIA, "cannot encode a jpeg: %s", buf);
	}
	xgrow((void **)&j->jpeg, &j->jpeg_alloc, (size_t)j->pkt->size, 1);
	memcpy(j->jpeg, j->pkt->data, (size_t)j->pkt->size);
	j->jpeg_len = (size_t)j->pkt->size;
	j->jpeg_seq = seq;
	av_packet_unref(j->pkt);
	av_frame_unref(j->scaled);
	if (j->upright)
		av_frame_unref(j->upright);
	return 0;
}

static int write_file(struct sq_media_jpeg *j, struct sq_err *err)
{
	char path[4096], name[SQ_LAYOUT_FRAME_NAME_MAX];
	int fd, rc = -1;

	sq_layout_frame_name(name, j->nwritten + 1);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", j->dir, name) >= sizeof(path))
		return sq_error(err, SQ_ERR_IO, "frame path too long in '%s'", j->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return sq_error_errno(err, errno, "cannot create '%s'", path);
	if (sq_write_all(fd, j->jpeg, j->jpeg_len) < 0) {
		sq_error_errno(err, errno, "cannot write '%s'", path);
		close(fd);
		goto out;
	}
	/* close() is where NFS and some quotas report a full disk */
	if (close(fd) < 0) {
		sq_error_errno(err, errno, "cannot write '%s'", path);
		goto out;
	}
	j->nwritten++;
	rc = 0;
out:
	return rc;
}

int sq_media_jpeg_write(struct sq_media_jpeg *j, const AVFrame *frame, long long seq,
			struct sq_err *err)
{
	if (seq != j->jpeg_seq && encode(j, frame, seq, err) < 0)
		return -1;
	return write_file(j, err);
}
