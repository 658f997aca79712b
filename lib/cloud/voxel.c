/* voxel.c - merging points on a voxel grid.
 *
 * Cells live in a dense array (so a cell's index never changes) and are found
 * through an open-addressing table of cell indices with linear probing, kept at
 * most half full. A cell costs 56 bytes (key, double position sum, counts), plus
 * 12 for colour sums and 12 for normal sums when the grid keeps them, plus 8 to 16
 * of table: memory follows the occupied cells, not the points added. */
#include "cloud/voxel.h"
#include "base/xalloc.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

/* Past this many colour samples a uint32 sum of 255s could overflow; the mean of
 * that many samples no longer moves, so further ones are ignored. */
#define RGB_N_MAX (UINT32_MAX / 255)
#define KEY_LIMIT 4.0e18 /* cell coordinates are clamped into int64 */

struct cell {
	int64_t key[3];
	double sum[3];
	uint32_t n, rgb_n;
};

struct sq_voxel_grid {
	double size;
	struct cell *cells;
	size_t ncells, cells_cap;
	uint32_t *rgb;	 /* 3 per cell, or NULL */
	float *nrm;	 /* 3 per cell, or NULL */
	uint32_t *slots; /* cell index + 1; 0 is empty */
	size_t nslots;	 /* a power of two */
};

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t key_hash(const int64_t k[3])
{
	return mix64((uint64_t)k[0] ^ mix64((uint64_t)k[1] ^ mix64((uint64_t)k[2])));
}

struct sq_voxel_grid *sq_voxel_new(double size, int with_rgb, int with_nrm)
{
	struct sq_voxel_grid *g = xcalloc(1, sizeof(*g));

	assert(size > 0 && isfinite(size));
	g->size = size;
	g->cells_cap = 1024;
	g->cells = xmalloc(g->cells_cap * sizeof(*g->cells));
	g->rgb = with_rgb ? xmalloc(g->cells_cap * 3 * sizeof(*g->rgb)) : NULL;
	g->nrm = with_nrm ? xmalloc(g->cells_cap * 3 * sizeof(*g->nrm)) : NULL;
	g->nslots = 2048;
	g->slots = xcalloc(g->nslots, sizeof(*g->slots));
	return g;
}

void sq_voxel_free(struct sq_voxel_grid *g)
{
	if (!g)
		return;
	free(g->cells);
	free(g->rgb);
	free(g->nrm);
	free(g->slots);
	free(g);
}

size_t sq_voxel_count(const struct sq_voxel_grid *g)
{
	return g->ncells;
}

/* Doubles the table and re-inserts every cell. */
static void rehash(struct sq_voxel_grid *g)
{
	size_t mask;

	free(g->slots);
	g->nslots *= 2;
	g->slots = xcalloc(g->nslots, sizeof(*g->slots));
	mask = g->nslots - 1;
	for (size_t i = 0; i < g->ncells; i++) {
		size_t s = (size_t)key_hash(g->cells[i].key) & mask;

		while (g->slots[s])
			s = (s + 1) & mask;
		g->slots[s] = (uint32_t)(i + 1);
	}
}

/* Appends a zeroed cell for key; returns its index. */
static size_t new_cell(struct sq_voxel_grid *g, const int64_t key[3])
{
	size_t i = g->ncells++;

	if (i == g->cells_cap) {
		g->cells_cap *= 2;
		assert(g->cells_cap < UINT32_MAX);
		g->cells = xrealloc(g->cells, g->cells_cap * sizeof(*g->cells));
		if (g->rgb)
			g->rgb = xrealloc(g->rgb, g->cells_cap * 3 * sizeof(*g->rgb));
		if (g->nrm)
			g->nrm = xrealloc(g->nrm, g->cells_cap * 3 * sizeof(*g->nrm));
	}
	memset(&g->cells[i], 0, sizeof(g->cells[i]));
	memcpy(g->cells[i].key, key, sizeof(g->cells[i].key));
	if (g->rgb)
		memset(g->rgb + 3 * i, 0, 3 * sizeof(*g->rgb));
	if (g->nrm)
		memset(g->nrm + 3 * i, 0, 3 * sizeof(*g->nrm));
	return i;
}

/* Index + 1 of the cell for key, 0 when there is none. */
static size_t lookup(const struct sq_voxel_grid *g, const int64_t key[3])
{
	size_t mask = g->nslots - 1, s = (size_t)key_hash(key) & mask;

	for (; g->slots[s]; s = (s + 1) & mask) {
		const struct cell *c = &g->cells[g->slots[s] - 1];

		if (c->key[0] == key[0] && c->key[1] == key[1] && c->key[2] == key[2])
			return g->slots[s];
	}
	return 0;
}

/* Index of the cell for key, created when absent. */
static size_t find_cell(struct sq_voxel_grid *g, const int64_t key[3])
{
	size_t mask = g->nslots - 1, s = (size_t)key_hash(key) & mask, i;

	for (; g->slots[s]; s = (s + 1) & mask) {
		const struct cell *c = &g->cells[g->slots[s] - 1];

		if (c->key[0] == key[0] && c->key[1] == key[1] && c->key[2] == key[2])
			return g->slots[s] - 1;
	}
	i = new_cell(g, key);
	g->slots[s] = (uint32_t)(i + 1);
	if (2 * g->ncells > g->nslots)
		rehash(g);
	return i;
}

/* The cell of a finite point; 0 for a point that is nowhere. */
static int key_of(const struct sq_voxel_grid *g, const double xyz[3], int64_t key[3])
{
	for (int k = 0; k < 3; k++) {
		double q = floor(xyz[k] / g->size);

		if (!isfinite(xyz[k]))
			return 0;
		key[k] = (int64_t)(q < -KEY_LIMIT ? -KEY_LIMIT : q > KEY_LIMIT ? KEY_LIMIT : q);
	}
	return 1;
}

int sq_voxel_has_neighbour(const struct sq_voxel_grid *g, const double xyz[3], int r)
{
	int64_t key[3], k[3];

	if (!key_of(g, xyz, key))
		return 0;
	/* nearest shells first: a point on a surface finds one at once */
	for (int shell = 1; shell <= r; shell++)
		for (int dx = -shell; dx <= shell; dx++)
			for (int dy = -shell; dy <= shell; dy++)
				for (int dz = -shell; dz <= shell; dz++) {
					if (abs(dx) != shell && abs(dy) != shell &&
					    abs(dz) != shell)
						continue; /* inside: an earlier shell */
					k[0] = key[0] + dx, k[1] = key[1] + dy, k[2] = key[2] + dz;
					if (lookup(g, k))
						return 1;
				}
	return 0;
}

void sq_voxel_add(struct sq_voxel_grid *g, const double xyz[3], const unsigned char *rgb,
		  const float *nrm)
{
	int64_t key[3];
	struct cell *c;
	size_t i;

	if (!key_of(g, xyz, key)) /* a point that is nowhere joins no cell */
		return;
	i = find_cell(g, key);
	c = &g->cells[i];
	if (c->n == UINT32_MAX) /* the mean of 4 billion points does not move */
		return;
	c->n++;
	for (int k = 0; k < 3; k++)
		c->sum[k] += xyz[k];
	if (g->rgb && rgb && c->rgb_n < RGB_N_MAX) {
		c->rgb_n++;
		for (int k = 0; k < 3; k++)
			g->rgb[3 * i + k] += rgb[k];
	}
	if (g->nrm && nrm && isfinite(nrm[0]) && isfinite(nrm[1]) && isfinite(nrm[2]))
		for (int k = 0; k < 3; k++)
			g->nrm[3 * i + k] += nrm[k];
}

static int cmp_cell(const void *a, const void *b, void *ctx)
{
	const struct cell *cells = ctx;
	const int64_t *ka = cells[*(const uint32_t *)a].key, *kb = cells[*(const uint32_t *)b].key;

	for (int k = 0; k < 3; k++)
		if (ka[k] != kb[k])
			return ka[k] < kb[k] ? -1 : 1;
	return 0;
}

/* The mean point of cell i, its mean colour and its normalised normal sum. */
static void cell_point(const struct sq_voxel_grid *g, size_t i, float xyz[3], unsigned char rgb[3],
		       float nrm[3])
{
	const struct cell *c = &g->cells[i];
	double len = 0;

	for (int k = 0; k < 3; k++)
		xyz[k] = (float)(c->sum[k] / c->n);
	for (int k = 0; k < 3; k++)
		rgb[k] = c->rgb_n ? (unsigned char)(((uint64_t)g->rgb[3 * i + k] * 2 + c->rgb_n) /
						    (2 * (uint64_t)c->rgb_n))
				  : 0;
	for (int k = 0; g->nrm && k < 3; k++)
		len += (double)g->nrm[3 * i + k] * g->nrm[3 * i + k];
	len = sqrt(len);
	/* normals that cancel out (or none at all) give no direction: left zero */
	for (int k = 0; k < 3; k++)
		nrm[k] = len > 0 ? (float)(g->nrm[3 * i + k] / len) : 0.0f;
}

void sq_voxel_to_cloud(const struct sq_voxel_grid *g, struct sq_cloud *out)
{
	uint32_t *order = xmalloc((g->ncells ? g->ncells : 1) * sizeof(*order));

	for (size_t i = 0; i < g->ncells; i++)
		order[i] = (uint32_t)i;
	qsort_r(order, g->ncells, sizeof(*order), cmp_cell, g->cells);
	for (size_t j = 0; j < g->ncells; j++) {
		float xyz[3], nrm[3];
		unsigned char rgb[3];

		cell_point(g, order[j], xyz, rgb, nrm);
		sq_cloud_push(out, xyz, rgb, nrm);
	}
	free(order);
}
