/* fuzz.h - what the libFuzzer harnesses share: a scratch folder of their own and
 * the input written into it as files (the readers under test take paths).
 *
 * Each harness defines LLVMFuzzerTestOneInput; a finding is a sanitizer report,
 * a crash, a leak, a timeout, or fz_fail() where a harness checks a property the
 * reader promises (a round trip, a count). */
#ifndef SQ_FUZZ_H
#define SQ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Values a harness reads only so that the sanitizers check them land here. */
extern volatile double fz_sink;

/* This process's scratch folder (made on first use, removed at exit). Borrowed. */
const char *fz_dir(void);

/* Returns new path of fz_dir()/name after writing size bytes of data there. */
char *fz_write(const char *name, const void *data, size_t size);

/* Removes fz_dir()/name if present. */
void fz_remove(const char *name);

/* Returns new NUL-terminated copy of data[0..size). */
char *fz_strndup(const uint8_t *data, size_t size);

/* Splits data at the first occurrence of sep: *a is the part before (its length
 * in *alen), *b the part after. Returns 1 when sep was found, else 0 (then *a is
 * all of data and *b is NULL). */
int fz_split(const uint8_t *data, size_t size, const char *sep, const uint8_t **a, size_t *alen,
	     const uint8_t **b, size_t *blen);

/* A property the reader promises does not hold: prints why and aborts, which
 * libFuzzer reports as a crash with the input saved. */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
