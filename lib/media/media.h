/* media.h - video probing and frame extraction (libav is wrapped here, once).
 *
 * Extraction reproduces `ffmpeg -i in -vf fps=F,scale=W:H -q:v Q frame_%06d.jpg`
 * in-process: same frame selection (fps filter semantics, chapters concatenated
 * like the concat demuxer), swscale, libavcodec's mjpeg encoder. */
#ifndef SQ_MEDIA_H
#define SQ_MEDIA_H

#include "base/err.h"
#include "base/hooks.h"
#include "media/sftp.h"
#include "task/task.h"

#include <stddef.h>

struct sq_media_info {
	double duration_s; /* container duration, > 0 */
	int width, height; /* coded size of the first video stream */
	double fps;	   /* average frame rate (0 if unknown) */
	char codec[32];	   /* decoder name, e.g. "h264" */
};

/* The libav libraries this process runs with, for records: "libavformat
 * 59.27.100, libavcodec 59.37.100, libswscale 6.7.100" (static storage). */
const char *sq_media_version(void);

/* How videos are read, by the probe and the extraction alike; the programs
 * fill it from their options. NULL or zeroed: the defaults. */
struct sq_media_read_opts {
	struct sq_ssh_opts ssh; /* sftp:// videos */
	long long stall_ms;	/* a read that gets no data for this long fails; 0: 30 s */
};

/* A video's identity (size, modification time, SHA-256 of its first and last
 * MiB), read from a local path or an sftp:// URL. read may be NULL. */
int sq_media_identify(const char *url, const struct sq_media_read_opts *read,
		      struct sq_video_id *id, struct sq_err *err);

/* 0 if the video at url still has identity want (size and hashes: a copy
 * with a new mtime is the same video); else -1 saying what changed. */
int sq_media_check_identity(const char *url, const struct sq_media_read_opts *read,
			    const struct sq_video_id *want, struct sq_err *err);

/* Opens url (path or libav URL) and checks it has a video stream and a duration.
 * Fills *info (may be NULL). read may be NULL. */
int sq_media_probe(const char *url, const struct sq_media_read_opts *read,
		   struct sq_media_info *info, struct sq_err *err);

struct sq_extract_opts {
	const struct sq_extract_spec *spec;
	const char *const *inputs; /* chapter files, concatenated in order */
	size_t ninputs;
	/* NULL, or ninputs entries: input i is cut at this many ms of its own
	 * timeline (counted from its start, as pts_s counts chapter 1), so that only
	 * its frames stamped before that are used, and the next input follows from
	 * there, as the concat demuxer's `outpoint` does; 0 = the whole input. */
	const long long *input_until_ms;
	const char *frames_dir; /* existing empty directory; frame_%06d.jpg go here */
	const struct sq_media_read_opts *read; /* how inputs are read; NULL: defaults */
	int hwaccel;		/* 1: try hardware decoding, fall back to software */
	const char *gpu;	/* hwaccel: the CUDA device, as --gpus names it; NULL: the first */
	/* progress (frames done, frames expected) at most a few times a second
	 * from the extracting thread; cancelled polled between frames (non-zero
	 * stops with SQ_ERR_CANCEL); a log line per notable event (hwaccel
	 * fallback, ...). */
	struct sq_hooks hooks;
};

struct sq_extract_result {
	size_t nframes;
	double *pts_s;	      /* nframes source timestamps (seconds from the start of chapter 1) */
	size_t *source;	      /* nframes: the input each frame was decoded from (index) */
	double *source_pts_s; /* nframes: its time in that input (s from its start, to the us) */
	char **warnings;      /* e.g. decode errors in a truncated file; nwarnings entries */
	size_t nwarnings;
	int out_width, out_height;
	double duration_s; /* of all inputs together (as cut by input_until_ms) */
	/* video packets decoded, and those left undecoded because no output frame
	 * could come from them (see media_skip.c) */
	size_t npackets_decoded, npackets_skipped;
};

void sq_extract_result_release(struct sq_extract_result *r);

/* Extracts the frames. On failure the frames written so far are left for the
 * caller to remove (it owns frames_dir). */
int sq_media_extract(const struct sq_extract_opts *opts, struct sq_extract_result *res,
		     struct sq_err *err);

/* Writes a width x height RGB24 picture (rows top to bottom, 3 bytes a pixel, no
 * padding) as a PNG file at path, atomically (sq_write_file_atomic). */
int sq_media_write_png(const char *path, const unsigned char *rgb, int width, int height,
		       struct sq_err *err);

#endif
