/* options.c - parsing and checking the command line of scanq-synth. */
#include "options.h"
#include "base/xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

#define PROG "scanq-synth"

static const char usage_text[] =
    "usage: " PROG " --out DIR [options]\n"
    "\n"
    "Renders a synthetic seabed survey: vehicles flying a lawn-mower pattern over a\n"
    "textured seabed with relief, filmed by a downward camera, encoded to MP4, with\n"
    "the true poses and terrain beside the videos and a ready scanq task directory:\n"
    "  DIR/videos/auv<N>-ch<NN>.mp4  DIR/truth/auv<N>-poses.csv  DIR/truth/terrain.ply\n"
    "  DIR/tasks/acquisition.yaml    DIR/tasks/auv<N>-ch<NN>.yaml (output_root ../out)\n"
    "\n"
    "survey:\n"
    "  --vehicles N        vehicles, side by side (default 2)\n"
    "  --chapters N        chapter files per vehicle, one timeline (default 2)\n"
    "  --duration S        seconds per chapter (default 10)\n"
    "  --area WxH          survey area in metres (default 60x40)\n"
    "  --altitude M        camera height above the mean seabed (default 6)\n"
    "  --sidelap S         share of a footprint adjacent vehicles both see (default 0.4)\n"
    "  --speed M/S         vehicle speed (default 1)\n"
    "  --wobble DEG        roll/pitch amplitude (default 2)\n"
    "  --seed N            the world and the wobble (default 1)\n"
    "camera and video:\n"
    "  --width N --height N  frame size (default 640x360)\n"
    "  --fps N[/D]         frame rate (default 30)\n"
    "  --fov DEG           horizontal field of view (default 90)\n"
    "  --k1 K              radial distortion, COLMAP SIMPLE_RADIAL (default 0)\n"
    "  --codec C           h264 (libx264, default), hevc (libx265), mpeg4\n"
    "  --gop N             frames between keyframes (default: one second)\n"
    "  --bframes N         consecutive B-frames (default 2)\n"
    "task directory:\n"
    "  --name NAME         acquisition name (default synth)\n"
    "  --task-fps F        extraction rate: 3, 2.5 or N/D (default 3)\n"
    "  --reconstruct-cmd \"ARG ...\"  command backend instead of colmap (split on spaces)\n"
    "  --stitch-cmd \"ARG ...\"       command backend instead of builtin\n"
    "  --task-per-vehicle  one task per vehicle listing its chapters\n"
    "  --chapter-overlap S each chapter's task also decodes the first S seconds of the\n"
    "                      next chapter (`until: Ss`), so that neighbouring tasks share\n"
    "                      cameras for the stitch (default 0: none)\n"
    "other:\n"
    "  --out DIR           output directory (required; must be empty or new)\n"
    "  --force             replace videos/, truth/ and tasks/ in a non-empty DIR\n"
    "  --quiet             print nothing but errors\n"
    "  --help\n"
    "\n"
    "Poses: camera centre x,y,z (metres; x east, y north, z up, seabed mean 0) and\n"
    "world-from-camera quaternion qw,qx,qy,qz; camera x right, y down, z forward;\n"
    "top-left pixel centre at (0.5, 0.5); frame is 0-based within chapter file\n"
    "<chapter> (1-based); t_s is seconds since the vehicle started recording.\n"
    "--fov sets fx = width/2 / tan(fov/2); k1 then bends the edges. terrain.ply\n"
    "samples the seabed every 10 cm (x altitude/6) where the cameras can see it.\n";

/* What each option fills in struct synth_opts; long options are built from it. */
enum kind { K_STR, K_INT, K_DOUBLE, K_RATE, K_SEED, K_AREA, K_CMD, K_FLAG, K_HELP };

struct opt_spec {
	const char *name;
	enum kind kind;
	size_t off, off2; /* fields; off2: rate denominator, area height, argc */
	double min, max;
};

#define F(field) offsetof(struct synth_opts, field)

static const struct opt_spec specs[] = {
    {"out", K_STR, F(out), 0, 0, 0},
    {"vehicles", K_INT, F(vehicles), 0, 1, 64},
    {"chapters", K_INT, F(chapters), 0, 1, 99},
    {"duration", K_DOUBLE, F(duration_s), 0, 0.01, 36000},
    {"area", K_AREA, F(area_w_m), F(area_h_m), 0, 0},
    {"altitude", K_DOUBLE, F(altitude_m), 0, 0.5, 1000},
    {"sidelap", K_DOUBLE, F(sidelap), 0, 0, 0.9},
    {"speed", K_DOUBLE, F(speed_mps), 0, 0.01, 100},
    {"wobble", K_DOUBLE, F(wobble_deg), 0, 0, 10},
    {"seed", K_SEED, F(seed), 0, 0, 0},
    {"width", K_INT, F(width), 0, 16, 7680},
    {"height", K_INT, F(height), 0, 16, 4320},
    {"fps", K_RATE, F(fps_num), F(fps_den), 0, 240},
    {"fov", K_DOUBLE, F(fov_deg), 0, 10, 150},
    {"k1", K_DOUBLE, F(k1), 0, -0.5, 0.5},
    {"codec", K_STR, F(codec), 0, 0, 0},
    {"gop", K_INT, F(gop), 0, 1, 10000},
    {"bframes", K_INT, F(bframes), 0, 0, 16},
    {"name", K_STR, F(name), 0, 0, 0},
    {"task-fps", K_STR, F(task_fps), 0, 0, 0},
    {"reconstruct-cmd", K_CMD, F(reconstruct_argv), F(reconstruct_argc), 0, 0},
    {"stitch-cmd", K_CMD, F(stitch_argv), F(stitch_argc), 0, 0},
    {"task-per-vehicle", K_FLAG, F(task_per_vehicle), 0, 0, 0},
    {"chapter-overlap", K_DOUBLE, F(chapter_overlap_s), 0, 0, 36000},
    {"force", K_FLAG, F(force), 0, 0, 0},
    {"quiet", K_FLAG, F(quiet), 0, 0, 0},
    {"help", K_HELP, 0, 0, 0, 0},
};

#define NSPECS (sizeof(specs) / sizeof(specs[0]))

static int bad(const char *opt, const char *arg, const char *want)
{
	fprintf(stderr, PROG ": bad value '%s' for --%s: expected %s\n", arg, opt, want);
	return -1;
}

static int parse_long(const char *opt, const char *arg, long min, long max, long *out)
{
	char *end, want[64];
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max) {
		snprintf(want, sizeof(want), "an integer in %ld..%ld", min, max);
		return bad(opt, arg, want);
	}
	*out = v;
	return 0;
}

static int parse_int(const char *opt, const char *arg, int min, int max, int *out)
{
	long v;

	if (parse_long(opt, arg, min, max, &v) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_double(const char *opt, const char *arg, double min, double max, double *out)
{
	char *end, want[64];
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < min || v > max) {
		snprintf(want, sizeof(want), "a number in %g..%g", min, max);
		return bad(opt, arg, want);
	}
	*out = v;
	return 0;
}

/* "N" or "N/D", positive, as a rational. */
static int parse_rate(const char *opt, const char *arg, int max, int *num, int *den)
{
	const char *slash = strchr(arg, '/');
	char *end;
	long n, d = 1;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (end == arg || (slash ? end != slash : *end != '\0'))
		return bad(opt, arg, "a rate N or N/D");
	if (slash) {
		d = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end)
			return bad(opt, arg, "a rate N or N/D");
	}
	if (errno || n <= 0 || d <= 0 || n > 1000000 || d > 1000000 || (double)n / d > max)
		return bad(opt, arg, "a positive rate N or N/D");
	*num = (int)n;
	*den = (int)d;
	return 0;
}

static int parse_area(const char *arg, double *w, double *h)
{
	char *end;

	errno = 0;
	*w = strtod(arg, &end);
	if (end == arg || (*end != 'x' && *end != 'X'))
		return bad("area", arg, "WxH in metres, e.g. 60x40");
	arg = end + 1;
	*h = strtod(arg, &end);
	if (errno || end == arg || *end || !(*w >= 1.0 && *w <= 10000.0) ||
	    !(*h >= 1.0 && *h <= 10000.0))
		return bad("area", arg, "WxH in metres, each 1..10000");
	return 0;
}

/* Splits a command on spaces into a new NULL-terminated argv. */
static int split_cmd(const char *opt, const char *arg, char ***argv, size_t *argc)
{
	size_t alloc = 0;
	const char *p = arg;

	for (size_t i = 0; i < *argc; i++)
		free((*argv)[i]);
	free(*argv);
	*argv = NULL;
	*argc = 0;
	while (*p) {
		const char *start;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && *p != ' ')
			p++;
		xgrow((void **)argv, &alloc, *argc + 2, sizeof(**argv));
		(*argv)[(*argc)++] = xstrndup(start, (size_t)(p - start));
		(*argv)[*argc] = NULL;
	}
	if (*argc == 0)
		return bad(opt, arg, "a command");
	return 0;
}

static void *field(struct synth_opts *o, size_t off)
{
	return (char *)o + off;
}

/* Stores one option's argument; -1 after printing why it is bad. */
static int apply(struct synth_opts *o, const struct opt_spec *sp, const char *arg)
{
	long seed;

	switch (sp->kind) {
	case K_STR:
		*(const char **)field(o, sp->off) = arg;
		return 0;
	case K_INT:
		return parse_int(sp->name, arg, (int)sp->min, (int)sp->max, field(o, sp->off));
	case K_DOUBLE:
		return parse_double(sp->name, arg, sp->min, sp->max, field(o, sp->off));
	case K_RATE:
		return parse_rate(sp->name, arg, (int)sp->max, field(o, sp->off),
				  field(o, sp->off2));
	case K_SEED:
		if (parse_long(sp->name, arg, 0, (long)UINT32_MAX, &seed) < 0)
			return -1;
		o->seed = (uint32_t)seed;
		return 0;
	case K_AREA:
		return parse_area(arg, field(o, sp->off), field(o, sp->off2));
	case K_CMD:
		return split_cmd(sp->name, arg, field(o, sp->off), field(o, sp->off2));
	case K_FLAG:
		*(int *)field(o, sp->off) = 1;
		return 0;
	case K_HELP:
		break;
	}
	return 0;
}

static void set_defaults(struct synth_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->name = "synth";
	o->codec = "h264";
	o->task_fps = "3";
	o->vehicles = 2;
	o->chapters = 2;
	o->width = 640;
	o->height = 360;
	o->fps_num = 30;
	o->fps_den = 1;
	o->gop = 0; /* one second, once the rate is known */
	o->bframes = 2;
	o->duration_s = 10.0;
	o->altitude_m = 6.0;
	o->sidelap = 0.4;
	o->speed_mps = 1.0;
	o->fov_deg = 90.0;
	o->wobble_deg = 2.0;
	o->area_w_m = 60.0;
	o->area_h_m = 40.0;
	o->seed = 1;
}

static int name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* Checks that need every option. */
static int check(struct synth_opts *o)
{
	int num, den;
	double rate;

	if (!o->out || !*o->out) {
		fprintf(stderr, PROG ": --out DIR is required\n");
		return -1;
	}
	if (!name_valid(o->name))
		return bad("name", o->name, "a name of [A-Za-z0-9._-], 1..64 characters");
	if (strchr(o->task_fps, '/')
		? parse_rate("task-fps", o->task_fps, 1000, &num, &den) < 0
		: parse_double("task-fps", o->task_fps, 0.001, 1000, &rate) < 0)
		return -1;
	/* the task file says it in seconds, and a duration is read to the ms */
	if (o->chapter_overlap_s > 0 && o->chapter_overlap_s < 0.001) {
		fprintf(stderr, PROG ": --chapter-overlap must be 0 or at least 0.001 seconds\n");
		return -1;
	}
	if (o->chapter_overlap_s > 0 && o->task_per_vehicle) {
		fprintf(stderr, PROG ": --chapter-overlap needs one task per chapter, not "
				     "--task-per-vehicle\n");
		return -1;
	}
	if (o->width % 2 || o->height % 2) {
		fprintf(stderr, PROG ": --width and --height must be even (yuv420p video)\n");
		return -1;
	}
	if (!o->gop)
		o->gop = (int)ceil((double)o->fps_num / o->fps_den);
	return 0;
}

enum synth_opts_result synth_opts_parse(struct synth_opts *o, int argc, char **argv)
{
	struct option longs[NSPECS + 1];
	int c;

	set_defaults(o);
	memset(longs, 0, sizeof(longs));
	for (size_t i = 0; i < NSPECS; i++) {
		longs[i].name = specs[i].name;
		longs[i].has_arg = specs[i].kind >= K_FLAG ? no_argument : required_argument;
		longs[i].val = 256 + (int)i;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c < 256 || c >= 256 + (int)NSPECS)
			goto usage;
		if (specs[c - 256].kind == K_HELP) {
			fputs(usage_text, stdout);
			return SYNTH_OPTS_HELP;
		}
		if (apply(o, &specs[c - 256], optarg) < 0)
			goto usage;
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		goto usage;
	}
	if (check(o) < 0)
		goto usage;
	return SYNTH_OPTS_OK;
usage:
	fprintf(stderr, "Try '" PROG " --help' for more information.\n");
	return SYNTH_OPTS_USAGE;
}

static void free_argv(char **argv, size_t argc)
{
	for (size_t i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

void synth_opts_release(struct synth_opts *o)
{
	free_argv(o->reconstruct_argv, o->reconstruct_argc);
	free_argv(o->stitch_argv, o->stitch_argc);
	o->reconstruct_argv = o->stitch_argv = NULL;
	o->reconstruct_argc = o->stitch_argc = 0;
}
