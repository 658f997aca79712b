/* render.c - ray casting the height field (see render.h).
 *
 * A ray walks the terrain's blocks and skips every block whose highest point
 * it passes above. Where it dips below a block's top it is marched with safe
 * steps: f metres above the surface, with |grad h| <= L over the block, it
 * cannot meet the seabed before its parameter has grown by f / (|dz| + L |dxy|),
 * so no hill is ever skipped (occlusion is exact). Near the surface two secant
 * steps finish. Straight down this takes two or three look-ups. */
#include "render.h"
#include "base/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include "base/banned.h"

#define MARCH_MAX 96	  /* safe steps before giving up (never reached in practice) */
#define MARCH_CLOSE 0.02f /* metres above the surface where secant steps take over */
#define SECANT_STEPS 2

struct synth_renderer *synth_renderer_new(const struct synth_camera *cam)
{
	struct synth_renderer *r = xcalloc(1, sizeof(*r));
	size_t n = (size_t)cam->width * (size_t)cam->height;

	r->cam = *cam;
	r->rays = xmalloc(n * 3 * sizeof(*r->rays));
	for (int j = 0; j < cam->height; j++)
		for (int i = 0; i < cam->width; i++) {
			float *ray = r->rays + ((size_t)j * cam->width + i) * 3;
			double xn, yn;

			synth_camera_ray(cam, i + 0.5, j + 0.5, &xn, &yn);
			ray[0] = (float)xn;
			ray[1] = (float)yn;
			ray[2] = 1.0f;
		}
	return r;
}

void synth_renderer_free(struct synth_renderer *r)
{
	if (!r)
		return;
	free(r->rays);
	free(r);
}

/* A ray c + lam * d (d[2] < 0) in grid units, and where its search stands. */
struct ray {
	float u0, v0, du, dv; /* horizontal, in height cells from the domain origin */
	float z0, dz, inv_dz; /* height: z0 - lam * dz (so dz > 0) */
	float dxy;	      /* horizontal length of d, metres */
	int steps;	      /* height look-ups */
};

static void ray_init(struct ray *r, const struct synth_terrain *t, const float c[3],
		     const float d[3])
{
	r->u0 = (float)(c[0] - t->x0_m) * t->inv_cell;
	r->v0 = (float)(c[1] - t->y0_m) * t->inv_cell;
	r->du = d[0] * t->inv_cell;
	r->dv = d[1] * t->inv_cell;
	r->z0 = c[2];
	r->dz = -d[2];
	r->inv_dz = 1.0f / r->dz;
	r->dxy = sqrtf(d[0] * d[0] + d[1] * d[1]);
	r->steps = 0;
}

/* Height of the ray above the seabed at parameter lam. */
static float above(const struct synth_terrain *t, const struct ray *r, float lam)
{
	return r->z0 - lam * r->dz -
	       synth_terrain_height_uv(t, r->u0 + lam * r->du, r->v0 + lam * r->dv);
}

/* Safe steps from lam (at or above the surface) while inside the block, which
 * ends at lam_out; returns 1 with *lam and *f at the last point and *prev_lam,
 * *prev_f at the one before when within MARCH_CLOSE of the surface, or 0 when
 * the ray left the block first (*lam = lam_out). */
static int march(const struct synth_terrain *t, struct ray *r, float slope, float lam_out,
		 float *lam, float *f, float *prev_lam, float *prev_f)
{
	float inv_rate = 1.0f / (r->dz + slope * r->dxy);

	*f = above(t, r, *lam);
	r->steps++;
	for (int n = 0; n < MARCH_MAX; n++) {
		float next = *lam + *f * inv_rate;

		if (*f > MARCH_CLOSE && next >= lam_out) {
			*lam = lam_out;
			return 0;
		}
		*prev_lam = *lam;
		*prev_f = *f;
		*lam = next;
		*f = above(t, r, *lam);
		r->steps++;
		if (*f <= MARCH_CLOSE)
			break;
	}
	return 1;
}

/* Secant steps from two points at or above the surface to the root. */
static float refine(const struct synth_terrain *t, struct ray *r, float lam, float f,
		    float prev_lam, float prev_f)
{
	for (int k = 0; k < SECANT_STEPS && fabsf(f) > 1e-4f && prev_f != f; k++) {
		float next = lam - f * (lam - prev_lam) / (f - prev_f);

		prev_lam = lam;
		prev_f = f;
		lam = next;
		f = above(t, r, lam);
		r->steps++;
	}
	return lam;
}

/* One axis of the block walk: the block index, its step, the ray parameter of
 * the next block boundary and the parameter per block. */
static void axis_init(float b, float db, float lam, int *i, int *step, float *next, float *delta)
{
	*i = (int)floorf(b);
	if (db > 0.0f) {
		*step = 1;
		*next = lam + ((float)*i + 1.0f - b) / db;
		*delta = 1.0f / db;
	} else if (db < 0.0f) {
		*step = -1;
		*next = lam + ((float)*i - b) / db;
		*delta = -1.0f / db;
	} else {
		*step = 0;
		*next = *delta = INFINITY;
	}
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

/* fminf/fmaxf without their NaN rules, which keep the compiler from inlining them */
static float minf(float a, float b)
{
	return a < b ? a : b;
}

static float maxf(float a, float b)
{
	return a > b ? a : b;
}

/* Returns the ray parameter of the first hit. Walks the blocks the ray crosses
 * (2D DDA) and only marches where it dips below a block's highest point, with
 * that block's slope bound. */
static float cast(const struct synth_terrain *t, struct ray *r)
{
	const float inv_block = 1.0f / SYNTH_BLOCK;
	float lam = maxf(0.0f, (r->z0 - t->zmax_m) * r->inv_dz), f, prev_lam = 0.0f, prev_f = 0.0f;
	float nu, nv, du, dv, lam_end = (r->z0 - t->zmin_m) * r->inv_dz;
	int i, j, si, sj;

	axis_init((r->u0 + lam * r->du) * inv_block, r->du * inv_block, lam, &i, &si, &nu, &du);
	axis_init((r->v0 + lam * r->dv) * inv_block, r->dv * inv_block, lam, &j, &sj, &nv, &dv);
	while (lam < lam_end) {
		int k = clampi(j, 0, t->bny - 1) * t->bnx + clampi(i, 0, t->bnx - 1);
		float lam_out = minf(minf(nu, nv), lam_end), top = t->block_max[k];

		if (r->z0 - lam_out * r->dz <= top) { /* dips below this block's top */
			lam = maxf(lam, (r->z0 - top) * r->inv_dz);
			if (march(t, r, t->block_slope[k], lam_out, &lam, &f, &prev_lam, &prev_f))
				return refine(t, r, lam, f, prev_lam, prev_f);
		}
		lam = lam_out;
		if (nu < nv) {
			i += si;
			nu += du;
		} else {
			j += sj;
			nv += dv;
		}
	}
	return lam_end; /* below every block: only rounding gets here */
}

static unsigned char clamp_byte(float v)
{
	return v <= 0.0f ? 0 : (v >= 255.0f ? 255 : (unsigned char)(v + 0.5f));
}

void synth_render(struct synth_renderer *r, struct synth_terrain *t, const struct synth_pose *pose,
		  unsigned char *rgb)
{
	float m[9], c[3] = {(float)pose->c[0], (float)pose->c[1], (float)pose->c[2]};
	long n = (long)r->cam.width * r->cam.height;
	long long steps = 0;

	for (int k = 0; k < 9; k++)
		m[k] = (float)pose->r[k];
	for (long p = 0; p < n; p++) {
		const float *ray = r->rays + p * 3;
		float d[3], col[3], lam;
		struct ray cr;

		for (int k = 0; k < 3; k++)
			d[k] = m[k * 3] * ray[0] + m[k * 3 + 1] * ray[1] + m[k * 3 + 2] * ray[2];
		ray_init(&cr, t, c, d);
		lam = cast(t, &cr);
		steps += cr.steps;
		synth_terrain_colour(t, c[0] + lam * d[0], c[1] + lam * d[1], col);
		for (int k = 0; k < 3; k++)
			rgb[p * 3 + k] = clamp_byte(col[k]);
	}
	r->steps += steps;
	r->pixels += n;
}
