/* options.h - the command line of scanq-synth. */
#ifndef SYNTH_OPTIONS_H
#define SYNTH_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

struct synth_opts {
	const char *out, *name, *codec, *task_fps; /* borrowed from argv */
	int vehicles, chapters, width, height, fps_num, fps_den, gop, bframes;
	double duration_s, altitude_m, speed_mps, fov_deg, k1, wobble_deg, area_w_m, area_h_m;
	double sidelap; /* share of a footprint adjacent vehicles both see */
	double chapter_overlap_s; /* > 0: chapter k's task also takes this much of k+1 */
	uint32_t seed;
	char **reconstruct_argv, **stitch_argv; /* NULL or new: the split --*-cmd */
	size_t reconstruct_argc, stitch_argc;
	int quiet, force, task_per_vehicle;
};

enum synth_opts_result { SYNTH_OPTS_OK = 0, SYNTH_OPTS_HELP, SYNTH_OPTS_USAGE };

/* Fills o from argv with defaults for what is not given. SYNTH_OPTS_HELP: usage
 * was printed to stdout; SYNTH_OPTS_USAGE: a message was printed to stderr.
 * Release with synth_opts_release() in every case. */
enum synth_opts_result synth_opts_parse(struct synth_opts *o, int argc, char **argv);
void synth_opts_release(struct synth_opts *o);

#endif
