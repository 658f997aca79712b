/* stitch_sift.c - inputs' points with image descriptors (siftpts.h): loading
 * them, matching two inputs' by descriptor, and writing the placed ones for
 * the next stitch.
 *
 * Matching is exhaustive (every point of a against every point of b, on all
 * cores): a k-d tree does not help in 128 dimensions, and a few thousand
 * points a side is a fraction of a second. A match must pass Lowe's ratio test
 * (its nearest clearly nearer than the second) and be mutual (b's point has a
 * as its nearest too); what survives on textured ground is mostly right, where
 * FPFH on a sparse cloud is mostly wrong. */
#include "base/parallel.h"
#include "stitch/stitch_internal.h"
#include "base/xalloc.h"
#include "base/fsutil.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

#define RATIO 0.8 /* nearest / second nearest distance, at most */
/* Points of an input matched at most: every k-th beyond (the file keeps each
 * input's points together, so a stride keeps them spread over the ground).
 * 16k x 16k is 33 G multiply-adds, a few seconds on two cores. */
#define MATCH_MAX 16384
#define MATCH_BLOCK 64 /* points of a per block of work */
#define MATCH_MIN_POINTS 256

int stitch_sift_load(struct sq_siftpts *s, const char *path, struct sq_err *err)
{
	memset(s, 0, sizeof(*s));
	return path && sq_siftpts_read(s, path, err) < 0 ? -1 : 0;
}

/* Every step-th descriptor (n of them), widened once to 16 bits, so that the
 * inner loop is a plain multiply-add the compiler vectorises. */
static int16_t *widen(const struct sq_siftpts *s, size_t step, size_t n)
{
	int16_t *w = xmalloc(SQ_SIFT_DIM * n * sizeof(*w) + 1);

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < SQ_SIFT_DIM; k++)
			w[SQ_SIFT_DIM * i + k] = s->desc[SQ_SIFT_DIM * i * step + k];
	return w;
}

static size_t stride_for(size_t n)
{
	return n > MATCH_MAX ? (n + MATCH_MAX - 1) / MATCH_MAX : 1;
}

static int32_t norm2(const int16_t *a)
{
	int32_t s = 0;

	for (int k = 0; k < SQ_SIFT_DIM; k++)
		s += a[k] * a[k];
	return s;
}

static int32_t dot(const int16_t *restrict a, const int16_t *restrict b)
{
	int32_t s = 0;

	for (int k = 0; k < SQ_SIFT_DIM; k++)
		s += a[k] * b[k];
	return s;
}

struct match_job {
	const int16_t *a, *b;	/* widened descriptors */
	const int32_t *na, *nb; /* their squared lengths */
	size_t n_a, n_b;
	size_t *best; /* per point of a: its nearest in b, or SIZE_MAX (ratio failed) */
};

/* Nearest and second nearest of q among pts (squared distances). */
static size_t nearest2(const int16_t *q, int32_t nq, const int16_t *pts, const int32_t *np,
		       size_t n, int64_t *d1, int64_t *d2)
{
	size_t best = SIZE_MAX;

	*d1 = *d2 = INT64_MAX;
	for (size_t j = 0; j < n; j++) {
		int64_t d = (int64_t)nq + np[j] - 2 * (int64_t)dot(q, pts + SQ_SIFT_DIM * j);

		if (d < *d1) {
			*d2 = *d1;
			*d1 = d;
			best = j;
		} else if (d < *d2) {
			*d2 = d;
		}
	}
	return best;
}

static void match_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct match_job *J = ctx;

	(void)scratch;
	for (size_t i = begin; i < end; i++) {
		int64_t d1, d2;
		size_t j =
		    nearest2(J->a + SQ_SIFT_DIM * i, J->na[i], J->b, J->nb, J->n_b, &d1, &d2);

		/* distances are squared: the ratio test squares too */
		J->best[i] =
		    j != SIZE_MAX && (double)d1 <= RATIO * RATIO * (double)d2 ? j : SIZE_MAX;
	}
}

struct back_job {
	struct match_job *m;
	size_t *cand; /* points of b to check */
	size_t *back; /* their nearest in a */
};

static void back_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct back_job *J = ctx;
	const struct match_job *m = J->m;

	(void)scratch;
	for (size_t k = begin; k < end; k++) {
		int64_t d1, d2;

		J->back[k] = nearest2(m->b + SQ_SIFT_DIM * J->cand[k], m->nb[J->cand[k]], m->a,
				      m->na, m->n_a, &d1, &d2);
	}
}

void stitch_sift_match(const struct sq_siftpts *a, const struct sq_siftpts *b,
		       struct stitch_matches *out)
{
	size_t sa = stride_for(a->n), sb = stride_for(b->n);
	struct match_job J = {.n_a = (a->n + sa - 1) / sa, .n_b = (b->n + sb - 1) / sb};
	struct back_job B = {.m = &J};
	int32_t *na = xmalloc((J.n_a + 1) * sizeof(*na)), *nb = xmalloc((J.n_b + 1) * sizeof(*nb));
	int16_t *wa = NULL, *wb = NULL;
	size_t nc = 0;

	memset(out, 0, sizeof(*out));
	if (J.n_a < 2 || J.n_b < 2)
		goto out;
	J.a = wa = widen(a, sa, J.n_a), J.b = wb = widen(b, sb, J.n_b);
	for (size_t i = 0; i < J.n_a; i++)
		na[i] = norm2(wa + SQ_SIFT_DIM * i);
	for (size_t j = 0; j < J.n_b; j++)
		nb[j] = norm2(wb + SQ_SIFT_DIM * j);
	J.na = na, J.nb = nb;
	J.best = xmalloc(J.n_a * sizeof(*J.best));
	sq_par_for(J.n_a, MATCH_BLOCK, MATCH_MIN_POINTS, 0, match_block, &J);
	/* mutual: b's side is searched only for the points a's side chose */
	B.cand = xmalloc((J.n_a + 1) * sizeof(*B.cand));
	B.back = xmalloc((J.n_a + 1) * sizeof(*B.back));
	for (size_t i = 0; i < J.n_a; i++)
		if (J.best[i] != SIZE_MAX)
			B.cand[nc++] = J.best[i];
	sq_par_for(nc, MATCH_BLOCK, MATCH_MIN_POINTS, 0, back_block, &B);
	out->a = xmalloc((nc + 1) * sizeof(*out->a));
	out->b = xmalloc((nc + 1) * sizeof(*out->b));
	for (size_t i = 0, k = 0; i < J.n_a; i++) {
		if (J.best[i] == SIZE_MAX)
			continue;
		if (B.back[k++] == i) { /* indices back into the whole inputs */
			out->a[out->n] = i * sa;
			out->b[out->n++] = J.best[i] * sb;
		}
	}
	free(J.best);
	free(B.cand);
	free(B.back);
out:
	free(wa);
	free(wb);
	free(na);
	free(nb);
}

void stitch_matches_release(struct stitch_matches *m)
{
	free(m->a);
	free(m->b);
	memset(m, 0, sizeof(*m));
}
