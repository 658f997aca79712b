/* clock.h - this process's clocks and where it runs: wall and monotonic
 * time, durations as operators write them, the host name and the stamp at the
 * head of every log line. */
#ifndef SQ_CLOCK_H
#define SQ_CLOCK_H

#include <stddef.h>

/* Wall clock in ms since the epoch. */
long long sq_now_ms(void);

/* A monotonic clock in ms (for intervals). */
long long sq_mono_ms(void);

/* Parses a duration as task files and options write it: "90" (seconds),
 * "1.5s", "500ms", "5m", "3h", "1d": decimal digits, at most one '.', a unit;
 * computed in integers (nothing is cast from an out-of-range double).
 * Returns 0 and sets *ms_out, or -1 on anything else ("0x10s", "1e3s",
 * "inf", " 5s", a value past a long long). */
int sq_parse_duration_ms(const char *s, long long *ms_out);

/* Host name of this machine (static storage, never NULL). */
const char *sq_hostname(void);

/* Writes "2026-11-22T11:03:04.123Z host:pid" (UTC, ms) into buf: the head of
 * every log line, so lines of many hosts and processes sort and grep alike. */
void sq_log_stamp(char *buf, size_t len);

#endif
