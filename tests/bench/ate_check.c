/* ate_check.c - ate-check: how well a reconstruction found the true camera path.
 *
 *   ate-check [--chapter N] [--min-registered PCT] [--max-ate PCT] RECONSTRUCT.json POSES.csv
 *
 * Reads a task's reconstruct.json and the scanq-synth truth of its vehicle
 * (truth/<vehicle>-poses.csv), and prints the share of frames registered and the
 * absolute trajectory error after similarity alignment, as a percentage of the
 * true path length (lib/cloud/ate.h). --chapter N: the task holds chapter N alone (its
 * timestamps start at that chapter); default: the task holds every chapter from
 * the first. With --min-registered / --max-ate it exits 1 when a target is
 * missed, so tests and the demo can assert on it. */
#include "cloud/ate.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "stage/record.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

#define PROG "ate-check"

static int usage(void)
{
	fprintf(stderr, "usage: " PROG " [--chapter N] [--min-registered PCT] [--max-ate PCT] "
			"RECONSTRUCT.json POSES.csv\n");
	return 2;
}

static int parse_num(const char *s, double min, double max, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return end != s && !*end && !errno && *out >= min && *out <= max ? 0 : -1;
}

struct opts {
	int chapter;
	double min_registered, max_ate; /* percent; < 0: not checked */
	const char *record, *poses;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
	    {"chapter", required_argument, NULL, 'c'},
	    {"min-registered", required_argument, NULL, 'r'},
	    {"max-ate", required_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	double v;
	int c;

	*o = (struct opts){0, -1, -1, NULL, NULL};
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c == 'c' && parse_num(optarg, 0, 99, &v) == 0 && v == (int)v)
			o->chapter = (int)v;
		else if (c == 'r' && parse_num(optarg, 0, 100, &v) == 0)
			o->min_registered = v;
		else if (c == 'a' && parse_num(optarg, 0, 1e6, &v) == 0)
			o->max_ate = v;
		else
			return -1;
	}
	if (argc - optind != 2)
		return -1;
	o->record = argv[optind];
	o->poses = argv[optind + 1];
	return 0;
}

static int report(const struct opts *o, const struct sq_ate_report *r)
{
	double reg = r->frames ? 100.0 * (double)r->registered / (double)r->frames : 0;
	double ate = 100 * r->ate.rel;
	int ok = 1;

	printf("frames %zu (stride %d), registered %zu (%.1f%%), matched %zu; ATE %.3f%% of "
	       "%.2f m path (rmse %.4f m, max %.4f m, scale %.4g)\n",
	       r->frames, r->stride, r->registered, reg, r->matched, ate, r->ate.length,
	       r->ate.rmse, r->ate.max, r->ate.scale);
	if (o->min_registered >= 0 && reg < o->min_registered) {
		fprintf(stderr, PROG ": %.1f%% of frames registered, below %.1f%%\n", reg,
			o->min_registered);
		ok = 0;
	}
	if (o->max_ate >= 0 && ate > o->max_ate) {
		fprintf(stderr, PROG ": ATE %.3f%% of the path, above %.3f%%\n", ate, o->max_ate);
		ok = 0;
	}
	return ok ? 0 : 1;
}

/* The recorded cameras, through the record reader. */
static int check(const char *text, const struct sq_ate_truth *truth, struct sq_ate_report *rep,
		 struct sq_err *err)
{
	struct sq_reconstruct_record rec;
	struct sq_ate_cam *cams;
	int rc;

	if (sq_reconstruct_record_parse(&rec, text, err) < 0)
		return -1;
	cams = xcalloc(rec.nframes + 1, sizeof(*cams));
	for (size_t i = 0; i < rec.nframes; i++) {
		cams[i].pts_s = rec.frames[i].pts_s;
		cams[i].registered = rec.frames[i].registered;
		memcpy(cams[i].centre, rec.frames[i].centre, sizeof(cams[i].centre));
	}
	rc = sq_ate_check(cams, rec.nframes, rec.stride.k, truth, rep, err);
	free(cams);
	sq_reconstruct_record_release(&rec);
	return rc;
}

int main(int argc, char **argv)
{
	struct sq_err err = {SQ_OK, ""};
	struct sq_ate_truth truth = {0};
	struct sq_ate_report rep;
	struct opts o;
	char *record = NULL, *csv = NULL;
	int rc = 1;

	if (parse_opts(argc, argv, &o) < 0)
		return usage();
	if (!(record = sq_read_file(o.record, NULL, &err)) ||
	    !(csv = sq_read_file(o.poses, NULL, &err)) ||
	    sq_ate_truth_parse(&truth, csv, o.chapter, &err) < 0 ||
	    check(record, &truth, &rep, &err) < 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		goto out;
	}
	rc = report(&o, &rep);
out:
	sq_ate_truth_release(&truth);
	free(csv);
	free(record);
	return rc;
}
