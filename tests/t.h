/* t.h - the tiny check harness shared by C tests.
 *
 * Each check prints the failing expression with file:line; main() ends with
 * `return t_done();` so the exit status says whether anything failed. */
#ifndef SQ_T_H
#define SQ_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_checks, t_failures;

#define T_CHECK(cond)                                                                      \
	do {                                                                               \
		t_checks++;                                                                \
		if (!(cond)) {                                                             \
			t_failures++;                                                      \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                          \
	} while (0)

#define T_EQ_INT(a, b)                                                                     \
	do {                                                                               \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);                    \
		t_checks++;                                                                \
		if (t_a_ != t_b_) {                                                        \
			t_failures++;                                                      \
			fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,    \
				__LINE__, #a, t_a_, #b, t_b_);                             \
		}                                                                          \
	} while (0)

#define T_EQ_STR(a, b)                                                                     \
	do {                                                                               \
		const char *t_a_ = (a), *t_b_ = (b);                                       \
		t_checks++;                                                                \
		if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0) {                           \
			t_failures++;                                                      \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,       \
				__LINE__, #a, t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");     \
		}                                                                          \
	} while (0)

/* Substring check, for error messages. */
#define T_CONTAINS(hay, needle)                                                            \
	do {                                                                               \
		const char *t_h_ = (hay), *t_n_ = (needle);                                \
		t_checks++;                                                                \
		if (!t_h_ || !strstr(t_h_, t_n_)) {                                        \
			t_failures++;                                                      \
			fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__,      \
				__LINE__, t_h_ ? t_h_ : "(null)", t_n_);                           \
		}                                                                          \
	} while (0)

static inline int t_done(void)
{
	printf("%d checks, %d failed\n", t_checks, t_failures);
	if (t_checks == 0) {
		fprintf(stderr, "no check ran: a test that checks nothing is a failure\n");
		return 1;
	}
	return t_failures ? 1 : 0;
}

/* Scratch directory of this test run (SCANQ_TMP set by tests/run-test). */
static inline const char *t_tmpdir(void)
{
	const char *d = getenv("SCANQ_TMP");

	return d ? d : "/tmp";
}

#endif
