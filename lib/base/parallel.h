/* parallel.h - a small parallel for over an index range, for the per-point
 * loops of the stitch (normals, features, matching, ICP, fit evaluation). */
#ifndef SQ_PARALLEL_H
#define SQ_PARALLEL_H

#include <stddef.h>

/* Calls fn(ctx, begin, end, scratch) over consecutive blocks of [0, n), each of
 * `block` indices (the last may be shorter), on up to as many threads as the
 * process may run on (the caller's among them). Blocks are handed out from a
 * shared counter, so which thread runs a block is not fixed; a loop that
 * writes only its own indices, or its own block's slot (see
 * sq_par_blocks), gives the same result on any number of threads. Each
 * thread gets its own scratch of scratch_bytes. Called from inside fn, or
 * for fewer than min_n indices, it runs on the calling thread alone. */
void sq_par_for(size_t n, size_t block, size_t min_n, size_t scratch_bytes,
		void (*fn)(void *ctx, size_t begin, size_t end, void *scratch), void *ctx);

/* How many blocks sq_par_for cuts [0, n) into: block b covers
 * [b * block, min(n, (b + 1) * block)). */
size_t sq_par_blocks(size_t n, size_t block);

/* Threads sq_par_for would use for a large loop (1 when the process may run on
 * one CPU): the CPUs the process may run on, at most 16, and at most the cap
 * set by sq_par_set_max_threads. */
int sq_par_threads(void);

/* Caps the threads of every later sq_par_for in the process (cap > 0;
 * 0: no cap). A program calls it once at start, from its options (the
 * worker's --threads / SCANQ_THREADS). */
void sq_par_set_max_threads(int cap);

#endif
