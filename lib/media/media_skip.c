/* media_skip.c - keeping from the decoder the pictures that nothing will use.
 *
 * At 3 fps out of 30, nine source frames in ten are decoded only to be dropped
 * by the selection. A picture that no other picture references (an H.264 slice
 * with nal_ref_idc 0, an HEVC sub-layer non-reference picture of the highest
 * temporal layer, any frame of an intra-only codec) can be left undecoded
 * without changing a single other picture, so such a packet is skipped when its
 * frame is certainly not selected.
 *
 * The selection (media_select.c) takes the LAST frame of each output slot: a
 * frame is dropped when the next frame in presentation order falls in the same
 * slot. So packet P may be skipped when some other packet Q has a later
 * timestamp in the same slot: the frame that follows P then lies between them,
 * in the same slot too, and P's own predecessor sees that successor's slot
 * instead of P's, which is the same. The frame with the highest timestamp of a
 * slot is never skipped, so every slot keeps the frame it would have had. Q is
 * looked for among the packets read ahead (decode order differs from
 * presentation order by at most a few frames) and the ones just passed.
 *
 * All this rests on packet timestamps being the frames' timestamps. Skipping is
 * off for a chapter with a packet without one (a field pair split over two
 * packets looks like that), for interlaced streams, and for good as soon as the
 * decoder shows a frame out of order or stamped differently (media.c checks). */
#include "media/media_internal.h"

#include <libavutil/intreadwrite.h>
#include <string.h>

#include "base/banned.h"

enum { KIND_NONE, KIND_H264, KIND_HEVC, KIND_INTRA };

#define H264_NAL_SLICE 1
#define H264_NAL_IDR 5
#define HEVC_NAL_SPS 33

/* Calls fn on each NAL unit of buf (length-prefixed when len_size > 0, else
 * Annex B start codes) until it returns non-zero; returns that, or 0. Bad
 * lengths end the walk with -1. */
static int each_nal(const uint8_t *buf, int size, int len_size,
		    int (*fn)(void *ctx, const uint8_t *nal, int len), void *ctx)
{
	int pos = 0, rc;

	while (len_size > 0 && pos + len_size <= size) {
		uint32_t len = 0;

		for (int i = 0; i < len_size; i++)
			len = len << 8 | buf[pos + i];
		pos += len_size;
		if (len == 0 || len > (uint32_t)(size - pos))
			return -1;
		if ((rc = fn(ctx, buf + pos, (int)len)) != 0)
			return rc;
		pos += (int)len;
	}
	for (int i = 0; len_size == 0 && i + 3 < size; i++) {
		if (buf[i] != 0 || buf[i + 1] != 0 || buf[i + 2] != 1)
			continue;
		if ((rc = fn(ctx, buf + i + 3, size - i - 3)) != 0)
			return rc;
		i += 2;
	}
	return 0;
}

struct nal_scan {
	const struct sq_media_skip *s;
	int vcl;
};

/* 1 as soon as a NAL shows the picture may be referenced (not disposable). */
static int scan_nal(void *ctx, const uint8_t *nal, int len)
{
	struct nal_scan *ns = ctx;

	if (ns->s->kind == KIND_H264) {
		int type = nal[0] & 0x1f, ref_idc = nal[0] >> 5 & 3;

		/* parameter sets (a new one must not be lost), end of sequence or
		 * stream (they reset picture order), SVC/MVC (not modelled) */
		if ((type >= 7 && type <= 8) || (type >= 10 && type <= 11) || type == 13 ||
		    type == 15 || type == 14 || type == 20 || type == 21)
			return 1;
		if (type >= H264_NAL_SLICE && type <= H264_NAL_IDR) {
			ns->vcl++;
			return ref_idc != 0 || type == H264_NAL_IDR;
		}
		return 0;
	}
	if (len < 2)
		return 1;
	{
		int type = nal[0] >> 1 & 0x3f, layer = (nal[0] & 1) << 5 | nal[1] >> 3;
		int tid = (nal[1] & 7) - 1;

		if (layer != 0)
			return 1;
		if (type > 31) /* VPS, SPS, PPS, end of sequence or bitstream: keep */
			return type >= 32 && type <= 37 && type != 35;
		ns->vcl++;
		/* TRAIL_N, TSA_N, STSA_N, RADL_N, RASL_N, RSV_VCL_N10..14: a picture of
		 * the top temporal layer of these types is referenced by nothing */
		return type > 14 || type % 2 == 1 || tid != ns->s->hevc_max_tid;
	}
}

static int disposable(const struct sq_media_skip *s, const AVPacket *p)
{
	struct nal_scan ns = {.s = s};

	if (s->kind == KIND_INTRA)
		return 1;
	return each_nal(p->data, p->size, s->len_size, scan_nal, &ns) == 0 && ns.vcl > 0;
}

static int find_sps(void *ctx, const uint8_t *nal, int len)
{
	int *max_tid = ctx;

	if (len >= 3 && (nal[0] >> 1 & 0x3f) == HEVC_NAL_SPS) {
		*max_tid = nal[2] >> 1 & 7; /* sps_max_sub_layers_minus1 */
		return 1;
	}
	return 0;
}

/* The highest temporal id from the SPS in hvcC or Annex B extradata; -1 if none. */
static int hevc_max_tid(const uint8_t *ed, int size, int *len_size)
{
	int max_tid = -1, pos = 23;

	*len_size = 0;
	if (size < 23 || ed[0] != 1) {
		each_nal(ed, size, 0, find_sps, &max_tid);
		return max_tid;
	}
	*len_size = (ed[21] & 3) + 1;
	for (int a = 0, na = ed[22]; a < na && pos + 3 <= size; a++) {
		int type = ed[pos] & 0x3f, n = AV_RB16(ed + pos + 1);

		pos += 3;
		for (int i = 0; i < n && pos + 2 <= size; i++) {
			int len = AV_RB16(ed + pos);

			if (pos + 2 + len > size)
				return -1;
			if (type == HEVC_NAL_SPS)
				find_sps(&max_tid, ed + pos + 2, len);
			pos += 2 + len;
		}
	}
	return max_tid;
}

static void pick_kind(struct sq_media_skip *s, const AVStream *st)
{
	const AVCodecParameters *par = st->codecpar;
	const AVCodecDescriptor *d = avcodec_descriptor_get(par->codec_id);
	const uint8_t *ed = par->extradata;

	s->kind = KIND_NONE;
	if (par->field_order != AV_FIELD_PROGRESSIVE && par->field_order != AV_FIELD_UNKNOWN)
		return;
	if (d && (d->props & AV_CODEC_PROP_INTRA_ONLY)) {
		s->kind = KIND_INTRA;
	} else if (par->codec_id == AV_CODEC_ID_H264) {
		s->kind = KIND_H264;
		s->len_size = par->extradata_size >= 7 && ed[0] == 1 ? (ed[4] & 3) + 1 : 0;
	} else if (par->codec_id == AV_CODEC_ID_HEVC) {
		s->hevc_max_tid = hevc_max_tid(ed, par->extradata_size, &s->len_size);
		if (s->hevc_max_tid >= 0)
			s->kind = KIND_HEVC;
	}
}

void sq_media_skip_init(struct sq_media_skip *s, const AVStream *st, AVRational tb0,
			AVRational out_tb)
{
	memset(s, 0, sizeof(*s));
	s->tb = st->time_base;
	s->tb0 = tb0;
	s->out_tb = out_tb;
	pick_kind(s, st);
	s->enabled = s->kind != KIND_NONE;
	for (int i = 0; i < SQ_MEDIA_AHEAD; i++)
		s->q[i] = av_packet_alloc();
}

void sq_media_skip_release(struct sq_media_skip *s)
{
	for (int i = 0; i < SQ_MEDIA_AHEAD; i++)
		av_packet_free(&s->q[i]);
	s->qn = 0;
}

int sq_media_skip_push(struct sq_media_skip *s, AVPacket *pkt)
{
	AVPacket *slot = s->q[(s->qhead + s->qn) % SQ_MEDIA_AHEAD];

	if (pkt->pts == AV_NOPTS_VALUE)
		s->enabled = 0;
	av_packet_move_ref(slot, pkt);
	s->qn++;
	return s->qn == SQ_MEDIA_AHEAD;
}

/* The output slot a frame stamped pts lands in, computed as the selection does. */
static int64_t slot_of(const struct sq_media_skip *s, int64_t pts)
{
	if (av_cmp_q(s->tb, s->tb0) != 0)
		pts = av_rescale_q(pts, s->tb, s->tb0);
	return av_rescale_q_rnd(pts, s->tb0, s->out_tb, AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
}

/* Whether pts, a packet's timestamp, shows a later frame in slot `sl` than pts0. */
static int later_in_slot(const struct sq_media_skip *s, int64_t pts, int64_t pts0, int64_t sl)
{
	return pts != AV_NOPTS_VALUE && pts > pts0 && slot_of(s, pts) <= sl;
}

static int should_skip(const struct sq_media_skip *s, const AVPacket *p)
{
	int64_t sl;

	if (!s->enabled || p->pts == AV_NOPTS_VALUE || (p->flags & AV_PKT_FLAG_DISCARD) ||
	    !disposable(s, p))
		return 0;
	sl = slot_of(s, p->pts);
	for (int i = 1; i < s->qn; i++) {
		const AVPacket *q = s->q[(s->qhead + i) % SQ_MEDIA_AHEAD];

		if (!(q->flags & (AV_PKT_FLAG_DISCARD | AV_PKT_FLAG_CORRUPT)) &&
		    later_in_slot(s, q->pts, p->pts, sl))
			return 1;
	}
	for (int i = 0; i < s->npast; i++)
		if (later_in_slot(s, s->past[i], p->pts, sl))
			return 1;
	return 0;
}

int sq_media_skip_pop(struct sq_media_skip *s, AVPacket *out)
{
	AVPacket *p;
	int skip;

	if (s->qn == 0)
		return -1;
	p = s->q[s->qhead];
	skip = should_skip(s, p);
	if (p->pts != AV_NOPTS_VALUE && !(p->flags & (AV_PKT_FLAG_DISCARD | AV_PKT_FLAG_CORRUPT))) {
		s->past[s->pasti] = p->pts;
		s->pasti = (s->pasti + 1) % SQ_MEDIA_PAST;
		if (s->npast < SQ_MEDIA_PAST)
			s->npast++;
	}
	av_packet_move_ref(out, p);
	s->qhead = (s->qhead + 1) % SQ_MEDIA_AHEAD;
	s->qn--;
	if (skip) {
		av_packet_unref(out);
		s->nskipped++;
		return 0;
	}
	return 1;
}
