/* parallel.c - see parallel.h.
 *
 * Threads are started per call and joined before it returns: the loops it
 * serves take milliseconds to a second, where starting a thread (tens of
 * microseconds) does not show, and nothing outlives the call. A call made
 * from inside a worker runs inline, so nested loops (inputs prepared side by
 * side, each with its own per-point loops) never multiply the threads. */
#include "base/parallel.h"
#include "base/xalloc.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "base/banned.h"

enum { PAR_MAX_THREADS = 16 };

static _Thread_local int in_worker;

/* The program's cap, set once at start (an option, not the environment):
 * process-wide by nature, like the CPU affinity it narrows. 0: none. */
static atomic_int max_threads;

struct par_job {
	size_t n, block;
	atomic_size_t next;
	size_t scratch_bytes;
	void (*fn)(void *ctx, size_t begin, size_t end, void *scratch);
	void *ctx;
};

static void *par_worker(void *arg)
{
	struct par_job *job = arg;
	void *scratch = xmalloc(job->scratch_bytes ? job->scratch_bytes : 1);
	int was = in_worker;

	in_worker = 1;
	for (;;) {
		size_t begin = atomic_fetch_add(&job->next, job->block);

		if (begin >= job->n)
			break;
		job->fn(job->ctx, begin, job->n - begin > job->block ? begin + job->block : job->n,
			scratch);
	}
	in_worker = was;
	free(scratch);
	return NULL;
}

void sq_par_set_max_threads(int n)
{
	atomic_store(&max_threads, n > 0 ? n : 0);
}

int sq_par_threads(void)
{
	cpu_set_t set;
	int cpus = 1, cap = atomic_load(&max_threads);

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		cpus = CPU_COUNT(&set);
	if (cap > 0 && cap < cpus)
		cpus = cap;
	if (cpus < 1)
		cpus = 1;
	return cpus > PAR_MAX_THREADS ? PAR_MAX_THREADS : cpus;
}

size_t sq_par_blocks(size_t n, size_t block)
{
	return block ? (n + block - 1) / block : 0;
}

/* A thread that cannot be started leaves its share to the others. */
void sq_par_for(size_t n, size_t block, size_t min_n, size_t scratch_bytes,
		void (*fn)(void *ctx, size_t begin, size_t end, void *scratch), void *ctx)
{
	struct par_job job = {.n = n,
			      .block = block ? block : 1,
			      .scratch_bytes = scratch_bytes,
			      .fn = fn,
			      .ctx = ctx};
	pthread_t tid[PAR_MAX_THREADS];
	int started = 0, want = in_worker || n < min_n ? 1 : sq_par_threads();
	size_t blocks = sq_par_blocks(n, job.block);

	if ((size_t)want > blocks)
		want = blocks ? (int)blocks : 1;
	atomic_init(&job.next, 0);
	for (int i = 1; i < want; i++)
		if (pthread_create(&tid[started], NULL, par_worker, &job) == 0)
			started++;
	par_worker(&job);
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
}
