/* stitch.c - bench-stitch: scanq's builtin stitch against Open3D's standard
 * registration pipeline, on the same inputs in one run.
 *
 * A case is K patches (default 2) cut from the synthetic seabed by cloudgen.c
 * with a known random similarity each, at equal scale (where Open3D's rigid
 * pipeline applies) or at scales 0.3-3 (where it does not). The same PLY files
 * go through sq_stitch_run() in this process (timed wall, reading the inputs
 * and writing the merged cloud included) and through stitch_o3d.py (timed
 * inside the script: its pipeline only, loading reported apart). Open3D
 * registers each patch onto the previous one and the bench chains them; scanq
 * places all at once. Both are judged the same way against the truth, in the
 * frame of patch 0: rotation and scale error, the largest position error over
 * the patch's box (% of the scene diagonal), and the RMS distance of the
 * patches placed by the estimate to the true surface. Cases run for seeds
 * 1..N (data and both RANSACs). Run by hand, never by CI (see README.md). */
#include "stitch_bench.h"
#include "base/fsutil.h"
#include "base/xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/banned.h"

/* --- cases ----------------------------------------------------------------------- */

static void case_opts(const struct bench *b, int mode, int seed, struct cg_opts *o)
{
	cg_opts_default(o);
	o->terrain_seed = (uint32_t)seed;
	o->seed = (uint32_t)seed;
	o->patches = b->patches;
	o->points = b->points;
	o->overlap_min = b->ov_min;
	o->overlap_max = b->ov_max;
	o->noise_rel = b->noise;
	o->outlier_share = b->outliers;
	if (mode == MODE_DIFFERING) {
		o->scale_min = 0.3;
		o->scale_max = 3.0;
	}
}

/* dir/patchN.ply, and dir/patchN.sim (its G, world -> patch) for inspection. */
static int write_case(const struct cg_scene *sc, const char *dir, char **paths)
{
	struct sq_err err = {0};

	if (sq_mkdir_p(dir, &err) < 0)
		goto fail;
	for (size_t i = 0; i < sc->n; i++) {
		char *sim = xasprintf("%s/patch%zu.sim", dir, i);
		int rc;

		paths[i] = xasprintf("%s/patch%zu.ply", dir, i);
		rc = cg_patch_write(sc, i, paths[i], &err) < 0 ||
		     cg_sim_write(sim, &sc->p[i].G, &err);
		free(sim);
		if (rc)
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "bench-stitch: %s\n", err.msg);
	return -1;
}

/* Undoes write_case and cg_scene_plan: the files (unless kept), the paths and
 * the scene. */
static void drop_case(const struct bench *b, struct cg_scene *sc, char **paths, const char *dir)
{
	if (!b->keep)
		sq_rm_rf(dir, NULL);
	for (size_t i = 0; i < sc->n; i++)
		free(paths[i]);
	cg_scene_release(sc);
}

static void print_case(int seed, const struct cg_scene *sc, struct outcome *const out[METHODS],
		       const struct outcome *truth, int methods)
{
	char s[16], ovl[16];
	double ov = 1.0;

	for (size_t i = 1; i < sc->n; i++)
		ov = fmin(ov, sc->p[i].overlap_prev);
	snprintf(s, sizeof(s), "%d", seed);
	snprintf(ovl, sizeof(ovl), "%.0f", 100.0 * ov);
	for (int m = 0; m < methods; m++)
		sb_print_outcome(m ? "" : s, m ? "" : ovl, sb_method_name[m], out[m]);
	sb_print_outcome("", "", "truth", truth);
	fflush(stdout);
}

static int run_case(const struct bench *b, int mode, int seed, struct outcome *const out[METHODS],
		    struct outcome *truth)
{
	struct cg_opts o;
	struct cg_scene sc;
	struct estimate est;
	char *dir =
	    xasprintf("%s/%s-seed%d", b->work, mode == MODE_EQUAL ? "equal" : "differing", seed);
	char *paths[MAX_PATCHES] = {0}, *merged = xasprintf("%s/scanq.ply", dir);
	int rc = -1;

	case_opts(b, mode, seed, &o);
	cg_scene_plan(&o, &sc);
	if (write_case(&sc, dir, paths) < 0)
		goto out;
	sb_truth_fit(&sc, paths, truth);
	sb_run_scanq(b, paths, sc.n, merged, (unsigned)seed, &est, out[SCANQ]);
	sb_evaluate(&sc, paths, &est, out[SCANQ]);
	if (b->o3d) {
		sb_run_o3d(b, paths, sc.n, (unsigned)seed, NULL, &est, out[O3D]);
		sb_evaluate(&sc, paths, &est, out[O3D]);
	}
	print_case(seed, &sc, out, truth, b->o3d ? METHODS : 1);
	rc = 0;
out:
	drop_case(b, &sc, paths, dir);
	free(merged);
	free(dir);
	return rc;
}

static int run_mode(const struct bench *b, int mode)
{
	struct outcome *res[METHODS], *truth = xcalloc((size_t)b->seeds, sizeof(*truth));
	int rc = 0;

	for (int m = 0; m < METHODS; m++)
		res[m] = xcalloc((size_t)b->seeds, sizeof(*res[m]));
	printf("\n== %s scale ==\n", mode == MODE_EQUAL ? "equal" : "differing");
	sb_print_header();
	for (int s = 0; s < b->seeds && rc == 0; s++) {
		struct outcome *row[METHODS] = {&res[SCANQ][s], &res[O3D][s]};

		rc = run_case(b, mode, s + 1, row, &truth[s]);
	}
	if (rc == 0)
		sb_print_summary(b, mode, res, truth, (size_t)b->seeds);
	for (int m = 0; m < METHODS; m++)
		free(res[m]);
	free(truth);
	return rc;
}

/* --- two given files ------------------------------------------------------------- */

/* The known transform of --pair and where its errors are measured. */
struct pair_truth {
	struct sq_sim T; /* SRC -> REF */
	double corners[24], diag;
};

static void pair_seed(const struct bench *b, char **paths, const char *merged,
		      const struct pair_truth *pt, int seed, struct outcome *const row[METHODS])
{
	struct estimate est;
	char s[16];

	sb_run_scanq(b, paths, 2, merged, (unsigned)seed, &est, row[SCANQ]);
	sb_pair_eval(&est, &pt->T, pt->corners, pt->diag, row[SCANQ]);
	if (b->o3d) {
		sb_run_o3d(b, paths, 2, (unsigned)seed, NULL, &est, row[O3D]);
		sb_pair_eval(&est, &pt->T, pt->corners, pt->diag, row[O3D]);
	}
	snprintf(s, sizeof(s), "%d", seed);
	for (int m = 0; m < (b->o3d ? METHODS : 1); m++)
		sb_print_outcome(m ? "" : s, "-", sb_method_name[m], row[m]);
	fflush(stdout);
}

/* REF and SRC with the known transform SRC -> REF, over seeds 1..N. */
static int run_pair(const struct bench *b)
{
	struct outcome *res[METHODS];
	struct pair_truth pt;
	struct sq_err err = {0};
	double ref_corners[24];
	char *paths[2] = {(char *)b->pair[0], (char *)b->pair[1]};
	char *merged = xasprintf("%s/scanq.ply", b->work);
	size_t n = (size_t)b->seeds;

	if (cg_sim_read(b->pair[2], &pt.T, &err) < 0 ||
	    sb_ply_corners(b->pair[1], pt.corners, &pt.diag) < 0 ||
	    sb_ply_corners(b->pair[0], ref_corners, &pt.diag) < 0) {
		if (err.msg[0])
			fprintf(stderr, "bench-stitch: %s\n", err.msg);
		free(merged);
		return -1;
	}
	for (int m = 0; m < METHODS; m++)
		res[m] = xcalloc(n, sizeof(*res[m]));
	printf("%s onto %s; positions over the former's box, in %% of the latter's diagonal "
	       "(%.4g)\n",
	       b->pair[1], b->pair[0], pt.diag);
	sb_print_header();
	for (int s = 0; s < b->seeds; s++) {
		struct outcome *row[METHODS] = {&res[SCANQ][s], &res[O3D][s]};

		pair_seed(b, paths, merged, &pt, s + 1, row);
	}
	printf("\n");
	for (int m = 0; m < (b->o3d ? METHODS : 1); m++)
		sb_print_method_summary(sb_method_name[m], res[m], n);
	if (b->o3d)
		printf("  wall-time ratio scanq/open3d: %.3f (of the medians)\n",
		       sb_med_of(res[SCANQ], n, sb_f_wall) / sb_med_of(res[O3D], n, sb_f_wall));
	for (int m = 0; m < METHODS; m++)
		free(res[m]);
	free(merged);
	return 0;
}

/* --- sizes: bounded memory ------------------------------------------------------- */

/* The child of --sizes: the stitch alone in a fresh process, then its verdict
 * on stdout as "wall_s peak_rss_kb placed want pos_rel correct". */
static int stitch_only(const struct bench *b)
{
	struct cg_opts o;
	struct cg_scene sc;
	struct estimate est;
	struct outcome out;
	struct rusage ru;
	char *paths[MAX_PATCHES], *merged = xasprintf("%s/scanq.ply", b->stitch_only);
	size_t n = (size_t)b->patches;

	memset(&out, 0, sizeof(out));
	for (size_t i = 0; i < n; i++)
		paths[i] = xasprintf("%s/patch%zu.ply", b->stitch_only, i);
	sb_run_scanq(b, paths, n, merged, 1, &est, &out);
	getrusage(RUSAGE_SELF, &ru); /* before the terrain below is built */
	case_opts(b, MODE_EQUAL, 1, &o);
	cg_scene_plan(&o, &sc);
	sb_evaluate(&sc, paths, &est, &out);
	printf("%.6f %ld %zu %zu %.9g %d\n", out.wall_s, ru.ru_maxrss, out.placed, out.want,
	       out.worst.pos_rel, out.correct);
	if (out.note[0])
		fprintf(stderr, "bench-stitch: %s\n", out.note);
	cg_scene_release(&sc);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(merged);
	return 0;
}

static int spawn_stitch_only(const struct bench *b, const char *dir, struct outcome *o)
{
	char pts[32], k[16], ov[64], noise[32], outl[32];
	const char *argv[] = {"/proc/self/exe",
			      "--stitch-only",
			      dir,
			      "--points",
			      pts,
			      "--patches",
			      k,
			      "--overlap",
			      ov,
			      "--noise",
			      noise,
			      "--outliers",
			      outl,
			      b->verbose ? "-v" : NULL,
			      NULL};
	struct sq_strbuf out = SQ_STRBUF_INIT;
	int rc;

	snprintf(pts, sizeof(pts), "%zu", b->points);
	snprintf(k, sizeof(k), "%d", b->patches);
	snprintf(ov, sizeof(ov), "%.17g,%.17g", b->ov_min, b->ov_max);
	snprintf(noise, sizeof(noise), "%.17g", b->noise);
	snprintf(outl, sizeof(outl), "%.17g", b->outliers);
	rc = sb_spawn((char *const *)argv, &out, NULL);
	o->ran = rc == 0 && sscanf(out.buf, "%lf %ld %zu %zu %lf %d", &o->wall_s, &o->rss_kb,
				   &o->placed, &o->want, &o->worst.pos_rel, &o->correct) == 6;
	sq_strbuf_release(&out);
	return o->ran ? 0 : -1;
}

static double files_mb(char **paths, size_t n)
{
	double sum = 0.0;

	for (size_t i = 0; i < n; i++) {
		FILE *f = fopen(paths[i], "rb");

		if (f && fseek(f, 0, SEEK_END) == 0)
			sum += (double)ftell(f);
		if (f)
			fclose(f);
	}
	return sum / 1e6;
}

static int size_one(const struct bench *b, size_t points)
{
	struct bench bs = *b;
	struct cg_opts o;
	struct cg_scene sc;
	struct estimate est;
	struct outcome sq, o3;
	char *dir = xasprintf("%s/size%zu", b->work, points), *paths[MAX_PATCHES] = {0};
	int rc = -1;

	bs.points = points;
	memset(&sq, 0, sizeof(sq));
	memset(&o3, 0, sizeof(o3));
	case_opts(&bs, MODE_EQUAL, 1, &o);
	cg_scene_plan(&o, &sc);
	if (write_case(&sc, dir, paths) < 0 || spawn_stitch_only(&bs, dir, &sq) < 0)
		goto out;
	printf("%12zu %9.1f %9.3f %10.1f %4zu/%zu %10.4f %7s", points, files_mb(paths, sc.n),
	       sq.wall_s, (double)sq.rss_kb / 1024.0, sq.placed, sq.want, 100.0 * sq.worst.pos_rel,
	       sq.correct ? "ok" : "WRONG");
	if (b->o3d) {
		sb_run_o3d(b, paths, sc.n, 1, NULL, &est, &o3);
		sb_evaluate(&sc, paths, &est, &o3);
		printf(" | %9.3f %9.3f %10.1f %7s", o3.wall_s, o3.load_s,
		       (double)o3.rss_kb / 1024.0, o3.correct ? "ok" : "WRONG");
	}
	printf("\n");
	fflush(stdout);
	rc = 0;
out:
	drop_case(b, &sc, paths, dir);
	free(dir);
	return rc;
}

static int run_sizes(const struct bench *b)
{
	printf("equal scale, %d patches, seed 1; peak RSS of the process running each "
	       "(scanq: a fresh process, measured right after the stitch)\n",
	       b->patches);
	printf("%12s %9s %9s %10s %6s %10s %7s", "points/input", "input_MB", "scanq_s", "scanq_MiB",
	       "placed", "pos_%diag", "verdict");
	if (b->o3d)
		printf(" | %9s %9s %10s %7s", "open3d_s", "load_s", "open3d_MiB", "verdict");
	printf("\n");
	for (int i = 0; i < b->nsizes; i++)
		if (size_one(b, b->sizes[i]) < 0)
			return -1;
	return 0;
}

/* --- options --------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench-stitch [options]\n"
		"       bench-stitch [options] --pair REF.ply SRC.ply TRUTH.txt\n"
		"  --points N        points per patch (default 40000)\n"
		"  --patches K       patches per case, 2..%d (default 2)\n"
		"  --seeds N         cases per scale mode, seeds 1..N (default 5)\n"
		"  --scale MODE      equal, differing or both (default both)\n"
		"  --overlap A,B     shared area of consecutive patches (default 0.3,0.6)\n"
		"  --noise R         Gaussian noise sigma, share of the spacing (default 0.2)\n"
		"  --outliers S      extra outlier points, share of the points (default 0)\n"
		"  --no-o3d          scanq only\n"
		"  --mutual          Open3D's RANSAC with the mutual filter\n"
		"  --o3d-voxel V     Open3D's voxel size (default: from the data)\n"
		"  --python P        interpreter with open3d (default /usr/bin/python3)\n"
		"  --o3d-script P    default %s/stitch_o3d.py\n"
		"  --sizes N,N,...   bounded memory: peak RSS of one equal-scale case per size\n"
		"  --keep DIR        write the cases under DIR and keep them\n"
		"  --pair            REF SRC TRUTH: two given clouds, TRUTH a 4x4 SRC -> REF\n"
		"  --pairs N         N random pairs over the terrain families (surfgen.h)\n"
		"  --families A,B    --pairs: these families only (default: every one)\n"
		"  --run-seed S      --pairs, --defects: the run's draws (default 1)\n"
		"  --defects         broken and degenerate second clouds: left out, never placed\n"
		"  --calib           --pairs: every candidate judged, against the truth\n"
		"  --only K          --pairs: pair K alone\n"
		"  -v, --verbose     the stitch's log on stderr\n",
		MAX_PATCHES, SQ_BENCH_SRC);
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end || !(*out >= lo && *out <= hi) ? -1 : 0;
}

static int parse_sizes(struct bench *b, const char *s)
{
	char *end;

	b->nsizes = 0;
	while (*s && b->nsizes < MAX_SIZES) {
		unsigned long long v = strtoull(s, &end, 10);

		if (end == s || v < 100 || v > 100000000ULL || (*end && *end != ','))
			return -1;
		b->sizes[b->nsizes++] = (size_t)v;
		s = *end ? end + 1 : end;
	}
	return *s ? -1 : 0;
}

static int parse_overlap(struct bench *b, const char *s)
{
	const char *comma = strchr(s, ',');
	char first[64];

	if (!comma || (size_t)(comma - s) >= sizeof(first))
		return -1;
	snprintf(first, sizeof(first), "%.*s", (int)(comma - s), s);
	return parse_num(first, 0.01, 0.99, &b->ov_min) < 0 ||
		       parse_num(comma + 1, b->ov_min, 0.99, &b->ov_max) < 0
		   ? -1
		   : 0;
}

static int parse_flag(struct bench *b, int c, const char *arg)
{
	switch (c) {
	case 'N':
		b->o3d = 0;
		return 0;
	case 'M':
		b->mutual = 1;
		return 0;
	case 'v':
		b->verbose = 1;
		return 0;
	case 'p':
		b->pair_mode = 1;
		return 0;
	case 'P':
		b->python = arg;
		return 0;
	case 'S':
		b->script = arg;
		return 0;
	case 'K':
		b->keep = arg;
		return 0;
	case 'C':
		b->stitch_only = arg;
		return 0;
	case 'F':
		b->families = arg;
		return 0;
	case 'D':
		b->defects = 1;
		return 0;
	case 'A':
		b->calib = 1;
		return 0;
	}
	return -1;
}

static int parse_opt(struct bench *b, int c, const char *arg)
{
	double v;

	switch (c) {
	case 'n':
		if (parse_num(arg, 100, 1e8, &v) < 0)
			return -1;
		b->points = (size_t)v;
		return 0;
	case 'k':
		if (parse_num(arg, 2, MAX_PATCHES, &v) < 0)
			return -1;
		b->patches = (int)v;
		return 0;
	case 's':
		if (parse_num(arg, 1, MAX_SEEDS, &v) < 0)
			return -1;
		b->seeds = (int)v;
		return 0;
	case 'm':
		b->modes = !strcmp(arg, "equal")       ? MODE_EQUAL
			   : !strcmp(arg, "differing") ? MODE_DIFFERING
			   : !strcmp(arg, "both")      ? MODE_EQUAL | MODE_DIFFERING
						       : 0;
		return b->modes ? 0 : -1;
	case 'o':
		return parse_overlap(b, arg);
	case 'e':
		return parse_num(arg, 0, 5, &b->noise);
	case 'u':
		return parse_num(arg, 0, 1, &b->outliers);
	case 'x':
		return parse_num(arg, 1e-9, 1e9, &b->o3d_voxel);
	case 'z':
		return parse_sizes(b, arg);
	case 'r':
		if (parse_num(arg, 1, 100000, &v) < 0)
			return -1;
		b->npairs = (int)v;
		return 0;
	case 'O':
		if (parse_num(arg, 0, 100000, &v) < 0)
			return -1;
		b->only = (int)v;
		return 0;
	case 'R':
		if (parse_num(arg, 0, 4000, &v) < 0)
			return -1;
		b->run_seed = (unsigned)v;
		return 0;
	}
	return parse_flag(b, c, arg);
}

static const struct option long_opts[] = {{"points", required_argument, NULL, 'n'},
					  {"patches", required_argument, NULL, 'k'},
					  {"seeds", required_argument, NULL, 's'},
					  {"scale", required_argument, NULL, 'm'},
					  {"overlap", required_argument, NULL, 'o'},
					  {"noise", required_argument, NULL, 'e'},
					  {"outliers", required_argument, NULL, 'u'},
					  {"no-o3d", no_argument, NULL, 'N'},
					  {"mutual", no_argument, NULL, 'M'},
					  {"o3d-voxel", required_argument, NULL, 'x'},
					  {"python", required_argument, NULL, 'P'},
					  {"o3d-script", required_argument, NULL, 'S'},
					  {"sizes", required_argument, NULL, 'z'},
					  {"keep", required_argument, NULL, 'K'},
					  {"pair", no_argument, NULL, 'p'},
					  {"verbose", no_argument, NULL, 'v'},
					  {"stitch-only", required_argument, NULL, 'C'},
					  {"pairs", required_argument, NULL, 'r'},
					  {"families", required_argument, NULL, 'F'},
					  {"run-seed", required_argument, NULL, 'R'},
					  {"defects", no_argument, NULL, 'D'},
					  {"calib", no_argument, NULL, 'A'},
					  {"only", required_argument, NULL, 'O'},
					  {"help", no_argument, NULL, 'h'},
					  {NULL, 0, NULL, 0}};

static void defaults(struct bench *b)
{
	memset(b, 0, sizeof(*b));
	b->points = 40000;
	b->patches = 2;
	b->seeds = 5;
	b->modes = MODE_EQUAL | MODE_DIFFERING;
	b->ov_min = 0.3;
	b->ov_max = 0.6;
	b->noise = 0.2;
	b->o3d = 1;
	b->python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
	b->script = SQ_BENCH_SRC "/stitch_o3d.py";
	b->run_seed = 1;
	b->only = -1;
}

/* Returns 0, or 2 after a usage message (1 never: nothing has run yet). */
static int parse_args(struct bench *b, int argc, char **argv)
{
	int c;

	defaults(b);
	while ((c = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c == '?' || parse_opt(b, c, optarg) < 0) {
			if (c != '?')
				fprintf(stderr, "bench-stitch: bad value '%s'\n",
					optarg ? optarg : "");
			usage(stderr);
			return 2;
		}
	}
	if (b->pair_mode != (argc - optind == 3) || (!b->pair_mode && argc != optind)) {
		usage(stderr);
		return 2;
	}
	for (int i = 0; b->pair_mode && i < 3; i++)
		b->pair[i] = argv[optind + i];
	return 0;
}

static char *work_dir(const struct bench *b)
{
	struct sq_err err = {0};
	const char *tmp = getenv("TMPDIR");
	char *dir;

	if (b->keep)
		return sq_mkdir_p(b->keep, &err) == 0 ? xstrdup(b->keep) : NULL;
	dir = xasprintf("%s/bench-stitch.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

int main(int argc, char **argv)
{
	struct bench b;
	int rc = parse_args(&b, argc, argv);

	if (rc)
		return rc;
	if (b.stitch_only)
		return stitch_only(&b);
	b.work = work_dir(&b);
	if (!b.work) {
		fprintf(stderr, "bench-stitch: cannot create a work directory: %s\n",
			strerror(errno));
		return 1;
	}
	if (b.o3d)
		printf("open3d: %s %s (mutual filter %s)\n", b.python, b.script,
		       b.mutual ? "on" : "off");
	if (b.pair[0])
		rc = run_pair(&b);
	else if (b.nsizes)
		rc = run_sizes(&b);
	else if (b.npairs || b.defects)
		rc = (b.defects ? sb_run_defects(&b) : 0) < 0 || (b.npairs && sb_run_pairs(&b) < 0);
	for (int m = MODE_EQUAL;
	     !b.pair[0] && !b.nsizes && !b.npairs && !b.defects && m <= MODE_DIFFERING && rc == 0;
	     m <<= 1)
		if (b.modes & m)
			rc = run_mode(&b, m);
	if (!b.keep)
		sq_rm_rf(b.work, NULL);
	free(b.work);
	return rc ? 1 : 0;
}
