/* media.c - libav: probing videos and extracting frames.
 *
 * sq_media_extract() is `ffmpeg -i in -vf fps=F,scale=W:H -q:v Q frame_%06d.jpg`
 * done in-process. This file reads and decodes. Every chapter is opened up front,
 * so a bad one fails before a frame is written; they are then read in order with
 * their timestamps chained the way the concat demuxer chains them (each file
 * shifted by its own start time and by the durations of the files before it).
 * Packets go through a short read-ahead (media_skip.c) that keeps from the
 * decoder the pictures nothing references and the selection will not take.
 * Each decoded frame is stamped the way the CLI stamps it (best effort timestamp;
 * the end of input is the last frame's end) and offered to the selection
 * (media_select.c); what it outputs goes to the writer thread (media_write.c),
 * which turns, scales, encodes and writes it (media_jpeg.c). A chapter may be
 * cut (input_until_ms): only its frames stamped before the cut are used, and the
 * next chapter starts at the cut, like the concat demuxer's outpoint but on
 * presentation rather than decoding timestamps. Read-ahead, decoder
 * and writer queue are all bounded: memory does not grow with the length of the
 * video, only pts_s does. */
#include "media/media.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "media/media_internal.h"
#include "base/xalloc.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/hwcontext.h>
#include <libavutil/pixdesc.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/banned.h"

#define MAX_WARNINGS 20
#define PROGRESS_EVERY_MS 250
/* a chapter whose frames stop this much before its declared end is reported */
#define SHORT_END_US 500000

struct chapter {
	const char *url;
	struct sq_media_io io;
	AVFormatContext *fmt;
	int vidx;
	AVRational tb;
	int64_t start_us;    /* container start time, shifted away */
	int64_t duration_us; /* container duration; 0 when unknown */
	int64_t until_us;    /* the cut, from start_us; 0: none */
	/* set when its reading starts: */
	int64_t offset_us;   /* where it starts in the timeline */
	int64_t shift;	     /* added to its timestamps (tb) to put them there */
	int64_t cut_ts;	     /* shifted timestamps (tb) from here on are cut; INT64_MAX: none */
	long long first_seq; /* the selection's seq of its first frame */
};

struct extract {
	const struct sq_extract_opts *o;
	struct sq_extract_result *res;
	size_t pts_alloc, src_alloc, src_pts_alloc, warn_alloc;
	struct chapter *ch;
	size_t nch;
	size_t nstarted; /* chapters whose reading has begun */
	struct sq_media_sel sel;
	struct sq_media_skip skip;
	struct sq_media_jpeg jpeg;
	struct sq_media_writer writer;
	AVRational tb0;	     /* time base of the joined timeline: the first chapter's */
	AVRational out_tb;   /* one output slot */
	int64_t last_pts;    /* the chapter's last decoded frame's pts (chapter time base) */
	int64_t offset_us;   /* where the current chapter starts in the timeline */
	int64_t next_pts_us; /* the CLI's ist->next_pts: end of the last decoded frame */
	double last_pkt_s;   /* timeline position of the last packet read */
	AVCodecContext *dec;
	AVBufferRef *hw_dev;
	enum AVHWDeviceType hw_type;
	enum AVPixelFormat hw_fmt;
	AVPacket *pkt, *out_pkt;
	AVFrame *frame;
	long long expected;
	long long progress_ms; /* last report, -1 before the first */
	size_t nframes_in;     /* decoded frames */
	size_t nwarn_dropped;
	int stop; /* cancellation seen */
};

/* ---- small helpers ---- */

static void warn(struct extract *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_warning(struct extract *x, const char *line)
{
	struct sq_extract_result *r = x->res;

	xgrow((void **)&r->warnings, &x->warn_alloc, r->nwarnings + 1, sizeof(r->warnings[0]));
	r->warnings[r->nwarnings++] = xstrdup(line);
	if (x->o->hooks.log)
		x->o->hooks.log(x->o->hooks.ctx, line);
}

/* Records a problem that did not stop extraction; a damaged file can have
 * thousands, so past MAX_WARNINGS they are only counted. */
static void warn(struct extract *x, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (x->res->nwarnings >= MAX_WARNINGS) {
		x->nwarn_dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	add_warning(x, line);
}

static int cancelled(struct extract *x)
{
	if (!x->stop && sq_hooks_cancelled(&x->o->hooks))
		x->stop = 1;
	return x->stop;
}

/* libav's blocking I/O asks this; non-zero aborts the call in progress. */
static int interrupt_cb(void *opaque)
{
	return cancelled(opaque);
}

static void report_progress(struct extract *x, int force)
{
	long long now;

	if (!x->o->hooks.progress)
		return;
	now = sq_mono_ms();
	if (!force && x->progress_ms >= 0 && now - x->progress_ms < PROGRESS_EVERY_MS)
		return;
	x->progress_ms = now;
	x->o->hooks.progress(x->o->hooks.ctx,
			     force ? (long long)x->res->nframes
				   : (long long)sq_media_writer_done(&x->writer),
			     x->expected);
}

/* The chapter the selection's picture seq was decoded from: chapters are read
 * in order, each numbering its frames on from the last. */
static size_t source_of(const struct extract *x, long long seq)
{
	size_t i = x->nstarted;

	while (i > 1 && x->ch[i - 1].first_seq > seq)
		i--;
	return i > 0 ? i - 1 : 0;
}

/* The selection's output: one more frame for the writer thread. */
static int emit(void *ctx, const AVFrame *frame, long long seq, double src_s, struct sq_err *err)
{
	struct extract *x = ctx;
	struct sq_extract_result *r = x->res;

	if (cancelled(x))
		return sq_error(err, SQ_ERR_CANCEL, "extraction cancelled");
	if (sq_media_writer_push(&x->writer, frame, seq, err) < 0)
		return -1;
	xgrow((void **)&r->pts_s, &x->pts_alloc, r->nframes + 1, sizeof(r->pts_s[0]));
	xgrow((void **)&r->source, &x->src_alloc, r->nframes + 1, sizeof(r->source[0]));
	xgrow((void **)&r->source_pts_s, &x->src_pts_alloc, r->nframes + 1,
	      sizeof(r->source_pts_s[0]));
	r->pts_s[r->nframes] = src_s;
	r->source[r->nframes] = source_of(x, seq);
	/* to the microsecond, as offsets are kept: the same picture then reads the
	 * same in every task that decodes it (chapters of one time base, as a
	 * camera writes them) */
	r->source_pts_s[r->nframes] =
	    round((src_s - (double)x->ch[r->source[r->nframes]].offset_us / AV_TIME_BASE) * 1e6) /
	    1e6;
	r->nframes++;
	report_progress(x, 0);
	return 0;
}

/* ---- opening the chapters ---- */

/* The stream the CLI maps by default: the largest picture, default ones first. */
static int pick_video(const AVFormatContext *fmt)
{
	long long best = -1;
	int idx = -1;

	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		const AVStream *st = fmt->streams[i];
		long long score;

		if (st->codecpar->codec_type != AVMEDIA_TYPE_VIDEO ||
		    (st->disposition & AV_DISPOSITION_ATTACHED_PIC))
			continue;
		score = (long long)st->codecpar->width * st->codecpar->height +
			5000000LL * !!(st->disposition & AV_DISPOSITION_DEFAULT);
		if (score > best) {
			best = score;
			idx = (int)i;
		}
	}
	return idx;
}

static int open_chapter(struct extract *x, struct chapter *c, struct sq_err *err)
{
	c->io.hooks.cancelled = interrupt_cb;
	c->io.hooks.ctx = x;
	c->io.stall_ms = x->o->read ? x->o->read->stall_ms : 0;
	c->io.ssh = x->o->read ? &x->o->read->ssh : NULL;
	if (sq_media_io_open(&c->io, c->url, &c->fmt, err) < 0)
		return -1;
	c->vidx = pick_video(c->fmt);
	if (c->vidx < 0)
		return sq_error(err, SQ_ERR_MEDIA, "'%s' has no video stream", c->url);
	for (unsigned i = 0; i < c->fmt->nb_streams; i++)
		if ((int)i != c->vidx)
			c->fmt->streams[i]->discard = AVDISCARD_ALL;
	c->tb = c->fmt->streams[c->vidx]->time_base;
	c->start_us = c->fmt->start_time != AV_NOPTS_VALUE ? c->fmt->start_time : 0;
	c->duration_us = c->fmt->duration > 0 ? c->fmt->duration : 0;
	return 0;
}

/* Turns frames upright as the CLI does, from the first chapter's display matrix
 * (the concat demuxer takes the first file's streams). */
static void set_orientation(struct extract *x, const struct chapter *c)
{
	const AVStream *st = c->fmt->streams[c->vidx];
	const int32_t *m =
	    (const int32_t *)av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
	double deg;

	if (sq_media_jpeg_orient(&x->jpeg, m, &deg) < 0)
		warn(x, "'%s' is rotated by %.0f degrees: frames are left as stored", c->url, deg);
}

static int open_chapters(struct extract *x, struct sq_err *err)
{
	int64_t total_us = 0;

	x->nch = x->o->ninputs;
	x->ch = xcalloc(x->nch, sizeof(x->ch[0]));
	for (size_t i = 0; i < x->nch; i++) {
		struct chapter *c = &x->ch[i];

		c->url = x->o->inputs[i];
		c->until_us = x->o->input_until_ms ? x->o->input_until_ms[i] * 1000 : 0;
		if (open_chapter(x, c, err) < 0)
			return -1;
		total_us += c->until_us > 0 && (c->duration_us <= 0 || c->duration_us > c->until_us)
				? c->until_us
				: c->duration_us;
	}
	x->tb0 = x->ch[0].tb;
	set_orientation(x, &x->ch[0]);
	x->expected = llround((double)total_us / AV_TIME_BASE * av_q2d(x->jpeg.fps));
	return 0;
}

static void close_chapters(struct extract *x)
{
	for (size_t i = 0; i < x->nch; i++)
		sq_media_io_close(&x->ch[i].io, &x->ch[i].fmt);
	free(x->ch);
	x->ch = NULL;
}

/* ---- hardware decoding ---- */

static void setup_hwaccel(struct extract *x)
{
	static const enum AVHWDeviceType types[] = {AV_HWDEVICE_TYPE_CUDA, AV_HWDEVICE_TYPE_VAAPI};
	char why[2][128], line[320];

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		/* CUDA's device string is its index: the slot's GPU, as the worker
		 * gives it to its backends in CUDA_VISIBLE_DEVICES */
		const char *dev = types[i] == AV_HWDEVICE_TYPE_CUDA ? x->o->gpu : NULL;
		int ret = av_hwdevice_ctx_create(&x->hw_dev, types[i], dev, NULL, 0);

		if (ret >= 0) {
			x->hw_type = types[i];
			return;
		}
		sq_media_av_err(ret, why[i], sizeof(why[i]));
	}
	snprintf(line, sizeof(line),
		 "hwaccel unavailable: cuda: %s; vaapi: %s, decoding in software", why[0], why[1]);
	if (x->o->hooks.log)
		x->o->hooks.log(x->o->hooks.ctx, line);
}

static enum AVPixelFormat get_format(AVCodecContext *c, const enum AVPixelFormat *fmts)
{
	const struct extract *x = c->opaque;
	const enum AVPixelFormat *p;

	for (p = fmts; *p != AV_PIX_FMT_NONE; p++)
		if (*p == x->hw_fmt)
			return *p;
	for (p = fmts; *p != AV_PIX_FMT_NONE; p++)
		if (!(av_pix_fmt_desc_get(*p)->flags & AV_PIX_FMT_FLAG_HWACCEL))
			return *p;
	return AV_PIX_FMT_NONE;
}

/* Attaches the device when the decoder can use it; software otherwise. */
static void attach_hwaccel(struct extract *x, const AVCodec *codec)
{
	const AVCodecHWConfig *cfg;

	x->hw_fmt = AV_PIX_FMT_NONE;
	for (int i = 0; x->hw_dev && (cfg = avcodec_get_hw_config(codec, i)); i++) {
		if ((cfg->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX) &&
		    cfg->device_type == x->hw_type) {
			x->hw_fmt = cfg->pix_fmt;
			x->dec->hw_device_ctx = av_buffer_ref(x->hw_dev);
			x->dec->opaque = x;
			x->dec->get_format = get_format;
			return;
		}
	}
}

/* Brings a hardware frame into memory, in place. */
static int download(struct extract *x, AVFrame *f, struct sq_err *err)
{
	AVFrame *sw;
	int ret;

	if (x->hw_fmt == AV_PIX_FMT_NONE || f->format != x->hw_fmt)
		return 0;
	sw = av_frame_alloc();
	if (!sw)
		return sq_error(err, SQ_ERR_MEDIA, "out of memory");
	ret = av_hwframe_transfer_data(sw, f, 0);
	if (ret >= 0)
		ret = av_frame_copy_props(sw, f);
	if (ret < 0) {
		av_frame_free(&sw);
		return sq_error(err, SQ_ERR_MEDIA, "cannot download a decoded frame from the gpu");
	}
	av_frame_unref(f);
	av_frame_move_ref(f, sw);
	av_frame_free(&sw);
	return 0;
}

/* ---- decoding ---- */

static int open_decoder(struct extract *x, const struct chapter *c, struct sq_err *err)
{
	const AVStream *st = c->fmt->streams[c->vidx];
	const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
	char ebuf[128];
	int ret;

	if (!codec)
		return sq_error(err, SQ_ERR_MEDIA, "no decoder for %s video in '%s'",
				avcodec_get_name(st->codecpar->codec_id), c->url);
	x->dec = avcodec_alloc_context3(codec);
	if (!x->dec || avcodec_parameters_to_context(x->dec, st->codecpar) < 0)
		return sq_error(err, SQ_ERR_MEDIA, "out of memory for a decoder");
	x->dec->pkt_timebase = st->time_base;
	x->dec->thread_count = 0; /* auto: frame threads where the codec has them */
	attach_hwaccel(x, codec);
	ret = avcodec_open2(x->dec, codec, NULL);
	if (ret < 0)
		return sq_error(err, SQ_ERR_MEDIA, "cannot open the %s decoder for '%s': %s",
				codec->name, c->url, sq_media_av_err(ret, ebuf, sizeof(ebuf)));
	/* the writer reads it on its first frame: set before the first push only */
	if (c == &x->ch[0])
		x->jpeg.dec_bits = x->dec->bits_per_raw_sample;
	x->last_pts = AV_NOPTS_VALUE;
	sq_media_skip_init(&x->skip, st, x->tb0, x->out_tb);
	return 0;
}

/* The CLI's duration for a frame that carries none: one frame at the codec rate. */
static int64_t fallback_duration_us(const AVCodecContext *dec)
{
	if (dec->framerate.num <= 0 || dec->framerate.den <= 0)
		return 0;
	return av_rescale(AV_TIME_BASE, dec->framerate.den, dec->framerate.num);
}

/* Skipping packets is sound only while frames come out in timestamp order,
 * stamped with their packets' timestamps; it stops for good otherwise. */
static void check_skipping(struct extract *x, const AVFrame *f)
{
	if (f->best_effort_timestamp != f->pts || f->pts == AV_NOPTS_VALUE ||
	    (x->last_pts != AV_NOPTS_VALUE && f->pts <= x->last_pts))
		x->skip.enabled = 0;
	x->last_pts = f->pts;
}

/* Stamps a decoded frame as ffmpeg.c decode_video() does and offers it. */
static int on_frame(struct extract *x, const struct chapter *c, struct sq_err *err)
{
	AVFrame *f = x->frame, *own;
	const AVStream *st = c->fmt->streams[c->vidx];
	int64_t ts = f->best_effort_timestamp;

	/* edit-list pre-roll, or past the chapter's cut (whatever the decoder did
	 * with the packet's discard flag, see read_packets) */
	if ((f->flags & AV_FRAME_FLAG_DISCARD) || (ts != AV_NOPTS_VALUE && ts >= c->cut_ts)) {
		av_frame_unref(f);
		return 0;
	}
	check_skipping(x, f);
	if (f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT))
		warn(x, "damaged picture at %.1f s in '%s'",
		     ts != AV_NOPTS_VALUE ? (double)ts * av_q2d(c->tb) : x->last_pkt_s, c->url);
	if (download(x, f, err) < 0)
		return -1;
	if (ts != AV_NOPTS_VALUE) {
		f->pts = ts;
		x->next_pts_us = av_rescale_q(ts, c->tb, AV_TIME_BASE_Q);
	}
	x->next_pts_us += f->pkt_duration > 0 ? av_rescale_q(f->pkt_duration, c->tb, AV_TIME_BASE_Q)
					      : fallback_duration_us(x->dec);
	if (st->sample_aspect_ratio.num)
		f->sample_aspect_ratio = st->sample_aspect_ratio;
	ts = f->pts;
	if (ts != AV_NOPTS_VALUE && av_cmp_q(c->tb, x->tb0) != 0)
		ts = av_rescale_q(ts, c->tb, x->tb0);
	own = av_frame_alloc();
	if (!own)
		return sq_error(err, SQ_ERR_MEDIA, "out of memory");
	av_frame_move_ref(own, f);
	x->nframes_in++;
	return sq_media_sel_push(&x->sel, own, ts, err);
}

/* Takes every frame the decoder has ready. */
static int receive(struct extract *x, const struct chapter *c, struct sq_err *err)
{
	char ebuf[128];

	for (;;) {
		int ret = avcodec_receive_frame(x->dec, x->frame);

		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			return 0;
		if (ret < 0) {
			warn(x, "decode error at %.1f s in '%s': %s", x->last_pkt_s, c->url,
			     sq_media_av_err(ret, ebuf, sizeof(ebuf)));
			continue;
		}
		if (on_frame(x, c, err) < 0)
			return -1;
	}
}

static int decode_packet(struct extract *x, const struct chapter *c, AVPacket *pkt,
			 struct sq_err *err)
{
	char ebuf[128];
	int ret;

	if (pkt) {
		int64_t t = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;

		if (t != AV_NOPTS_VALUE)
			x->last_pkt_s = (double)t * av_q2d(c->tb);
		if (pkt->flags & AV_PKT_FLAG_CORRUPT)
			warn(x, "corrupt data at %.1f s in '%s'", x->last_pkt_s, c->url);
	}
	ret = avcodec_send_packet(x->dec, pkt);
	if (ret < 0 && ret != AVERROR_EOF)
		warn(x, "decode error at %.1f s in '%s': %s", x->last_pkt_s, c->url,
		     sq_media_av_err(ret, ebuf, sizeof(ebuf)));
	return receive(x, c, err);
}

/* Shifts a packet into the joined timeline. */
static void shift_packet(AVPacket *pkt, int64_t shift)
{
	if (pkt->pts != AV_NOPTS_VALUE)
		pkt->pts += shift;
	if (pkt->dts != AV_NOPTS_VALUE)
		pkt->dts += shift;
}

/* Takes the oldest packet from the read-ahead and decodes it, unless its frame
 * is one that nothing needs. */
static int pass_packet(struct extract *x, const struct chapter *c, struct sq_err *err)
{
	int ret;

	ret = sq_media_skip_pop(&x->skip, x->out_pkt);
	if (ret == 0)
		x->res->npackets_skipped++;
	if (ret <= 0)
		return 0;
	x->res->npackets_decoded++;
	ret = decode_packet(x, c, x->out_pkt, err);
	av_packet_unref(x->out_pkt);
	return ret;
}

/* The end of a chapter's packets: a stall or a cancel fails, anything else is
 * a file cut short and only warned about. Returns 0 or -1. */
static int end_of_packets(struct extract *x, struct chapter *c, int ret, struct sq_err *err)
{
	char ebuf[128];

	if (sq_media_io_failed(&c->io, c->url, ret, err) < 0)
		return -1;
	if (ret < 0 && ret != AVERROR_EOF && cancelled(x))
		return sq_error(err, SQ_ERR_CANCEL, "extraction cancelled");
	if (ret < 0 && ret != AVERROR_EOF)
		warn(x, "read error at %.1f s in '%s': %s", x->last_pkt_s, c->url,
		     sq_media_av_err(ret, ebuf, sizeof(ebuf)));
	while (x->skip.qn > 0)
		if (pass_packet(x, c, err) < 0)
			return -1;
	return 0;
}

/* Whether a (shifted) video packet is past the chapter's cut: 1 when its frame
 * will not be used, 2 when no later packet's frame will be either. */
static int past_cut(const struct chapter *c, AVPacket *pkt)
{
	/* dts <= pts, and dts only grows: every packet from here on shows a frame
	 * at or after the cut, and the pictures before it are all decoded */
	if (pkt->dts != AV_NOPTS_VALUE && pkt->dts >= c->cut_ts)
		return 2;
	return pkt->pts != AV_NOPTS_VALUE && pkt->pts >= c->cut_ts;
}

/* Reads one chapter to its end (or its cut); a read error ends it early with a
 * warning, as in the CLI, so a truncated file gives what it holds. */
static int read_packets(struct extract *x, struct chapter *c, struct sq_err *err)
{
	for (;;) {
		int ret = 0;

		if (cancelled(x))
			return sq_error(err, SQ_ERR_CANCEL, "extraction cancelled");
		ret = av_read_frame(c->fmt, x->pkt);
		if (ret < 0)
			return end_of_packets(x, c, ret, err);
		if (x->pkt->stream_index == c->vidx && x->pkt->size > 0) {
			int past;

			shift_packet(x->pkt, c->shift);
			past = past_cut(c, x->pkt);
			if (past == 2) {
				av_packet_unref(x->pkt);
				return end_of_packets(x, c, AVERROR_EOF, err);
			}
			/* decoded only as a reference: neither output, nor the frame
			 * that makes another one of its slot skippable (media_skip.c) */
			if (past)
				x->pkt->flags |= AV_PKT_FLAG_DISCARD;
			if (sq_media_skip_push(&x->skip, x->pkt))
				ret = pass_packet(x, c, err);
		}
		av_packet_unref(x->pkt);
		if (ret < 0)
			return -1;
	}
}

/* Warns when a chapter's frames stop well before its video stream says it ends:
 * a file cut short often reads without a single error. */
static void check_end(struct extract *x, const struct chapter *c)
{
	const AVStream *st = c->fmt->streams[c->vidx];
	int64_t want_us, got_us;

	if (x->nframes_in == 0 || st->duration <= 0 || st->start_time == AV_NOPTS_VALUE)
		return;
	want_us = av_rescale_q(st->start_time + st->duration, c->tb, AV_TIME_BASE_Q);
	if (c->until_us > 0 && want_us > c->start_us + c->until_us)
		want_us = c->start_us + c->until_us;
	got_us = x->next_pts_us - x->offset_us + c->start_us; /* undo the shift */
	if (got_us < want_us - SHORT_END_US)
		warn(x, "'%s' ends at %.1f s of its %.1f s: truncated or damaged", c->url,
		     (double)got_us / AV_TIME_BASE, (double)want_us / AV_TIME_BASE);
}

/* Places chapter c at the current end of the timeline. */
static void start_chapter(struct extract *x, struct chapter *c)
{
	c->offset_us = x->offset_us;
	c->shift = av_rescale_q(x->offset_us - c->start_us, AV_TIME_BASE_Q, c->tb);
	/* the first timestamp at or after the cut: a frame is cut iff ts >= cut_ts */
	c->cut_ts = c->until_us > 0 ? c->shift + av_rescale_q_rnd(c->until_us, AV_TIME_BASE_Q,
								  c->tb, AV_ROUND_UP)
				    : INT64_MAX;
	c->first_seq = x->sel.seq;
	x->nstarted++;
}

static int read_chapter(struct extract *x, struct chapter *c, struct sq_err *err)
{
	int rc = -1;

	start_chapter(x, c);
	if (open_decoder(x, c, err) < 0 || read_packets(x, c, err) < 0 ||
	    decode_packet(x, c, NULL, err) < 0)
		goto out;
	check_end(x, c);
	/* the next chapter starts where the concat demuxer would start it */
	if (c->duration_us <= 0)
		c->duration_us = x->next_pts_us > x->offset_us ? x->next_pts_us - x->offset_us : 0;
	if (c->until_us > 0 && c->duration_us > c->until_us)
		c->duration_us = c->until_us;
	x->offset_us += c->duration_us;
	rc = 0;
out:
	sq_media_skip_release(&x->skip);
	avcodec_free_context(&x->dec);
	return rc;
}

/* ---- extraction ---- */

static int check_opts(const struct sq_extract_opts *o, struct sq_err *err)
{
	const struct sq_extract_spec *s = o->spec;

	if (!s || !o->inputs || o->ninputs == 0 || !o->frames_dir)
		return sq_error(err, SQ_ERR_INVALID,
				"extraction needs a spec, inputs and a directory");
	if (s->fps_num <= 0 || s->fps_den <= 0)
		return sq_error(err, SQ_ERR_INVALID, "bad frame rate %d/%d", s->fps_num,
				s->fps_den);
	if (s->quality < 1 || s->quality > 31)
		return sq_error(err, SQ_ERR_INVALID, "bad jpeg quality %d (1..31)", s->quality);
	if (s->width > 16384 || s->height > 16384 || s->width < -64 || s->height < -64)
		return sq_error(err, SQ_ERR_INVALID, "bad output size %dx%d", s->width, s->height);
	for (size_t i = 0; o->input_until_ms && i < o->ninputs; i++)
		if (o->input_until_ms[i] < 0 || o->input_until_ms[i] > (1LL << 40))
			return sq_error(err, SQ_ERR_INVALID, "bad cut %lld ms for '%s'",
					o->input_until_ms[i], o->inputs[i]);
	return 0;
}

static int run(struct extract *x, struct sq_err *err)
{
	x->out_tb = av_inv_q(x->jpeg.fps);
	if (open_chapters(x, err) < 0)
		return -1;
	if (x->o->hwaccel)
		setup_hwaccel(x);
	x->pkt = av_packet_alloc();
	x->out_pkt = av_packet_alloc();
	x->frame = av_frame_alloc();
	if (!x->pkt || !x->out_pkt || !x->frame)
		return sq_error(err, SQ_ERR_MEDIA, "out of memory");
	if (sq_media_writer_start(&x->writer, &x->jpeg, err) < 0)
		return -1;
	/* the CLI's video sync never pads the start of a single-stream file */
	sq_media_sel_init(&x->sel, x->tb0, x->out_tb, x->ch[0].fmt->nb_streams == 1, emit, x);
	for (size_t i = 0; i < x->nch; i++)
		if (read_chapter(x, &x->ch[i], err) < 0)
			return -1;
	if (x->nframes_in == 0)
		return sq_error(err, SQ_ERR_MEDIA, "no decodable video frame in '%s'",
				x->ch[0].url);
	if (sq_media_sel_eof(&x->sel,
			     av_rescale_q_rnd(x->next_pts_us, AV_TIME_BASE_Q, x->tb0,
					      AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX),
			     err) < 0 ||
	    sq_media_writer_finish(&x->writer, err) < 0)
		return -1;
	if (x->nwarn_dropped) {
		char line[64];

		snprintf(line, sizeof(line), "%zu more problems not listed", x->nwarn_dropped);
		add_warning(x, line);
	}
	x->res->duration_s = (double)x->offset_us / AV_TIME_BASE;
	return 0;
}

int sq_media_extract(const struct sq_extract_opts *opts, struct sq_extract_result *res,
		     struct sq_err *err)
{
	struct extract x = {.o = opts, .res = res, .progress_ms = -1};
	int rc;

	memset(res, 0, sizeof(*res));
	if (check_opts(opts, err) < 0)
		return -1;
	av_log_set_level(AV_LOG_QUIET);
	sq_media_jpeg_init(&x.jpeg, opts->frames_dir, opts->spec);
	sq_media_sel_init(&x.sel, av_make_q(1, 1), av_make_q(1, 1), 1, emit, &x);
	rc = run(&x, err);
	sq_media_writer_abort(&x.writer); /* after a failure: the rest is not wanted */
	if (rc == 0)
		report_progress(&x, 1);
	res->out_width = x.jpeg.out_w;
	res->out_height = x.jpeg.out_h;
	sq_media_sel_release(&x.sel);
	sq_media_skip_release(&x.skip);
	sq_media_jpeg_release(&x.jpeg);
	avcodec_free_context(&x.dec);
	av_buffer_unref(&x.hw_dev);
	av_packet_free(&x.pkt);
	av_packet_free(&x.out_pkt);
	av_frame_free(&x.frame);
	close_chapters(&x);
	return rc;
}

void sq_extract_result_release(struct sq_extract_result *r)
{
	if (!r)
		return;
	free(r->pts_s);
	free(r->source);
	free(r->source_pts_s);
	for (size_t i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	memset(r, 0, sizeof(*r));
}
