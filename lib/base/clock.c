/* clock.c - clocks, durations, the host name, log stamps (see clock.h). */
#include "base/clock.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/banned.h"

#define DIGITS "0123456789"

long long sq_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long sq_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sq_log_stamp(char *buf, size_t len)
{
	long long now = sq_now_ms();
	time_t secs = (time_t)(now / 1000);
	char when[32];
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03lldZ %s:%ld", when, now % 1000, sq_hostname(), (long)getpid());
}

const char *sq_hostname(void)
{
	static char name[256];

	if (!name[0] && gethostname(name, sizeof(name) - 1) < 0)
		snprintf(name, sizeof(name), "unknown");
	return name;
}

/* Decimal digits, at most one '.', a unit, all in integers: nothing is cast
 * from a double that may be out of range. */
int sq_parse_duration_ms(const char *s, long long *ms)
{
	static const struct {
		const char *unit;
		long long ms;
	} units[] = {{"ms", 1},	     {"s", 1000},     {"m", 60000},
		     {"h", 3600000}, {"d", 86400000}, {"", 1000}};
	size_t nint = strspn(s, DIGITS), nfrac = 0;
	const char *unit = s + nint;
	long long ip = 0, frac = 0, scale = 1, per = 0;

	if (*unit == '.') {
		nfrac = strspn(unit + 1, DIGITS);
		unit += 1 + nfrac;
		if (nfrac == 0)
			return -1;
	}
	if (nint == 0 || nint > 12 || nfrac > 9) /* 12 digits of days are past any limit */
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && !per; i++)
		if (!strcmp(unit, units[i].unit))
			per = units[i].ms;
	if (!per)
		return -1;
	for (size_t i = 0; i < nint; i++)
		ip = ip * 10 + (s[i] - '0');
	for (size_t i = 0; i < nfrac; i++, scale *= 10)
		frac = frac * 10 + (s[nint + 1 + i] - '0');
	if (ip > (LLONG_MAX - per) / per)
		return -1;
	*ms = ip * per + (frac * per + scale / 2) / scale;
	return 0;
}
