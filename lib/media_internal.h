/* media_internal.h - seams between the media module's own files (not a contract
 * for other modules; only lib/media*.c include it).
 *
 * media.c demuxes and decodes, media_select.c decides which decoded frames become
 * output frames (a model of libavfilter's fps filter followed by ffmpeg's video
 * sync), media_jpeg.c scales, encodes and writes the chosen ones. */
#ifndef SQ_MEDIA_INTERNAL_H
#define SQ_MEDIA_INTERNAL_H

#include "err.h"
#include "task.h"

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/rational.h>
#include <stddef.h>
#include <stdint.h>

/* ---- frame selection (media_select.c) ---- */

/* Called once per output frame, in order; frame is borrowed. seq names the source
 * picture: equal seq, equal picture, so an encoded JPEG can be reused. src_s is its
 * source timestamp (seconds in the concatenated timeline). */
typedef int (*sq_media_emit_fn)(void *ctx, const AVFrame *frame, long long seq, double src_s,
				struct sq_err *err);

struct sq_media_sel_slot {
	AVFrame *frame;
	int64_t pts; /* output time base; INT64_MIN when the frame had none */
	long long seq;
	double src_s;
};

struct sq_media_sel {
	AVRational in_tb, out_tb;
	int64_t next_pts; /* next output slot; INT64_MIN until the first frame */
	struct sq_media_sel_slot buf[2];
	int nbuf;
	long long seq;
	/* ffmpeg's video sync: CFR, or VSCFR which never pads the start */
	int vscfr;
	int64_t sync_opts;
	long long nout;
	int last_nb0[3];
	AVFrame *last; /* the previous output's picture (a reference), or NULL */
	long long last_seq;
	double last_src_s;
	sq_media_emit_fn emit;
	void *ctx;
};

void sq_media_sel_init(struct sq_media_sel *s, AVRational in_tb, AVRational out_tb, int vscfr,
		       sq_media_emit_fn emit, void *ctx);

/* Offers a decoded frame with timestamp pts (in_tb, AV_NOPTS_VALUE if none); takes
 * ownership of frame. May emit earlier frames. Returns 0, or -1 when emit failed. */
int sq_media_sel_push(struct sq_media_sel *s, AVFrame *frame, int64_t pts, struct sq_err *err);

/* End of input at eof_pts (in_tb): emits what the last frames still cover. */
int sq_media_sel_eof(struct sq_media_sel *s, int64_t eof_pts, struct sq_err *err);

void sq_media_sel_release(struct sq_media_sel *s);

/* ---- scaling, JPEG encoding, writing (media_jpeg.c) ---- */

struct sq_media_jpeg {
	const char *dir;
	int req_w, req_h, quality;
	AVRational fps;
	int out_w, out_h; /* 0 until the first frame fixes them */
	enum AVPixelFormat out_fmt;
	struct SwsContext *sws;
	int sws_w, sws_h; /* input geometry the scaler was built for */
	enum AVPixelFormat sws_fmt;
	int dec_bits; /* decoder's bits_per_raw_sample */
	AVCodecContext *enc;
	AVFrame *scaled;
	AVPacket *pkt;
	uint8_t *jpeg; /* last encoded picture, reused for repeats */
	size_t jpeg_len, jpeg_alloc;
	long long jpeg_seq;
	size_t nwritten;
};

void sq_media_jpeg_init(struct sq_media_jpeg *j, const char *dir,
			const struct sq_extract_spec *spec);

/* Writes the next frame_%06d.jpg showing frame (borrowed), scaled and encoded; when
 * seq is the one encoded last, those bytes are written again without re-encoding. */
int sq_media_jpeg_write(struct sq_media_jpeg *j, const AVFrame *frame, long long seq,
			struct sq_err *err);

void sq_media_jpeg_release(struct sq_media_jpeg *j);

/* The output size for an input of in_w x in_h under the scale filter's rules
 * (-1 keeps the aspect from the other side, rounded; both -1 or 0: source size). */
void sq_media_out_size(int req_w, int req_h, int in_w, int in_h, int *w, int *h);

#endif
