/* files.h - the text files written beside the videos: true poses and the task
 * directory that feeds the survey to scanq. */
#ifndef SYNTH_FILES_H
#define SYNTH_FILES_H

#include "camera.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <stddef.h>

/* Vehicle names are "auv1", "auv2", ...; returns new "auv<v+1>". */
char *synth_vehicle_name(int vehicle);

/* Returns new "<vehicle>-ch<NN>.mp4" for a 0-based chapter (NN = chapter + 1). */
char *synth_video_name(int vehicle, int chapter);

/* Appends the CSV header of truth/<vehicle>-poses.csv. */
void synth_poses_header(struct sq_strbuf *sb);

/* Appends one row: chapter (1-based, as in the file name), frame (0-based, in
 * the chapter file), t_s (seconds since the vehicle's recording started), the
 * camera centre, the world-from-camera quaternion and the intrinsics. */
void synth_poses_row(struct sq_strbuf *sb, int chapter, long frame, double t_s,
		     const struct synth_pose *pose, const struct synth_camera *cam);

struct synth_tasks_opts {
	const char *dir; /* the task directory to fill (exists) */
	const char *acquisition;
	const char *extract_fps; /* as the user wrote it: "3", "1/2" */
	int extract_width;
	char **reconstruct_argv; /* NULL: the colmap backend */
	size_t reconstruct_argc;
	char **stitch_argv; /* NULL: the builtin stitcher */
	size_t stitch_argc;
	int vehicles, chapters;
	int per_vehicle; /* 1: one task per vehicle listing all its chapters */
	/* > 0 (one task per chapter): the task of chapter k < last also lists chapter
	 * k+1 as { path, until: <this>s }, cameras it shares with the next task */
	double chapter_overlap_s;
};

/* Writes acquisition.yaml and the task files (each atomically). */
int synth_tasks_write(const struct synth_tasks_opts *o, struct sq_err *err);

#endif
