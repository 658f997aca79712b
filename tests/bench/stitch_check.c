/* stitch_check.c - stitch-check: an acquisition's stitch judged against the truth.
 *
 *   stitch-check --root OUT --truth DIR [--max-rot DEG] [--max-pos PCT]
 *                [--max-scale PCT] [--max-rms-ratio R]
 *
 * OUT is the acquisition's output root, DIR scanq-synth's truth/. The tasks are
 * the inputs of the stitch records: OUT/stitch.json names the groups (absent
 * when there is one group, whose stitch is then final), OUT/<group>/stitch.json
 * names the tasks, OUT/<group>/<task>/ holds each reconstruction. Issue 5's
 * targets, the defaults: after one common similarity alignment of the stitched
 * cloud to the truth, every input placed, rotation error <= 0.5 deg, position
 * error <= 1 % of the survey's extent, scale error <= 1 %, and RMS distance of
 * the stitched points to the true seabed <= 1.2 x that of the inputs aligned
 * one by one with their true transforms.
 *
 * Per task, G (task frame -> world) is the similarity fitted to its cameras and
 * their true poses, and P (task frame -> stitch frame) is its placement in its
 * group's stitch followed by its group's placement in the acquisition's. The
 * common alignment A (stitch frame -> world) is fitted to every matched camera
 * of every placed task at once. Both fits take their rotation from the cameras'
 * orientations (a chapter's cameras often lie on one straight track, which
 * leaves a rotation about it free) and scale and translation from their
 * centres. A task's errors compare A.P with G: the angle of their relative
 * rotation, the ratio of their scales, and the largest distance between A.P(c)
 * and G(c) over its cameras, in % of the survey extent (the xy diagonal of the
 * bounding box of every true camera centre, every vehicle). The surface RMS is
 * that of the stitched cloud under A against that of every placed input's cloud
 * under its own G (stitch_check_truth.c says how a distance is measured).
 *
 * Exit 0 when every target is met, 1 with the reasons when one is missed, 2 on
 * usage errors and unreadable or malformed records. */
#include "base/fsutil.h"
#include "stitch_check.h"
#include "base/xalloc.h"
#include "stage/record.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

#define PROG "stitch-check"

struct opts {
	const char *root, *truth;
	double max_rot_deg, max_pos_pct, max_scale_pct, max_rms_ratio;
};

/* One input of a stitch record. */
struct placement {
	char *name;
	int placed;
	struct sq_sim T; /* the input's frame -> the stitch's */
	char *how;	 /* placed: method [on parent]; not placed: why */
};

struct task {
	char *group, *name, *dir;
	int placed; /* in its group's stitch, and its group in the acquisition's */
	char *how;
	struct sq_sim P; /* task frame -> stitch frame */
	struct sc_cams cams;
	int fitted;	 /* G is known: at least 3 cameras matched */
	struct sq_sim G; /* task frame -> world */
	double g_rmse_m; /* of its cameras under G */
	double rot_deg, scale_pct, pos_pct;
};

struct check {
	struct opts o;
	struct sc_truth truth;
	struct task *t;
	size_t n;
	char *stitch_ply; /* the acquisition's stitched cloud */
	int aligned;	  /* A is known */
	struct sq_sim A;  /* stitch frame -> world */
	size_t acams;
	int a_rotations; /* A's rotation came from the cameras' orientations */
	double a_rmse_m;
	struct sc_rms stitched, inputs;
};

static int usage(FILE *f, int rc)
{
	fprintf(f, "usage: " PROG " --root OUT --truth DIR [--max-rot DEG] [--max-pos PCT] "
		   "[--max-scale PCT] [--max-rms-ratio R]\n");
	return rc;
}

static int parse_num(const char *s, double min, double max, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return end != s && !*end && !errno && *out >= min && *out <= max ? 0 : -1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
	    {"root", required_argument, NULL, 'o'},
	    {"truth", required_argument, NULL, 't'},
	    {"max-rot", required_argument, NULL, 'r'},
	    {"max-pos", required_argument, NULL, 'p'},
	    {"max-scale", required_argument, NULL, 's'},
	    {"max-rms-ratio", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c, ok = 1;

	*o = (struct opts){NULL, NULL, 0.5, 1, 1, 1.2};
	while (ok && (c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c == 'o')
			o->root = optarg;
		else if (c == 't')
			o->truth = optarg;
		else if (c == 'r')
			ok = parse_num(optarg, 0, 180, &o->max_rot_deg) == 0;
		else if (c == 'p')
			ok = parse_num(optarg, 0, 1e6, &o->max_pos_pct) == 0;
		else if (c == 's')
			ok = parse_num(optarg, 0, 1e6, &o->max_scale_pct) == 0;
		else if (c == 'm')
			ok = parse_num(optarg, 0, 1e6, &o->max_rms_ratio) == 0;
		else if (c == 'h')
			return 1;
		else
			ok = 0;
	}
	return ok && optind == argc && o->root && o->truth ? 0 : -1;
}

/* --- the stitch records ----------------------------------------------------------- */

static void placements_free(struct placement *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].how);
	}
	free(p);
}

/* The placements of a parsed builtin record; -1 for a command backend's,
 * which records none. */
static int placements_of(const char *path, const struct sq_stitch_record *r, struct placement **out,
			 size_t *n, struct sq_err *err)
{
	if (!r->builtin || r->ninputs == 0)
		return sq_error(err, SQ_ERR_INVALID, "'%s' records no placements (%s)", path,
				r->builtin ? "no inputs" : "a command backend's");
	*out = xcalloc(r->ninputs, sizeof(**out));
	for (size_t i = 0; i < r->ninputs; i++) {
		const struct sq_stitch_record_input *in = &r->inputs[i];
		struct placement *p = &(*out)[(*n)++];

		p->name = xstrdup(in->name);
		p->placed = in->placed;
		p->T = in->T;
		p->how = !in->placed ? xstrdup(in->why ? in->why : "no reason given")
				     : xasprintf("%s%s%s", in->method, in->placed_on ? " on " : "",
						 in->placed_on ? in->placed_on : "");
	}
	return 0;
}

/* The inputs of the stitch record dir/stitch.json. New array (placements_free). */
static int read_record(const char *dir, struct placement **out, size_t *n, struct sq_err *err)
{
	char *path = sq_path_join(dir, "stitch.json"), *text = sq_read_file(path, NULL, err);
	struct sq_stitch_record r = {0};
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (text && sq_stitch_record_parse(&r, text, err) == 0)
		rc = placements_of(path, &r, out, n, err);
	else if (text)
		sq_err_prefix(err, "'%s'", path);
	if (rc < 0) {
		placements_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	sq_stitch_record_release(&r);
	free(text);
	free(path);
	return rc;
}

/* A group's directory holds its stitch record or a task's (frames.json). */
static int is_group_dir(const char *root, const char *name)
{
	char *dir = sq_path_join(root, name), *rec = sq_path_join(dir, "stitch.json");
	int yes = name[0] != '.' && sq_path_exists(rec);
	DIR *d = yes || name[0] == '.' ? NULL : opendir(dir);
	struct dirent *e;

	while (d && !yes && (e = readdir(d))) {
		char *f = xasprintf("%s/%s/frames.json", dir, e->d_name);

		yes = e->d_name[0] != '.' && sq_path_exists(f);
		free(f);
	}
	if (d)
		closedir(d);
	free(rec);
	free(dir);
	return yes;
}

/* No acquisition stitch: the acquisition must have one group, whose stitch is
 * then final. */
static int only_group(const char *root, struct placement **out, size_t *n, struct sq_err *err)
{
	DIR *d = opendir(root);
	struct dirent *e;
	char *found = NULL;
	size_t count = 0;

	if (!d)
		return sq_error_errno(err, errno, "cannot open '%s'", root);
	while ((e = readdir(d)))
		if (is_group_dir(root, e->d_name) && count++ == 0)
			found = xstrdup(e->d_name);
	closedir(d);
	if (count != 1) {
		free(found);
		return sq_error(err, SQ_ERR_IO,
				"no acquisition stitch '%s/stitch.json' (%zu groups)", root, count);
	}
	*n = 1;
	*out = xcalloc(1, sizeof(**out));
	(*out)->name = found;
	(*out)->placed = 1;
	(*out)->how = xstrdup("the only group");
	sq_sim_identity(&(*out)->T);
	return 0;
}

static void add_task(struct check *c, const struct placement *g, const struct placement *p)
{
	struct task *t;

	c->t = xrealloc(c->t, (c->n + 1) * sizeof(*c->t));
	t = memset(&c->t[c->n++], 0, sizeof(*t));
	t->group = xstrdup(g->name);
	t->name = xstrdup(p->name);
	t->dir = xasprintf("%s/%s/%s", c->o.root, g->name, p->name);
	t->placed = g->placed && p->placed;
	if (!g->placed)
		t->how = xasprintf("its group '%s' was not placed: %s", g->name, g->how);
	else
		t->how = xstrdup(p->how);
	if (t->placed)
		sq_sim_compose(&g->T, &p->T, &t->P);
}

/* Every task of the acquisition, with its placement in the final stitch. */
static int collect(struct check *c, struct sq_err *err)
{
	char *acq = sq_path_join(c->o.root, "stitch.json");
	struct placement *groups = NULL;
	size_t ngroups = 0;
	int rc = -1;

	if (sq_path_exists(acq) ? read_record(c->o.root, &groups, &ngroups, err)
				: only_group(c->o.root, &groups, &ngroups, err))
		goto out;
	c->stitch_ply = sq_path_exists(acq)
			    ? sq_path_join(c->o.root, "stitch.ply")
			    : xasprintf("%s/%s/stitch.ply", c->o.root, groups->name);
	for (size_t i = 0; i < ngroups; i++) {
		char *dir = sq_path_join(c->o.root, groups[i].name);
		struct placement *tasks;
		size_t ntasks;
		int r = read_record(dir, &tasks, &ntasks, err);

		free(dir);
		if (r < 0)
			goto out;
		for (size_t k = 0; k < ntasks; k++)
			add_task(c, &groups[i], &tasks[k]);
		placements_free(tasks, ntasks);
	}
	rc = 0;
out:
	placements_free(groups, ngroups);
	free(acq);
	return rc;
}

/* --- the judgement ---------------------------------------------------------------- */

/* The rotation that best turns the orientations est_rot onto ref_rot (9n each):
 * their chordal mean, argmax of trace(R^T sum ref_i est_i^T). It is what
 * sq_sim_fit (rigid) finds for the cameras' axes taken as points, each with its
 * opposite so that both sets are centred on 0. */
static int fit_rotation(const double *est_rot, const double *ref_rot, size_t n, double R[9])
{
	double *src = xcalloc(18 * n + 1, sizeof(*src)), *dst = xcalloc(18 * n + 1, sizeof(*dst));
	struct sq_sim T;
	size_t m = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		for (int axis = 0; axis < 3; axis++)
			for (int sign = -1; sign <= 1; sign += 2, m++)
				for (int r = 0; r < 3; r++) {
					src[3 * m + (size_t)r] =
					    sign * est_rot[9 * i + 3 * (size_t)r + (size_t)axis];
					dst[3 * m + (size_t)r] =
					    sign * ref_rot[9 * i + 3 * (size_t)r + (size_t)axis];
				}
	rc = sq_sim_fit(src, dst, NULL, m, 0, &T);
	memcpy(R, T.R, sizeof(T.R));
	free(src);
	free(dst);
	return rc;
}

/* Given out->R, the least-squares scale and translation taking est onto ref. */
static int scale_translation(const double *est, const double *ref, size_t n, struct sq_sim *out)
{
	double ce[3] = {0}, cr[3] = {0}, num = 0, den = 0, Rce[3];

	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 3; k++) {
			ce[k] += est[3 * i + (size_t)k] / (double)n;
			cr[k] += ref[3 * i + (size_t)k] / (double)n;
		}
	out->s = 1; /* R alone first */
	memset(out->t, 0, sizeof(out->t));
	for (size_t i = 0; i < n; i++) {
		double e[3], Re[3];

		for (int k = 0; k < 3; k++)
			e[k] = est[3 * i + (size_t)k] - ce[k];
		sq_sim_apply(out, e, Re);
		for (int k = 0; k < 3; k++) {
			num += Re[k] * (ref[3 * i + (size_t)k] - cr[k]);
			den += e[k] * e[k];
		}
	}
	if (!(den > 0) || !(num > 0))
		return -1;
	out->s = num / den;
	sq_sim_apply(out, ce, Rce);
	for (int k = 0; k < 3; k++)
		out->t[k] = cr[k] - Rce[k];
	return 0;
}

/* The similarity taking the cameras est (3n, with orientations est_rot, 9n, or
 * NULL) onto ref (ref_rot). With orientations the rotation comes from them: the
 * centres of a task often lie on one straight track, which leaves the rotation
 * about it free. Scale and translation are then the least-squares ones for the
 * centres. Without, the centres alone (sq_sim_fit). */
static int fit(const double *est, const double *ref, const double *est_rot, const double *ref_rot,
	       size_t n, struct sq_sim *out)
{
	if (!est_rot)
		return sq_sim_fit(est, ref, NULL, n, 1, out);
	if (n < 3 || fit_rotation(est_rot, ref_rot, n, out->R) < 0)
		return -1;
	return scale_translation(est, ref, n, out);
}

/* RMS distance between T(est) and ref. */
static double fit_rmse(const struct sq_sim *T, const double *est, const double *ref, size_t n)
{
	double sum = 0;

	for (size_t k = 0; k < n; k++) {
		double q[3];

		sq_sim_apply(T, &est[3 * k], q);
		sum += pow(q[0] - ref[3 * k], 2) + pow(q[1] - ref[3 * k + 1], 2) +
		       pow(q[2] - ref[3 * k + 2], 2);
	}
	return n ? sqrt(sum / (double)n) : 0;
}

/* Pairs every task's cameras with the truth and fits its true transform G. */
static int fit_tasks(struct check *c, struct sq_err *err)
{
	for (size_t i = 0; i < c->n; i++) {
		struct task *t = &c->t[i];

		if (sc_task_cameras(&c->truth, t->dir, t->name, &t->cams, err) < 0)
			return -1;
		t->fitted =
		    fit(t->cams.est, t->cams.ref, t->cams.rotations ? t->cams.est_rot : NULL,
			t->cams.ref_rot, t->cams.n, &t->G) == 0;
		if (t->fitted)
			t->g_rmse_m = fit_rmse(&t->G, t->cams.est, t->cams.ref, t->cams.n);
	}
	return 0;
}

/* Every judged camera in the stitch's frame, and its truth. */
struct pairs {
	double *src, *dst, *src_rot, *dst_rot;
	size_t n;
	int rotations;
};

static void add_pairs(struct pairs *p, const struct task *t)
{
	size_t n = p->n + t->cams.n;

	p->src = xrealloc(p->src, 3 * n * sizeof(double));
	p->dst = xrealloc(p->dst, 3 * n * sizeof(double));
	p->src_rot = xrealloc(p->src_rot, 9 * n * sizeof(double));
	p->dst_rot = xrealloc(p->dst_rot, 9 * n * sizeof(double));
	p->rotations &= t->cams.rotations;
	for (size_t k = 0; k < t->cams.n; k++, p->n++) {
		struct sq_sim cam = {.s = 1};

		sq_sim_apply(&t->P, &t->cams.est[3 * k], &p->src[3 * p->n]);
		memcpy(&p->dst[3 * p->n], &t->cams.ref[3 * k], 3 * sizeof(double));
		memcpy(cam.R, &t->cams.est_rot[9 * k], sizeof(cam.R));
		sq_sim_compose(&t->P, &cam, &cam); /* its orientation in the stitch: R_P R */
		memcpy(&p->src_rot[9 * p->n], cam.R, sizeof(cam.R));
		memcpy(&p->dst_rot[9 * p->n], &t->cams.ref_rot[9 * k], 9 * sizeof(double));
	}
}

/* The one alignment A of the stitch to the world, over every judged camera. */
static int fit_common(struct check *c)
{
	struct pairs p = {.rotations = 1};
	int rc;

	for (size_t i = 0; i < c->n; i++)
		if (c->t[i].placed && c->t[i].fitted)
			add_pairs(&p, &c->t[i]);
	rc = fit(p.src, p.dst, p.rotations ? p.src_rot : NULL, p.dst_rot, p.n, &c->A);
	c->a_rmse_m = rc == 0 ? fit_rmse(&c->A, p.src, p.dst, p.n) : 0;
	c->a_rotations = p.rotations;
	c->acams = p.n;
	free(p.src);
	free(p.dst);
	free(p.src_rot);
	free(p.dst_rot);
	return rc;
}

static void task_errors(const struct check *c, struct task *t)
{
	struct sq_sim M, Ginv, D;
	double worst = 0;

	sq_sim_compose(&c->A, &t->P, &M); /* task frame -> world, as the stitch has it */
	sq_sim_invert(&t->G, &Ginv);
	sq_sim_compose(&M, &Ginv, &D); /* world -> world: identity when the stitch is right */
	t->rot_deg = sq_rot_angle_deg(D.R);
	t->scale_pct = 100 * fabs(D.s - 1);
	for (size_t k = 0; k < t->cams.n; k++) {
		double a[3], b[3];

		sq_sim_apply(&M, &t->cams.est[3 * k], a);
		sq_sim_apply(&t->G, &t->cams.est[3 * k], b);
		worst = fmax(worst, hypot(hypot(a[0] - b[0], a[1] - b[1]), a[2] - b[2]));
	}
	t->pos_pct = c->truth.extent_m > 0 ? 100 * worst / c->truth.extent_m : 0;
}

/* Distances to the seabed: the stitched cloud under A, and every placed input's
 * own cloud under its G. */
static int surface(struct check *c, struct sq_err *err)
{
	if (sc_surface_add(&c->truth, c->stitch_ply, &c->A, &c->stitched, err) < 0)
		return -1;
	for (size_t i = 0; i < c->n; i++) {
		const struct task *t = &c->t[i];
		char *ply;
		int rc;

		if (!t->placed || !t->fitted)
			continue;
		ply = sq_path_join(t->dir, "reconstruction.ply");
		rc = sc_surface_add(&c->truth, ply, &t->G, &c->inputs, err);
		free(ply);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static double rms(const struct sc_rms *r)
{
	return r->n ? sqrt(r->sum2_m2 / (double)r->n) : 0;
}

/* --- the report ------------------------------------------------------------------- */

struct verdict {
	size_t placed, judged;
	double rot, pos, scale; /* the worst task's */
	int ok;
};

static void miss(struct verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void miss(struct verdict *v, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout); /* each reason after the line it is about */
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	v->ok = 0;
}

static void report_task(const struct check *c, const struct task *t, struct verdict *v)
{
	const struct opts *o = &c->o;

	printf("%s/%s: ", t->group, t->name);
	if (!t->placed) {
		printf("NOT placed: %s\n", t->how);
		miss(v, "task '%s' not placed", t->name);
		return;
	}
	v->placed++;
	if (!t->fitted) {
		printf("%zu of %zu registered cameras match the truth: cannot judge (%s)\n",
		       t->cams.n, t->cams.registered, t->how);
		miss(v, "task '%s': only %zu cameras match the truth", t->name, t->cams.n);
		return;
	}
	v->judged++;
	if (!c->aligned) {
		printf("%zu/%zu cameras matched (%s)\n", t->cams.n, t->cams.frames, t->how);
		return;
	}
	printf("%zu/%zu cameras matched (truth fit %.4f m); rot %.3f deg, scale %.3f %%, pos %.3f "
	       "%% (%s)\n",
	       t->cams.n, t->cams.frames, t->g_rmse_m, t->rot_deg, t->scale_pct, t->pos_pct,
	       t->how);
	v->rot = fmax(v->rot, t->rot_deg);
	v->pos = fmax(v->pos, t->pos_pct);
	v->scale = fmax(v->scale, t->scale_pct);
	if (t->rot_deg > o->max_rot_deg)
		miss(v, "task '%s': rotation error %.3f deg, above %g", t->name, t->rot_deg,
		     o->max_rot_deg);
	if (t->scale_pct > o->max_scale_pct)
		miss(v, "task '%s': scale error %.3f %%, above %g", t->name, t->scale_pct,
		     o->max_scale_pct);
	if (t->pos_pct > o->max_pos_pct)
		miss(v, "task '%s': position error %.3f %% of the survey, above %g", t->name,
		     t->pos_pct, o->max_pos_pct);
}

static int report(struct check *c)
{
	struct verdict v = {.ok = 1};
	double rs = rms(&c->stitched), ri = rms(&c->inputs), ratio = ri > 0 ? rs / ri : INFINITY;

	for (size_t i = 0; i < c->n; i++)
		report_task(c, &c->t[i], &v);
	if (!c->aligned) {
		miss(&v, "fewer than 3 cameras of placed tasks match the truth: nothing to align");
		return 1;
	}
	printf("alignment: %zu cameras, rotation from their %s, rmse %.4f m; survey extent %.2f m "
	       "(xy diagonal of the true camera centres)\n",
	       c->acams, c->a_rotations ? "orientations" : "centres alone", c->a_rmse_m,
	       c->truth.extent_m);
	printf("surface: stitched %zu points, rms %.4f m, median %.4f m, %zu beyond %.2f m; inputs "
	       "%zu points, rms %.4f m, median %.4f m, %zu beyond (point-to-plane, terrain spacing "
	       "%.3f m)\n",
	       c->stitched.n, rs, sc_surface_median(&c->stitched), c->stitched.far, c->truth.far_m,
	       c->inputs.n, ri, sc_surface_median(&c->inputs), c->inputs.far, c->truth.spacing_m);
	printf("stitch: %zu/%zu placed; rot max %.3f deg; pos max %.3f %%; scale max %.3f %%; "
	       "rms %.4f m vs %.4f m (%.2fx)\n",
	       v.placed, c->n, v.rot, v.pos, v.scale, rs, ri, ratio);
	if (!(ratio <= c->o.max_rms_ratio))
		miss(&v, "stitched cloud %.2fx as far from the seabed as its inputs, above %gx",
		     ratio, c->o.max_rms_ratio);
	return v.ok ? 0 : 1;
}

static void check_release(struct check *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->t[i].group);
		free(c->t[i].name);
		free(c->t[i].dir);
		free(c->t[i].how);
		sc_cams_release(&c->t[i].cams);
	}
	free(c->t);
	free(c->stitch_ply);
	free(c->stitched.d_m);
	free(c->inputs.d_m);
	sc_truth_release(&c->truth);
}

int main(int argc, char **argv)
{
	struct sq_err err = {SQ_OK, ""};
	struct check c = {0};
	int rc;

	if ((rc = parse_opts(argc, argv, &c.o)) != 0)
		return rc > 0 ? usage(stdout, 0) : usage(stderr, 2);
	if (sc_truth_load(&c.truth, c.o.truth, &err) < 0 || collect(&c, &err) < 0 ||
	    fit_tasks(&c, &err) < 0)
		goto fail;
	c.aligned = fit_common(&c) == 0;
	for (size_t i = 0; c.aligned && i < c.n; i++)
		if (c.t[i].placed && c.t[i].fitted)
			task_errors(&c, &c.t[i]);
	if (c.aligned && surface(&c, &err) < 0)
		goto fail;
	rc = report(&c);
	goto out;
fail:
	fprintf(stderr, PROG ": %s\n", err.msg);
	rc = 2;
out:
	check_release(&c);
	return rc;
}
