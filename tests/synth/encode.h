/* encode.h - writing rendered RGB frames to an MP4 with libavformat/libavcodec.
 *
 * Output is deterministic: one encoder thread and bit-exact flags, so the same
 * frames give a byte-identical file. The file is written beside its final name
 * and renamed into place when complete. */
#ifndef SYNTH_ENCODE_H
#define SYNTH_ENCODE_H

#include "base/err.h"

struct synth_encode_opts {
	const char *codec; /* "h264" (libx264), "hevc" (libx265) or "mpeg4" */
	int width, height;
	int fps_num, fps_den;
	int gop;     /* frames between keyframes */
	int bframes; /* consecutive B-frames allowed */
};

struct synth_encoder;

/* 0 if codec names an encoder this libavcodec has, else -1 saying which. */
int synth_encode_check(const char *codec, struct sq_err *err);

/* Starts path (its directory must exist). Returns new, or NULL. */
struct synth_encoder *synth_encoder_open(const char *path, const struct synth_encode_opts *o,
					 struct sq_err *err);

/* Encodes one frame of width * height * 3 RGB bytes. */
int synth_encoder_write(struct synth_encoder *e, const unsigned char *rgb, struct sq_err *err);

/* Flushes, finishes the file and renames it into place; frees e whatever
 * happens. */
int synth_encoder_close(struct synth_encoder *e, struct sq_err *err);

/* Frees e and removes the partial file (after an error). NULL is fine. */
void synth_encoder_abort(struct synth_encoder *e);

#endif
