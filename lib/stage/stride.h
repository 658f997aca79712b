/* stride.h - the frames a reconstruct backend is given, and the RAM-aware stride.
 *
 * A backend's memory grows with the number of frames it holds (COLMAP's mapper
 * keeps every frame's keypoints and matches; a GPU model loads every frame at
 * once). When a task's frames would need more than the memory budget, every k-th
 * frame is used instead and k is recorded in reconstruct.json. This applies to
 * every reconstruct backend: the colmap backend passes COLMAP a list of the
 * chosen frames, a command backend gets a folder holding only them. */
#ifndef SQ_STRIDE_H
#define SQ_STRIDE_H

#include "base/err.h"
#include "task/task.h"

#include <stddef.h>

/* Memory COLMAP needs per frame when the task file does not say (keypoints,
 * correspondence graph and matches of one frame at default settings, rounded up). */
#define SQ_STRIDE_COLMAP_BYTES_PER_FRAME (4LL << 20)

struct sq_frames_record; /* record.h */

struct sq_stride {
	int k;			   /* every k-th frame is used: 0, k, 2k, ... (>= 1) */
	int fixed;		   /* 1: k was set by the task file */
	size_t frames_total;	   /* frames extracted */
	size_t frames_used;	   /* frames given to the backend */
	long long bytes_per_frame; /* the figure k was chosen with; 0: none known */
	long long budget_bytes;	   /* the budget k was chosen against; 0: not used */
};

/* Memory this host can give a backend now (MemAvailable), in bytes; 0 if unknown. */
long long sq_stride_host_memory(void);

/* Chooses k for nframes frames: the task's fixed stride if set; else the smallest k
 * such that ceil(nframes / k) * bytes_per_frame fits the budget. bytes_per_frame is
 * the task's, else default_bytes_per_frame (0: no limit, k = 1); the budget is the
 * task's memory_budget capped by host_bytes (0: unknown, not capped). Fails
 * (SQ_ERR_INVALID) when not even two frames fit: nothing can be reconstructed. */
int sq_stride_pick(const struct sq_stride_spec *spec, long long default_bytes_per_frame,
		   size_t nframes, long long host_bytes, struct sq_stride *out, struct sq_err *err);

/* Fills dir (which exists) with symbolic links to every k-th frame of frames_dir,
 * keeping their names, for a backend that takes a folder. */
int sq_stride_link_frames(const char *frames_dir, const struct sq_frames_record *fr, int k,
			  const char *dir, struct sq_err *err);

/* For a backend that takes a folder: picks the stride for the frames extract
 * recorded (fr) with sq_stride_pick() and sets *dir to the folder to hand
 * over: a new copy of frames_dir when every frame is used, else a new path of a
 * folder made in workdir holding links to the chosen frames. */
int sq_stride_frames_dir(const struct sq_stride_spec *spec, long long default_bytes_per_frame,
			 const char *frames_dir, const struct sq_frames_record *fr,
			 const char *workdir, struct sq_stride *out, char **dir,
			 struct sq_err *err);

#endif
