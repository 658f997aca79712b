/* mathutil.c - small numeric helpers (see mathutil.h). */
#include "base/mathutil.h"

#include <stdlib.h>

#include "base/banned.h"

int sq_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double sq_median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), sq_cmp_double);
	return v[n / 2];
}

uint64_t sq_xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}
