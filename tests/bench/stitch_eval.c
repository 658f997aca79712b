/* stitch_eval.c - bench-stitch: the two methods, judging and printing (see
 * stitch_bench.h and stitch.c). */
#include "stitch_bench.h"
#include "cloud/ply.h"
#include "stitch/stitch.h"
#include "base/xalloc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/banned.h"

const char *const sb_method_name[METHODS] = {"scanq", "open3d"};

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sim_identity(struct sq_sim *T)
{
	memset(T, 0, sizeof(*T));
	T->s = 1.0;
	T->R[0] = T->R[4] = T->R[8] = 1.0;
}

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "    stitch: %s\n", line);
}

/* Runs argv (fork/exec, no shell) with its stdout into out when out is not
 * NULL; returns its exit status (128 + signal), -1 when it could not run. */
int sb_spawn(char *const argv[], struct sq_strbuf *out, struct rusage *ru)
{
	int fd[2] = {-1, -1}, status;
	char buf[4096];
	ssize_t k;
	pid_t pid;

	if (out && pipe(fd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		if (out && (dup2(fd[1], 1) < 0 || close(fd[0]) < 0 || close(fd[1]) < 0))
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (out) {
		close(fd[1]);
		while (pid > 0 &&
		       ((k = read(fd[0], buf, sizeof(buf))) > 0 || (k < 0 && errno == EINTR)))
			if (k > 0)
				sq_strbuf_add(out, buf, (size_t)k);
		close(fd[0]);
	}
	if (pid < 0 || wait4(pid, &status, 0, ru) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* --- the two methods ------------------------------------------------------------- */

static void scanq_estimate(const struct sq_stitch_result *res, size_t n, struct estimate *est,
			   struct outcome *o)
{
	struct sq_sim inv0;

	memset(est, 0, sizeof(*est));
	if (res->n != n || !res->p || !res->p[0].placed) {
		if (res->n == n && res->p && !o->note[0])
			snprintf(o->note, sizeof(o->note), "input 0 not placed: %s", res->p[0].why);
		return;
	}
	cg_sim_invert(&res->p[0].T, &inv0);
	for (size_t i = 0; i < n; i++) {
		est->have[i] = res->p[i].placed;
		if (est->have[i])
			cg_sim_compose(&inv0, &res->p[i].T, &est->T[i]);
		else if (!o->note[0])
			snprintf(o->note, sizeof(o->note), "input %zu not placed: %s", i,
				 res->p[i].why);
	}
}

void sb_run_scanq(const struct bench *b, char **paths, size_t n, const char *out, unsigned seed,
		  struct estimate *est, struct outcome *o)
{
	struct sq_stitch_input in[MAX_PATCHES];
	struct sq_stitch_opts so = {.seed = seed, .hooks = {.log = b->verbose ? log_line : NULL}};
	struct sq_stitch_result res;
	struct sq_err err = {0};
	char names[MAX_PATCHES][16];
	long long t0;

	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "patch%zu", i);
		in[i] = (struct sq_stitch_input){.name = names[i], .ply = paths[i]};
	}
	memset(&res, 0, sizeof(res));
	t0 = mono_ns();
	if (sq_stitch_run(in, n, out, &so, &res, &err) < 0)
		snprintf(o->note, sizeof(o->note), "%s", err.msg);
	o->wall_s = (double)(mono_ns() - t0) / 1e9;
	o->ran = 1;
	scanq_estimate(&res, n, est, o);
	sq_stitch_result_release(&res);
}

static int json_mat(const cJSON *T, double m[16])
{
	int k = 0;
	const cJSON *row, *v;

	cJSON_ArrayForEach(row, T) cJSON_ArrayForEach(v, row)
	{
		if (k >= 16 || !cJSON_IsNumber(v))
			return -1;
		m[k++] = v->valuedouble;
	}
	return k == 16 ? 0 : -1;
}

/* Chains the script's pairs (i onto i - 1) into transforms into input 0's frame. */
static int parse_o3d(const char *text, size_t n, struct estimate *est, struct outcome *o)
{
	cJSON *j = cJSON_Parse(text), *p;
	const cJSON *pl = cJSON_GetObjectItem(j, "pipeline_s"),
		    *ld = cJSON_GetObjectItem(j, "load_s");
	int rc = -1;

	memset(est, 0, sizeof(*est));
	sim_identity(&est->T[0]);
	est->have[0] = 1;
	if (!cJSON_IsNumber(pl) || !cJSON_IsNumber(ld))
		goto out;
	o->wall_s = pl->valuedouble;
	o->load_s = ld->valuedouble;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(j, "pairs"))
	{
		const cJSON *src = cJSON_GetObjectItem(p, "src");
		double m[16];
		struct sq_sim M;
		int i = cJSON_IsNumber(src) ? src->valueint : -1;

		if (i < 1 || (size_t)i >= n || json_mat(cJSON_GetObjectItem(p, "T"), m) < 0)
			goto out;
		if (cg_sim_from_mat(m, &M) < 0 || !est->have[i - 1])
			continue;
		cg_sim_compose(&est->T[i - 1], &M, &est->T[i]);
		est->have[i] = 1;
	}
	rc = 0;
out:
	cJSON_Delete(j);
	return rc;
}

void sb_run_o3d(const struct bench *b, char **paths, size_t n, unsigned seed,
		const double *prescale, struct estimate *est, struct outcome *o)
{
	char seedarg[16], voxarg[32], scales[MAX_PATCHES * 26 + 1] = "";
	const char *argv[MAX_PATCHES + 12];
	struct sq_strbuf out = SQ_STRBUF_INIT;
	struct rusage ru;
	int k = 0, rc;

	snprintf(seedarg, sizeof(seedarg), "%u", seed);
	snprintf(voxarg, sizeof(voxarg), "%.17g", b->o3d_voxel);
	argv[k++] = b->python;
	argv[k++] = b->script;
	argv[k++] = "--seed";
	argv[k++] = seedarg;
	argv[k++] = "--voxel";
	argv[k++] = voxarg;
	if (b->mutual)
		argv[k++] = "--mutual";
	for (size_t i = 0; prescale && i < n; i++)
		snprintf(scales + strlen(scales), sizeof(scales) - strlen(scales), "%s%.17g",
			 i ? "," : "", prescale[i]);
	if (prescale) {
		argv[k++] = "--prescale";
		argv[k++] = scales;
	}
	for (size_t i = 0; i < n; i++)
		argv[k++] = paths[i];
	argv[k] = NULL;
	memset(est, 0, sizeof(*est));
	memset(&ru, 0, sizeof(ru));
	rc = sb_spawn((char *const *)argv, &out, &ru);
	o->rss_kb = ru.ru_maxrss;
	o->ran = rc == 0 && parse_o3d(out.buf, n, est, o) == 0;
	if (!o->ran)
		snprintf(o->note, sizeof(o->note), "'%s %s' failed (exit %d)", b->python, b->script,
			 rc);
	sq_strbuf_release(&out);
}

/* --- judging --------------------------------------------------------------------- */

static double far_limit(const struct cg_scene *sc)
{
	/* 15 noise sigmas, and never under 2 point spacings */
	return fmax(15.0 * sc->o.noise_rel * sc->p[0].spacing_m, 2.0 * sc->p[0].spacing_m);
}

static void worse(struct cg_err *w, const struct cg_err *e)
{
	w->rot_deg = fmax(w->rot_deg, e->rot_deg);
	w->scale_rel = fmax(w->scale_rel, e->scale_rel);
	w->pos_rel = fmax(w->pos_rel, e->pos_rel);
}

/* Errors and surface fit of inputs 1..K-1 as est places them. */
void sb_evaluate(const struct cg_scene *sc, char **paths, const struct estimate *est,
		 struct outcome *o)
{
	struct sq_sim inv0, to_world, truth;
	struct cg_err e;
	struct cg_fit f;
	struct sq_err err = {0};
	double sum2 = 0.0;
	size_t near = 0, all = 0;

	memset(&o->worst, 0, sizeof(o->worst));
	o->want = sc->n - 1;
	o->placed = 0;
	cg_sim_invert(&sc->p[0].G, &inv0);
	for (size_t i = 1; i < sc->n && o->ran; i++) {
		if (!est->have[i])
			continue;
		o->placed++;
		cg_truth(sc, 0, i, &truth);
		cg_compare(sc, &sc->p[i], &est->T[i], &truth, sc->diag_m * sc->p[0].G.s, &e);
		worse(&o->worst, &e);
		cg_sim_compose(&inv0, &est->T[i], &to_world);
		if (cg_ply_fit(paths[i], &to_world, sc->terrain, far_limit(sc), &f, &err) == 0) {
			sum2 += f.rms_m * f.rms_m * (double)(f.n - f.far);
			near += f.n - f.far;
			all += f.n;
		}
	}
	if (o->placed < o->want)
		o->worst.rot_deg = o->worst.scale_rel = o->worst.pos_rel = INFINITY;
	o->rms_m = near ? sqrt(sum2 / (double)near) : INFINITY;
	o->far_share = all ? (double)(all - near) / (double)all : 1.0;
	o->correct = o->worst.rot_deg <= ROT_OK_DEG && o->worst.scale_rel <= SCALE_OK_REL &&
		     o->worst.pos_rel <= POS_OK_REL;
}

/* The inputs placed with the true transforms: the floor of the RMS. */
void sb_truth_fit(const struct cg_scene *sc, char **paths, struct outcome *o)
{
	struct estimate est;

	memset(&est, 0, sizeof(est));
	for (size_t i = 0; i < sc->n; i++) {
		cg_truth(sc, 0, i, &est.T[i]);
		est.have[i] = 1;
	}
	memset(o, 0, sizeof(*o));
	o->ran = 1;
	sb_evaluate(sc, paths, &est, o);
}

/* --- printing -------------------------------------------------------------------- */

void sb_print_header(void)
{
	printf("%-5s %5s  %-7s %6s %9s %9s %8s %7s %6s %8s  %s\n", "seed", "ovl%", "method",
	       "placed", "rot_deg", "pos_%diag", "scale_%", "rms_mm", "far_%", "wall_s", "verdict");
}

void sb_print_outcome(const char *seed, const char *ovl, const char *name, const struct outcome *o)
{
	char wall[48] = "-", placed[16], rms[32] = "-", far[32] = "-";

	if (o->wall_s > 0)
		snprintf(wall, sizeof(wall), "%.3f", o->wall_s);
	/* --pair knows no surface: no rms */
	if (isfinite(o->far_share)) {
		snprintf(rms, sizeof(rms), "%.2f", 1000.0 * o->rms_m);
		snprintf(far, sizeof(far), "%.2f", 100.0 * o->far_share);
	}
	snprintf(placed, sizeof(placed), "%zu/%zu", o->placed, o->want);
	printf("%-5s %5s  %-7s %6s %9.3f %9.3f %8.3f %7s %6s %8s  %s", seed, ovl, name,
	       o->want ? placed : "-", o->worst.rot_deg, 100.0 * o->worst.pos_rel,
	       100.0 * o->worst.scale_rel, rms, far, wall,
	       !o->want ? "" : (o->correct ? "ok" : "WRONG"));
	if (o->load_s > 0)
		printf(" (+%.3f s loading)", o->load_s);
	if (o->note[0])
		printf(" [%s]", o->note);
	printf("\n");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Median of one field over the cases; field picks it out of an outcome. */
double sb_med_of(const struct outcome *o, size_t n, double (*field)(const struct outcome *))
{
	double v[MAX_SEEDS];

	for (size_t i = 0; i < n; i++)
		v[i] = field(&o[i]);
	return median(v, n);
}

static double f_rot(const struct outcome *o)
{
	return o->worst.rot_deg;
}

static double f_pos(const struct outcome *o)
{
	return 100.0 * o->worst.pos_rel;
}

static double f_scale(const struct outcome *o)
{
	return 100.0 * o->worst.scale_rel;
}

static double f_rms(const struct outcome *o)
{
	return 1000.0 * o->rms_m;
}

double sb_f_wall(const struct outcome *o)
{
	return o->wall_s;
}

static double f_load(const struct outcome *o)
{
	return o->load_s;
}

static size_t count_correct(const struct outcome *o, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += o[i].correct;
	return c;
}

void sb_print_method_summary(const char *name, const struct outcome *o, size_t n)
{
	double rms = sb_med_of(o, n, f_rms);

	printf("  %-7s correct %zu/%zu; median rotation %.3f deg, position %.3f %% of the "
	       "diagonal, scale %.3f %%",
	       name, count_correct(o, n), n, sb_med_of(o, n, f_rot), sb_med_of(o, n, f_pos),
	       sb_med_of(o, n, f_scale));
	if (!isnan(rms))
		printf(", rms %.2f mm", rms);
	printf("; median wall %.3f s", sb_med_of(o, n, sb_f_wall));
	if (sb_med_of(o, n, f_load) > 0)
		printf(" (+%.3f s loading)", sb_med_of(o, n, f_load));
	printf("\n");
}

/* Medians over the cases both methods got right: accuracy where it compares. */
static void both_right(const struct outcome *a, const struct outcome *b, size_t n, double *pos,
		       double *rms, size_t *m)
{
	double pa[MAX_SEEDS], pb[MAX_SEEDS], ra[MAX_SEEDS], rb[MAX_SEEDS];

	*m = 0;
	for (size_t i = 0; i < n; i++)
		if (a[i].correct && b[i].correct) {
			pa[*m] = a[i].worst.pos_rel;
			pb[*m] = b[i].worst.pos_rel;
			ra[*m] = a[i].rms_m;
			rb[*m] = b[i].rms_m;
			++*m;
		}
	pos[0] = median(pa, *m);
	pos[1] = median(pb, *m);
	rms[0] = median(ra, *m);
	rms[1] = median(rb, *m);
}

static void print_targets(const struct outcome *sq, const struct outcome *o3, size_t n)
{
	size_t cs = count_correct(sq, n), co = count_correct(o3, n), m;
	double pos[2], rms[2], ratio = sb_med_of(sq, n, sb_f_wall) / sb_med_of(o3, n, sb_f_wall);
	int acc;

	both_right(sq, o3, n, pos, rms, &m);
	acc = cs >= co &&
	      (!m || (pos[0] <= RMS_SLACK * pos[1] + 1e-6 && rms[0] <= RMS_SLACK * rms[1]));
	printf("  target, accuracy no worse than Open3D: %s (correct %zu vs %zu",
	       acc ? "met" : "NOT met", cs, co);
	if (m)
		printf(
		    "; on the %zu cases both got right, median position error %.4f %% vs %.4f %%, "
		    "rms %.2f vs %.2f mm)\n",
		    m, 100.0 * pos[0], 100.0 * pos[1], 1000.0 * rms[0], 1000.0 * rms[1]);
	else
		printf("; no case that both got right)\n");
	printf("  target, wall time <= 1/3 of Open3D's: %s (ratio %.3f)\n",
	       ratio <= 1.0 / 3.0 ? "met" : "NOT met", ratio);
}

void sb_print_summary(const struct bench *b, int mode, struct outcome *const res[METHODS],
		      const struct outcome *truth, size_t n)
{
	double r[MAX_SEEDS];

	printf("\n%s scale: %zu cases of %d patches x %zu points, overlap %.0f-%.0f %%, noise "
	       "%.2f x spacing, outliers %.1f %%\n",
	       mode == MODE_EQUAL ? "equal" : "differing", n, b->patches, b->points,
	       100.0 * b->ov_min, 100.0 * b->ov_max, b->noise, 100.0 * b->outliers);
	sb_print_method_summary(sb_method_name[SCANQ], res[SCANQ], n);
	printf("  truth   median rms %.2f mm (the patches placed with the true transforms)\n",
	       sb_med_of(truth, n, f_rms));
	if (!b->o3d)
		return;
	sb_print_method_summary(sb_method_name[O3D], res[O3D], n);
	for (size_t i = 0; i < n; i++)
		r[i] = res[SCANQ][i].wall_s / res[O3D][i].wall_s;
	printf(
	    "  wall-time ratio scanq/open3d: %.3f (of the medians), %.3f (median of the per-case "
	    "ratios)\n",
	    sb_med_of(res[SCANQ], n, sb_f_wall) / sb_med_of(res[O3D], n, sb_f_wall), median(r, n));
	if (mode == MODE_EQUAL)
		print_targets(res[SCANQ], res[O3D], n);
	else
		printf("  open3d is rigid: its transforms have scale 1 whatever the true relative "
		       "scale, so it cannot place these (%zu/%zu correct)\n",
		       count_correct(res[O3D], n), n);
}

/* --- two given files ------------------------------------------------------------- */

static int bbox_chunk(void *ctx, const struct sq_ply_chunk *c, struct sq_err *err)
{
	double *bb = ctx;

	(void)err;
	for (size_t i = 0; i < 3 * c->n; i++) {
		bb[i % 3] = fmin(bb[i % 3], c->xyz[i]);
		bb[3 + i % 3] = fmax(bb[3 + i % 3], c->xyz[i]);
	}
	return 0;
}

/* The 8 corners of a PLY's bounding box (24 values) and its diagonal. */
int sb_ply_corners(const char *path, double *corners, double *diag)
{
	double bb[6] = {INFINITY, INFINITY, INFINITY, -INFINITY, -INFINITY, -INFINITY};
	struct sq_err err = {0};

	if (sq_ply_stream(path, NULL, bbox_chunk, bb, &err) < 0) {
		fprintf(stderr, "bench-stitch: %s\n", err.msg);
		return -1;
	}
	for (int c = 0; c < 8; c++)
		for (int k = 0; k < 3; k++)
			corners[3 * c + k] = bb[(c >> k & 1) ? 3 + k : k];
	*diag = sqrt(pow(bb[3] - bb[0], 2) + pow(bb[4] - bb[1], 2) + pow(bb[5] - bb[2], 2));
	return 0;
}

void sb_pair_eval(const struct estimate *est, const struct sq_sim *truth, const double *corners,
		  double diag, struct outcome *o)
{
	o->want = 1;
	o->placed = o->ran && est->have[1];
	o->rms_m = o->far_share = NAN;
	if (o->placed)
		cg_compare_pts(corners, 8, &est->T[1], truth, diag, &o->worst);
	else
		o->worst.rot_deg = o->worst.scale_rel = o->worst.pos_rel = INFINITY;
	o->correct = o->worst.rot_deg <= ROT_OK_DEG && o->worst.scale_rel <= SCALE_OK_REL &&
		     o->worst.pos_rel <= POS_OK_REL;
}
