/* taskfile_num.c - how the task file's numbers and durations are read.
 *
 * Only decimal notation is a number (strtod and strtoll alone would also take
 * 0x10, inf, nan and leading blanks), and every value is range-checked in
 * integers before it is stored or cast: what a task file says cannot overflow
 * anything. */
#include "task/taskfile_yaml.h"
#include "base/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

#define DIGITS "0123456789"

int sq_tf_decimal_number(const char *s)
{
	size_t nint, nfrac = 0;

	s += *s == '-' || *s == '+';
	nint = strspn(s, DIGITS);
	s += nint;
	if (*s == '.') {
		nfrac = strspn(s + 1, DIGITS);
		s += 1 + nfrac;
	}
	if (nint + nfrac == 0)
		return 0;
	if (*s == 'e' || *s == 'E') {
		s++;
		s += *s == '-' || *s == '+';
		if (!strspn(s, DIGITS))
			return 0;
		s += strspn(s, DIGITS);
	}
	return *s == '\0';
}

int sq_tf_parse_ll(const char *s, long long *out)
{
	char *end;

	if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || *end ? -1 : 0;
}

long long sq_tf_gcd(long long a, long long b)
{
	while (b) {
		long long t = a % b;

		a = b;
		b = t;
	}
	return a;
}

int sq_tf_parse_rational(const char *s, long long *num, long long *den)
{
	const char *slash = strchr(s, '/'), *dot = strchr(s, '.');
	char *ip = NULL;
	long long frac = 0;
	int rc = -1;

	if (s[0] == '-') /* never a rate; and "-0.5" would read as 0 + 0.5 */
		return -1;
	/* the integer part: up to the slash of a ratio, or the dot of a decimal */
	ip = xstrndup(s, slash ? (size_t)(slash - s) : dot ? (size_t)(dot - s) : strlen(s));
	*den = 1;
	if (sq_tf_parse_ll(ip, num) < 0 || *num > SQ_TF_FPS_PART_MAX ||
	    (slash && sq_tf_parse_ll(slash + 1, den) < 0))
		goto out;
	if (dot && !slash) {
		size_t nd = strlen(dot + 1);

		if (nd == 0 || nd > 6 || dot[1] == '-' || sq_tf_parse_ll(dot + 1, &frac) < 0)
			goto out;
		for (size_t i = 0; i < nd; i++)
			*den *= 10;
		*num = *num * *den + frac;
	}
	rc = *num <= SQ_TF_FPS_PART_MAX && *den <= SQ_TF_FPS_PART_MAX ? 0 : -1;
out:
	free(ip);
	return rc;
}

