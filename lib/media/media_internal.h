/* media_internal.h - seams between the media module's own files (not a contract
 * for other modules; only lib/media*.c include it).
 *
 * media.c demuxes and decodes, media_io.c opens inputs so that stalled reads time
 * out, media_skip.c keeps packets whose frames nothing uses from the decoder,
 * media_select.c decides which decoded frames become output frames (a model of
 * libavfilter's fps filter followed by ffmpeg's video sync), media_write.c hands
 * the chosen ones to a writer thread, and media_jpeg.c rotates, scales, encodes
 * and writes them. */
#ifndef SQ_MEDIA_INTERNAL_H
#define SQ_MEDIA_INTERNAL_H

#include "base/err.h"
#include "base/hooks.h"
#include "task/task.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libavutil/rational.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* libav's message for code with a lowercase first letter, as scanq writes them. */
const char *sq_media_av_err(int code, char *buf, size_t len);

/* ---- inputs with a stall timeout (media_io.c) ---- */

struct sq_sftp_file;
struct sq_ssh_opts;

struct sq_media_io {
	long long stall_ms;	       /* give up after this long without a byte; 0: 30 s */
	const struct sq_ssh_opts *ssh; /* sftp:// inputs (borrowed); NULL: the defaults */
	struct sq_hooks hooks;	       /* cancelled polled while waiting */
	int fd;			       /* local files: ours, read non-blocking; else -1 */
	struct sq_sftp_file *sftp;     /* sftp:// inputs: ours; else NULL */
	AVIOContext *pb;	       /* ours for local files and sftp:// inputs */
	int stalled;		       /* a read gave up for lack of data */
};

/* Opens url and reads its stream info into *fmt (close with sq_media_io_close).
 * io's stall_ms, ssh and hooks are set by the caller; io must stay put while
 * the input is open. */
int sq_media_io_open(struct sq_media_io *io, const char *url, AVFormatContext **fmt,
		     struct sq_err *err);

/* After a libav read on io's input failed with ret: -1 with err set when that
 * was a stall (SQ_ERR_TIMEOUT), a cancellation, or a remote input's transfer
 * failing (a lost connection must fail the attempt, not end the video early),
 * else 0 (an ordinary error). */
int sq_media_io_failed(struct sq_media_io *io, const char *url, int ret, struct sq_err *err);

void sq_media_io_close(struct sq_media_io *io, AVFormatContext **fmt);

/* ---- skipping packets whose frames will not be selected (media_skip.c) ---- */

#define SQ_MEDIA_AHEAD 24 /* packets read ahead */
#define SQ_MEDIA_PAST 24  /* timestamps of the packets just passed */

struct sq_media_skip {
	int kind, len_size, hevc_max_tid;
	int enabled; /* 0: every packet goes to the decoder */
	AVRational tb, tb0, out_tb;
	AVPacket *q[SQ_MEDIA_AHEAD];
	int qhead, qn;
	int64_t past[SQ_MEDIA_PAST];
	int pasti, npast;
	size_t nskipped;
};

/* For one chapter's video stream st; tb0 and out_tb as the selection's in/out. */
void sq_media_skip_init(struct sq_media_skip *s, const AVStream *st, AVRational tb0,
			AVRational out_tb);

/* Queues pkt (its reference moves in; pkt is left blank). Returns 1 when the
 * read-ahead is full and a packet must be popped before the next push. */
int sq_media_skip_push(struct sq_media_skip *s, AVPacket *pkt);

/* Moves the oldest queued packet into out. Returns 1: decode it; 0: it was
 * skipped (out is blank); -1: the queue is empty. */
int sq_media_skip_pop(struct sq_media_skip *s, AVPacket *out);

void sq_media_skip_release(struct sq_media_skip *s);

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

/* How the CLI turns a picture upright from the stream's display matrix (its
 * transpose/hflip/vflip filters): out(r, c) = in(sr, sc), with, when transposed,
 * sr = flip_rows ? H-1-c : c and sc = flip_cols ? W-1-r : r, else
 * sr = flip_rows ? H-1-r : r and sc = flip_cols ? W-1-c : c. */
struct sq_media_orient {
	int transpose, flip_rows, flip_cols;
};

struct sq_media_jpeg {
	const char *dir;
	int req_w, req_h, quality;
	struct sq_media_orient orient;
	AVFrame *upright; /* the rotated picture, when orient asks for one */
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

/* Sets j's orientation from a display matrix (may be NULL). Returns 0, or -1 when
 * the CLI would rotate by an angle that is not a multiple of 90 degrees (left
 * unrotated; *deg says which). */
int sq_media_jpeg_orient(struct sq_media_jpeg *j, const int32_t *matrix, double *deg);

/* ---- the writer thread (media_write.c) ---- */

#define SQ_MEDIA_WRITE_QUEUE 3 /* output frames waiting for the writer */

struct sq_media_writer {
	struct sq_media_jpeg *jpeg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct {
		AVFrame *frame;
		long long seq;
	} q[SQ_MEDIA_WRITE_QUEUE];
	int head, n;
	int started, closing, stop, failed;
	struct sq_err err; /* the writer's first failure */
	size_t done;	   /* frames on disk */
};

/* Starts the thread that writes frames with jpeg (borrowed until finish/abort). */
int sq_media_writer_start(struct sq_media_writer *w, struct sq_media_jpeg *jpeg,
			  struct sq_err *err);

/* Queues the next output frame (a new reference is taken; frame stays the
 * caller's), waiting while the queue is full. -1 with the writer's error once
 * it has failed. */
int sq_media_writer_push(struct sq_media_writer *w, const AVFrame *frame, long long seq,
			 struct sq_err *err);

/* Frames written so far (any thread). */
size_t sq_media_writer_done(struct sq_media_writer *w);

/* Writes what is queued and ends the thread; -1 with the writer's error. */
int sq_media_writer_finish(struct sq_media_writer *w, struct sq_err *err);

/* Ends the thread at once, dropping what is queued (after the frame in hand). */
void sq_media_writer_abort(struct sq_media_writer *w);

/* The output size for an input of in_w x in_h under the scale filter's rules
 * (-1 keeps the aspect from the other side, rounded; both -1 or 0: source size). */
void sq_media_out_size(int req_w, int req_h, int in_w, int in_h, int *w, int *h);

#endif
