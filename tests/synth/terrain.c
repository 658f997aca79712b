/* terrain.c - height field and colour of the synthetic seabed (see terrain.h).
 *
 * All shapes are laid out in "design units" (metres for a 6 m altitude) and
 * scaled by o.scale, so the scene keeps its character at any altitude. */
#include "terrain.h"
#include "noise.h"
#include "base/strbuf.h"
#include "base/fsutil.h"
#include "base/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

#define TILE_SHIFT 6
#define TILE (1 << TILE_SHIFT) /* texels per tile side */

/* Noise layers: each gets its own seed derived from the world seed. */
enum layer {
	L_BROAD = 1,
	L_WARP_X,
	L_WARP_Y,
	L_RIDGE,
	L_ROUGH,
	L_ROCK,
	L_ROCK_SHAPE,
	L_SILT,
	L_ALGAE,
	L_GRAIN,
	L_HUE,
	L_ROCK_TEX,
	L_LICHEN,
	L_PEBBLE,
	L_SHELL,
};

/* Salts for the per-cell draws of scattered objects. */
enum draw { D_HAVE = 1, D_X, D_Y, D_SIZE, D_HEIGHT, D_TONE, D_SHADE, D_TINT, D_ANGLE, D_ASPECT };

#define ROCK_CELL 2.5f	/* one candidate rock per cell of this size */
#define ROCK_PROB 0.55f /* chance a cell holds a rock */
#define MEAN_STEP 0.2	/* design metres between the samples of the area mean */

/* The light is fixed in the world (like the sun through shallow water), so
 * shading is a property of the seabed and not of the view. */
static const float light[3] = {-0.57f, 0.36f, 0.74f}; /* unit, 48 degrees up */
/* Water tint: reds are absorbed first. */
static const float tint[3] = {0.82f, 0.96f, 1.0f};

static uint32_t layer_seed(const struct synth_terrain *t, enum layer l)
{
	return synth_hash(t->o.seed, 0, 0, (uint32_t)l);
}

static float smoothstep(float e0, float e1, float x)
{
	float u = (x - e0) / (e1 - e0);

	u = u < 0.0f ? 0.0f : (u > 1.0f ? 1.0f : u);
	return u * u * (3.0f - 2.0f * u);
}

static float mixf(float a, float b, float w)
{
	return a + (b - a) * w;
}

/* One candidate rock of cell (i, j): a smooth bump with a noisy outline. Raises
 * *h to its height at (xs, ys) and *cover to how much of the point is rock. */
static void rock_one(uint32_t seed, uint32_t shape_seed, int i, int j, float xs, float ys, float *h,
		     float *cover)
{
	float px, py, r, dx, dy, d2, reff, u2, b;

	if (synth_hash01(seed, i, j, D_HAVE) > ROCK_PROB)
		return;
	px = ((float)i + 0.15f + 0.7f * synth_hash01(seed, i, j, D_X)) * ROCK_CELL;
	py = ((float)j + 0.15f + 0.7f * synth_hash01(seed, i, j, D_Y)) * ROCK_CELL;
	r = 0.35f + 0.65f * synth_hash01(seed, i, j, D_SIZE);
	dx = xs - px;
	dy = ys - py;
	d2 = dx * dx + dy * dy;
	if (d2 >= 1.7f * r * r)
		return;
	reff = r * (1.0f + 0.22f * synth_noise(shape_seed, xs / 0.4f, ys / 0.4f));
	u2 = d2 / (reff * reff);
	if (u2 >= 1.0f)
		return;
	b = (1.0f - u2) * (1.0f - u2) * r * (0.45f + 0.45f * synth_hash01(seed, i, j, D_HEIGHT));
	if (b > *h)
		*h = b;
	b = smoothstep(1.0f, 0.9f, sqrtf(u2));
	if (b > *cover)
		*cover = b;
}

static void rocks(const struct synth_terrain *t, float xs, float ys, float *h, float *cover)
{
	uint32_t seed = layer_seed(t, L_ROCK), shape = layer_seed(t, L_ROCK_SHAPE);
	int ci = (int)floorf(xs / ROCK_CELL), cj = (int)floorf(ys / ROCK_CELL);

	*h = 0.0f;
	*cover = 0.0f;
	for (int j = cj - 1; j <= cj + 1; j++)
		for (int i = ci - 1; i <= ci + 1; i++)
			rock_one(seed, shape, i, j, xs, ys, h, cover);
}

/* Height in design units before the mean is removed: broad undulation, warped
 * ridges, rocks and a little roughness. */
static float height_raw(const struct synth_terrain *t, float xs, float ys)
{
	float broad = 0.30f * synth_fbm(layer_seed(t, L_BROAD), xs, ys, 14.0f, 3.0f, 0.5f);
	float wx = xs + 1.8f * synth_noise(layer_seed(t, L_WARP_X), xs / 6.0f, ys / 6.0f);
	float wy = ys + 1.8f * synth_noise(layer_seed(t, L_WARP_Y), xs / 6.0f, ys / 6.0f);
	float ridge = 1.0f - fabsf(synth_noise(layer_seed(t, L_RIDGE), wx / 8.0f, wy / 8.0f));
	float rough = 0.035f * synth_fbm(layer_seed(t, L_ROUGH), xs, ys, 0.8f, 0.12f, 0.6f);
	float rock_h, cover;

	rocks(t, xs, ys, &rock_h, &cover);
	return broad + 0.45f * ridge * ridge * ridge + rough * (1.0f + 2.0f * cover) + rock_h;
}

/* Mean height over the survey area in design units, on a coarse grid: the
 * seabed's datum, so the world does not depend on which part is rendered. */
static double area_mean(const struct synth_terrain *t)
{
	double step = MEAN_STEP, sum = 0.0, inv = 1.0 / t->o.scale;
	long nx = (long)(t->o.area_w_m * inv / step) + 1,
	     ny = (long)(t->o.area_h_m * inv / step) + 1;

	for (long j = 0; j < ny; j++)
		for (long i = 0; i < nx; i++)
			sum += height_raw(t, (float)(i * step), (float)(j * step));
	return sum / (double)(nx * ny);
}

/* Records the height range and the slope bound of the grid. */
static void grid_finish(struct synth_terrain *t)
{
	double gx = 0.0, gy = 0.0;
	long nx = t->nx;

	t->zmin_m = t->zmax_m = t->h[0];
	for (long j = 0; j < t->ny; j++)
		for (long i = 0; i < nx; i++) {
			float z = t->h[j * nx + i];

			t->zmin_m = fminf(t->zmin_m, z);
			t->zmax_m = fmaxf(t->zmax_m, z);
			if (i + 1 < nx)
				gx = fmax(gx, fabs(t->h[j * nx + i + 1] - z));
			if (j + 1 < t->ny)
				gy = fmax(gy, fabs(t->h[(j + 1) * nx + i] - z));
		}
	/* inside a bilinear cell each partial derivative is a blend of two edge
	 * differences, so the largest edge differences bound the gradient */
	t->slope_max = (float)(sqrt(gx * gx + gy * gy) / t->o.cell_m);
}

/* Per block: the highest sample and the largest edge difference of its cells,
 * including the samples on its far edges (a bilinear cell lies within its
 * corners, so these bound the surface over the block). */
static void blocks_build(struct synth_terrain *t)
{
	long nx = t->nx;

	t->bnx = (t->nx - 2) / SYNTH_BLOCK + 1;
	t->bny = (t->ny - 2) / SYNTH_BLOCK + 1;
	t->inv_block = t->inv_cell / SYNTH_BLOCK;
	t->block_max = xmalloc((size_t)t->bnx * (size_t)t->bny * sizeof(float));
	t->block_slope = xmalloc((size_t)t->bnx * (size_t)t->bny * sizeof(float));
	for (long bj = 0; bj < t->bny; bj++)
		for (long bi = 0; bi < t->bnx; bi++) {
			long i1 = (bi + 1) * SYNTH_BLOCK, j1 = (bj + 1) * SYNTH_BLOCK;
			float zmax = -INFINITY, gx = 0.0f, gy = 0.0f;

			i1 = i1 < nx - 1 ? i1 : nx - 1;
			j1 = j1 < t->ny - 1 ? j1 : t->ny - 1;
			for (long j = bj * SYNTH_BLOCK; j <= j1; j++)
				for (long i = bi * SYNTH_BLOCK; i <= i1; i++) {
					float z = t->h[j * nx + i];

					zmax = fmaxf(zmax, z);
					if (i < i1)
						gx = fmaxf(gx, fabsf(t->h[j * nx + i + 1] - z));
					if (j < j1)
						gy = fmaxf(gy, fabsf(t->h[(j + 1) * nx + i] - z));
				}
			t->block_max[bj * t->bnx + bi] = zmax;
			t->block_slope[bj * t->bnx + bi] = sqrtf(gx * gx + gy * gy) * t->inv_cell;
		}
}

struct synth_terrain *synth_terrain_new(const struct synth_terrain_opts *o)
{
	struct synth_terrain *t = xcalloc(1, sizeof(*t));
	double w = o->x1_m - o->x0_m, h = o->y1_m - o->y0_m, mean;
	float inv_scale = (float)(1.0 / o->scale);

	t->o = *o;
	t->x0_m = o->x0_m;
	t->y0_m = o->y0_m;
	t->nx = (int)ceil(w / o->cell_m) + 2;
	t->ny = (int)ceil(h / o->cell_m) + 2;
	t->inv_cell = (float)(1.0 / o->cell_m);
	t->umax = (float)t->nx - 1.001f;
	t->vmax = (float)t->ny - 1.001f;
	t->h = xmalloc((size_t)t->nx * (size_t)t->ny * sizeof(*t->h));
	mean = area_mean(t);
	for (long j = 0; j < t->ny; j++)
		for (long i = 0; i < t->nx; i++) {
			float xs = (float)(t->x0_m + (double)i * o->cell_m) * inv_scale;
			float ys = (float)(t->y0_m + (double)j * o->cell_m) * inv_scale;

			t->h[j * t->nx + i] = (float)(o->scale * (height_raw(t, xs, ys) - mean));
		}
	grid_finish(t);
	blocks_build(t);
	t->inv_texel = (float)(1.0 / o->texel_m);
	t->tnx = (int)ceil(w / o->texel_m) + 2;
	t->tny = (int)ceil(h / o->texel_m) + 2;
	t->ntiles_x = (t->tnx + TILE - 1) / TILE;
	t->ntiles_y = (t->tny + TILE - 1) / TILE;
	t->tiles = xcalloc((size_t)t->ntiles_x * (size_t)t->ntiles_y, sizeof(*t->tiles));
	return t;
}

void synth_terrain_free(struct synth_terrain *t)
{
	if (!t)
		return;
	for (long k = 0; k < (long)t->ntiles_x * t->ntiles_y; k++)
		free(t->tiles[k]);
	free(t->tiles);
	free(t->block_max);
	free(t->block_slope);
	free(t->h);
	free(t);
}

/* Sand with silt and algae patches, grain and hue variation. */
static void sand(const struct synth_terrain *t, float xs, float ys, float wl_min, float c[3])
{
	float silt =
	    smoothstep(-0.15f, 0.45f, synth_fbm(layer_seed(t, L_SILT), xs, ys, 9.0f, 1.2f, 0.5f));
	float algae =
	    smoothstep(0.3f, 0.6f, synth_fbm(layer_seed(t, L_ALGAE), xs, ys, 5.0f, 0.6f, 0.55f));
	float grain = synth_fbm(layer_seed(t, L_GRAIN), xs, ys, 0.7f, wl_min, 0.65f);
	float hue = synth_fbm(layer_seed(t, L_HUE), xs, ys, 1.5f, wl_min, 0.6f);

	c[0] = mixf(mixf(0.70f, 0.46f, silt), 0.30f, algae);
	c[1] = mixf(mixf(0.63f, 0.44f, silt), 0.43f, algae);
	c[2] = mixf(mixf(0.47f, 0.34f, silt), 0.22f, algae);
	for (int k = 0; k < 3; k++)
		c[k] *= 1.0f + 0.38f * grain;
	c[0] *= 1.0f + 0.14f * hue;
	c[2] *= 1.0f - 0.14f * hue;
}

/* Grey-brown rock, mottled, with dark crevices and patches of encrusting life. */
static void rock_colour(const struct synth_terrain *t, float xs, float ys, float wl_min, float c[3])
{
	float m = synth_fbm(layer_seed(t, L_ROCK_TEX), xs, ys, 0.5f, wl_min, 0.75f);
	float life = smoothstep(0.25f, 0.45f,
				synth_fbm(layer_seed(t, L_LICHEN), xs, ys, 0.8f, wl_min, 0.6f));
	float v = 0.42f * (1.0f + 0.7f * m) * (1.0f - 0.6f * smoothstep(-0.3f, -0.5f, m));

	c[0] = mixf(v * 1.05f, 0.62f, life);
	c[1] = mixf(v, 0.42f, life);
	c[2] = mixf(v * 0.92f, 0.30f, life);
}

/* Scattered objects drawn over the sand: pebbles (small, many) and shells or
 * urchins (larger, fewer). High contrast, dark or light: good SIFT blobs. */
struct spot_kind {
	enum layer layer;
	float cell, prob, rmin, rmax; /* design units; rmax < cell / 4 keeps 3x3 cells enough */
};

static const struct spot_kind pebbles = {L_PEBBLE, 0.22f, 0.45f, 0.012f, 0.05f};
static const struct spot_kind shells = {L_SHELL, 0.9f, 0.35f, 0.05f, 0.16f};

static void spot_tone(uint32_t seed, int i, int j, float out[3])
{
	float v = synth_hash01(seed, i, j, D_TONE) < 0.55f
		      ? 0.08f + 0.22f * synth_hash01(seed, i, j, D_SHADE)
		      : 0.62f + 0.3f * synth_hash01(seed, i, j, D_SHADE);
	float tone = synth_hash01(seed, i, j, D_TINT);

	out[0] = v * (0.95f + 0.3f * tone);
	out[1] = v * (0.95f + 0.05f * tone);
	out[2] = v * (1.0f - 0.35f * tone);
}

static void spot_one(const struct spot_kind *k, uint32_t seed, int i, int j, float xs, float ys,
		     float aa, float c[3])
{
	float px, py, r, dx, dy, ang, ca, sa, u, v, d, alpha, s[3];

	if (synth_hash01(seed, i, j, D_HAVE) > k->prob)
		return;
	r = k->rmin + (k->rmax - k->rmin) * synth_hash01(seed, i, j, D_SIZE);
	if (r < 0.6f * aa) /* too small to see at this sampling: would only alias */
		return;
	px = ((float)i + 0.25f + 0.5f * synth_hash01(seed, i, j, D_X)) * k->cell;
	py = ((float)j + 0.25f + 0.5f * synth_hash01(seed, i, j, D_Y)) * k->cell;
	dx = xs - px;
	dy = ys - py;
	if (dx * dx + dy * dy >= (r + aa) * (r + aa))
		return;
	ang = 6.2831853f * synth_hash01(seed, i, j, D_ANGLE);
	ca = cosf(ang);
	sa = sinf(ang);
	u = dx * ca + dy * sa;
	v = (-dx * sa + dy * ca) / (0.55f + 0.45f * synth_hash01(seed, i, j, D_ASPECT));
	d = sqrtf(u * u + v * v);
	alpha = (r - d) / aa + 0.5f;
	if (alpha <= 0.0f)
		return;
	alpha = alpha > 1.0f ? 1.0f : alpha;
	spot_tone(seed, i, j, s);
	for (int q = 0; q < 3; q++) /* brighter centre: a rounded object, not a flat disc */
		c[q] = mixf(c[q], s[q] * (0.8f + 0.3f * (1.0f - d / r)), alpha);
}

static void spots(const struct synth_terrain *t, const struct spot_kind *k, float xs, float ys,
		  float aa, float c[3])
{
	uint32_t seed = layer_seed(t, k->layer);
	int ci = (int)floorf(xs / k->cell), cj = (int)floorf(ys / k->cell);

	for (int j = cj - 1; j <= cj + 1; j++)
		for (int i = ci - 1; i <= ci + 1; i++)
			spot_one(k, seed, i, j, xs, ys, aa, c);
}

/* Lambertian shading from the slope of the height grid, 1 on flat ground. */
static float shade(const struct synth_terrain *t, float x, float y)
{
	float e = (float)t->o.cell_m;
	float gx =
	    (synth_terrain_height(t, x + e, y) - synth_terrain_height(t, x - e, y)) / (2 * e);
	float gy =
	    (synth_terrain_height(t, x, y + e) - synth_terrain_height(t, x, y - e)) / (2 * e);
	float ndl = (-gx * light[0] - gy * light[1] + light[2]) / sqrtf(gx * gx + gy * gy + 1.0f);

	if (ndl < 0.0f)
		ndl = 0.0f;
	return (0.25f + 0.75f * ndl) / (0.25f + 0.75f * light[2]);
}

/* The colour of the seabed at (x, y), 0..1, without detail finer than about
 * sample_m (the spacing it is sampled at: finer detail would only alias). */
static void colour(const struct synth_terrain *t, double x_m, double y_m, double sample_m,
		   float c[3])
{
	float inv = (float)(1.0 / t->o.scale);
	float xs = (float)x_m * inv, ys = (float)y_m * inv;
	float aa = (float)sample_m * inv;
	float rock_h, cover, r[3], s;

	sand(t, xs, ys, 3.0f * aa, c);
	spots(t, &pebbles, xs, ys, aa, c);
	spots(t, &shells, xs, ys, aa, c);
	rocks(t, xs, ys, &rock_h, &cover);
	if (cover > 0.0f) {
		rock_colour(t, xs, ys, 3.0f * aa, r);
		for (int k = 0; k < 3; k++)
			c[k] = mixf(c[k], r[k], cover);
	}
	s = shade(t, (float)x_m, (float)y_m);
	for (int k = 0; k < 3; k++) {
		c[k] *= s * tint[k];
		c[k] = c[k] < 0.0f ? 0.0f : (c[k] > 1.0f ? 1.0f : c[k]);
	}
}

static unsigned char to_byte(float v)
{
	return (unsigned char)lrintf(v * 255.0f);
}

void synth_terrain_colour_at(const struct synth_terrain *t, double x_m, double y_m, double sample_m,
			     unsigned char rgb[3])
{
	float c[3];

	colour(t, x_m, y_m, sample_m, c);
	for (int k = 0; k < 3; k++)
		rgb[k] = to_byte(c[k]);
}

static unsigned char *make_tile(struct synth_terrain *t, int tx, int ty)
{
	unsigned char *tile = xcalloc(TILE * TILE * 3, 1);

	for (int j = 0; j < TILE; j++)
		for (int i = 0; i < TILE; i++) {
			long gi = (long)tx * TILE + i, gj = (long)ty * TILE + j;
			float c[3];

			if (gi >= t->tnx || gj >= t->tny)
				continue;
			colour(t, t->x0_m + (double)gi * t->o.texel_m,
			       t->y0_m + (double)gj * t->o.texel_m, t->o.texel_m, c);
			for (int k = 0; k < 3; k++)
				tile[(j * TILE + i) * 3 + k] = to_byte(c[k]);
			t->texels_made++;
		}
	t->tiles[ty * t->ntiles_x + tx] = tile;
	return tile;
}

static const unsigned char *texel(struct synth_terrain *t, int i, int j)
{
	unsigned char *tile = t->tiles[(j >> TILE_SHIFT) * t->ntiles_x + (i >> TILE_SHIFT)];

	if (!tile)
		tile = make_tile(t, i >> TILE_SHIFT, j >> TILE_SHIFT);
	return tile + (((j & (TILE - 1)) << TILE_SHIFT) + (i & (TILE - 1))) * 3;
}

void synth_terrain_colour(struct synth_terrain *t, float x_m, float y_m, float rgb[3])
{
	float u = (float)(x_m - t->x0_m) * t->inv_texel, v = (float)(y_m - t->y0_m) * t->inv_texel;
	float umax = (float)t->tnx - 1.001f, vmax = (float)t->tny - 1.001f;
	const unsigned char *a, *b, *c, *d;
	int i, j;

	u = u < 0.0f ? 0.0f : (u > umax ? umax : u);
	v = v < 0.0f ? 0.0f : (v > vmax ? vmax : v);
	i = (int)u;
	j = (int)v;
	u -= (float)i;
	v -= (float)j;
	a = texel(t, i, j);
	if ((i & (TILE - 1)) != TILE - 1 && (j & (TILE - 1)) != TILE - 1) {
		/* the usual case: all four in one tile */
		b = a + 3;
		c = a + TILE * 3;
		d = c + 3;
	} else {
		b = texel(t, i + 1, j);
		c = texel(t, i, j + 1);
		d = texel(t, i + 1, j + 1);
	}
	for (int k = 0; k < 3; k++)
		rgb[k] = (a[k] + u * (float)(b[k] - a[k])) * (1.0f - v) +
			 (c[k] + u * (float)(d[k] - c[k])) * v;
}

void synth_terrain_stats(const struct synth_terrain *t, double *mean_m, double *std_m)
{
	double sum = 0.0, sum2 = 0.0;
	long n = (long)t->nx * t->ny;

	for (long k = 0; k < n; k++) {
		sum += t->h[k];
		sum2 += (double)t->h[k] * t->h[k];
	}
	*mean_m = sum / (double)n;
	*std_m = sqrt(fmax(0.0, sum2 / (double)n - *mean_m * *mean_m));
}

static void add_f32le(struct sq_strbuf *sb, float f)
{
	uint32_t u;
	unsigned char b[4];

	memcpy(&u, &f, sizeof(u));
	for (int k = 0; k < 4; k++)
		b[k] = (unsigned char)(u >> (8 * k));
	sq_strbuf_add(sb, b, sizeof(b));
}

int synth_terrain_write_ply(const struct synth_terrain *t, const char *path, double step_m,
			    struct sq_err *err)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	double x1 = t->x0_m + (t->nx - 1) * t->o.cell_m, y1 = t->y0_m + (t->ny - 1) * t->o.cell_m;
	long nx = (long)floor((x1 - t->x0_m) / step_m) + 1;
	long ny = (long)floor((y1 - t->y0_m) / step_m) + 1;
	int rc;

	sq_strbuf_addf(
	    &sb,
	    "ply\nformat binary_little_endian 1.0\n"
	    "comment scanq-synth terrain: metres, z up, mean height 0 over the "
	    "survey area [0,%g]x[0,%g]\n"
	    "element vertex %ld\nproperty float x\nproperty float y\nproperty float z\n"
	    "property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n",
	    t->o.area_w_m, t->o.area_h_m, nx * ny);
	for (long j = 0; j < ny; j++)
		for (long i = 0; i < nx; i++) {
			double x = t->x0_m + (double)i * step_m, y = t->y0_m + (double)j * step_m;
			unsigned char rgb[3];

			synth_terrain_colour_at(t, x, y, step_m, rgb);
			add_f32le(&sb, (float)x);
			add_f32le(&sb, (float)y);
			add_f32le(&sb, synth_terrain_height(t, (float)x, (float)y));
			sq_strbuf_add(&sb, rgb, sizeof(rgb));
		}
	rc = sq_write_file_atomic(path, sb.buf, sb.len, err);
	sq_strbuf_release(&sb);
	return rc;
}
