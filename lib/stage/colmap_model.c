/* colmap_model.c - reading COLMAP's TXT model and judging it (see colmap.h).
 *
 * Parsing does no I/O, so the rules are tested on hand-written models. The file
 * format is COLMAP's documented text output: '#' comment lines, then one line per
 * camera or point, and two lines per image (the second, the image's keypoints,
 * may be empty). */
#include "stage/colmap.h"
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/mathutil.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

/* --- lines and numbers ---------------------------------------------------------- */

struct lines {
	const char *p; /* next unread character */
	int lineno;    /* of the line last returned */
};

/* Returns the next line as a new string (without '\n'), or NULL at the end. */
static char *next_line(struct lines *l)
{
	const char *nl;
	char *line;

	if (!l->p || !*l->p)
		return NULL;
	nl = strchr(l->p, '\n');
	line = nl ? xstrndup(l->p, (size_t)(nl - l->p)) : xstrdup(l->p);
	l->p = nl ? nl + 1 : NULL;
	l->lineno++;
	if (*line && line[strlen(line) - 1] == '\r')
		line[strlen(line) - 1] = '\0';
	return line;
}

/* The next non-comment line, or NULL. */
static char *next_data_line(struct lines *l)
{
	char *line;

	while ((line = next_line(l)) && line[0] == '#')
		free(line);
	return line;
}

static int read_double(const char **p, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(*p, &end);
	if (end == *p || errno == ERANGE || !isfinite(*out))
		return -1;
	*p = end;
	return 0;
}

static int read_long(const char **p, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(*p, &end, 10);
	if (end == *p || errno == ERANGE || (*end && *end != ' ' && *end != '\t'))
		return -1;
	*p = end;
	return 0;
}

static int read_int(const char **p, int *out)
{
	long v;

	if (read_long(p, &v) < 0 || v < -2147483647L || v > 2147483647L)
		return -1;
	*out = (int)v;
	return 0;
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int bad_line(struct sq_err *err, const char *file, int lineno, const char *what)
{
	return sq_error(err, SQ_ERR_BACKEND, "invalid colmap %s: line %d: %s", file, lineno, what);
}

/* --- cameras.txt ------------------------------------------------------------------ */

/* CAMERA_ID MODEL WIDTH HEIGHT PARAMS[] */
static int camera_line(struct sq_colmap_camera *c, const char *line)
{
	const char *p = line, *model;
	size_t len;

	memset(c, 0, sizeof(*c));
	if (read_int(&p, &c->id) < 0)
		return -1;
	model = skip_blanks(p);
	len = strcspn(model, " \t");
	if (len == 0 || len >= sizeof(c->model))
		return -1;
	memcpy(c->model, model, len);
	p = model + len;
	if (read_int(&p, &c->width) < 0 || read_int(&p, &c->height) < 0)
		return -1;
	while (*skip_blanks(p)) {
		if (c->nparams == (int)(sizeof(c->params) / sizeof(c->params[0])) ||
		    read_double(&p, &c->params[c->nparams]) < 0)
			return -1;
		c->nparams++;
	}
	return 0;
}

int sq_colmap_parse_cameras(struct sq_colmap_model *m, const char *text, struct sq_err *err)
{
	struct lines l = {text, 0};
	size_t alloc = m->ncameras;
	char *line;
	int rc = 0;

	while (rc == 0 && (line = next_data_line(&l))) {
		if (*skip_blanks(line)) {
			xgrow((void **)&m->cameras, &alloc, m->ncameras + 1, sizeof(*m->cameras));
			if (camera_line(&m->cameras[m->ncameras], line) < 0)
				rc = bad_line(err, "cameras.txt", l.lineno,
					      "expected CAMERA_ID MODEL WIDTH HEIGHT PARAMS");
			else
				m->ncameras++;
		}
		free(line);
	}
	return rc;
}

/* --- images.txt ------------------------------------------------------------------- */

/* IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME (the name may hold blanks) */
static int image_line(struct sq_colmap_image *im, const char *line)
{
	const char *p = line;

	memset(im, 0, sizeof(*im));
	if (read_int(&p, &im->id) < 0)
		return -1;
	for (int i = 0; i < 4; i++)
		if (read_double(&p, &im->q[i]) < 0)
			return -1;
	for (int i = 0; i < 3; i++)
		if (read_double(&p, &im->t[i]) < 0)
			return -1;
	if (read_int(&p, &im->camera_id) < 0)
		return -1;
	p = skip_blanks(p);
	if (!*p)
		return -1;
	im->name = xstrdup(p);
	return 0;
}

/* POINTS2D[] as (X, Y, POINT3D_ID): counts those with a 3D point (id != -1). */
static int keypoints_line(struct sq_colmap_image *im, const char *line)
{
	const char *p = line;
	double x, y;
	long id;

	while (*skip_blanks(p)) {
		if (read_double(&p, &x) < 0 || read_double(&p, &y) < 0 || read_long(&p, &id) < 0)
			return -1;
		if (id != -1)
			im->observations++;
	}
	return 0;
}

int sq_colmap_parse_images(struct sq_colmap_model *m, const char *text, struct sq_err *err)
{
	struct lines l = {text, 0};
	size_t alloc = m->nimages;
	char *line, *kp;
	int rc = 0;

	while (rc == 0 && (line = next_data_line(&l))) {
		struct sq_colmap_image *im;

		xgrow((void **)&m->images, &alloc, m->nimages + 1, sizeof(*m->images));
		im = &m->images[m->nimages];
		if (image_line(im, line) < 0) {
			rc = bad_line(err, "images.txt", l.lineno,
				      "expected IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME");
			free(im->name);
		} else {
			m->nimages++;
			kp = next_line(&l); /* may be missing at the very end: no keypoints */
			if (kp && keypoints_line(im, kp) < 0)
				rc = bad_line(err, "images.txt", l.lineno,
					      "expected keypoints as X Y POINT3D_ID triples");
			free(kp);
		}
		free(line);
	}
	return rc;
}

/* --- points3D.txt ----------------------------------------------------------------- */

/* POINT3D_ID X Y Z R G B ERROR TRACK[] as (IMAGE_ID, POINT2D_IDX) */
static int point_line(struct sq_colmap_model *m, struct sq_colmap_point *pt, const char *line)
{
	const char *p = line;
	long id, rgb, a, b;

	memset(pt, 0, sizeof(*pt));
	pt->obs = m->nobs;
	if (read_long(&p, &id) < 0)
		return -1;
	for (int i = 0; i < 3; i++)
		if (read_double(&p, &pt->xyz[i]) < 0)
			return -1;
	for (int i = 0; i < 3; i++)
		if (read_long(&p, &rgb) < 0)
			return -1;
	if (read_double(&p, &pt->error_px) < 0)
		return -1;
	while (*skip_blanks(p)) {
		if (read_long(&p, &a) < 0 || read_long(&p, &b) < 0)
			return -1;
		xgrow((void **)&m->obs, &m->obs_alloc, m->nobs + 1, sizeof(*m->obs));
		m->obs[m->nobs++] = (struct sq_colmap_obs){a, b};
		pt->track++;
	}
	return 0;
}

int sq_colmap_parse_points(struct sq_colmap_model *m, const char *text, struct sq_err *err)
{
	struct lines l = {text, 0};
	size_t alloc = m->npoints;
	char *line;
	int rc = 0;

	while (rc == 0 && (line = next_data_line(&l))) {
		if (*skip_blanks(line)) {
			xgrow((void **)&m->points, &alloc, m->npoints + 1, sizeof(*m->points));
			if (point_line(m, &m->points[m->npoints], line) < 0)
				rc = bad_line(err, "points3D.txt", l.lineno,
					      "expected POINT3D_ID X Y Z R G B ERROR TRACK");
			else
				m->npoints++;
		}
		free(line);
	}
	return rc;
}

static int load_one(struct sq_colmap_model *m, const char *dir, const char *name,
		    int (*parse)(struct sq_colmap_model *, const char *, struct sq_err *),
		    struct sq_err *err)
{
	char *path = sq_path_join(dir, name), *text = sq_read_file(path, NULL, err);
	int rc = text ? parse(m, text, err) : -1;

	free(text);
	free(path);
	return rc;
}

int sq_colmap_model_load(struct sq_colmap_model *m, const char *dir, struct sq_err *err)
{
	memset(m, 0, sizeof(*m));
	if (load_one(m, dir, "cameras.txt", sq_colmap_parse_cameras, err) < 0 ||
	    load_one(m, dir, "images.txt", sq_colmap_parse_images, err) < 0 ||
	    load_one(m, dir, "points3D.txt", sq_colmap_parse_points, err) < 0) {
		sq_colmap_model_release(m);
		return -1;
	}
	return 0;
}

void sq_colmap_model_release(struct sq_colmap_model *m)
{
	for (size_t i = 0; i < m->nimages; i++)
		free(m->images[i].name);
	free(m->images);
	free(m->cameras);
	free(m->points);
	free(m->obs);
	memset(m, 0, sizeof(*m));
}

void sq_colmap_image_pose(const struct sq_colmap_image *im, double centre[3], double q_c2w[4])
{
	double n = sqrt(im->q[0] * im->q[0] + im->q[1] * im->q[1] + im->q[2] * im->q[2] +
			im->q[3] * im->q[3]);
	double w = im->q[0] / n, x = im->q[1] / n, y = im->q[2] / n, z = im->q[3] / n;
	const double r[9] = {
	    1 - 2 * (y * y + z * z), 2 * (x * y - w * z),     2 * (x * z + w * y),
	    2 * (x * y + w * z),     1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
	    2 * (x * z - w * y),     2 * (y * z + w * x),     1 - 2 * (x * x + y * y),
	};
	double s = w < 0 ? -1 : 1; /* q and -q are one rotation: keep qw >= 0 */

	for (int i = 0; i < 3; i++) /* c = -R^T t */
		centre[i] = -(r[i] * im->t[0] + r[3 + i] * im->t[1] + r[6 + i] * im->t[2]);
	q_c2w[0] = s * w; /* the inverse rotation: the conjugate */
	q_c2w[1] = -s * x;
	q_c2w[2] = -s * y;
	q_c2w[3] = -s * z;
}

/* --- assessing ------------------------------------------------------------------ */

/* Diagonal of the box spanning the lo..hi quantiles of each axis of n points
 * (xyz: 3n values). Quantiles rather than the extremes, so that a few stray
 * points or cameras do not decide the figure. */
static double extent(const double *xyz, size_t n, double lo, double hi)
{
	double *v = xcalloc(n ? n : 1, sizeof(*v)), sum = 0;

	for (int a = 0; n && a < 3; a++) {
		for (size_t i = 0; i < n; i++)
			v[i] = xyz[3 * i + (size_t)a];
		qsort(v, n, sizeof(*v), sq_cmp_double);
		double d = v[(size_t)(hi * (double)(n - 1) + 0.5)] -
			   v[(size_t)(lo * (double)(n - 1) + 0.5)];
		sum += d * d;
	}
	free(v);
	return sqrt(sum);
}

static double dist(const double a[3], const double b[3])
{
	return sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
		    (a[2] - b[2]) * (a[2] - b[2]));
}

static int cmp_image_name(const void *a, const void *b)
{
	const struct sq_colmap_image *x = *(const struct sq_colmap_image *const *)a;
	const struct sq_colmap_image *y = *(const struct sq_colmap_image *const *)b;

	return strcmp(x->name, y->name);
}

/* Fills poses[] (n) from the model's images, matched by name. */
static void match_images(const struct sq_colmap_model *m, const char *const *names, size_t n,
			 struct sq_colmap_pose *poses)
{
	const struct sq_colmap_image **by_name = xcalloc(m->nimages + 1, sizeof(*by_name));

	for (size_t i = 0; i < m->nimages; i++)
		by_name[i] = &m->images[i];
	qsort(by_name, m->nimages, sizeof(*by_name), cmp_image_name);
	for (size_t i = 0; i < n; i++) {
		struct sq_colmap_image key = {.name = (char *)names[i]};
		const struct sq_colmap_image *kp = &key, **hit;

		hit = bsearch(&kp, by_name, m->nimages, sizeof(*by_name), cmp_image_name);
		memset(&poses[i], 0, sizeof(poses[i]));
		if (hit) {
			poses[i].registered = 1;
			sq_colmap_image_pose(*hit, poses[i].centre, poses[i].q);
		}
	}
	free(by_name);
}

static void assess_points(const struct sq_colmap_model *m, struct sq_colmap_quality *q)
{
	double track = 0, error = 0, *xyz = xcalloc(3 * m->npoints + 3, sizeof(*xyz));

	for (size_t i = 0; i < m->npoints; i++) {
		track += m->points[i].track;
		error += m->points[i].error_px;
		memcpy(&xyz[3 * i], m->points[i].xyz, sizeof(m->points[i].xyz));
	}
	q->points = m->npoints;
	q->mean_track = m->npoints ? track / (double)m->npoints : 0;
	q->mean_reproj_px = m->npoints ? error / (double)m->npoints : 0;
	q->scene_extent = extent(xyz, m->npoints, 0.02, 0.98);
	free(xyz);
}

/* The camera path of the registered frames in frame order: its extent, the median
 * move per frame between consecutive registered frames, and the share of moves
 * that are jumps: over ten times the median and over 5% of the scene. */
static void assess_path(const struct sq_colmap_pose *poses, size_t n, struct sq_colmap_quality *q)
{
	double *centres = xcalloc(3 * n + 3, sizeof(double)),
	       *steps = xcalloc(n + 1, sizeof(double));
	size_t nc = 0, ns = 0, jumps = 0, last = 0;

	for (size_t i = 0; i < n; i++) {
		if (!poses[i].registered)
			continue;
		memcpy(&centres[3 * nc], poses[i].centre, sizeof(poses[i].centre));
		if (nc++ > 0)
			steps[ns++] =
			    dist(poses[i].centre, poses[last].centre) / (double)(i - last);
		last = i;
	}
	q->path_extent = extent(centres, nc, 0.05, 0.95);
	memcpy(centres, steps, ns * sizeof(double)); /* sq_median() sorts: keep steps in order */
	q->median_step = sq_median(centres, ns);
	for (size_t i = 0; i < ns; i++)
		if (steps[i] > 10 * q->median_step && steps[i] > 0.05 * q->scene_extent)
			jumps++;
	q->jump_share = ns ? (double)jumps / (double)ns : 0;
	free(steps);
	free(centres);
}

void sq_colmap_assess(const struct sq_colmap_model *m, const char *const *names, size_t n,
		      struct sq_colmap_pose *poses, struct sq_colmap_quality *q)
{
	struct sq_colmap_pose *own = poses ? NULL : xcalloc(n + 1, sizeof(*own));

	if (!poses)
		poses = own;
	memset(q, 0, sizeof(*q));
	match_images(m, names, n, poses);
	q->frames = n;
	for (size_t i = 0; i < n; i++)
		q->registered += (size_t)poses[i].registered;
	q->registered_share = n ? (double)q->registered / (double)n : 0;
	assess_points(m, q);
	assess_path(poses, n, q);
	free(own);
}

/* --- judging -------------------------------------------------------------------- */

static void problem(struct sq_strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct sq_strbuf *sb, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sq_strbuf_addf(sb, "%s%s", sb->len ? "; " : "", buf);
}

/* The path checks only mean something on a model with a scene and a path. */
static void judge_path(const struct sq_colmap_quality *q, struct sq_strbuf *sb)
{
	if (q->registered < 2 || q->points < 3 || q->scene_extent <= 0) {
		problem(sb, "model too small to judge (%zu frames, %zu points)", q->registered,
			q->points);
		return;
	}
	if (q->path_extent > SQ_COLMAP_MAX_PATH_RATIO * q->scene_extent)
		problem(sb, "camera path spans %.1fx the scene (limit %.1fx)",
			q->path_extent / q->scene_extent, SQ_COLMAP_MAX_PATH_RATIO);
	if (q->median_step > SQ_COLMAP_MAX_STEP_RATIO * q->scene_extent)
		problem(sb, "cameras move %.0f%% of the scene per frame (limit %.0f%%)",
			100 * q->median_step / q->scene_extent, 100 * SQ_COLMAP_MAX_STEP_RATIO);
	if (q->jump_share > SQ_COLMAP_MAX_JUMP_SHARE)
		problem(sb, "%.0f%% of camera moves are jumps (limit %.0f%%)", 100 * q->jump_share,
			100 * SQ_COLMAP_MAX_JUMP_SHARE);
}

int sq_colmap_judge(const struct sq_colmap_quality *q, int min_registered_pct, struct sq_err *err)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	int rc = 0;

	if (100 * q->registered_share < min_registered_pct || q->registered == 0)
		problem(&sb, "%.0f%% of frames registered (need %d%%)", 100 * q->registered_share,
			min_registered_pct);
	if (q->mean_track < SQ_COLMAP_MIN_TRACK)
		problem(&sb, "points seen by %.1f frames on average (need %.1f)", q->mean_track,
			SQ_COLMAP_MIN_TRACK);
	if (q->mean_reproj_px > SQ_COLMAP_MAX_REPROJ_PX)
		problem(&sb, "reprojection error %.2f px (limit %.1f)", q->mean_reproj_px,
			SQ_COLMAP_MAX_REPROJ_PX);
	judge_path(q, &sb);
	if (sb.len)
		rc = sq_error(err, SQ_ERR_BACKEND,
			      "colmap reconstruction rejected: %s [registered %zu/%zu frames, %zu "
			      "points, track %.1f, reprojection %.2f px, scene extent %.3g, camera "
			      "path %.3g, median move %.3g/frame, jumps %.0f%%]",
			      sb.buf, q->registered, q->frames, q->points, q->mean_track,
			      q->mean_reproj_px, q->scene_extent, q->path_extent, q->median_step,
			      100 * q->jump_share);
	sq_strbuf_release(&sb);
	return rc;
}
