/* media_select.c - which decoded frames become output frames.
 *
 * Extraction must pick the frames `ffmpeg -i in -vf fps=F,... out_%06d.jpg` picks,
 * so this models, step for step, the two places that decide it in FFmpeg 5.1:
 *
 * - libavfilter's fps filter (round=near, eof_action=round). Timestamps are rounded
 *   to output slots half away from zero; slots start at the first frame's slot; a
 *   frame is held until the next one shows it is no longer the best for the slot,
 *   so the LAST frame of a slot wins (30 -> 3 fps takes source frames 4, 14, 24...);
 *   an empty slot repeats the previous frame; the end of input (its timestamp is
 *   the last frame's end) closes the last slot.
 * - the CLI's video sync (do_video_out): CFR for outputs like image2, or VSCFR
 *   when the input file has a single stream, which differs only in never padding
 *   the start. With fps upstream it only acts on the first frame (a late first
 *   slot in a file that also has audio is repeated from slot 0) and at the flush.
 *
 * No picture is touched here: frames are held by reference and handed to the
 * emit callback, which scales and encodes only what is really output. */
#include "media/media_internal.h"

#include <libavutil/mathematics.h>
#include <math.h>
#include <string.h>

#include "base/banned.h"

void sq_media_sel_init(struct sq_media_sel *s, AVRational in_tb, AVRational out_tb, int vscfr,
		       sq_media_emit_fn emit, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->in_tb = in_tb;
	s->out_tb = out_tb;
	s->next_pts = AV_NOPTS_VALUE;
	s->vscfr = vscfr;
	s->emit = emit;
	s->ctx = ctx;
}

void sq_media_sel_release(struct sq_media_sel *s)
{
	for (int i = 0; i < s->nbuf; i++)
		av_frame_free(&s->buf[i].frame);
	s->nbuf = 0;
	av_frame_free(&s->last);
}

static int median3(int a, int b, int c)
{
	if (a > b) {
		int t = a;

		a = b;
		b = t;
	}
	return c <= a ? a : (c >= b ? b : c);
}

/* Sends nb output frames: the first nb0 repeat the previous output (when there is
 * one), the rest show cur (when there is one: the flush has none). */
static int sync_emit(struct sq_media_sel *s, const struct sq_media_sel_slot *cur, int nb, int nb0,
		     struct sq_err *err)
{
	memmove(s->last_nb0 + 1, s->last_nb0, sizeof(s->last_nb0) - sizeof(s->last_nb0[0]));
	s->last_nb0[0] = nb0;
	for (int i = 0; i < nb; i++) {
		int rc;

		if (i < nb0 && s->last)
			rc = s->emit(s->ctx, s->last, s->last_seq, s->last_src_s, err);
		else if (cur)
			rc = s->emit(s->ctx, cur->frame, cur->seq, cur->src_s, err);
		else
			return 0;
		if (rc < 0)
			return -1;
		s->sync_opts++;
		s->nout++;
	}
	av_frame_free(&s->last);
	if (cur) {
		s->last = av_frame_clone(cur->frame);
		if (!s->last)
			return sq_error(err, SQ_ERR_MEDIA, "out of memory holding a frame");
		s->last_seq = cur->seq;
		s->last_src_s = cur->src_s;
	}
	return 0;
}

/* ffmpeg.c do_video_out() for one frame of the fps filter at output slot pts. The
 * fps filter gives each frame a duration of exactly one slot. */
static int sync_frame(struct sq_media_sel *s, const struct sq_media_sel_slot *cur, int64_t pts,
		      struct sq_err *err)
{
	double duration = 1, delta0 = (double)pts - (double)s->sync_opts;
	double delta = delta0 + duration;
	int nb = 1, nb0 = 0;

	if (delta0 < 0 && delta > 0) {
		duration += delta0;
		delta0 = 0;
	}
	if (s->vscfr && s->nout == 0 && delta0 >= 0.5) {
		delta = duration;
		delta0 = 0;
		s->sync_opts = pts;
	}
	if (delta < -1.1) {
		nb = 0;
	} else if (delta > 1.1) {
		nb = (int)lrintf((float)delta);
		if (delta0 > 1.1)
			nb0 = (int)llrintf((float)(delta0 - 0.6));
	}
	if (nb0 > nb)
		nb0 = nb;
	return sync_emit(s, cur, nb, nb0, err);
}

static void drop_first(struct sq_media_sel *s)
{
	av_frame_free(&s->buf[0].frame);
	s->buf[0] = s->buf[1];
	memset(&s->buf[1], 0, sizeof(s->buf[1]));
	s->nbuf--;
}

/* One step of the fps filter's write_frame(): drop the first buffered frame, or
 * output it at the next slot. eof: whether the end of input (at eof_pts, output
 * time base) is known. */
static int fps_step(struct sq_media_sel *s, int eof, int64_t eof_pts, struct sq_err *err)
{
	struct sq_media_sel_slot *f0 = &s->buf[0];
	struct sq_media_sel_slot out;

	if (s->next_pts == AV_NOPTS_VALUE) {
		if (f0->pts == AV_NOPTS_VALUE) {
			drop_first(s); /* leading frames without a timestamp */
			return 0;
		}
		s->next_pts = f0->pts;
	}
	if ((s->nbuf == 2 && s->buf[1].pts <= s->next_pts) || (eof && eof_pts <= s->next_pts)) {
		drop_first(s);
		return 0;
	}
	out = *f0;
	if (isnan(out.src_s)) /* no timestamp of its own: say where it is shown */
		out.src_s = (double)s->next_pts * av_q2d(s->out_tb);
	return sync_frame(s, &out, s->next_pts++, err);
}

int sq_media_sel_push(struct sq_media_sel *s, AVFrame *frame, int64_t pts, struct sq_err *err)
{
	struct sq_media_sel_slot *slot;

	if (s->nbuf >= 2) { /* a failed emit left the buffer full: no more input */
		av_frame_free(&frame);
		return sq_error(err, SQ_ERR_MEDIA, "frame selection used after a failure");
	}
	slot = &s->buf[s->nbuf++];

	/* AV_NOPTS_VALUE is INT64_MIN: PASS_MINMAX keeps it, and it then compares below
	 * every slot, exactly as in the filter. */
	slot->frame = frame;
	slot->pts =
	    av_rescale_q_rnd(pts, s->in_tb, s->out_tb, AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
	slot->seq = s->seq++;
	slot->src_s = pts == AV_NOPTS_VALUE ? NAN : (double)pts * av_q2d(s->in_tb);
	while (s->nbuf == 2)
		if (fps_step(s, 0, 0, err) < 0)
			return -1;
	return 0;
}

int sq_media_sel_eof(struct sq_media_sel *s, int64_t eof_pts, struct sq_err *err)
{
	int64_t end = av_rescale_q_rnd(eof_pts, s->in_tb, s->out_tb,
				       AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
	int nb;

	while (s->nbuf > 0)
		if (fps_step(s, 1, end, err) < 0)
			return -1;
	/* the CLI's flush: repeats the last output as often as recent frames were
	 * padded (0 with fps upstream, kept for fidelity) */
	nb = median3(s->last_nb0[0], s->last_nb0[1], s->last_nb0[2]);
	return sync_emit(s, NULL, nb, nb, err);
}
