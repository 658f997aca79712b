/* terrain.h - the synthetic seabed: a seeded height field and its colour.
 *
 * The world is designed for a camera 6 m up and scaled by `scale` (altitude / 6)
 * so that any altitude sees the same kind of scene: sand with silt and algae
 * patches, rocks (bumps up to ~0.9 m x scale), ridges, pebbles and shells. Height
 * and colour are functions of (x, y) only, so every view of a point agrees.
 *
 * The world is infinite; what is sampled is a domain, the part the cameras can
 * see. Geometry is a height grid over it, bilinear between samples, shifted so
 * that the mean height over the survey area is 0 (whatever the domain). Colour
 * is generated lazily in tiles of texels the first time a camera looks at them. */
#ifndef SYNTH_TERRAIN_H
#define SYNTH_TERRAIN_H

#include "base/err.h"

#include <stdint.h>

#define SYNTH_BLOCK 8 /* cells per block side */

struct synth_terrain_opts {
	double area_w_m, area_h_m;     /* survey area [0, w] x [0, h]: its mean height is 0 */
	double x0_m, y0_m, x1_m, y1_m; /* the domain to sample */
	double scale;		       /* world scale: 1 = designed for a 6 m altitude */
	double cell_m;		       /* height sample spacing */
	double texel_m;		       /* colour sample spacing (about the pixel footprint) */
	uint32_t seed;
};

struct synth_terrain {
	struct synth_terrain_opts o;
	double x0_m, y0_m; /* domain origin (lower left) */
	/* height grid: nx * ny samples, row-major from (x0, y0), spacing o.cell_m */
	float *h;
	int nx, ny;
	float inv_cell;
	float umax, vmax;     /* largest grid position a look-up uses */
	float zmin_m, zmax_m; /* over the whole domain */
	float slope_max;      /* bound on |grad h| of the bilinear surface */
	/* blocks of SYNTH_BLOCK x SYNTH_BLOCK cells: the highest point and the
	 * steepest slope of the surface over each, so rays can skip empty space */
	float *block_max, *block_slope;
	int bnx, bny;
	float inv_block;
	/* colour: texel grid of tnx * tny over the domain, in tiles generated on demand */
	int tnx, tny, ntiles_x, ntiles_y;
	float inv_texel;
	unsigned char **tiles;
	long long texels_made;
};

/* Builds the height grid (the expensive part that is not lazy). Returns new
 * (free with synth_terrain_free()). */
struct synth_terrain *synth_terrain_new(const struct synth_terrain_opts *o);
void synth_terrain_free(struct synth_terrain *t);

/* Height at grid position (u, v) (in cells from the domain origin): bilinear,
 * clamped at the domain edge. The renderer's inner loop. */
static inline float synth_terrain_height_uv(const struct synth_terrain *t, float u, float v)
{
	const float *p;
	int i, j;

	u = u < 0.0f ? 0.0f : (u > t->umax ? t->umax : u);
	v = v < 0.0f ? 0.0f : (v > t->vmax ? t->vmax : v);
	i = (int)u;
	j = (int)v;
	u -= (float)i;
	v -= (float)j;
	p = t->h + (long)j * t->nx + i;
	return (p[0] + u * (p[1] - p[0])) * (1.0f - v) +
	       (p[t->nx] + u * (p[t->nx + 1] - p[t->nx])) * v;
}

/* Height at (x, y) in metres. */
static inline float synth_terrain_height(const struct synth_terrain *t, float x_m, float y_m)
{
	return synth_terrain_height_uv(t, (float)(x_m - t->x0_m) * t->inv_cell,
				       (float)(y_m - t->y0_m) * t->inv_cell);
}

/* Colour at (x, y) as seen by a camera: bilinear on the texel grid, generating
 * tiles as needed. rgb in 0..255. */
void synth_terrain_colour(struct synth_terrain *t, float x_m, float y_m, float rgb[3]);

/* Colour at (x, y) evaluated directly (no cache), leaving out detail finer
 * than sample_m: what terrain.ply records for points sample_m apart. */
void synth_terrain_colour_at(const struct synth_terrain *t, double x_m, double y_m, double sample_m,
			     unsigned char rgb[3]);

/* Mean and standard deviation of the height over the domain. */
void synth_terrain_stats(const struct synth_terrain *t, double *mean_m, double *std_m);

/* Writes the height field sampled every step_m over the domain, with colours, as
 * a binary little-endian PLY point cloud, atomically. */
int synth_terrain_write_ply(const struct synth_terrain *t, const char *path, double step_m,
			    struct sq_err *err);

#endif
