/* cloud.c - an in-memory point cloud: parallel growable arrays.
 *
 * Which optional arrays a cloud carries is told by their pointers being non-NULL,
 * so init allocates them even for an empty cloud. */
#include "cloud/cloud.h"
#include "cloud/simil.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

#define FIRST_CAP 64

static void grow(struct sq_cloud *c, size_t cap)
{
	c->xyz = xrealloc(c->xyz, cap * 3 * sizeof(*c->xyz));
	if (c->rgb)
		c->rgb = xrealloc(c->rgb, cap * 3);
	if (c->nrm)
		c->nrm = xrealloc(c->nrm, cap * 3 * sizeof(*c->nrm));
	c->cap = cap;
}

void sq_cloud_init(struct sq_cloud *c, int with_rgb, int with_nrm)
{
	memset(c, 0, sizeof(*c));
	c->rgb = with_rgb ? xmalloc(3) : NULL;
	c->nrm = with_nrm ? xmalloc(3 * sizeof(*c->nrm)) : NULL;
	grow(c, FIRST_CAP);
}

void sq_cloud_push(struct sq_cloud *c, const float xyz[3], const unsigned char *rgb,
		   const float *nrm)
{
	size_t i = c->n;

	if (c->n == c->cap)
		grow(c, c->cap ? c->cap * 2 : FIRST_CAP);
	memcpy(c->xyz + 3 * i, xyz, 3 * sizeof(*c->xyz));
	if (c->rgb) {
		if (rgb)
			memcpy(c->rgb + 3 * i, rgb, 3);
		else
			memset(c->rgb + 3 * i, 0, 3);
	}
	if (c->nrm) {
		if (nrm)
			memcpy(c->nrm + 3 * i, nrm, 3 * sizeof(*c->nrm));
		else
			memset(c->nrm + 3 * i, 0, 3 * sizeof(*c->nrm));
	}
	c->n++;
}

void sq_cloud_want_normals(struct sq_cloud *c)
{
	if (!c->nrm)
		c->nrm = xcalloc(c->cap ? c->cap * 3 : 3, sizeof(*c->nrm));
}

void sq_cloud_release(struct sq_cloud *c)
{
	free(c->xyz);
	free(c->rgb);
	free(c->nrm);
	memset(c, 0, sizeof(*c));
}

void sq_cloud_pca(const struct sq_cloud *c, double mean[3], double ev[3], double V[9])
{
	double C[9] = {0};

	mean[0] = mean[1] = mean[2] = 0;
	for (size_t i = 0; i < c->n; i++)
		for (int k = 0; k < 3; k++)
			mean[k] += c->xyz[3 * i + (size_t)k] / (double)c->n;
	for (size_t i = 0; i < c->n; i++)
		for (int a = 0; a < 3; a++)
			for (int b = 0; b < 3; b++)
				C[3 * a + b] += (c->xyz[3 * i + (size_t)a] - mean[a]) *
						(c->xyz[3 * i + (size_t)b] - mean[b]);
	sq_sym3_eigen(C, ev, V);
}
