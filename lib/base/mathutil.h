/* mathutil.h - small numeric helpers several modules share. */
#ifndef SQ_MATHUTIL_H
#define SQ_MATHUTIL_H

#include <stddef.h>
#include <stdint.h>

/* qsort comparator for doubles, ascending. */
int sq_cmp_double(const void *a, const void *b);

/* Median of v[0..n): its element n/2 once sorted (the upper of the middle two
 * when n is even, so always a value that occurs); sorts v in place. 0 when n
 * is 0. */
double sq_median(double *v, size_t n);

/* xorshift64: the next value of the deterministic generator whose state is *s
 * (never 0). For sampling that must repeat from run to run, not for secrets. */
uint64_t sq_xorshift64(uint64_t *s);

#endif
