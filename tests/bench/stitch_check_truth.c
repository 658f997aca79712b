/* stitch_check_truth.c - scanq-synth's truth for stitch-check (see stitch_check.h):
 * the vehicles' true camera paths, a task's cameras paired with them by time,
 * and the distance of a point to the true seabed.
 *
 * The seabed (truth/terrain.ply) is a height field sampled on a grid of about a
 * decimetre, as coarse as the errors it must measure (a few centimetres), so
 * the distance to the nearest vertex would mostly measure the grid. Instead a plane is fitted to
 * the vertices nearest the point and the distance is to that plane; a point
 * beside the sampled area (off its edge) keeps its distance to the nearest
 * vertex. */
#include "stitch_check.h"
#include "base/fsutil.h"
#include "cloud/ply.h"
#include "base/xalloc.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

#define SC_FAR_SHARE 0.1 /* of the survey extent: where distances stop being measured */

enum {
	SC_PLANE_K = 9,		   /* terrain vertices a local plane is fitted to */
	SC_SPACING_SAMPLES = 2000, /* vertices whose neighbour distance gives the spacing */
	SC_FAR_MIN_M = 1,
	SC_CHAPTER_MAX = 999,
	SC_VEHICLE_MAX = 9999,
};

/* --- names ------------------------------------------------------------------------ */

/* "auv<N>-ch<NN><tail>" gives N and NN; "auv<N>-all<tail>" gives N and chapter 1
 * (a task of every chapter from the first) when all_ok. Returns 0, or -1 when s
 * is not such a name. */
static int parse_name(const char *s, const char *tail, int all_ok, int *veh, int *ch)
{
	char *end, *end2;
	long v, c;

	if (strncmp(s, "auv", 3) != 0)
		return -1;
	v = strtol(s + 3, &end, 10);
	if (end == s + 3 || v < 1 || v > SC_VEHICLE_MAX)
		return -1;
	if (all_ok && strncmp(end, "-all", 4) == 0 && strcmp(end + 4, tail) == 0) {
		*veh = (int)v;
		*ch = 1;
		return 0;
	}
	if (strncmp(end, "-ch", 3) != 0)
		return -1;
	c = strtol(end + 3, &end2, 10);
	if (end2 == end + 3 || c < 1 || c > SC_CHAPTER_MAX || strcmp(end2, tail) != 0)
		return -1;
	*veh = (int)v;
	*ch = (int)c;
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* --- camera paths ----------------------------------------------------------------- */

/* A unit quaternion (qw, qx, qy, qz, normalised here) as a rotation matrix. */
static int quat_rot(const double q[4], double R[9])
{
	double n = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]), u[4];

	if (!(n > 0) || !isfinite(n))
		return -1;
	for (int i = 0; i < 4; i++)
		u[i] = q[i] / n;
	sq_quat_to_rot(u, R);
	return 0;
}

/* A row's orientation: qw,qx,qy,qz after chapter,frame,t_s,x,y,z. */
static int row_rotation(const char *line, double R[9])
{
	const char *p = line;
	double q[4];
	char *end;

	for (int i = 0; i < 6; i++) {
		if (!(p = strchr(p, ',')))
			return -1;
		p++;
	}
	for (int i = 0; i < 4; i++) {
		q[i] = strtod(p, &end);
		if (end == p || (i < 3 && *end != ','))
			return -1;
		p = end + 1;
	}
	return quat_rot(q, R);
}

static void chapter_start(struct sc_vehicle *v, size_t *alloc, const char *row)
{
	const char *p;
	char *end;
	long ch = strtol(row, &end, 10);

	if (end == row || ch < 1 || ch > SC_CHAPTER_MAX || *end != ',' ||
	    !(p = strchr(end + 1, ',')))
		return; /* sq_ate_truth_parse has vetted every row */
	if (ch > v->nchapters) {
		xgrow((void **)&v->chapter_t0, alloc, (size_t)ch + 1, sizeof(double));
		for (long k = v->nchapters ? v->nchapters + 1 : 0; k <= ch; k++)
			v->chapter_t0[k] = NAN;
		v->nchapters = (int)ch;
	}
	if (isnan(v->chapter_t0[ch]))
		v->chapter_t0[ch] = strtod(p + 1, NULL);
}

/* What sq_ate_truth_parse does not keep: the vehicle time of each chapter's
 * first row (a task's clock starts at its first chapter) and the camera
 * orientations, row by row in its order (chapter 0 keeps every row). */
static void scan_rows(struct sc_vehicle *v, const char *csv)
{
	size_t alloc = 0, row = 0;
	int rot_ok = 1;

	v->rot = xcalloc(9 * v->poses.n + 9, sizeof(double));
	for (const char *line = strchr(csv, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
		chapter_start(v, &alloc, line + 1);
		if (row >= v->poses.n || row_rotation(line + 1, &v->rot[9 * row]) < 0)
			rot_ok = 0;
		row++;
	}
	if (!rot_ok || row != v->poses.n) {
		free(v->rot);
		v->rot = NULL;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Half the median interval between rows: a frame further than that from every
 * true pose has none. */
static double half_interval(const struct sq_ate_truth *p)
{
	double *d = xcalloc(p->n + 1, sizeof(*d)), m;
	size_t n = 0;

	for (size_t i = 1; i < p->n; i++)
		if (p->t_s[i] > p->t_s[i - 1])
			d[n++] = p->t_s[i] - p->t_s[i - 1];
	qsort(d, n, sizeof(*d), cmp_double);
	m = n ? d[n / 2] / 2 : 1e-3;
	free(d);
	return m;
}

static int load_vehicle(struct sc_vehicle *v, const char *dir, const char *file, int number,
			struct sq_err *err)
{
	char *path = sq_path_join(dir, file), *csv = sq_read_file(path, NULL, err);
	int rc = -1;

	v->number = number;
	if (!csv)
		goto out;
	if (sq_ate_truth_parse(&v->poses, csv, 0, err) < 0) {
		sq_err_prefix(err, "'%s'", path);
		goto out;
	}
	scan_rows(v, csv);
	v->tol_s = half_interval(&v->poses);
	rc = 0;
out:
	free(csv);
	free(path);
	return rc;
}

/* auv<N>-poses.csv gives N; any other name -1. */
static int poses_file_vehicle(const char *file)
{
	char *end;
	long v;

	if (strncmp(file, "auv", 3) != 0)
		return -1;
	v = strtol(file + 3, &end, 10);
	if (end == file + 3 || v < 1 || v > SC_VEHICLE_MAX || strcmp(end, "-poses.csv") != 0)
		return -1;
	return (int)v;
}

static int load_vehicles(struct sc_truth *t, const char *dir, struct sq_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t alloc = 0;
	int rc = 0;

	if (!d)
		return sq_error_errno(err, errno, "cannot open '%s'", dir);
	while (rc == 0 && (e = readdir(d))) {
		int veh = poses_file_vehicle(e->d_name);

		if (veh < 0)
			continue;
		xgrow((void **)&t->v, &alloc, t->nv + 1, sizeof(*t->v));
		memset(&t->v[t->nv], 0, sizeof(*t->v));
		rc = load_vehicle(&t->v[t->nv++], dir, e->d_name, veh, err);
	}
	closedir(d);
	if (rc == 0 && t->nv == 0)
		rc = sq_error(err, SQ_ERR_INVALID, "no auv<N>-poses.csv in '%s'", dir);
	return rc;
}

static void survey_extent(struct sc_truth *t)
{
	double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};

	for (size_t i = 0; i < t->nv; i++)
		for (size_t j = 0; j < t->v[i].poses.n; j++)
			for (int k = 0; k < 2; k++) {
				lo[k] = fmin(lo[k], t->v[i].poses.c[3 * j + (size_t)k]);
				hi[k] = fmax(hi[k], t->v[i].poses.c[3 * j + (size_t)k]);
			}
	t->extent_m = hypot(hi[0] - lo[0], hi[1] - lo[1]);
}

/* --- the seabed ------------------------------------------------------------------- */

struct terrain_read {
	struct sc_truth *t;
	size_t alloc;
};

static int terrain_chunk(void *ctx, const struct sq_ply_chunk *c, struct sq_err *err)
{
	struct terrain_read *r = ctx;

	(void)err;
	xgrow((void **)&r->t->terrain, &r->alloc, 3 * (r->t->nterrain + c->n) + 3, sizeof(float));
	for (size_t i = 0; i < 3 * c->n; i++)
		r->t->terrain[3 * r->t->nterrain + i] = (float)c->xyz[i];
	r->t->nterrain += c->n;
	return 0;
}

/* The median distance from a vertex to its nearest neighbour, over a sample. */
static double terrain_spacing(const struct sc_truth *t)
{
	size_t step = t->nterrain / SC_SPACING_SAMPLES + 1, n = 0;
	double *d = xcalloc(SC_SPACING_SAMPLES + 1, sizeof(*d)), m;

	for (size_t i = 0; i < t->nterrain && n < SC_SPACING_SAMPLES; i += step) {
		float d2[2];

		if (sq_kdtree_search(t->tree, &t->terrain[3 * i], 2, INFINITY, NULL, d2) == 2)
			d[n++] = sqrt(d2[1]);
	}
	qsort(d, n, sizeof(*d), cmp_double);
	m = n ? d[n / 2] : 0;
	free(d);
	return m;
}

static int load_terrain(struct sc_truth *t, const char *dir, struct sq_err *err)
{
	char *path = sq_path_join(dir, "terrain.ply");
	struct terrain_read r = {t, 0};
	int rc = -1;

	if (sq_ply_stream(path, NULL, terrain_chunk, &r, err) < 0)
		goto out;
	if (t->nterrain < SC_PLANE_K) {
		sq_error(err, SQ_ERR_INVALID, "'%s' has %zu vertices: not a surface", path,
			 t->nterrain);
		goto out;
	}
	t->tree = sq_kdtree_build(t->terrain, t->nterrain, 3);
	t->spacing_m = terrain_spacing(t);
	rc = 0;
out:
	free(path);
	return rc;
}

int sc_truth_load(struct sc_truth *t, const char *dir, struct sq_err *err)
{
	memset(t, 0, sizeof(*t));
	if (load_vehicles(t, dir, err) < 0 || load_terrain(t, dir, err) < 0)
		return -1;
	survey_extent(t);
	t->far_m = fmax(SC_FAR_MIN_M, SC_FAR_SHARE * t->extent_m);
	return 0;
}

void sc_truth_release(struct sc_truth *t)
{
	for (size_t i = 0; i < t->nv; i++) {
		sq_ate_truth_release(&t->v[i].poses);
		free(t->v[i].chapter_t0);
		free(t->v[i].rot);
	}
	free(t->v);
	sq_kdtree_free(t->tree);
	free(t->terrain);
	memset(t, 0, sizeof(*t));
}

/* The normal (unit) of the plane through the k vertices idx, and their centroid. */
static void local_plane(const struct sc_truth *t, const size_t *idx, size_t k, double c[3],
			double n[3])
{
	double cov[9] = {0}, eval[3], V[9];

	c[0] = c[1] = c[2] = 0;
	for (size_t i = 0; i < k; i++)
		for (int a = 0; a < 3; a++)
			c[a] += t->terrain[3 * idx[i] + (size_t)a] / (double)k;
	for (size_t i = 0; i < k; i++)
		for (int a = 0; a < 3; a++)
			for (int b = 0; b < 3; b++)
				cov[3 * a + b] += (t->terrain[3 * idx[i] + (size_t)a] - c[a]) *
						  (t->terrain[3 * idx[i] + (size_t)b] - c[b]);
	sq_sym3_eigen(cov, eval, V); /* the normal: column 0, the smallest spread */
	for (int a = 0; a < 3; a++)
		n[a] = V[3 * a];
}

/* Distance from p to the plane through the terrain vertices nearest it, or to
 * the nearest vertex when p lies beside the sampled area rather than over it.
 * Nothing within t->far_m: -1 (the search stays short; see sc_truth). */
static double surface_distance(const struct sc_truth *t, const double p[3])
{
	float q[3] = {(float)p[0], (float)p[1], (float)p[2]}, d2[SC_PLANE_K];
	size_t idx[SC_PLANE_K],
	    k = sq_kdtree_search(t->tree, q, SC_PLANE_K, (float)(t->far_m * t->far_m), idx, d2);
	double c[3], n[3], along = 0, plane = 0, lateral2;

	if (k == 0)
		return -1;
	if (k < 3)
		return sqrt((double)d2[0]);
	local_plane(t, idx, k, c, n);
	for (int a = 0; a < 3; a++) {
		along += (p[a] - t->terrain[3 * idx[0] + (size_t)a]) * n[a];
		plane += (p[a] - c[a]) * n[a];
	}
	lateral2 = (double)d2[0] - along * along;
	if (lateral2 > 4 * t->spacing_m * t->spacing_m)
		return sqrt((double)d2[0]);
	return fabs(plane);
}

struct surface_read {
	const struct sc_truth *t;
	const struct sq_sim *T;
	struct sc_rms *acc;
};

static int surface_chunk(void *ctx, const struct sq_ply_chunk *c, struct sq_err *err)
{
	struct surface_read *r = ctx;

	(void)err;
	xgrow((void **)&r->acc->d_m, &r->acc->alloc, r->acc->n + c->n, sizeof(float));
	for (size_t i = 0; i < c->n; i++) {
		double p[3], d;

		sq_sim_apply(r->T, &c->xyz[3 * i], p);
		if ((d = surface_distance(r->t, p)) < 0) {
			d = r->t->far_m;
			r->acc->far++;
		}
		r->acc->sum2_m2 += d * d;
		r->acc->d_m[r->acc->n++] = (float)d;
	}
	return 0;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

double sc_surface_median(struct sc_rms *acc)
{
	if (acc->n == 0)
		return 0;
	qsort(acc->d_m, acc->n, sizeof(float), cmp_float);
	return acc->d_m[acc->n / 2];
}

int sc_surface_add(const struct sc_truth *t, const char *path, const struct sq_sim *T,
		   struct sc_rms *acc, struct sq_err *err)
{
	struct surface_read r = {t, T, acc};

	return sq_ply_stream(path, NULL, surface_chunk, &r, err);
}

/* --- a task's cameras ------------------------------------------------------------- */

struct source {
	const struct sc_vehicle *v; /* NULL: not a video of the survey */
	int chapter;
};

/* What frames.json says of the task: its sources and, per frame, which one. */
struct task_frames {
	cJSON *doc;
	struct source *src; /* nsrc */
	size_t nsrc;
	const cJSON **frame; /* nframe: frames.json's frames, for lookup by file */
	size_t nframe;
};

static const struct sc_vehicle *vehicle(const struct sc_truth *t, int number)
{
	for (size_t i = 0; i < t->nv; i++)
		if (t->v[i].number == number)
			return &t->v[i];
	return NULL;
}

static void add_source(struct task_frames *tf, const struct sc_truth *t, int veh, int ch)
{
	tf->src = xrealloc(tf->src, (tf->nsrc + 1) * sizeof(*tf->src));
	tf->src[tf->nsrc].v = vehicle(t, veh);
	tf->src[tf->nsrc++].chapter = ch;
}

/* Sources from frames.json's "sources" (video names), else from the task name. */
static int task_sources(struct task_frames *tf, const struct sc_truth *t, const char *name,
			struct sq_err *err)
{
	const cJSON *s, *f;
	int veh, ch;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(tf->doc, "sources"))
	{
		if (!cJSON_IsString(s) ||
		    parse_name(base_name(s->valuestring), ".mp4", 0, &veh, &ch) < 0)
			veh = ch = 0;
		add_source(tf, t, veh, ch);
	}
	if (tf->nsrc == 0 && parse_name(name, "", 1, &veh, &ch) == 0)
		add_source(tf, t, veh, ch);
	if (tf->nsrc == 0 || !tf->src[0].v)
		return sq_error(err, SQ_ERR_INVALID,
				"cannot tell the vehicle of task '%s': neither its videos nor its "
				"name are auv<N>-ch<NN> of a vehicle in the truth",
				name);
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(tf->doc, "frames"))
	{
		tf->frame = xrealloc(tf->frame, (tf->nframe + 1) * sizeof(*tf->frame));
		tf->frame[tf->nframe++] = f;
	}
	return 0;
}

static void task_frames_release(struct task_frames *tf)
{
	cJSON_Delete(tf->doc);
	free(tf->src);
	free(tf->frame);
}

/* frames.json's entry for file (frame_000042.jpg is usually entry 41). */
static const cJSON *frame_entry(const struct task_frames *tf, const char *file)
{
	const char *digits = strchr(file, '_');
	long i = digits ? strtol(digits + 1, NULL, 10) - 1 : -1;
	const cJSON *f;

	if (i >= 0 && (size_t)i < tf->nframe) {
		f = cJSON_GetObjectItemCaseSensitive(tf->frame[i], "file");
		if (cJSON_IsString(f) && strcmp(f->valuestring, file) == 0)
			return tf->frame[i];
	}
	for (size_t k = 0; k < tf->nframe; k++) {
		f = cJSON_GetObjectItemCaseSensitive(tf->frame[k], "file");
		if (cJSON_IsString(f) && strcmp(f->valuestring, file) == 0)
			return tf->frame[k];
	}
	return NULL;
}

/* The vehicle and vehicle time of a frame: its own source's chapter start plus
 * its time in that source when frames.json says (a task that also decoded the
 * first seconds of the next chapter), else the task's first chapter start plus
 * pts_s (chapters follow each other without a gap). */
static const struct sc_vehicle *frame_time(const struct task_frames *tf, const cJSON *rec_frame,
					   double *t_s)
{
	const cJSON *file = cJSON_GetObjectItemCaseSensitive(rec_frame, "file");
	const cJSON *e = cJSON_IsString(file) ? frame_entry(tf, file->valuestring) : NULL;
	const cJSON *si = cJSON_GetObjectItemCaseSensitive(e, "source");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "source_pts_s");
	const cJSON *pts = cJSON_GetObjectItemCaseSensitive(rec_frame, "pts_s");
	const struct source *s = &tf->src[0];
	double local;

	if (cJSON_IsNumber(si) && si->valueint >= 0 && (size_t)si->valueint < tf->nsrc &&
	    cJSON_IsNumber(st)) {
		s = &tf->src[si->valueint];
		local = st->valuedouble;
	} else if (cJSON_IsNumber(pts)) {
		local = pts->valuedouble;
	} else {
		return NULL;
	}
	if (!s->v || s->chapter > s->v->nchapters || isnan(s->v->chapter_t0[s->chapter]))
		return NULL;
	*t_s = s->v->chapter_t0[s->chapter] + local;
	return s->v;
}

/* Index of the true pose nearest time ts, or -1 when none is within tol. */
static long nearest_pose(const struct sc_vehicle *v, double ts)
{
	const struct sq_ate_truth *p = &v->poses;
	size_t lo = 0, hi = p->n - 1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->t_s[mid] < ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && fabs(p->t_s[lo - 1] - ts) <= fabs(p->t_s[lo] - ts))
		lo--;
	return fabs(p->t_s[lo] - ts) <= v->tol_s ? (long)lo : -1;
}

/* 0 when a is an array of 3 finite numbers. */
static int numbers3(const cJSON *a)
{
	const cJSON *e;

	if (cJSON_GetArraySize(a) != 3)
		return -1;
	cJSON_ArrayForEach(e, a)
	{
		if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
			return -1;
	}
	return 0;
}

/* The camera's orientation in the task's frame, if the record has one. */
static int camera_rotation(const cJSON *frame, double R[9])
{
	double q[4];
	const cJSON *v;
	int i = 0;

	if (cJSON_GetArraySize(v = cJSON_GetObjectItemCaseSensitive(frame, "rotation")) != 4)
		return -1;
	for (const cJSON *e = v->child; e; e = e->next) {
		if (!cJSON_IsNumber(e))
			return -1;
		q[i++] = e->valuedouble;
	}
	return quat_rot(q, R);
}

static void pair_one(struct sc_cams *c, const cJSON *f, const cJSON *centre,
		     const struct sc_vehicle *v, size_t k)
{
	for (int i = 0; i < 3; i++) {
		c->est[3 * c->n + (size_t)i] = cJSON_GetArrayItem(centre, i)->valuedouble;
		c->ref[3 * c->n + (size_t)i] = v->poses.c[3 * k + (size_t)i];
	}
	if (v->rot && camera_rotation(f, &c->est_rot[9 * c->n]) == 0)
		memcpy(&c->ref_rot[9 * c->n], &v->rot[9 * k], 9 * sizeof(double));
	else
		c->rotations = 0;
	c->n++;
}

static void pair_cameras(const struct task_frames *tf, const cJSON *frames, struct sc_cams *c)
{
	size_t n = (size_t)cJSON_GetArraySize(frames);
	const cJSON *f;

	c->est = xcalloc(3 * n + 3, sizeof(double));
	c->ref = xcalloc(3 * n + 3, sizeof(double));
	c->est_rot = xcalloc(9 * n + 9, sizeof(double));
	c->ref_rot = xcalloc(9 * n + 9, sizeof(double));
	c->rotations = 1;
	cJSON_ArrayForEach(f, frames)
	{
		const cJSON *centre = cJSON_GetObjectItemCaseSensitive(f, "centre");
		const struct sc_vehicle *v;
		double ts;
		long k;

		c->frames++;
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "registered")) ||
		    numbers3(centre) < 0)
			continue;
		c->registered++;
		if ((v = frame_time(tf, f, &ts)) && (k = nearest_pose(v, ts)) >= 0)
			pair_one(c, f, centre, v, (size_t)k);
	}
}

/* Parses dir/file; a missing file gives NULL with *missing set and err untouched. */
static cJSON *load_json(const char *dir, const char *file, int *missing, struct sq_err *err)
{
	char *path = sq_path_join(dir, file), *text = NULL;
	cJSON *doc = NULL;

	*missing = !sq_path_exists(path);
	if (*missing || !(text = sq_read_file(path, NULL, err)))
		goto out;
	if (!(doc = cJSON_Parse(text)) || !cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		doc = NULL;
		sq_error(err, SQ_ERR_INVALID, "'%s' is not a JSON object", path);
	}
out:
	free(text);
	free(path);
	return doc;
}

int sc_task_cameras(const struct sc_truth *t, const char *dir, const char *name, struct sc_cams *c,
		    struct sq_err *err)
{
	struct task_frames tf = {0};
	cJSON *rec;
	int missing, rc = -1;

	memset(c, 0, sizeof(*c));
	if (!(rec = load_json(dir, "reconstruct.json", &missing, err))) {
		if (missing)
			sq_error(err, SQ_ERR_IO, "task '%s' has no reconstruct.json in '%s'", name,
				 dir);
		goto out;
	}
	tf.doc = load_json(dir, "frames.json", &missing, err);
	if ((!tf.doc && !missing) || task_sources(&tf, t, name, err) < 0)
		goto out;
	pair_cameras(&tf, cJSON_GetObjectItemCaseSensitive(rec, "frames"), c);
	rc = 0;
out:
	task_frames_release(&tf);
	cJSON_Delete(rec);
	return rc;
}

void sc_cams_release(struct sc_cams *c)
{
	free(c->est);
	free(c->ref);
	free(c->est_rot);
	free(c->ref_rot);
	memset(c, 0, sizeof(*c));
}
