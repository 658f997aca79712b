/* kdtree.c - k-d tree for nearest-neighbour search in any dimension.
 *
 * Built by median splits along the widest dimension (quickselect on an index
 * array), so the depth is log2(n / leaf size) whatever the data. Searched
 * depth-first, nearer child first, keeping the k best found so far (a sorted
 * array for small k, a bounded max-heap for large):
 * a far child is entered only when its distance bound (Arya & Mount's
 * incremental per-dimension bound) is within the current k-th best distance or
 * the radius. Runs of equal points (FPFH of flat ground is one value many
 * times over) become single leaves that cost one distance.
 *
 * The points are copied in tree order: a leaf scan then reads contiguous
 * memory instead of jumping around the caller's array, which is most of the
 * speed at k = 30. */
#include "cloud/kdtree.h"
#include "base/xalloc.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

enum {
	KD_LEAF_MAX = 12,    /* points per leaf: smaller costs more node visits */
	KD_STACK_DIM = 64,   /* dimensions whose bound fits on the stack */
	KD_SORTED_MAX = 128, /* k up to which results are kept in a sorted array */
};

/* The incremental cell bound is a float sum updated by subtraction, so it may
 * come out a few ulps above the exact distance of a point in the cell: prune
 * only beyond this relative margin so that no point is ever missed. */
#define KD_BOUND_SLACK 1.0001f

struct kd_node {
	size_t a, b;  /* leaf: points [a, b) in tree order; internal: a = right child */
	float lo_max; /* internal: largest coordinate along dim in the left child */
	float hi_min; /* internal: smallest coordinate along dim in the right child */
	int dim;      /* split dimension, or KD_LEAF, or KD_UNIFORM */
};

enum {
	KD_LEAF = -1,
	KD_UNIFORM = -2, /* a leaf whose points are all equal, however many */
};

struct sq_kdtree {
	size_t n;
	int dim;
	float *pts;   /* n * dim, in tree order */
	size_t *perm; /* tree order -> the caller's index */
	struct kd_node *nodes;
	size_t n_nodes, cap_nodes;
};

struct kd_build {
	struct sq_kdtree *t;
	const float *src; /* the caller's points */
	float *lo, *hi;	  /* dim floats each: bounding box scratch */
};

struct kd_hit {
	float d2;
	size_t pos; /* in tree order */
};

struct kd_query {
	const struct sq_kdtree *t;
	const float *q;
	struct kd_hit *hits; /* k <= KD_SORTED_MAX: sorted; else see offer_heap */
	size_t k, count;
	float worst; /* radius2 until k are held, then the k-th distance */
	float *off;  /* per dimension: squared distance of the current cell from q */
};

static float key(const struct kd_build *b, size_t i, int d)
{
	return b->src[b->t->perm[i] * (size_t)b->t->dim + (size_t)d];
}

/* Dimension along which points [begin, end) spread most; *spread says how
 * much (0 when the points are all equal). */
static int widest_dim(const struct kd_build *b, size_t begin, size_t end, float *spread_out)
{
	int dim = b->t->dim, best = 0;
	float spread = -1.0f;

	for (int d = 0; d < dim; d++)
		b->lo[d] = b->hi[d] = key(b, begin, d);
	for (size_t i = begin + 1; i < end; i++) {
		const float *p = b->src + b->t->perm[i] * (size_t)dim;

		for (int d = 0; d < dim; d++) {
			if (p[d] < b->lo[d])
				b->lo[d] = p[d];
			if (p[d] > b->hi[d])
				b->hi[d] = p[d];
		}
	}
	for (int d = 0; d < dim; d++) {
		if (b->hi[d] - b->lo[d] > spread) {
			spread = b->hi[d] - b->lo[d];
			best = d;
		}
	}
	*spread_out = spread;
	return best;
}

static void swap_idx(size_t *a, size_t *b)
{
	size_t tmp = *a;

	*a = *b;
	*b = tmp;
}

static float median3(float x, float y, float z)
{
	if (x > y) {
		float tmp = x;

		x = y;
		y = tmp;
	}
	return z < x ? x : z > y ? y : z;
}

/* Reorders perm[begin, end) so that the kth has its final sorted place along
 * d, with no larger key before it and no smaller after (Hoare partitions, which
 * stay O(n) on average even when many keys are equal). */
static void select_kth(struct kd_build *b, size_t begin, size_t end, size_t kth, int d)
{
	size_t *perm = b->t->perm;

	while (end - begin > 1) {
		size_t i = begin, j = end - 1;
		float pivot = median3(key(b, begin, d), key(b, begin + (end - begin) / 2, d),
				      key(b, end - 1, d));

		for (;;) {
			while (key(b, i, d) < pivot)
				i++;
			while (key(b, j, d) > pivot)
				j--;
			if (i >= j)
				break;
			swap_idx(&perm[i], &perm[j]);
			i++;
			j--;
		}
		if (i == j) { /* [begin, j) <= pivot == key j <= (j, end) */
			if (kth == j)
				return;
			if (kth < j)
				end = j;
			else
				begin = j + 1;
		} else if (kth <= j) { /* [begin, j] <= pivot <= [j + 1, end) */
			end = j + 1;
		} else {
			begin = j + 1;
		}
	}
}

static size_t new_node(struct sq_kdtree *t)
{
	xgrow((void **)&t->nodes, &t->cap_nodes, t->n_nodes + 1, sizeof(*t->nodes));
	memset(&t->nodes[t->n_nodes], 0, sizeof(*t->nodes));
	return t->n_nodes++;
}

static size_t build_node(struct kd_build *b, size_t begin, size_t end)
{
	struct sq_kdtree *t = b->t;
	size_t id = new_node(t), mid, right;
	float lo_max, spread;
	int d;

	if (end - begin <= KD_LEAF_MAX) {
		t->nodes[id] = (struct kd_node){.a = begin, .b = end, .dim = KD_LEAF};
		return id;
	}
	d = widest_dim(b, begin, end, &spread);
	if (spread <= 0.0f) {
		t->nodes[id] = (struct kd_node){.a = begin, .b = end, .dim = KD_UNIFORM};
		return id;
	}
	mid = begin + (end - begin) / 2;
	select_kth(b, begin, end, mid, d);
	lo_max = key(b, begin, d);
	for (size_t i = begin + 1; i < mid; i++)
		if (key(b, i, d) > lo_max)
			lo_max = key(b, i, d);
	t->nodes[id].lo_max = lo_max;
	t->nodes[id].hi_min = key(b, mid, d); /* the smallest of [mid, end) after select */
	t->nodes[id].dim = d;
	build_node(b, begin, mid); /* lands at id + 1 */
	right = build_node(b, mid, end);
	t->nodes[id].a = right; /* nodes may have moved: index, never a pointer */
	return id;
}

/* Builds over n points of dim floats each; see kdtree.h. The points are copied
 * (in tree order), so pts need not in fact outlive the tree. */
struct sq_kdtree *sq_kdtree_build(const float *pts, size_t n, int dim)
{
	struct sq_kdtree *t = xcalloc(1, sizeof(*t));
	struct kd_build b = {.t = t, .src = pts};
	size_t ud = (size_t)dim;

	t->n = dim > 0 ? n : 0;
	t->dim = dim;
	if (t->n == 0)
		return t;
	t->perm = xmalloc(n * sizeof(*t->perm));
	for (size_t i = 0; i < n; i++)
		t->perm[i] = i;
	b.lo = xmalloc(2 * ud * sizeof(float));
	b.hi = b.lo + ud;
	build_node(&b, 0, n);
	free(b.lo);
	t->pts = xmalloc(n * ud * sizeof(float));
	for (size_t i = 0; i < n; i++)
		memcpy(t->pts + i * ud, pts + t->perm[i] * ud, ud * sizeof(float));
	return t;
}

void sq_kdtree_free(struct sq_kdtree *t)
{
	if (!t)
		return;
	free(t->pts);
	free(t->perm);
	free(t->nodes);
	free(t);
}

static void sift_down(struct kd_hit *h, size_t count, size_t i)
{
	struct kd_hit v = h[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= count)
			break;
		if (c + 1 < count && h[c + 1].d2 > h[c].d2)
			c++;
		if (h[c].d2 <= v.d2)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = v;
}

/* Inserts into the sorted array: cheapest for the k of a few dozen that
 * neighbourhoods use (a heap's sift costs more in mispredicted branches). */
static void offer_sorted(struct kd_query *Q, size_t pos, float d2)
{
	struct kd_hit *h = Q->hits;
	size_t i = Q->count < Q->k ? Q->count++ : Q->k - 1; /* full: the worst drops */

	while (i > 0 && h[i - 1].d2 > d2) {
		h[i] = h[i - 1];
		i--;
	}
	h[i] = (struct kd_hit){d2, pos};
	if (Q->count == Q->k)
		Q->worst = h[Q->k - 1].d2;
}

/* Large k: unordered until k are held, then a max-heap. */
static void offer_heap(struct kd_query *Q, size_t pos, float d2)
{
	struct kd_hit *h = Q->hits;

	if (Q->count < Q->k) {
		h[Q->count++] = (struct kd_hit){d2, pos};
		if (Q->count < Q->k)
			return;
		for (size_t i = Q->k / 2; i-- > 0;)
			sift_down(h, Q->k, i);
	} else {
		h[0] = (struct kd_hit){d2, pos};
		sift_down(h, Q->k, 0);
	}
	Q->worst = h[0].d2;
}

/* Offers the point at tree position pos, already known to be within worst. */
static void offer(struct kd_query *Q, size_t pos, float d2)
{
	if (Q->count == Q->k && d2 >= Q->worst)
		return; /* a tie with the k-th: keep the one found first */
	if (Q->k <= KD_SORTED_MAX)
		offer_sorted(Q, pos, d2);
	else
		offer_heap(Q, pos, d2);
}

static int full_at_zero(const struct kd_query *Q)
{
	return Q->count == Q->k && Q->worst <= 0.0f;
}

static void scan_leaf3(struct kd_query *Q, size_t begin, size_t end)
{
	const float *p = Q->t->pts + 3 * begin, *q = Q->q;

	for (size_t j = begin; j < end; j++, p += 3) {
		float dx = q[0] - p[0], dy = q[1] - p[1], dz = q[2] - p[2];
		float d2 = dx * dx + dy * dy + dz * dz;

		if (d2 <= Q->worst)
			offer(Q, j, d2);
	}
}

/* Any dimension; gives up on a point once its partial sum exceeds worst
 * (checked every 8 terms, which pays in 33-D). */
static void scan_leafn(struct kd_query *Q, size_t begin, size_t end)
{
	size_t dim = (size_t)Q->t->dim;
	const float *q = Q->q;

	for (size_t j = begin; j < end; j++) {
		const float *p = Q->t->pts + j * dim;
		float d2 = 0.0f;
		size_t d;

		for (d = 0; d < dim; d++) {
			float diff = q[d] - p[d];

			d2 += diff * diff;
			if ((d & 7) == 7 && d2 > Q->worst)
				break;
		}
		if (d == dim && d2 <= Q->worst)
			offer(Q, j, d2);
	}
}

/* A leaf of copies of one point (FPFH of flat ground, say): one distance,
 * and only as many copies as can still enter. */
static void scan_uniform(struct kd_query *Q, size_t begin, size_t end)
{
	size_t dim = (size_t)Q->t->dim;
	const float *p = Q->t->pts + begin * dim;
	float d2 = 0.0f;

	for (size_t d = 0; d < dim; d++)
		d2 += (Q->q[d] - p[d]) * (Q->q[d] - p[d]);
	for (size_t j = begin; j < end; j++) {
		if (d2 > Q->worst || (Q->count == Q->k && d2 >= Q->worst))
			break;
		offer(Q, j, d2);
	}
}

static void search_node(struct kd_query *Q, size_t id, float bound)
{
	const struct kd_node *nd = &Q->t->nodes[id];
	size_t near, far;
	float v, cut, saved, far_bound;

	if (nd->dim == KD_UNIFORM) {
		scan_uniform(Q, nd->a, nd->b);
		return;
	}
	if (nd->dim == KD_LEAF) {
		if (Q->t->dim == 3)
			scan_leaf3(Q, nd->a, nd->b);
		else
			scan_leafn(Q, nd->a, nd->b);
		return;
	}
	v = Q->q[nd->dim];
	if ((v - nd->lo_max) + (v - nd->hi_min) < 0.0f) {
		near = id + 1;
		far = nd->a;
		cut = nd->hi_min - v;
	} else {
		near = nd->a;
		far = id + 1;
		cut = v - nd->lo_max;
	}
	search_node(Q, near, bound);
	saved = Q->off[nd->dim];
	cut = cut * cut > saved ? cut * cut : saved;
	far_bound = bound - saved + cut;
	if (far_bound > Q->worst * KD_BOUND_SLACK || full_at_zero(Q))
		return;
	Q->off[nd->dim] = cut;
	search_node(Q, far, far_bound);
	Q->off[nd->dim] = saved;
}

/* Sorts what offer_heap holds ascending, in place (heapsort). */
static void sort_heap(struct kd_hit *h, size_t count)
{
	if (count < 2)
		return;
	for (size_t i = count / 2; i-- > 0;) /* not yet a heap when fewer than k */
		sift_down(h, count, i);
	for (size_t end = count - 1; end > 0; end--) {
		struct kd_hit top = h[0];

		h[0] = h[end];
		h[end] = top;
		sift_down(h, end, 0);
	}
}

/* Up to k nearest within radius2, nearest first; see kdtree.h. Among points
 * at the same distance as the k-th, which are returned is unspecified. */
size_t sq_kdtree_search(const struct sq_kdtree *t, const float *q, size_t k, float radius2,
			size_t *idx, float *d2)
{
	struct kd_hit hit_buf[KD_SORTED_MAX];
	float off_buf[KD_STACK_DIM];
	struct kd_query Q = {.t = t, .q = q, .worst = radius2};

	if (!t || t->n == 0 || k == 0 || !(radius2 >= 0.0f))
		return 0;
	Q.k = k < t->n ? k : t->n;
	Q.hits = Q.k <= KD_SORTED_MAX ? hit_buf : xmalloc(Q.k * sizeof(*Q.hits));
	Q.off = t->dim <= KD_STACK_DIM ? off_buf : xmalloc((size_t)t->dim * sizeof(float));
	memset(Q.off, 0, (size_t)t->dim * sizeof(float));
	search_node(&Q, 0, 0.0f);
	if (Q.k > KD_SORTED_MAX)
		sort_heap(Q.hits, Q.count);
	for (size_t i = 0; i < Q.count; i++) {
		if (idx)
			idx[i] = t->perm[Q.hits[i].pos];
		if (d2)
			d2[i] = Q.hits[i].d2;
	}
	if (Q.hits != hit_buf)
		free(Q.hits);
	if (Q.off != off_buf)
		free(Q.off);
	return Q.count;
}
